"""Routing as Greentic's runner does it (docs/greentic-shape.md §3): what a `routing` block
compiles to, how a condition such as `node.register.age >= 18` is evaluated, and which arm
is taken (or why the run ends or waits).

    plan = compile_routing(node.routing)
    decision = choose_route(plan, routing_context(output, entry, outputs, event))
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .template import entry_view, node_view

__all__ = [
    "ERROR_EVENTS",
    "OPERATORS",
    "SUCCESS_EVENTS",
    "ArmCheck",
    "Condition",
    "Decision",
    "RoutePlan",
    "choose_event",
    "choose_route",
    "compile_routing",
    "evaluate",
    "parse_condition",
    "routing_context",
]

#: The operators, in the order the runner looks for them (the first found wins).
OPERATORS = ("==", "!=", ">=", "<=", ">", "<", " contains ")
SUCCESS_EVENTS = ("on_success", "on_complete", "on_submit")
ERROR_EVENTS = ("on_error", "on_cancel", "on_timeout")


@dataclass(frozen=True)
class Condition:
    """`path op value` as the runner splits it (value trimmed, double quotes removed)."""

    path: str
    operator: str  # one of OPERATORS, stripped ("contains")
    value: str


def parse_condition(text: str) -> Condition | None:
    """The condition's parts, None when it holds no operator (it is then always false)."""
    for op in OPERATORS:
        at = text.find(op)
        if at >= 0:
            value = text[at + len(op) :].strip()
            if value.startswith('"'):
                value = value[1:]
            if value.endswith('"'):
                value = value[:-1]
            return Condition(text[:at].strip(), op.strip(), value)
    return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _lookup(context: Any, path: str) -> tuple[bool, Any]:
    value = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _float(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if not math.isnan(number) else None


def evaluate(condition: str, context: Mapping[str, Any]) -> bool:
    """The runner's `evaluate_simple_condition`: `==`/`!=` compare text ignoring ASCII case (a
    missing path makes `!=` true), `>=` `<=` `>` `<` compare numbers, `contains` lower-cases
    both sides; no operator, no match."""
    parsed = parse_condition(condition)
    if parsed is None:
        return False
    found, value = _lookup(dict(context), parsed.path)
    op = parsed.operator
    if op in ("==", "!="):
        equal = found and _ascii_lower(_text(value)) == _ascii_lower(parsed.value)
        return equal if op == "==" else not equal
    if op == "contains":
        return found and parsed.value.lower() in _text(value).lower()
    left = _float(_text(value)) if found else None
    right = _float(parsed.value)
    if left is None or right is None:
        return False
    return {">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right}[op]


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


# ---------------------------------------------------------------- routing plans (§3.2)


class _ArmLike:
    """What `compile_routing` reads of an arm (document.Arm satisfies it)."""

    to: str | None
    out: bool | None
    reply: bool | None
    status: str | None
    condition: str | None
    on_message: bool | None


@dataclass(frozen=True)
class RoutePlan:
    """What a routing block compiles to: `end`, `reply`, `next` (to `target`), `branch`
    (only its default `target` is ever used) or `custom` (arms evaluated in order)."""

    kind: Literal["end", "reply", "next", "branch", "custom"]
    target: str | None = None
    arms: tuple[Any, ...] = ()


def compile_routing(routing: str | Sequence[Any] | None) -> RoutePlan:
    """§3.2: `out`/absent end, `reply` replies, one plain arm goes on, conditional lists are
    evaluated, and several plain `to` arms go to the last one (the runner's Branch default)."""
    if routing is None or routing == "out" or (not isinstance(routing, str) and len(routing) == 0):
        return RoutePlan("end")
    if routing == "reply":
        return RoutePlan("reply")
    if isinstance(routing, str):
        return RoutePlan("end")  # the loader refuses other shorthands
    arms = tuple(routing)
    if any(a.condition is not None or a.on_message for a in arms):
        return RoutePlan("custom", arms=arms)
    if len(arms) == 1:
        arm = arms[0]
        if arm.reply:
            return RoutePlan("reply")
        if arm.status is not None:
            return RoutePlan("custom", arms=arms)
        if arm.out or arm.to == "out":
            return RoutePlan("end")
        if arm.to is not None:
            return RoutePlan("next", arm.to)
        return RoutePlan("custom", arms=arms)
    if any(a.out or a.reply or a.to is None for a in arms):
        return RoutePlan("custom", arms=arms)
    plain = [a for a in arms if a.status is None]
    if not plain:
        return RoutePlan("end")
    return RoutePlan("branch", plain[-1].to)


# ---------------------------------------------------------------- choosing (§3.3, §3.4)


@dataclass(frozen=True)
class ArmCheck:
    """One arm as the choice saw it: its condition, the left-hand value and the result."""

    index: int
    condition: str | None
    left: Any
    result: bool | None  # None: the arm was skipped (no condition and no `to`)


@dataclass(frozen=True)
class Decision:
    """Where the run goes after a node: `next` (to `target`), `end`, `reply` or `wait`
    (a conditional list fell through); `arm` is the index taken, `checks` what was evaluated."""

    kind: Literal["next", "end", "reply", "wait"]
    target: str | None = None
    arm: int | None = None
    checks: tuple[ArmCheck, ...] = ()
    reason: str = ""


def choose_route(plan: RoutePlan, context: Mapping[str, Any]) -> Decision:
    if plan.kind in ("end", "reply"):
        return Decision(plan.kind, reason="routing ends the run" if plan.kind == "end" else "routing replies")
    if plan.kind in ("next", "branch"):
        reason = "the only arm" if plan.kind == "next" else "several plain arms: the runner takes the last"
        return Decision("next", plan.target, reason=reason)
    checks: list[ArmCheck] = []
    conditional = False
    for index, arm in enumerate(plan.arms):
        if arm.condition is not None:
            conditional = True
            parsed = parse_condition(arm.condition)
            left = _lookup(dict(context), parsed.path)[1] if parsed is not None else None
            result = evaluate(arm.condition, context)
            checks.append(ArmCheck(index, arm.condition, left, result))
            if result and arm.to is not None:
                if arm.to == "out":
                    return Decision("end", None, index, tuple(checks), f"arm {index + 1}: {arm.condition}")
                return Decision("next", arm.to, index, tuple(checks), f"arm {index + 1}: {arm.condition}")
            continue
        if arm.to is not None:
            checks.append(ArmCheck(index, None, None, True))
            if arm.to == "out":
                return Decision("end", None, index, tuple(checks), f"arm {index + 1}: the default")
            return Decision("next", arm.to, index, tuple(checks), f"arm {index + 1}: the default")
        checks.append(ArmCheck(index, None, None, None))
    if conditional:
        return Decision("wait", None, None, tuple(checks), "no condition matched: the run waits at this node")
    return Decision("end", None, None, tuple(checks), "no arm names a node")


def choose_event(arms: Sequence[Any], *, ok: bool, outcome: str | None = None) -> str:
    """The routing `event`: the node's outcome, else the first success (or error) port
    that some arm tests as `event == "<port>"`, else `on_success` (`on_error`)."""
    if outcome:
        return outcome
    ports = SUCCESS_EVENTS if ok else ERROR_EVENTS
    tested = set()
    for arm in arms:
        parsed = parse_condition(arm.condition) if getattr(arm, "condition", None) else None
        if parsed is not None and parsed.path == "event" and parsed.operator == "==":
            tested.add(_ascii_lower(parsed.value))
    return next((p for p in ports if p in tested), ports[0])


def routing_context(output: Any, entry: Any, outputs: Mapping[str, Any], event: str, *, view: Any = None) -> dict[str, Any]:
    """What conditions see: this node's output fields, overridden by entry/in, node, response
    (the entry's submitted metadata plus `text`) and event. No prev, state, vars or now."""
    context: dict[str, Any] = dict(output) if isinstance(output, dict) else {}
    view = entry_view(entry) if view is None else view
    context["entry"] = view
    context["in"] = view
    context["node"] = {k: node_view(v) for k, v in outputs.items()}
    response: dict[str, Any] = {}
    inner = entry.get("input") if isinstance(entry, dict) else None
    metadata = inner.get("metadata") if isinstance(inner, dict) else None
    if not isinstance(metadata, dict):
        metadata = entry.get("metadata") if isinstance(entry, dict) else None
    if isinstance(metadata, dict):
        response.update(metadata)
    text = inner.get("text") if isinstance(inner, dict) and "text" in inner else entry.get("text") if isinstance(entry, dict) else None
    if text is not None:
        response["text"] = text
    context["response"] = response
    context["event"] = event
    return context
