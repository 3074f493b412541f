"""Greentic-shaped flows inside the product (issue #20): a webhook on the v1 ingress route runs
the flows the runtime would choose, and each run becomes the typed `FlowRun` every face reads.

    runs = run_for_request(flowset, request, run_id=1)      # [] when no real flow applies
    run = to_flow_run(result, flows, run_id=1, ...)          # a runner.RunResult as a FlowRun

Statuses map onto the documented ones so that every reader keeps working: a step that ran is
`ok`, one that failed `error`, a mocked one `mocked`, a pause `waiting`; a run ends `ok`,
`error` or `waiting`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..flow.loader import MAX_FLOW_BYTES
from ..flow.model import Position
from ..flow.runs import (
    GREENTIC_RUN_KEYS,
    GREENTIC_STEP_KEYS,
    NODE_ERROR_KEYS,
    STEP_ERROR_KEYS,
    STOP_ERROR_KEYS,
    WAITING,
    Decision,
    FlowRun,
    RunError,
    Step,
)
from .conditions import Decision as Route
from .document import Flow
from .ingress import FlowInfo, IngressRoute, build_envelope, choose_flows, flow_input, parse_route
from .mocks import Mock, Mocks
from .runner import MemoryState, RunIssue, Runner, RunResult, StateStore
from .runner import Step as RunnerStep

__all__ = [
    "EDITED",
    "MAX_NODE_LINES",
    "accepted",
    "serves",
    "RUN_STATUS",
    "STEP_STATUS",
    "entry_for_request",
    "node_lines",
    "ingress_route",
    "run_for_request",
    "runner_for",
    "running_runs",
    "to_flow_run",
    "webhook_urls",
    "with_outputs",
]

STEP_STATUS = {"ran": "ok", "mocked": "mocked", "paused": WAITING, "failed": "error"}
RUN_STATUS = {"completed": "ok", "waiting": WAITING, "failed": "error"}

# state.get/state.set keep their values as long as the process, per folder or pack
# (the runtime keeps them in its state store; ours is memory).
_STATES: dict[str, MemoryState] = {}


def _iso(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ingress_route(path: str) -> IngressRoute | None:
    """The `/v1/events/ingress/{provider}/{tenant}[/{team}[/{handler}]]` route of a path, None
    for any other path (the documented `/events/webhook/…` route included)."""
    route = parse_route(path)
    if route is None or route.legacy or route.domain != "events":
        return None
    return route


def state_for(flowset: Any) -> StateStore:
    key = str(flowset.directory)
    return _STATES.setdefault(key, MemoryState())


class _Edited(Position):
    """Where an output edited in the debugger comes from (no file)."""

    def __str__(self) -> str:
        return EDITED


EDITED = "edited in the debugger"


def with_outputs(mocks: Mocks, outputs: Mapping[tuple[str, str], Any]) -> Mocks:
    """`mocks` with these (flow id, node id) → output entries put in place (the debugger's edits)."""
    if not outputs:
        return mocks
    entries = dict(mocks.entries)
    for (flow_id, node_id), output in outputs.items():
        entries[(flow_id, node_id)] = Mock(flow_id, node_id, _Edited(EDITED, 0, 0), output=output)
    return Mocks(mocks.file, entries)


def runner_for(
    flowset: Any,
    *,
    clock: Callable[[], datetime] | None = None,
    outputs: Mapping[tuple[str, str], Any] | None = None,
    state: StateStore | None = None,
) -> Runner | None:
    """A runner over the FlowSet's Greentic-shaped flows, None when it has none. `outputs`
    replace mocked nodes' outputs; `state` replaces the process's state store."""
    bundle = flowset.greentic
    if bundle is None or not bundle.flows:
        return None
    mocks = with_outputs(bundle.mocks, outputs or {})
    return Runner(bundle.flows, components=bundle.components, mocks=mocks, state=state or state_for(flowset), clock=clock)


def entry_for_request(request: Any, route: IngressRoute) -> dict[str, Any]:
    """The flow input `{event, events, tenant, team, correlation_id}` for a captured request."""
    headers = list(request.headers.items)
    envelope = build_envelope(
        route,
        request.method,
        request.path,
        request.query,
        headers,
        request.body,
        datetime.fromtimestamp(request.received_at or time.time(), UTC),
    )
    return flow_input(envelope, route, headers)


def chosen(flowset: Any, route: IngressRoute) -> tuple[tuple[str, ...], str, str | None]:
    """(flow ids, why, error) for a route, as the runtime would choose them."""
    bundle = flowset.greentic
    subscribed: dict[str, tuple[str, ...]] = {}
    if bundle is not None and bundle.pack is not None:
        subscribed = {pf.id: pf.subscribes_to for pf in bundle.pack.flows}
    infos = [FlowInfo(f.id, f.type, subscribed.get(f.id, ())) for f in flowset.greentic_flows]
    choice = choose_flows(infos, handler=route.handler, in_pack=bool(flowset.is_pack))
    return choice.flow_ids, choice.reason, choice.error


def run_for_request(
    flowset: Any,
    request: Any,
    *,
    run_id: int = 1,
    clock: Callable[[], float] = time.time,
    flow_id: str | None = None,
    outputs: Mapping[tuple[str, str], Any] | None = None,
    state: StateStore | None = None,
) -> list[FlowRun]:
    """Run the Greentic-shaped flows a v1 ingress request reaches; [] when the path is no such
    route or the set has no such flow. `flow_id` runs that flow instead of choosing;
    `outputs` and `state` as for `runner_for` (the debugger re-runs with its own)."""
    route = ingress_route(request.path)
    runner = runner_for(flowset, clock=lambda: datetime.fromtimestamp(clock(), UTC), outputs=outputs, state=state)
    if route is None or (runner is None and not _broken(flowset)):
        return []
    if runner is None:
        ids: tuple[str, ...] = ()
        why, error = "", "no Greentic-shaped flow loaded"
    elif flow_id is not None:
        ids, why, error = (flow_id,), "chosen by name", None
    else:
        ids, why, error = chosen(flowset, route)
    if error is not None:
        broken = _broken(flowset)
        if broken:
            first = broken[0]
            more = f" and {len(broken) - 1} more (`webhook-inspector check` lists them)" if len(broken) > 1 else ""
            error += f"; flow file failed to load: {first.position}: {first.message}{more} — fix it and it reloads"
        return [
            FlowRun(
                run_id,
                None,
                status="error",
                started_at=_iso(clock()),
                error=RunError(error, keys=STOP_ERROR_KEYS),
                state={},
                keys=GREENTIC_RUN_KEYS,
            )
        ]
    assert runner is not None
    entry = entry_for_request(request, route)
    runs = []
    for i, fid in enumerate(ids):
        started = clock()
        t0 = time.perf_counter()
        result = runner.run(fid, entry, tenant=route.tenant)
        took = round((time.perf_counter() - t0) * 1_000_000)
        flow = runner.flows.get(fid)
        runs.append(
            to_flow_run(
                result,
                runner.flows,
                run_id=run_id + i,
                started_at=_iso(started),
                duration_us=took,
                trigger=why,
                file=flow.file if flow else None,
            )
        )
    return runs


def _decision(route: Route | None, flows: Mapping[str, Flow], flow_id: str, node_id: str) -> tuple[Decision, ...] | None:
    if route is None or not route.checks:
        return None
    node = flows[flow_id].node(node_id) if flow_id in flows else None
    arms = node.arms if node is not None else ()
    out = []
    for check in route.checks:
        to = arms[check.index].to if check.index < len(arms) else None
        source = {"expression": check.condition, "value": check.result, "next": to, "left": check.left}
        out.append(Decision(check.condition, to, check.result, source=source))
    return tuple(out)


def _step_error(step: RunnerStep, issue: RunIssue | None, run_file: str | None) -> RunError | None:
    if step.status != "failed":
        return None
    position: Position | None = issue.position if issue is not None else step.position
    if position is None:
        return RunError(step.error or "failed", keys=STEP_ERROR_KEYS)
    if position.file != run_file:  # inside a called flow: say which file
        return RunError(f"{position}: {step.error or 'failed'}", keys=STEP_ERROR_KEYS)
    return RunError(step.error or "failed", None, position.line, position.column, STEP_ERROR_KEYS)


def to_flow_run(
    result: RunResult,
    flows: Mapping[str, Flow],
    *,
    run_id: int | str | None,
    started_at: str,
    duration_us: int | float | None,
    trigger: str | None = None,
    file: str | None = None,
) -> FlowRun:
    """A runner result as the trace's FlowRun: one Step per node run, called flows' steps
    included (`flow` and `depth` say where), every Greentic field present (null when unused)."""
    issue = result.errors[0] if result.errors else None
    steps = []
    for step in result.steps:
        decision = _decision(step.route, flows, step.flow_id, step.node_id)
        nxt = step.route.target if step.route is not None and step.route.kind == "next" else None
        steps.append(
            Step(
                step.node_id,
                step.operation,
                STEP_STATUS.get(step.status, step.status),
                started_at,
                None,
                step.output,
                nxt,
                decision,
                _step_error(step, issue if issue is not None and step.depth == 0 and issue.node_id == step.node_id else None, file),
                step.logs,
                None,
                step.operation,
                step.input,
                None if step.status != "mocked" else {"component": step.component, "source": step.mock},
                step.flow_id,
                step.depth,
                str(step.position),
                GREENTIC_STEP_KEYS,
            )
        )
    error = None
    if issue is not None:
        where = issue.position
        if where is not None and where.file == file:
            error = RunError(issue.message, issue.node_id, where.line, where.column, NODE_ERROR_KEYS)
        elif where is not None:
            error = RunError(f"{where}: {issue.message}", issue.node_id, None, None, NODE_ERROR_KEYS)
        else:
            error = RunError(issue.message, issue.node_id, None, None, STOP_ERROR_KEYS)
    return FlowRun(
        run_id,
        result.flow_id,
        file,
        trigger,
        None,
        None,
        RUN_STATUS.get(result.status, result.status),
        started_at,
        duration_us,
        tuple(s.node_id for s in result.steps if s.depth == 0),
        tuple(steps),
        error,
        tuple(str(w) for w in result.warnings),
        dict(result.vars),
        result.reason or None,
        GREENTIC_RUN_KEYS,
        None,
        result.output,
        result.response,
        result.resume_at,
    )


def webhook_urls(base: str, tenant: str, flowset: Any) -> dict[str, str | None]:
    """Per Greentic-shaped flow, the URL whose webhook runs it (docs/greentic-shape.md §8):
    `{base}/v1/events/ingress/webhook/{tenant}/default/{flow id}`, or None when no webhook
    reaches it (in a pack only the default flow, or those subscribed, run: others are called)."""
    root = base.rstrip("/")
    out: dict[str, str | None] = {}
    for flow in flowset.greentic_flows:
        route = IngressRoute("events", "webhook", tenant, "default", flow.id)
        ids, _why, _error = chosen(flowset, route)
        out[flow.id] = f"{root}/v1/events/ingress/webhook/{tenant}/default/{flow.id}" if flow.id in ids else None
    return out


MAX_NODE_LINES = 200


def node_lines(at: str | None) -> list[tuple[int, str]]:
    """The YAML lines of the node at `file:line:col` (its key line and everything indented
    under it), numbered; [] when the file cannot be read or the position is not a node's."""
    if not at:
        return []
    file, _, rest = at.rpartition(":")
    file, _, line_text = file.rpartition(":")
    if not file or not line_text.isdigit():
        return []
    try:
        with open(file, encoding="utf-8-sig") as handle:
            lines = handle.read(MAX_FLOW_BYTES).splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    first = int(line_text) - 1
    if not 0 <= first < len(lines):
        return []
    indent = len(lines[first]) - len(lines[first].lstrip(" "))
    out = [(first + 1, lines[first])]
    for number in range(first + 1, min(len(lines), first + MAX_NODE_LINES)):
        text = lines[number]
        if text.strip() and len(text) - len(text.lstrip(" ")) <= indent:
            break
        out.append((number + 1, text))
    while len(out) > 1 and not out[-1][1].strip():
        out.pop()
    return out


def mocked_nodes(flowset: Any, flow: Flow) -> list[tuple[str, str]]:
    """(node id, component name) for every node of `flow` that is mocked here: a sidecar maps
    it to a component, or its operation is not one the runner runs natively."""
    from .runner import is_local

    bundle = flowset.greentic
    out = []
    for node in flow.nodes:
        ref = bundle.component(flow.id, node.id) if bundle is not None else None
        if ref is not None:
            out.append((node.id, ref.name))
        elif not is_local(node.operation):
            named = node.config.get("component") if isinstance(node.config, dict) and node.operation == "component.exec" else None
            out.append((node.id, named if isinstance(named, str) else node.operation))
    return out


def flow_lines(flowset: Any, base: str, tenant: str) -> list[str]:
    """What `check` prints per Greentic-shaped flow: type, file, entry node, entrypoints,
    the mocked nodes, and the webhook URL that runs it."""
    urls = webhook_urls(base, tenant, flowset)
    bundle = flowset.greentic
    listed = {pf.id: pf.entrypoints for pf in bundle.pack.flows} if bundle is not None and bundle.pack is not None else {}
    lines = []
    for flow in flowset.greentic_flows:
        names = list(dict.fromkeys([*flow.entrypoints, *listed.get(flow.id, ())]))
        entrypoints = ", ".join(names) if names else "none"
        lines.append(f"  {flow.id} ({flow.type}) {flow.file}: entry node {flow.entry}; entrypoints: {entrypoints}")
        mocked = mocked_nodes(flowset, flow)
        if mocked:
            lines.append("    mocked: " + ", ".join(f"{node} ({component})" for node, component in mocked))
        url = urls.get(flow.id)
        lines.append(
            f"    webhook: {url}"
            if url
            else "    webhook: none reaches it in a pack (run by flow.call, or give it subscribes_to in pack.yaml)"
        )
    return lines


def serves(flowset: Any, path: str) -> bool:
    """Whether Greentic-shaped flows answer a request to `path`: a v1 ingress route, and the
    set holds such flows (documented flows triggered by it take precedence: see pipeline)."""
    return bool(flowset is not None and (flowset.greentic_flows or _broken(flowset)) and ingress_route(path) is not None)


def _broken(flowset: Any) -> list[Any]:
    """The errors of the Greentic-shaped files that failed to load (a request meant for them
    says so instead of 'no flow')."""
    bundle = flowset.greentic
    return list(bundle.errors) if bundle is not None else []


def accepted() -> Any:
    """Greentic's answer to an ingress webhook before its flows run (docs/greentic-shape.md
    §6.7): 200, `content-type: application/json`, and the 8 bytes `accepted` (not JSON)."""
    from ..model import Headers, Response

    return Response(200, Headers.of((("Content-Type", "application/json"),)), b"accepted")


def running_runs(flowset: Any, request: Any) -> list[FlowRun]:
    """The runs a request will start, as `running` placeholders (what a capture holds between
    its answer and the end of its runs)."""
    from ..flow.runs import running

    route = ingress_route(request.path)
    if route is None or not flowset.greentic_flows:
        return []
    ids, _why, error = chosen(flowset, route)
    flows = flowset.greentic.flows
    return [running(fid, flows[fid].file) for fid in ids if fid in flows] if error is None else []
