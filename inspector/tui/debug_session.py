"""The debugger's model: re-run one flow on a captured request through the real engine,
record the scope at every step, then move through the recording. No Textual, no network.

A Greentic-shaped flow (issue #20) is re-run by the Greentic runner instead; each node is a
frame whose scope is its rendered input, and a mocked node's output can be replaced
(`set_output`) and the run recorded again from the start with it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..flow import Answer, Engine, FlowSet, event_scope
from ..flow.engine import PendingChild
from ..flow.model import Flow, Node
from ..flow.nodes import node_type_of
from ..flow.runs import Decision, FlowRun, RunError, Step
from ..model import Capture


def snapshot(value: Any) -> Any:
    """A deep, JSON-shaped copy: later steps must not change what an earlier one saw."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [snapshot(v) for v in value]
    return repr(value)  # closures and other script values: shown, not copied


@dataclass(frozen=True)
class Frame:
    """One node evaluated: the scope it saw, and what it did."""

    flow: str
    file: str | None
    run_id: int
    node: str
    type: str
    status: str
    output: Any
    next: str | None
    decision: tuple[Decision, ...] | None
    error: RunError | None
    logs: tuple[str, ...]
    scope: dict[str, Any]  # event, prev, nodes, state before the node ran

    def as_step(self) -> Step:
        """The step this frame records (what its node type describes)."""
        return Step(self.node, self.type, self.status, None, None, self.output, self.next, self.decision, self.error, self.logs)


@dataclass
class Recording:
    frames: list[Frame] = field(default_factory=list)
    runs: list[FlowRun] = field(default_factory=list)
    answer: dict[str, Any] | None = None  # the http_response that would answer
    warnings: list[str] = field(default_factory=list)


def record(
    flows: FlowSet, flow: Flow, capture: Capture, *, clock: Callable[[], float] = time.time, include_children: bool = True
) -> Recording:
    """Run `flow` (and the async runs it queues) on `capture`, as the pipeline would."""
    engine = Engine(flows, clock=clock)
    rec = Recording()
    event, warnings = event_scope(capture)
    rec.warnings.extend(warnings)

    def on_answer(response: dict[str, Any], where: dict[str, Any]) -> bool:
        rec.answer = {"response": snapshot(response), "flow": where.get("flow"), "node": where.get("node")}
        return True

    answer = Answer(on_answer)
    pending: list[PendingChild] = []
    trigger = flow.trigger_for(capture.event_type) if capture.event_type else None
    target = trigger.target if trigger and trigger.target else flow.nodes[0].id
    queue: list[tuple[Flow, str, dict[str, Any], dict[str, Any], str | None, int | None, str | None, int]] = [
        (flow, target, event, {}, trigger.text if trigger else None, None, None, 0)
    ]
    while queue:
        run_flow, start, run_event, state, trig, parent, via, depth = queue.pop(0)
        run_id = len(rec.runs) + 1
        before = {"event": snapshot(run_event), "prev": None, "nodes": {}, "state": snapshot(state)}
        seen: list[dict[str, Any]] = [before]

        def on_step(
            step: Step, scope: dict[str, Any], run_flow: Flow = run_flow, run_id: int = run_id, seen: list[dict[str, Any]] = seen
        ) -> bool:
            decision = step.decision
            rec.frames.append(
                Frame(
                    run_flow.name,
                    run_flow.file,
                    run_id,
                    step.node or "?",
                    step.type or "?",
                    step.status or "?",
                    snapshot(step.output),
                    step.next,
                    None if decision is None else tuple(Decision.from_json(snapshot(d.to_json())) for d in decision),
                    step.error,
                    step.logs,
                    seen[-1],
                )
            )
            seen.append(
                {
                    "event": snapshot(scope["event"]),
                    "prev": snapshot(scope["prev"]),
                    "nodes": snapshot(scope["nodes"]),
                    "state": snapshot(scope["state"]),
                }
            )
            return True

        run = engine.run_flow(run_flow, start, run_event, state, run_id, trig, parent, via, depth, answer, pending, on_step=on_step)
        rec.runs.append(run)
        if not include_children:
            break
        while pending:
            child = pending.pop(0)
            child_flow = flows.by_name(child.flow)
            if child_flow is None:
                rec.warnings.append(f"async node '{child.via_node}' calls flow '{child.flow}', which is not loaded")
                continue
            child_event = dict(event)
            child_event["payload"] = child.payload
            queue.append((child_flow, child_flow.nodes[0].id, child_event, child.state, None, child.parent_id, child.via_node, child.depth))
    return rec


def greentic_view(flow: Any) -> Flow:
    """A Greentic-shaped flow as the debugger's views read flows: its id as the name, each
    node with its operation as the type and its payload as the config."""
    nodes = tuple(
        Node(n.id, n.operation, n.config if isinstance(n.config, dict) else {"value": n.config}, None, n.position) for n in flow.nodes
    )
    return Flow(flow.id, flow.file, None, flow.description, nodes, (), flow.position)


def record_greentic(
    flows: FlowSet, flow_id: str, capture: Capture, *, clock: Callable[[], float], outputs: dict[tuple[str, str], Any], state: Any
) -> Recording:
    """Run the Greentic-shaped flow `flow_id` on `capture` (its flow.calls included), one
    frame per node; `outputs` replace mocked nodes' outputs."""
    from ..greentic.glue import run_for_request
    from ..greentic.runner import MemoryState

    rec = Recording()
    runs = run_for_request(flows, capture.request, clock=clock, flow_id=flow_id, outputs=outputs, state=MemoryState(state))
    if not runs:
        rec.warnings.append(
            f"{capture.request.path} is no Greentic ingress route (/v1/events/ingress/…), so flow '{flow_id}' cannot run on it"
        )
    for run in runs:
        rec.runs.append(run)
        rec.warnings.extend(run.warnings)
        if run.response is not None:
            rec.answer = {"response": snapshot(run.response), "flow": run.flow, "node": None}
        for step in run.steps:
            rec.frames.append(
                Frame(
                    step.flow or run.flow or flow_id,
                    run.file,
                    run.id if isinstance(run.id, int) else 1,
                    step.node or "?",
                    step.type or "?",
                    step.status or "?",
                    snapshot(step.output),
                    step.next,
                    step.decision,
                    step.error,
                    step.logs,
                    {"input": snapshot(step.input), "mocked": snapshot(step.mocked), "at": step.at},
                )
            )
        if run.error is not None and not run.steps:
            rec.warnings.append(run.error.message or "the run failed")
    return rec


class DebugSession:
    """Where the user is in a recording: frame index, breakpoints (flow, node)."""

    def __init__(self, flows: FlowSet, flow_name: str, capture: Capture, clock: Callable[[], float] = time.time):
        self.flows = flows
        self.flow_name = flow_name
        self.capture = capture
        self.clock = clock
        self.breakpoints: set[tuple[str, str]] = set()
        self.position = 0
        self.recording = Recording()
        self.error: str | None = None
        # A Greentic-shaped flow: mocked outputs edited here, and the state store as it was
        # when the debugger opened (a re-run must not change the server's state).
        self.greentic = flows.by_name(flow_name) is None and any(f.id == flow_name for f in flows.greentic_flows)
        self.outputs: dict[tuple[str, str], Any] = {}
        self._state: dict[tuple[str, str], Any] = {}
        if self.greentic:
            from ..greentic.glue import state_for

            self._state = dict(getattr(state_for(flows), "values", {}))
        self.restart()

    @property
    def flow(self) -> Flow | None:
        return self._flow_named(self.flow_name)

    def _flow_named(self, name: str) -> Flow | None:
        if self.greentic:
            found = next((f for f in self.flows.greentic_flows if f.id == name), None)
            return greentic_view(found) if found is not None else None
        return self.flows.by_name(name)

    def restart(self) -> None:
        """Record afresh with the flows as they are now (an edited file takes effect)."""
        self.position = 0
        flow = self.flow
        if flow is None:
            self.recording = Recording()
            names = [f.id for f in self.flows.greentic_flows] if self.greentic else [f.name for f in self.flows.flows]
            known = ", ".join(names) or "none"
            self.error = f"flow '{self.flow_name}' is not loaded now (flows: {known}); fix it and restart"
            return
        self.error = None
        if self.greentic:
            self.recording = record_greentic(
                self.flows, self.flow_name, self.capture, clock=self.clock, outputs=self.outputs, state=self._state
            )
            return
        self.recording = record(self.flows, flow, self.capture, clock=self.clock)

    def set_output(self, flow: str, node: str, output: Any) -> None:
        """Replace a mocked node's output and record the run again, staying at that node
        (then `step`/`continue_` go on from there with the new output)."""
        at = self.position
        self.outputs[(flow, node)] = output
        self.restart()
        self.position = next(
            (i for i, f in enumerate(self.frames) if (f.flow, f.node) == (flow, node)), min(at, max(len(self.frames) - 1, 0))
        )

    @property
    def editable(self) -> bool:
        """The current node is a mocked Greentic node (one that ran, or whose mock failed
        it), whose output may be edited."""
        frame = self.current
        if not self.greentic or frame is None:
            return False
        if frame.status == "mocked":
            return True
        from ..greentic.glue import mocked_nodes

        flow = next((f for f in self.flows.greentic_flows if f.id == frame.flow), None)  # a mock that failed the node
        return flow is not None and frame.node in {node for node, _ in mocked_nodes(self.flows, flow)}

    @property
    def frames(self) -> list[Frame]:
        return self.recording.frames

    @property
    def current(self) -> Frame | None:
        frames = self.frames
        return frames[self.position] if 0 <= self.position < len(frames) else None

    @property
    def finished(self) -> bool:
        return self.position >= len(self.frames) - 1

    def current_flow(self) -> Flow | None:
        frame = self.current
        return self._flow_named(frame.flow) if frame else self.flow

    def step(self) -> bool:
        """Next node; False when already at the last one."""
        if self.position < len(self.frames) - 1:
            self.position += 1
            return True
        return False

    def back(self) -> bool:
        if self.position > 0:
            self.position -= 1
            return True
        return False

    def continue_(self) -> bool:
        """To the next frame on a breakpoint, else the last frame. True when a breakpoint stopped it."""
        for i in range(self.position + 1, len(self.frames)):
            frame = self.frames[i]
            if (frame.flow, frame.node) in self.breakpoints:
                self.position = i
                return True
        self.position = max(len(self.frames) - 1, 0)
        return False

    def toggle_breakpoint(self, flow: str, node: str) -> bool:
        key = (flow, node)
        if key in self.breakpoints:
            self.breakpoints.discard(key)
            return False
        self.breakpoints.add(key)
        return True

    def visited(self, flow: str) -> list[str]:
        """Node ids of `flow` evaluated up to and including the current frame."""
        return [f.node for f in self.frames[: self.position + 1] if f.flow == flow]

    def run_of(self, frame: Frame) -> FlowRun | None:
        for run in self.recording.runs:
            if run.id == frame.run_id:
                return run
        return None


def node_source(node: Node) -> tuple[str, str]:
    """(language, text) to show for a node: its code when its type has some, else its config
    as YAML-ish JSON."""
    return node_type_of(node.type).source(node) or ("json", json.dumps(node.config or {}, indent=2, ensure_ascii=False))
