"""The debugger's model: re-run one flow on a captured request through the real engine,
record the scope at every step, then move through the recording. No Textual, no network."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..flow import Answer, Engine, FlowSet, event_scope
from ..flow.engine import trigger_text
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
    pending: list = []
    trigger = flow.trigger_for(capture.event_type) if capture.event_type else None
    target = trigger.target if trigger and trigger.target else flow.nodes[0].id
    queue: list[tuple[Flow, str, dict, dict, str | None, int | None, str | None, int]] = [
        (flow, target, event, {}, trigger_text(trigger) if trigger else None, None, None, 0)
    ]
    while queue:
        run_flow, start, run_event, state, trig, parent, via, depth = queue.pop(0)
        run_id = len(rec.runs) + 1
        before = {"event": snapshot(run_event), "prev": None, "nodes": {}, "state": snapshot(state)}
        seen: list[dict[str, Any]] = [before]

        def on_step(step: Step, scope: dict[str, Any], run_flow=run_flow, run_id=run_id, seen=seen) -> bool:
            decision = step.decision
            rec.frames.append(
                Frame(
                    run_flow.name,
                    run_flow.file,
                    run_id,
                    step.node,
                    step.type or "?",
                    step.status,
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
        self.restart()

    @property
    def flow(self) -> Flow | None:
        return self.flows.by_name(self.flow_name)

    def restart(self) -> None:
        """Record afresh with the flows as they are now (an edited file takes effect)."""
        self.position = 0
        flow = self.flow
        if flow is None:
            self.recording = Recording()
            known = ", ".join(f.name for f in self.flows.flows) or "none"
            self.error = f"flow '{self.flow_name}' is not loaded now (flows: {known}); fix it and restart"
            return
        self.error = None
        self.recording = record(self.flows, flow, self.capture, clock=self.clock)

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
        return self.flows.by_name(frame.flow) if frame else self.flow

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
