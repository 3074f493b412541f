"""Run a real Greentic flow on a laptop, node by node, as the runner's `drive_flow` does
(docs/greentic-shape.md §2.4, §3, §4): render each node's input, run what a laptop can run
(`emit.*`, `state.get`/`state.set`, `var.set`, `flow.call`/`flow.goto` within the folder or
pack, `session.wait` as a pause), take every other node's output from `mocks.yaml` (else `{}`
and a warning), route, and return a plain `RunResult` with one `Step` per node.

    runner = Runner.from_bundle(load_bundle("pack"))
    result = runner.run("default", entry)
    [(s.node_id, s.status, s.output) for s in result.steps], result.output

Budgets: `max_steps` nodes per run (all flows together) and `max_depth` nested `flow.call`s,
so a looping flow ends with an error that names the node.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from ..flow.model import Position
from ..script.values import json_size_at_least
from .conditions import Decision, choose_event, choose_route, compile_routing, routing_context
from .document import Flow, Node
from .mocks import MockError, Mocks
from .pack import Bundle, ComponentRef
from .template import TemplateError, entry_view, render_value, template_context

__all__ = [
    "LOCAL_OPERATIONS",
    "MAX_DEPTH",
    "MAX_STEPS",
    "MAX_TRACE_CHARS",
    "MemoryState",
    "RunIssue",
    "RunResult",
    "Runner",
    "StateStore",
    "Step",
    "finalize_output",
    "is_local",
]

MAX_STEPS = 10_000
#: The inputs and outputs one run (with the flows it calls) may record, as for documented flows.
MAX_TRACE_CHARS = 16 * 1024 * 1024
MAX_DEPTH = 8
MAX_REDIRECTS = 3
#: Operations that run here; `emit.*` too. Everything else is mocked.
LOCAL_OPERATIONS = ("state.get", "state.set", "var.set", "flow.call", "flow.goto", "session.wait")
_ERROR_EVENTS = ("on_error", "on_cancel", "on_timeout")
_STRIPPED = ("vars_out", "response_timeout_secs")

StepStatus = Literal["ran", "mocked", "paused", "failed"]
RunStatus = Literal["completed", "waiting", "failed"]


def is_local(operation: str) -> bool:
    return operation.startswith("emit.") or operation in LOCAL_OPERATIONS


class StateStore(Protocol):
    """The persistent key/value store `state.get`/`state.set` use, scoped by tenant."""

    def get(self, tenant: str, key: str) -> tuple[bool, Any]: ...

    def set(self, tenant: str, key: str, value: Any) -> None: ...


class MemoryState:
    """A `StateStore` in a dict (tests, one-off runs)."""

    def __init__(self, values: Mapping[tuple[str, str], Any] | None = None) -> None:
        self.values: dict[tuple[str, str], Any] = dict(values or {})

    def get(self, tenant: str, key: str) -> tuple[bool, Any]:
        if (tenant, key) in self.values:
            return True, copy.deepcopy(self.values[(tenant, key)])
        return False, None

    def set(self, tenant: str, key: str, value: Any) -> None:
        self.values[(tenant, key)] = copy.deepcopy(value)


@dataclass(frozen=True)
class Step:
    """One node run: what it received (rendered), returned, and where routing went."""

    flow_id: str
    node_id: str
    operation: str
    status: StepStatus
    input: Any
    output: Any
    position: Position
    route: Decision | None = None
    depth: int = 0  # 0 for the flow run, 1 inside a flow.call, …
    component: str | None = None  # the mocked component's name
    mock: str | None = None  # where the mocked output came from: `file:line:col`, or None (no mock: `{}`)
    event: str | None = None  # the routing event (on_success, on_error, an outcome)
    error: str | None = None
    logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunIssue:
    message: str
    flow_id: str
    node_id: str | None = None
    position: Position | None = None

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position is not None else ""
        return f"{where}{self.message}"


@dataclass(frozen=True)
class RunResult:
    """A finished (or paused, or failed) run; `output` is the flow output (§3.6), `response`
    the last `emit.response` payload."""

    flow_id: str
    status: RunStatus
    steps: tuple[Step, ...]
    output: Any
    egress: tuple[Any, ...] = ()
    response: Any = None
    errors: tuple[RunIssue, ...] = ()
    warnings: tuple[RunIssue, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    resume_at: str | None = None  # where a waiting run continues
    reason: str = ""


def finalize_output(last_output: Any, egress: list[Any]) -> Any:
    """The flow output: the last node's output without egress; else the egress items, then
    the last output when it is not null, not the last egress item again, and (an array) its
    items one by one."""
    if not egress:
        return copy.deepcopy(last_output)
    out = copy.deepcopy(egress)
    if last_output is None or last_output == egress[-1]:
        return out
    if isinstance(last_output, list):
        out.extend(copy.deepcopy(last_output))
    else:
        out.append(copy.deepcopy(last_output))
    return out


def _emit_payload(rendered: Any) -> Any:
    if isinstance(rendered, dict):
        if "input" in rendered:
            return rendered["input"]
        if "payload" in rendered:
            return rendered["payload"]
    return rendered


class _Failure(Exception):
    def __init__(self, message: str, position: Position | None = None, rendered: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.rendered = rendered  # the node's rendered input, when rendering got that far


@dataclass
class _Outcome:
    status: RunStatus
    output: Any
    egress: list[Any]
    response: Any
    vars: dict[str, Any]
    resume_at: str | None = None
    reason: str = ""
    error: _Failure | None = None
    node_id: str | None = None


@dataclass
class _Done:
    """What one node did, before routing."""

    status: StepStatus
    rendered: Any
    output: Any
    ok: bool = True
    outcome: str | None = None
    component: str | None = None
    mock: str | None = None
    logs: tuple[str, ...] = ()
    goto: tuple[Flow, str | None, Any] | None = None
    set_var: tuple[str, Any] | None = None


class _Run:
    """The bookkeeping shared by a run and the flows it calls."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.warnings: list[RunIssue] = []
        self.count = 0
        self.redirects = 0
        self.size = 0  # characters of JSON the steps' inputs and outputs hold, at least


class Runner:
    """Runs flows of one folder or pack. `clock`, `state` and the budgets are injectable."""

    def __init__(
        self,
        flows: Mapping[str, Flow],
        *,
        components: Mapping[str, Mapping[str, ComponentRef]] | None = None,
        mocks: Mocks | None = None,
        state: StateStore | None = None,
        clock: Callable[[], datetime] | None = None,
        tenant: str = "default",
        max_steps: int = MAX_STEPS,
        max_depth: int = MAX_DEPTH,
        max_trace: int = MAX_TRACE_CHARS,
    ) -> None:
        self.flows = dict(flows)
        self.components = {k: dict(v) for k, v in (components or {}).items()}
        self.mocks = mocks or Mocks()
        self.state: StateStore = state if state is not None else MemoryState()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tenant = tenant
        self.max_steps = max_steps
        self.max_depth = max_depth
        self.max_trace = max_trace

    @classmethod
    def from_bundle(cls, bundle: Bundle, **options: Any) -> Runner:
        return cls(bundle.flows, components=bundle.components, mocks=bundle.mocks, **options)

    def run(self, flow: str | Flow, entry: Any, *, start: str | None = None, tenant: str | None = None) -> RunResult:
        """Run `flow` (an id or a Flow) with `entry` as its input, from its entry node or `start`."""
        run = _Run()
        target = self.flows.get(flow) if isinstance(flow, str) else flow
        flow_id = flow if isinstance(flow, str) else flow.id
        if target is None:
            known = ", ".join(self.flows) or "none"
            issue = RunIssue(f"flow '{flow_id}' is not loaded (flows: {known})", flow_id)
            return RunResult(flow_id, "failed", (), None, errors=(issue,))
        scope_tenant = (
            tenant or (entry.get("tenant") if isinstance(entry, dict) and isinstance(entry.get("tenant"), str) else None) or self.tenant
        )
        outcome = self._drive(run, target, entry, 0, start, scope_tenant)
        errors: tuple[RunIssue, ...] = ()
        if outcome.error is not None:
            errors = (RunIssue(outcome.error.message, target.id, outcome.node_id, outcome.error.position),)
        return RunResult(
            flow_id=target.id,
            status=outcome.status,
            steps=tuple(run.steps),
            output=outcome.output,
            egress=tuple(outcome.egress),
            response=outcome.response,
            errors=errors,
            warnings=tuple(run.warnings),
            vars=outcome.vars,
            resume_at=outcome.resume_at,
            reason=outcome.reason,
        )

    # -------------------------------------------------------------- the loop

    def _seed_vars(self, flow: Flow) -> dict[str, Any]:
        declared = flow.parameters.get("vars_init") if isinstance(flow.parameters, dict) else None
        out: dict[str, Any] = {}
        if not isinstance(declared, dict):
            return out
        for name, spec in declared.items():
            if isinstance(spec, dict) and "default" in spec:
                out[name] = copy.deepcopy(spec["default"])
            elif isinstance(spec, dict) and spec.get("required"):
                raise _Failure(
                    f"required flow variable not provided: {name} (give it a `default` under parameters.vars_init)", flow.position
                )
        return out

    def _drive(self, run: _Run, flow: Flow, entry: Any, depth: int, start: str | None, tenant: str) -> _Outcome:
        egress: list[Any] = []
        response: Any = None
        outputs: dict[str, Any] = {}
        book_nodes: dict[str, Any] = {}
        prev: Any = None
        last_output: Any = None
        try:
            vars_ = self._seed_vars(flow)
        except _Failure as exc:
            return _Outcome("failed", None, egress, None, {}, error=exc)
        current = start or flow.entry
        if current is None:
            return _Outcome(
                "failed", None, egress, None, vars_, error=_Failure(f"flow {flow.id} has no start node (it has no nodes)", flow.position)
            )
        input_view = copy.deepcopy(entry)
        view = entry_view(entry)

        def finish(status: RunStatus, **extra: Any) -> _Outcome:
            return _Outcome(status, finalize_output(last_output, egress), egress, response, vars_, **extra)

        while True:
            node = flow.node(current)
            if node is None:
                where = flow.position if prev is None else None
                return finish("failed", error=_Failure(f"node {current} not found in flow {flow.id}", where), node_id=current)
            if run.count >= self.max_steps:
                failure = _Failure(
                    f"stopped after {self.max_steps:,} steps (max_steps) at node '{node.id}': the flow loops; give the loop an exit condition",
                    node.position,
                )
                return finish("failed", error=failure, node_id=node.id)
            run.count += 1
            context = template_context(
                entry,
                prev=prev,
                outputs=outputs,
                state={"entry": entry, "input": input_view, "nodes": book_nodes, "redirect_count": run.redirects, "park_turns": 0},
                vars=vars_,
                now=self.clock(),
                view=view,
            )
            step_at = len(run.steps)
            try:
                result = self._node(run, flow, node, entry, context, depth, tenant)
            except _Failure as exc:
                run.steps.insert(
                    step_at,
                    Step(
                        flow.id,
                        node.id,
                        node.operation,
                        "failed",
                        getattr(exc, "rendered", None),
                        None,
                        node.position,
                        depth=depth,
                        error=exc.message,
                    ),
                )
                return finish("failed", error=exc, node_id=node.id)
            rendered, output, ok = result.rendered, result.output, result.ok
            room = self.max_trace - run.size
            run.size += json_size_at_least(rendered, room)[0] + json_size_at_least(output, room)[0]
            if run.size > self.max_trace:
                failure = _Failure(
                    f"stopped at node '{node.id}': the run's inputs and outputs passed {self.max_trace // (1024 * 1024)} MiB "
                    "(MAX_TRACE_CHARS), more than a trace can keep; a loop that carries a large value?",
                    node.position,
                )
                run.steps.insert(
                    step_at, Step(flow.id, node.id, node.operation, "failed", None, None, node.position, depth=depth, error=failure.message)
                )
                return finish("failed", error=failure, node_id=node.id)
            if result.set_var is not None:
                vars_[result.set_var[0]] = copy.deepcopy(result.set_var[1])
            if isinstance(rendered, dict) and isinstance(node.input_mapping, dict) and isinstance(node.input_mapping.get("vars_out"), dict):
                for name, template in node.input_mapping["vars_out"].items():
                    try:
                        vars_[name] = render_value(template, {**context, "prev": copy.deepcopy(output)}, pointer=True)
                    except TemplateError as exc:
                        failure = _Failure(f"vars_out '{name}' of node '{node.id}': {exc.message}", node.position)
                        run.steps.insert(
                            step_at,
                            Step(
                                flow.id,
                                node.id,
                                node.operation,
                                "failed",
                                rendered,
                                output,
                                node.position,
                                depth=depth,
                                error=failure.message,
                            ),
                        )
                        return finish("failed", error=failure, node_id=node.id)
            if node.operation.startswith("emit."):
                egress.append(copy.deepcopy(output))
                if node.operation == "emit.response":
                    response = copy.deepcopy(output)
            outputs[node.id] = output
            book_nodes[node.id] = {"ok": ok, "payload": copy.deepcopy(output), "meta": {}}
            last_output = output
            if result.goto is not None:
                run.steps.insert(
                    step_at,
                    Step(flow.id, node.id, node.operation, result.status, rendered, output, node.position, depth=depth, logs=result.logs),
                )
                target_flow, target_node, handed = result.goto
                flow, current, prev, input_view = target_flow, target_node or target_flow.entry, handed, copy.deepcopy(handed)
                outputs, book_nodes = {}, {}
                if current is None:
                    return finish("failed", error=_Failure(f"flow {flow.id} has no start node", flow.position), node_id=node.id)
                continue
            event = choose_event(node.arms, ok=ok, outcome=result.outcome)
            decision = choose_route(compile_routing(node.routing), routing_context(output, entry, outputs, event, view=view))
            if node.operation == "session.wait":
                if decision.kind != "next":
                    failure = _Failure(f"session.wait node {node.id} requires a non-empty route (a `to:` arm to resume at)", node.position)
                    run.steps.insert(
                        step_at,
                        Step(
                            flow.id,
                            node.id,
                            node.operation,
                            "failed",
                            rendered,
                            output,
                            node.position,
                            decision,
                            depth,
                            error=failure.message,
                        ),
                    )
                    return finish("failed", error=failure, node_id=node.id)
                run.steps.insert(
                    step_at,
                    Step(
                        flow.id,
                        node.id,
                        node.operation,
                        "paused",
                        rendered,
                        output,
                        node.position,
                        decision,
                        depth,
                        event=event,
                        logs=result.logs,
                    ),
                )
                reason = _wait_reason(rendered)
                return finish(
                    "waiting",
                    resume_at=decision.target,
                    reason=f"session.wait at node '{node.id}'{': ' + reason if reason else ''}",
                    node_id=node.id,
                )
            run.steps.insert(
                step_at,
                Step(
                    flow.id,
                    node.id,
                    node.operation,
                    result.status,
                    rendered,
                    output,
                    node.position,
                    decision,
                    depth,
                    result.component,
                    result.mock,
                    event,
                    None,
                    result.logs,
                ),
            )
            if decision.kind == "next" and decision.target is not None:
                prev = output
                current = decision.target
                continue
            if decision.kind == "wait":
                return finish(
                    "waiting", resume_at=node.id, reason=f"awaiting user submit at node `{node.id}` (no condition matched)", node_id=node.id
                )
            return finish("completed", reason=decision.reason)

    # -------------------------------------------------------------- one node

    def _node(self, run: _Run, flow: Flow, node: Node, entry: Any, context: dict[str, Any], depth: int, tenant: str) -> _Done:
        mapping = node.input_mapping
        if isinstance(mapping, dict):
            mapping = {k: v for k, v in mapping.items() if k not in _STRIPPED}
        op = node.operation
        try:
            if op == "var.set" and isinstance(mapping, dict):
                var_context = {**context, "prev": None if not context["node"] else context["prev"]}
                rendered = {k: render_value(v, var_context, pointer=(k == "value")) for k, v in mapping.items()}
            else:
                rendered = render_value(mapping, context)
        except TemplateError as exc:
            raise _Failure(f"failed to render node input template: template render failed: {exc}", node.key_position(op)) from None
        component = self.components.get(flow.id, {}).get(node.id)
        if component is None and is_local(op):
            return self._local(run, flow, node, rendered, entry, depth, tenant)
        return self._mocked(run, flow, node, rendered, entry, component)

    def _local(self, run: _Run, flow: Flow, node: Node, rendered: Any, entry: Any, depth: int, tenant: str) -> _Done:
        op = node.operation
        where = node.key_position(op)

        def fail(message: str) -> _Failure:
            return _Failure(message, where, rendered)

        if op.startswith("emit."):
            return _Done("ran", rendered, _emit_payload(rendered))
        if op in ("state.get", "state.set"):
            key = rendered.get("key") if isinstance(rendered, dict) else None
            if not isinstance(key, str) or not key:
                raise fail(f"{op} needs a non-empty string `key` (found {key!r})")
            if op == "state.get":
                found, value = self.state.get(tenant, key)
                return _Done("ran", rendered, {"key": key, "value": value, "found": found})
            value = rendered.get("value")
            self.state.set(tenant, key, value)
            return _Done("ran", rendered, {"key": key, "value": copy.deepcopy(value)})
        if op == "var.set":
            name = rendered.get("name") if isinstance(rendered, dict) else None
            if not isinstance(name, str) or not name:
                run.warnings.append(RunIssue(f"var.set node '{node.id}' has no `name`; skipped", flow.id, node.id, where))
                return _Done("ran", rendered, {"ok": True})
            return _Done("ran", rendered, {"ok": True}, set_var=(name, rendered.get("value")))
        if op == "session.wait":
            return _Done("paused", rendered, rendered)
        target_id = rendered.get("flow_id", rendered.get("flow")) if isinstance(rendered, dict) else None
        if not isinstance(target_id, str) or not target_id:
            raise fail(f"{op} needs `flow_id: <flow id>`")
        target = self.flows.get(target_id)
        if target is None:
            raise fail(f"{op}: flow '{target_id}' is not in this folder or pack (flows: {', '.join(self.flows) or 'none'})")
        handed = rendered.get("input") if isinstance(rendered, dict) else None
        if op == "flow.goto":
            limit = rendered.get("max_redirects", MAX_REDIRECTS) if isinstance(rendered, dict) else MAX_REDIRECTS
            run.redirects += 1
            if not isinstance(limit, int) or run.redirects > limit:
                raise fail(f"redirect_limit: more than {limit} flow.goto jumps in one turn")
            node_id = rendered.get("node") if isinstance(rendered, dict) else None
            if node_id is not None and (not isinstance(node_id, str) or target.node(node_id) is None):
                raise fail(f"flow.goto: flow '{target_id}' has no node {node_id!r}")
            return _Done("ran", rendered, copy.deepcopy(handed), goto=(target, node_id, handed))
        if depth + 1 > self.max_depth:
            raise fail(
                f"flow.call nested deeper than {self.max_depth} (max_depth) calling '{target_id}': a flow that calls itself without an exit?"
            )
        child = self._drive(run, target, handed, depth + 1, None, tenant)
        if child.status == "failed":
            detail = child.error.message if child.error is not None else "failed"
            raise fail(f"flow.call to '{target_id}' failed: {detail}")
        if child.status == "waiting":
            raise fail(f"flow.call to '{target_id}' paused ({child.reason}); a called flow must run to completion")
        return _Done("ran", rendered, child.output)

    def _mocked(self, run: _Run, flow: Flow, node: Node, rendered: Any, entry: Any, component: ComponentRef | None) -> _Done:
        op = node.operation
        name = component.name if component is not None else None
        if name is None and op == "component.exec" and isinstance(rendered, dict):
            named = rendered.get("component", rendered.get("component_ref"))
            name = named if isinstance(named, str) else None
        name = name or op
        mock = self.mocks.get(flow.id, node.id)
        where = node.key_position(op)
        logs: tuple[str, ...] = ()
        if mock is None:
            output: Any = {}
            mock_where = None
            run.warnings.append(
                RunIssue(
                    f"node '{node.id}' ({name}) is mocked and mocks.yaml has no entry {flow.id}/{node.id}: its output is {{}}",
                    flow.id,
                    node.id,
                    where,
                )
            )
        else:
            try:
                output, produced = mock.produce(rendered, entry)
            except MockError as exc:
                raise _Failure(exc.message, exc.position, rendered) from None
            logs = tuple(produced)
            mock_where = str(mock.position)
        ok = True
        outcome = output.get("outcome") if isinstance(output, dict) and isinstance(output.get("outcome"), str) else None
        if isinstance(output, dict) and output.get("ok") is False:
            ok = False
            if not _has_error_route(node):
                error = output.get("error")
                code, message = (
                    (error.get("code", "error"), error.get("message", "")) if isinstance(error, dict) else ("error", str(error or ""))
                )
                raise _Failure(f"component {name} failed: {code}: {message}".rstrip(": "), where, rendered)
        return _Done("mocked", rendered, output, ok, outcome, name, mock_where, logs)


def _has_error_route(node: Node) -> bool:
    return any(arm.condition is not None and any(e in arm.condition for e in _ERROR_EVENTS) for arm in node.arms)


def _wait_reason(rendered: Any) -> str:
    if isinstance(rendered, str):
        return rendered
    if isinstance(rendered, dict) and isinstance(rendered.get("reason"), str):
        return rendered["reason"]
    return ""
