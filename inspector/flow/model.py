"""What a loaded flow is: nodes, triggers and compiled code, each with its position (SPEC §6)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Position:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class FlowProblem:
    """A load error (the flow is skipped) or warning, at `file:line:column`."""

    position: Position
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.position}: {prefix}{self.message}"

    def to_json(self) -> dict[str, Any]:
        p = self.position
        return {"file": p.file, "line": p.line, "column": p.column, "message": self.message, "severity": self.severity}


# How a capture's notes name a flow file that failed to load and might have served it; the
# position follows, so `serve` and the TUI can point at it without parsing the message.
BROKEN_FLOW_NOTE = "flow file failed to load: "


@dataclass(frozen=True)
class BrokenFlow:
    """A flow file that failed to load, and the event types it would serve once fixed, as far
    as they could be read from it: `event_types` None means they could not be read at all,
    so the file may be meant for any event type."""

    file: str
    problem: FlowProblem  # its first error
    event_types: tuple[str, ...] | None

    def may_serve(self, event_type: str) -> bool:
        if self.event_types is None:
            return True
        return any(Trigger.make("event", glob, "", self.problem.position).matches(event_type) for glob in self.event_types)

    def reason(self) -> str:
        """`flows/refund.ygtc failed to load (flows/refund.ygtc:7:3: …)`"""
        unread = "" if self.event_types is not None else "; which event types it serves cannot be read"
        return f"{self.file} failed to load ({self.problem.position}: {self.problem.message}{unread})"

    def note(self) -> str:
        return f"{BROKEN_FLOW_NOTE}{self.problem.position}: {self.problem.message} — fix it and it reloads"


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    config: dict[str, Any]  # raw values; templates stay text
    next: str | None
    position: Position
    compiled: Any = None  # what the node type prepared at load (programs, templates)


@dataclass(frozen=True)
class Trigger:
    type: str
    event_type: str
    target: str
    position: Position
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def text(self) -> str:
        """`type:event_type`, as a run's trace names its trigger (written once per loaded flow)."""
        return f"{self.type}:{self.event_type}"

    def matches(self, event_type: str) -> bool:
        if self._pattern is None:
            return self.event_type == event_type
        return self._pattern.match(event_type) is not None

    @staticmethod
    def make(type_: str, event_type: str, target: str, position: Position) -> Trigger:
        pattern = None
        if any(c in event_type for c in "*?["):
            # `*` matches any characters, dots included (SPEC §6); fnmatch does exactly that.
            pattern = re.compile(fnmatch.translate(event_type))
        return Trigger(type_, event_type, target, position, pattern)


@dataclass(frozen=True)
class Flow:
    name: str
    file: str
    version: str | None
    description: str | None
    nodes: tuple[Node, ...]
    triggers: tuple[Trigger, ...]
    position: Position

    def node(self, node_id: str) -> Node | None:
        for n in self.nodes:
            if n.id == node_id:
                return n
        return None

    @cached_property
    def by_id(self) -> dict[str, Node]:
        """Nodes by id, built once per flow (read it, do not change it)."""
        return {n.id: n for n in self.nodes}

    @cached_property
    def plan(self) -> dict[str, tuple[Node, Any]]:
        """Each node by id with its node type's runner (nodes.StepRunner): the work of
        looking up a node's type and compiled config, done once per loaded flow."""
        from .nodes import NODE_TYPES  # the node types import this module

        plan: dict[str, tuple[Node, Any]] = {}
        for node in self.nodes:
            node_type = NODE_TYPES.get(node.type)
            # the last node of an id wins, as in by_id
            plan[node.id] = (node, _unknown_type(node.type) if node_type is None else node_type.runner(node))
        return plan

    def trigger_for(self, event_type: str) -> Trigger | None:
        for t in self.triggers:
            if t.matches(event_type):
                return t
        return None


def _unknown_type(name: str) -> Any:
    """The runner of a node whose type no node type has (the loader refuses such flows; a
    flow made in code may have one): it fails as looking the type up would."""

    def step(ctx: Any) -> Any:
        raise KeyError(name)

    return step
