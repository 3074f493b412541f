"""Run flows node by node and record every step (SPEC §6 trace), with no I/O of its own.

The engine is synchronous: the pipeline runs it in a worker thread so that a slow script
never delays another request, and learns of the first `http_response` through a callback.
"""

from __future__ import annotations

import re
import sys
import time
import zlib
from _thread import get_ident as _thread_id
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ..jsonfast import loads_counting as _json_loads
from ..model import Capture, Request, TimeStamper, is_json_type
from ..script import Limits
from ..script.values import json_size_at_least
from .loader import FlowSet
from .model import Flow, Node, Trigger
from .nodes import StepContext, StepFailed, _copy
from .runs import STOP_ERROR_KEYS, TRACED_KEYS, Decision, FlowRun, RunError, Step, skipped

_new_step: Callable[..., Step] = Step._draft  # type: ignore[attr-defined]  # see runs._quick_init
_new_run: Callable[..., FlowRun] = FlowRun._draft  # type: ignore[attr-defined]

STEP_LIMIT = 1000
# What all the runs of one request may record together, as JSON text: step outputs, logs
# and answers. A loop of 1,000 steps each returning ~1 MiB would otherwise make a 1 GiB
# trace (and as much stored); legitimate traces are far below this.
MAX_TRACE_CHARS = 16 * 1024 * 1024
# Async runs one request may queue in all: depth alone (8) still lets a run that queues
# itself in a 1,000-step loop fan out to 1,000^8 runs.
MAX_ASYNC_RUNS = 100
# Seconds of steps the runs of one request may take in all. Each script evaluation is
# bounded (1,000,000 operations, well under a second) and each run to 1,000 steps, but 200
# runs of 1,000 such steps would hold a flow worker for hours.
MAX_REQUEST_SECONDS = 60.0
_SWITCH_INTERVAL = 0.001  # seconds; see Engine.__post_init__
# Event types whose triggered flows an engine remembers (the URL names the event type, so a
# sender could name any number of them): past this many, it starts again.
_TRIGGERED_KEPT = 1024

_perf = time.perf_counter
_cpu = time.thread_time  # CPU time of the calling thread


_stamp = TimeStamper().text  # runs' and steps' started_at
_received_stamp = TimeStamper().text  # events' received_at


def _never() -> bool:
    return False


# Deflate reaches ratios above 1000:1, so a body within max_body_bytes can claim gigabytes
# once inflated (a decompression bomb). Flows and the display see at most this much of it;
# the store keeps the bytes as received, whatever they inflate to.
MAX_DECODED_BYTES = 16 * 1024 * 1024
# Deeper JSON is rare in webhooks and dangerous everywhere after parsing: flows copy and
# walk values recursively, and traces are encoded with a nesting limit (orjson: 255).
MAX_PAYLOAD_DEPTH = 128


def decode_body(request: Request, limit: int = MAX_DECODED_BYTES) -> tuple[bytes, str | None]:
    """The body with Content-Encoding undone (for display and flows; the store keeps it raw),
    at most `limit` bytes of it, and a warning when it was cut or could not be undone."""
    return _decoded(request.body, request.headers.get("content-encoding"), limit)


def _decoded(body: bytes, encoding: str | None, limit: int = MAX_DECODED_BYTES) -> tuple[bytes, str | None]:
    """decode_body of a body sent with that Content-Encoding header value."""
    if not encoding or not body:
        return body, None
    encoding = encoding.strip().lower()
    if not encoding or encoding == "identity":
        return body, None
    try:
        if encoding in ("gzip", "x-gzip"):
            decoded, complete = _inflate(body, 16 + zlib.MAX_WBITS, limit)
        elif encoding == "deflate":
            try:
                decoded, complete = _inflate(body, zlib.MAX_WBITS, limit)
            except zlib.error:  # many senders write raw deflate without the zlib header
                decoded, complete = _inflate(body, -zlib.MAX_WBITS, limit)
        else:
            return body, f"Content-Encoding {encoding} is not supported; the raw bytes are used"
    except zlib.error as exc:
        return body, f"Content-Encoding {encoding} could not be undone ({exc}); the raw bytes are used"
    if complete is None:
        return body, f"Content-Encoding {encoding} could not be undone (the compressed data ends early); the raw bytes are used"
    if not complete:
        return decoded, (
            f"Content-Encoding {encoding}: the decoded body was cut at {limit} bytes ({len(body)} bytes inflate to more, "
            "a decompression bomb?); flows see the first part, the store keeps the raw bytes as received"
        )
    return decoded, None


def _inflate(body: bytes, wbits: int, limit: int) -> tuple[bytes, bool | None]:
    """(decoded, complete): complete is False when the data inflates beyond `limit` (decoding
    stops there, so a bomb costs at most `limit` bytes of work), None when it ends early."""
    inflater = zlib.decompressobj(wbits)
    decoded = inflater.decompress(body, limit + 1)
    if len(decoded) > limit:
        return decoded[:limit], False
    if not inflater.eof:
        return decoded, None
    return decoded, True


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels in `value` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


_FIRST_VISIBLE = re.compile(r"\s*(.)", re.DOTALL)  # the first character that str.lstrip would keep


def parse_payload(body_text: str, content_type: str, body_bytes: bytes | None = None) -> tuple[Any, str | None]:
    """SPEC §6: JSON when the type says so or the body starts with { or [; a form as a map;
    else the text; () when empty. A JSON body that does not parse, or nests deeper than
    MAX_PAYLOAD_DEPTH, gives the text and a warning. `body_bytes`, when given, is
    `body_text` as UTF-8 (the body as received): the JSON is parsed from it, without
    encoding the text again."""
    if body_text == "":
        return None, None
    if is_json_type(content_type) or _looks_like_json(body_text):
        try:
            value, brackets = _json_loads(body_text, body_bytes)
        except ValueError as exc:
            if "nested too deeply" in str(exc):  # jsonfast's word for what Python cannot parse
                return body_text, f"the body is JSON nested more than {MAX_PAYLOAD_DEPTH} levels deep; payload is the text"
            return body_text, f"the body is not valid JSON ({exc}); payload is the text"
        # Nesting needs at least as many brackets as levels; most bodies have fewer in all.
        if (type(value) is dict or type(value) is list) and brackets > MAX_PAYLOAD_DEPTH and _deeper_than(value, MAX_PAYLOAD_DEPTH):
            return body_text, f"the body is JSON nested more than {MAX_PAYLOAD_DEPTH} levels deep; payload is the text"
        return value, None
    if content_type == FORM_TYPE:
        return dict(parse_qsl(body_text, keep_blank_values=True)), None
    return body_text, None


def _looks_like_json(text: str) -> bool:
    """The first character str.lstrip would keep is { or [."""
    first = _FIRST_VISIBLE.match(text)
    return first is not None and first.group(1) in "{["


FORM_TYPE = "application/x-www-form-urlencoded"
# GitHub's "application/x-www-form-urlencoded" webhook setting and Slack's interactivity
# callbacks both send their JSON document as one form field with this name; a flow written
# for the JSON delivery must see the same `event.payload` either way.
FORM_JSON_FIELD = "payload"
FORM_JSON_NOTE = f"form-encoded, JSON in `{FORM_JSON_FIELD}`"


def form_json(fields: dict[str, str]) -> tuple[Any, str | None]:
    """The JSON document a form carries in its `payload` field: (object or array, None);
    (None, warning) when the field looks like JSON but is not; (None, None) when the form is
    an ordinary one. Only objects and arrays count: `payload=1` or `payload=true` is a
    plain form value, not a wrapped document."""
    field = fields.get(FORM_JSON_FIELD)
    if not isinstance(field, str) or field.lstrip()[:1] not in ("{", "["):
        return None, None
    value, warning = parse_payload(field, "application/json")
    if warning:
        why = warning.removeprefix("the body is ").removesuffix("; payload is the text")
        return None, (
            f"form field `{FORM_JSON_FIELD}` starts like JSON but is {why}; event.payload is the form's "
            f"fields (as event.form), with `{FORM_JSON_FIELD}` as text"
        )
    if type(value) is dict or type(value) is list:
        return value, None
    return None, None


def event_scope(capture: Capture) -> tuple[dict[str, Any], list[str]]:
    """The `event` of SPEC §6 and the warnings met building it."""
    req = capture.request
    warnings: list[str] = []
    # The scope's headers first: the body's encoding and type are read from them, not
    # looked up again one by one (lowered() joins repeated values as Headers.get does).
    headers = req.headers.lowered()
    raw, warning = _decoded(req.body, headers.get("content-encoding"))
    if warning:
        warnings.append(warning)
    exact: bytes | None = raw  # the text's UTF-8, when decoding it replaced nothing
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text, exact = raw.decode("utf-8", errors="replace"), None
    content_type = headers.get("content-type")
    content_type = content_type.split(";", 1)[0].strip().lower() if content_type else ""
    payload, warning = parse_payload(text, content_type, exact)
    if warning:
        warnings.append(warning)
    form = None
    if content_type == FORM_TYPE and type(payload) is dict:
        form = payload
        wrapped, warning = form_json(form)
        if warning:
            warnings.append(warning)
        if wrapped is not None:
            payload = wrapped
    signature = capture.signature
    event = {
        "id": capture.id,
        "tenant": capture.tenant,
        "event_type": capture.event_type,
        "method": req.method,
        "path": req.path,
        "query": dict(req.query_pairs()) if req.query else {},
        "headers": headers,
        "payload": payload,
        "form": form,  # every field of a form body (also when `payload` is its JSON), else ()
        "body": text,
        "received_at": _received_stamp(req.received_at),
        "signature": {"status": signature.status, "scheme": signature.scheme},
    }
    return event, warnings


def _now_iso(clock: Callable[[], float]) -> str:
    return _stamp(clock())


class RequestLimits:
    """What the runs of one request may use together: trace text (MAX_TRACE_CHARS), async
    runs queued (MAX_ASYNC_RUNS) and time spent in steps (MAX_REQUEST_SECONDS). Reaching
    one ends the run that reached it with status `limit` and a message naming the limit."""

    __slots__ = ("trace_left", "async_left", "seconds_left", "max_trace", "max_async", "max_seconds")

    def __init__(self, max_trace: int = MAX_TRACE_CHARS, max_async: int = MAX_ASYNC_RUNS, max_seconds: float = MAX_REQUEST_SECONDS) -> None:
        self.max_trace = self.trace_left = max_trace
        self.max_async = self.async_left = max_async
        self.max_seconds = self.seconds_left = max_seconds

    def trace_full(self, size_hint: str) -> LimitReached:
        return LimitReached(
            f"trace size limit: {size_hint} would take this request's trace past "
            f"{self.max_trace // (1024 * 1024)} MiB of outputs, logs and answers (MAX_TRACE_CHARS); "
            "return less from each step, e.g. a summary instead of the whole payload, or fewer steps"
        )


class LimitReached(StepFailed):
    """A per-request limit stopped the step: the run ends with status `limit`."""


@dataclass(slots=True)
class Answer:
    """The first http_response reached, shared by every run of one request (and with it
    the request's `RequestLimits`)."""

    on_answer: Callable[[dict[str, Any], dict[str, Any]], bool]  # (response, where) -> used?
    taken: bool = False
    limits: RequestLimits = field(default_factory=RequestLimits)

    def is_taken(self) -> bool:
        return self.taken

    def offer(self, response: dict[str, Any], where: dict[str, Any]) -> bool:
        if self.taken:
            return False
        used = self.on_answer(response, where)
        if used:
            self.taken = True
        return used


@dataclass
class PendingChild:
    flow: str
    payload: Any
    state: dict
    parent_id: int
    via_node: str
    depth: int
    limits: RequestLimits | None = None  # the request's, which its runs go on sharing


@dataclass
class Engine:
    flows: FlowSet
    clock: Callable[[], float] = time.time
    step_limit: int = STEP_LIMIT
    cancelled: Callable[[], bool] = _never  # read at every step: drain() replaces it
    # (flow set, its generation, its flows, {event type: triggered flows}); see `triggered`
    _triggered: tuple[FlowSet, int, list[Flow], dict[str, list[tuple[Flow, Trigger]]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Runs are CPU-bound Python in worker threads, and the event loop needs the GIL
        # back for every await of every other request. At the default 5 ms interval a loop
        # competing with four busy runs waited up to ~1 s to answer a trivial webhook
        # (tests/flow/test_hostile_flows_server.py); at 1 ms it stays in the tens of ms.
        if sys.getswitchinterval() > _SWITCH_INTERVAL:
            sys.setswitchinterval(_SWITCH_INTERVAL)

    def triggered(self, event_type: str | None) -> list[tuple[Flow, Trigger]]:
        """The flows `event_type` triggers, in file order, with their triggers; the same list
        for the same event type until the flows reload (callers only read it). Matching
        walks every trigger of every flow, on every request."""
        if event_type is None:
            return []
        flows = self.flows
        cache = self._triggered
        if (
            cache is None
            or cache[0] is not flows
            or cache[1] != flows.generation
            or cache[2] is not flows.flows
            or len(cache[3]) >= _TRIGGERED_KEPT
        ):
            cache = self._triggered = (flows, flows.generation, flows.flows, {})
        found = cache[3].get(event_type)
        if found is None:
            found = cache[3][event_type] = flows.triggered(event_type)
        return found

    def skipped_runs(self, capture: Capture, reason: str) -> list[FlowRun]:
        return [
            skipped(i, flow.name, flow.file, trigger.text, _now_iso(self.clock), reason)
            for i, (flow, trigger) in enumerate(self.triggered(capture.event_type), 1)
        ]

    def run_all(
        self,
        capture: Capture,
        answer: Answer,
        *,
        before_children: Callable[[], None] | None = None,
        on_run: Callable[[list[FlowRun]], None] | None = None,
        on_error: Callable[[FlowRun], None] | None = None,
    ) -> list[FlowRun]:
        """Every triggered flow in file order, then the async children (after
        `before_children()` returns, i.e. once the answer is sent). Returns the runs."""
        event, runs, pending = self.run_triggered(capture, answer, on_run=on_run, on_error=on_error)
        if pending and before_children is not None:
            before_children()
        return self.run_children(event, runs, pending, answer, on_run=on_run)

    def run_triggered(
        self,
        capture: Capture,
        answer: Answer,
        *,
        on_run: Callable[[list[FlowRun]], None] | None = None,
        on_error: Callable[[FlowRun], None] | None = None,
        budget: Budget | None = None,
        triggered: list[tuple[Flow, Trigger]] | None = None,
    ) -> tuple[dict[str, Any], list[FlowRun], list[PendingChild]]:
        """The triggered flows only; returns (event, runs, async children queued).
        With a `budget`, raises `OverBudget` as soon as the work outgrows it."""
        event, warnings = event_scope(capture)
        runs: list[FlowRun] = []
        pending: list[PendingChild] = []
        kept = tuple(warnings)
        if triggered is None:
            triggered = self.triggered(capture.event_type)
        last = len(triggered) - 1
        for i, (flow, trigger) in enumerate(triggered):
            # Each run gets its own event; the last one may have the original (nothing
            # reads it afterwards but async children, which see it as that run left it).
            mine = event if i == last else _copy(event)
            run = self.run_flow(
                flow,
                trigger.target or flow.nodes[0].id,
                mine,
                None,
                len(runs) + 1,
                trigger.text,
                None,
                None,
                0,
                answer,
                pending,
                budget=budget,
                owned=True,
                warnings=kept,
            )
            runs.append(run)
            if on_run:
                on_run(runs)
            if run.status != "ok" and on_error:
                on_error(run)
        return event, runs, pending

    def run_children(
        self,
        event: dict[str, Any],
        runs: list[FlowRun],
        pending: list[PendingChild],
        answer: Answer,
        *,
        on_run: Callable[[list[FlowRun]], None] | None = None,
    ) -> list[FlowRun]:
        """Async children, breadth first, each with its parent's state copied."""
        runs = list(runs)
        pending = list(pending)
        # Children run after the answer, under a new Answer, but on the budgets their
        # request started: else each phase would have its own 100 async runs and 16 MiB.
        inherited = next((c.limits for c in pending if c.limits is not None), None)
        if inherited is not None:
            answer.limits = inherited
        while pending:
            child = pending.pop(0)
            flow = self.flows.by_name(child.flow)
            child_event = dict(event)
            child_event["payload"] = child.payload
            if flow is None:
                run = self._missing_flow_run(child, len(runs) + 1)
            else:
                run = self.run_flow(
                    flow,
                    flow.nodes[0].id,
                    child_event,
                    child.state,
                    len(runs) + 1,
                    None,
                    child.parent_id,
                    child.via_node,
                    child.depth,
                    answer,
                    pending,
                )
            runs.append(run)
            if on_run:
                on_run(runs)
        return _ordered(runs)

    def _missing_flow_run(self, child: PendingChild, run_id: int) -> FlowRun:
        known = ", ".join(f.name for f in self.flows.flows) or "none"
        error = RunError(f"no flow named '{child.flow}' is loaded (flows: {known})", child.via_node, keys=STOP_ERROR_KEYS)
        return FlowRun(run_id, child.flow, None, None, child.parent_id, child.via_node, "error", _now_iso(self.clock), 0, error=error)

    def run_flow(
        self,
        flow: Flow,
        target: str,
        event: dict[str, Any],
        state: dict | None,
        run_id: int,
        trigger: str | None,
        parent_id: int | None,
        via_node: str | None,
        depth: int,
        answer: Answer,
        pending: list[PendingChild],
        on_step: Callable[[Step, dict[str, Any]], bool] | None = None,
        budget: Budget | None = None,
        owned: bool = False,
        warnings: tuple[str, ...] = (),
    ) -> FlowRun:
        """One run. `on_step(step, scope)` (the debugger) may return False to stop early.
        `state` is copied (None: a new empty map); with `owned`, `event` is used as is."""
        clock = self.clock
        # One clock read gives the run's start and its first step's.
        started_at = step_started_at = _stamp(clock())
        perf0 = _perf()
        path: list[str] = []
        steps: list[Step] = []
        status = "ok"
        run_error: RunError | None = None
        if not owned:
            event = _copy(event)
        outputs: dict[str, Any] = {}
        scope: dict[str, Any] = {
            "event": event,
            "headers": event["headers"],
            "payload": event["payload"],
            "prev": None,
            "nodes": outputs,
            "state": {} if state is None else _copy(state),
        }
        flow_name = flow.name
        plan = flow.plan  # each node with its runner, looked up once per loaded flow
        planned = plan.get(target)
        step_limit = self.step_limit
        deadline = budget.deadline if budget is not None else None
        shared = answer.limits
        ctx = _RunContext(scope, flow_name, depth, budget.limits if budget is not None else None, run_id, answer, pending)
        logs = ctx.logs
        new_step = _new_step
        while planned is not None:
            node, run = planned
            cancelled = self.cancelled
            if cancelled is not _never and cancelled():
                status = "interrupted"
                run_error = RunError("interrupted: the inspector stopped before this run ended", node.id, keys=STOP_ERROR_KEYS)
                break
            if len(steps) >= step_limit:
                status = "limit"
                run_error = RunError(
                    f"step limit: the run took {step_limit} steps without ending (a cycle?)", node.id, keys=STOP_ERROR_KEYS
                )
                break
            if shared.seconds_left <= 0:
                status = "limit"
                run_error = RunError(
                    f"time limit: this request's flows already spent {shared.max_seconds:g} s in their steps "
                    "(MAX_REQUEST_SECONDS); is a loop of slow scripts running, or an async flow queueing itself?",
                    node.id,
                    keys=STOP_ERROR_KEYS,
                )
                break
            ctx.node = node
            node_id = node.id
            if steps:
                step_started_at = _stamp(clock())
            t0 = _perf()
            if deadline is not None and t0 > deadline and budget is not None and budget.spent():  # past the inline budget
                raise OverBudget()
            try:
                output, next_id, step_status, decision, size = run(ctx)
            except StepFailed as failed:
                if budget is not None and budget.exceeded_by(failed):
                    raise OverBudget() from None
                logs.extend(failed.logs)
                error = RunError(failed.message, None, failed.line, failed.column)
                status = "limit" if isinstance(failed, LimitReached) else "error"
                decision = getattr(failed, "decision", None)
                step = Step(
                    node_id,
                    node.type,
                    status,
                    step_started_at,
                    int((_perf() - t0) * 1e6),
                    None,
                    None,
                    None if decision is None else _decisions(decision),
                    error,
                    tuple(logs),
                )
                steps.append(step)
                path.append(node_id)
                run_error = error.at(node_id)
                if on_step:
                    on_step(step, scope)
                break
            except Exception as exc:  # a bug in a node type must not take the server down
                error = RunError(f"internal error in the {node.type} node: {type(exc).__name__}: {exc}")
                steps.append(Step(node_id, node.type, "error", step_started_at, 0, None, None, None, error, tuple(logs)))
                path.append(node_id)
                status = "error"
                run_error = error.at(node_id)
                break
            took = _perf() - t0
            shared.seconds_left -= took
            # The step's output (JSON-shaped by the script language's design) and logs
            # against the request's trace budget (the engine is the only place that counts
            # them): a string is its length and quotes, a list or map its JSON size (the walk
            # stops once past what is left), anything else 8. `size`: given by node types
            # that know it (branch, http_response), so the output is not walked again.
            if size is None:
                kind = type(output)
                if kind is str:
                    size = len(output) + 2
                elif kind is dict or kind is list:
                    size = json_size_at_least(output, shared.trace_left)[0]  # stops once past what is left
                else:
                    size = 8
            if logs:
                size += sum(map(len, logs))
            if size > shared.trace_left:
                full = shared.trace_full(f"the output of step {len(steps) + 1} (node '{node_id}')")
                error = RunError(full.message)
                steps.append(
                    Step(
                        node_id,
                        node.type,
                        "limit",
                        step_started_at,
                        int((_perf() - t0) * 1e6),
                        None,
                        next_id,
                        None if decision is None else _decisions(decision),
                        error,
                        (),
                    )
                )
                path.append(node_id)
                status = "limit"
                run_error = error.at(node_id)
                break
            shared.trace_left -= size
            if logs:
                kept_logs: tuple[str, ...] = tuple(logs)
                ctx.logs = logs = []
            else:
                kept_logs = ()
            step = new_step(
                node_id,
                node.type,
                step_status,
                step_started_at,
                int(took * 1e6),
                output,
                next_id,
                decision if decision is None or type(decision) is tuple else _decisions(decision),
                None,
                kept_logs,
            )
            steps.append(step)
            path.append(node_id)
            scope["prev"] = output
            outputs[node_id] = output
            if on_step and on_step(step, scope) is False:
                break
            planned = plan.get(next_id) if next_id else None
        return _new_run(
            run_id,
            flow_name,
            flow.file,
            trigger,
            parent_id,
            via_node,
            status,
            started_at,
            int((_perf() - perf0) * 1e6),
            tuple(path),
            tuple(steps),
            run_error,
            warnings,
            scope["state"],
            None,
            TRACED_KEYS,
        )


class _RunContext(StepContext):
    """The context of one run: answers go to the request's `Answer`, async runs are queued
    on `pending`, both naming the node running (`node`) and counted against the request's
    limits."""

    __slots__ = ("node", "run_id", "request", "pending")

    def __init__(
        self, scope: dict[str, Any], flow_name: str, depth: int, limits: Any, run_id: int, request: Answer, pending: list[PendingChild]
    ) -> None:
        self.scope = scope
        self.flow_name = flow_name
        self.depth = depth
        self.logs = []
        self.limits = limits
        self.offered_body = None
        self.offered_size = 0
        self.node: Node | None = None  # the node running: what queue_async() and answer() name
        self.run_id = run_id
        self.request = request
        self.pending = pending

    def answered(self) -> bool:
        return self.request.taken

    def answer(self, response: dict[str, Any], body_size: int | None = None) -> bool:
        shared = self.request.limits
        # Measured before it goes anywhere: the answer is serialized whole for the sender.
        body = response.get("body")
        if type(body) is dict or type(body) is list or type(body) is str:
            left = shared.trace_left
            size = json_size_at_least(body, left)[0] if body_size is None else body_size
            if size > left:
                raise shared.trace_full("the response body")
            self.offered_body, self.offered_size = body, size
        assert self.node is not None  # called by the node running
        return self.request.offer(response, {"flow": self.flow_name, "node": self.node.id, "run": self.run_id})

    def queue_async(self, flow: str, payload: Any, state: dict[str, Any]) -> None:
        shared = self.request.limits
        if shared.async_left <= 0:
            raise LimitReached(
                f"async run limit: this request already queued {shared.max_async} async runs "
                f"(MAX_ASYNC_RUNS); is flow '{flow}' queued from a loop, or calling itself?"
            )
        shared.async_left -= 1
        assert self.node is not None  # called by the node running
        self.pending.append(PendingChild(flow, payload, _copy(state), self.run_id, self.node.id, self.depth + 1, shared))


class OverBudget(Exception):
    """The inline attempt outgrew its budget; run the request's flows in a worker instead."""


CPU_ANCHOR_SECONDS = 0.001  # see Budget
_cpu_anchor: tuple[float, float, int | None] = (float("-inf"), 0.0, None)  # (perf, thread CPU, thread) of the last reading


class Budget:
    """Lets the pipeline try a request's flows on the event loop itself (no thread hand-off)
    while they stay small: a few milliseconds of CPU in all and a small operation count per
    script. Work beyond either is abandoned (nothing has left the process yet) and redone in a
    worker with the full limits, so a slow flow never holds up other requests.

    The milliseconds are this thread's CPU time, not the wall clock's: on a busy machine the
    OS takes the process off the CPU now and then, and a wall-clock budget then sent a small
    flow to a worker to be run again (about 5 % of requests under the bench's load here), at
    the cost of a thread hand-off, a second run and a second commit, for time the flow never
    used. Only once the wall-clock deadline has passed is the CPU time read (a system call),
    since CPU time cannot be past its deadline before the wall clock is.

    Nor is it read for each new budget: the thread's CPU time at the start is taken as that
    of the last reading (at most CPU_ANCHOR_SECONDS old) plus the wall-clock time since, an
    upper bound of it, since a thread's CPU time grows no faster than the wall clock. So the
    budget is never stricter than 3 ms of CPU, and more lenient only by the time the thread
    spent off the CPU since that reading. One system call per millisecond instead of one per
    request: about 1 µs each here, and more where the kernel mitigates speculation."""

    __slots__ = ("deadline", "cpu_deadline", "limits")

    _LIMITS: dict[int, Limits] = {}  # Limits are immutable: one per operation count

    def __init__(self, seconds: float = 0.003, operations: int = 20_000):
        global _cpu_anchor
        now = _perf()
        self.deadline = now + seconds
        at, cpu, thread = _cpu_anchor  # one tuple: read whole whatever other threads do
        me = _thread_id()
        if now - at > CPU_ANCHOR_SECONDS or thread != me:
            cpu = _cpu()
            _cpu_anchor = (now, cpu, me)
        else:
            cpu += now - at
        self.cpu_deadline = cpu + seconds
        limits = Budget._LIMITS.get(operations)
        if limits is None:
            limits = Limits(max_operations=operations)
            if len(Budget._LIMITS) < 16:
                Budget._LIMITS[operations] = limits
        self.limits = limits

    def spent(self) -> bool:
        """The CPU time is used up (call once the wall-clock `deadline` has passed)."""
        return _cpu() > self.cpu_deadline

    def exceeded_by(self, failed: Exception) -> bool:
        return "operation limit" in str(getattr(failed, "message", "")) or (_perf() > self.deadline and self.spent())


def _decisions(decision: tuple[Decision, ...] | list[dict[str, Any]]) -> tuple[Decision, ...]:
    """A branch node's record of the conditions it tried, as Decisions (the branch node
    gives them so; a node type of another shape may give them as dicts)."""
    if isinstance(decision, tuple):
        return decision
    return tuple(
        Decision(d["expression"], d["next"], error=d["error"], failed=True)
        if "error" in d
        else Decision(d["expression"], d["next"], d["value"])
        for d in decision
    )


def _ordered(runs: list[FlowRun]) -> list[FlowRun]:
    """Async children follow their parent (SPEC §10), depth first, in the order queued."""
    children: dict[int | str | None, list[FlowRun]] = {}
    for run in runs:
        children.setdefault(run.parent_id, []).append(run)
    out: list[FlowRun] = []

    def visit(parent: int | str | None) -> None:
        for run in children.get(parent, []):
            out.append(run)
            visit(run.id)

    visit(None)
    return out
