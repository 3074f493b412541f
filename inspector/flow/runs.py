"""What a flow run leaves behind (SPEC §6 trace): `FlowRun`, its `Step`s, a `RunError` and a
branch's `Decision`s, as frozen values. The engine builds them, the pipeline records them,
the CLI and the TUI read their attributes.

They become JSON only at the boundaries: the store's row codec, `show --json` and export
(`to_json()`), and back (`from_json()`). The JSON keeps the shapes the store has always held,
key for key and in the same order, so stored rows and `show --json` are unchanged. A run read
from a store keeps the exact JSON it was read from (`to_json()` gives it back untouched), while
its attributes are always of the types declared here, whatever shape the stored value had (a
store written by hand, another version or a tool may hold anything).
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, dataclass, fields
from typing import Any, TypeVar

# The JSON keys of each kind of run and error, in the order they have always been written.
RUN_KEYS = (
    "id",
    "flow",
    "file",
    "trigger",
    "parent_id",
    "via_node",
    "status",
    "started_at",
    "duration_us",
    "path",
    "steps",
    "error",
    "warnings",
)
TRACED_KEYS = RUN_KEYS + ("state",)  # a run the engine ran: its state at the end
SKIPPED_KEYS = RUN_KEYS + ("reason",)  # a run not run (e.g. the signature failed)
QUEUED_KEYS = ("id", "flow", "file", "status", "parent_id", "path", "steps")  # an async child not run yet
RUNNING_KEYS = ("id", "flow", "file", "status", "path", "steps")  # a triggered run still going (worker)
BROKEN_KEYS = ("id", "flow", "status", "path", "steps", "error")  # the engine itself failed
STEP_KEYS = ("node", "type", "status", "started_at", "duration_us", "output", "next", "decision", "error", "logs")
# A step of a flow in Greentic's own shape (issue #20): also its operation key, its input as
# rendered, `mocked` ({component, source}, null when it ran here), and the flow it belongs to
# with how deep in flow.calls it ran, and `at`, the node's `file:line:col`. `type` is the
# operation too, so readers that only know the documented keys still print something true.
GREENTIC_STEP_KEYS = STEP_KEYS + ("operation", "input", "mocked", "flow", "depth", "at")
# A run of a Greentic-shaped flow: its variables as `state`, why it ended (`reason`), the flow
# output and the last `emit.response`, and for a `waiting` run the node it resumes at.
GREENTIC_RUN_KEYS = RUN_KEYS + ("state", "reason", "output", "response", "resume_at")
STEP_ERROR_KEYS = ("message", "line", "column")  # an error at a step
NODE_ERROR_KEYS = ("message", "line", "column", "node")  # a run's error, from its failing step
STOP_ERROR_KEYS = ("message", "node", "line", "column")  # a run stopped before a step (limits, missing flow)

# Statuses a run ends with that mean it did not do its work.
FAILED_STATUSES = frozenset({"error", "limit", "interrupted"})
# A Greentic run that paused (`session.wait`, or no routing condition matched): not failed.
WAITING = "waiting"


def _text(value: Any) -> str | None:
    """A stored value as text for the attributes: strings as they are, anything else as its
    JSON (cut), None as None."""
    if value is None or type(value) is str:
        return value
    try:
        return json.dumps(value, ensure_ascii=False)[:200]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:200]


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def _number(value: Any) -> int | float | None:
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    return None


def _texts(value: Any) -> tuple[str, ...]:
    if type(value) is not list:
        return () if value is None else (_text(value) or "",)
    return tuple(v if type(v) is str else (_text(v) or "") for v in value)


def _id(value: Any) -> int | str | None:
    return value if type(value) is int or type(value) is str else None


_Frozen = TypeVar("_Frozen")
_set_class = object.__dict__["__class__"].__set__  # gets past a frozen class's __setattr__


def _quick_init(cls: type[_Frozen]) -> type[_Frozen]:
    """Give a frozen, slotted dataclass a cheaper __init__, and `cls._draft(...)`, cheaper
    still (the engine builds a Step per node run and a FlowRun per run; a Step has 18 fields).

    The dataclass's own __init__ sets each field through object.__setattr__ (to get past the
    frozen __setattr__), one call per field. Here the instance is first given a plain class
    with the same slots (`__class__` assignment, which CPython allows between classes of the
    same layout), its fields are set as ordinary attributes, and it gets its own class back:
    1.3 → 0.7 µs for a Step, and 0.4 µs through `_draft`, which makes the instance without
    type.__call__. Fields, defaults, equality, hashing and immutability stay as the dataclass
    declares them: between the two assignments no other code runs."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    plain = type(f"_{cls.__name__}Draft", (), {"__slots__": cls.__slots__})  # type: ignore[attr-defined]
    params = []
    namespace: dict[str, Any] = {"_set_class": _set_class, "_plain": plain, "_cls": cls, "_new": object.__new__}
    for f in fields(cls):  # type: ignore[arg-type]
        assert f.default_factory is MISSING, f"{cls.__name__}.{f.name}: no default factories here"
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    sets = "".join(f"    self.{name} = {name}\n" for name in names)
    exec(  # noqa: S102 - the dataclass's own field names
        f"def __init__(self, {', '.join(params)}):\n    kind = self.__class__\n    _set_class(self, _plain)\n{sets}    _set_class(self, kind)\n"
        f"def _draft({', '.join(params)}):\n    self = _new(_plain)\n{sets}    _set_class(self, _cls)\n    return self\n",
        namespace,
    )
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]  # replacing it is the point
    cls._draft = staticmethod(namespace["_draft"])  # type: ignore[attr-defined]
    return cls


@dataclass(frozen=True, slots=True)
class RunError:
    """Why a step or run failed: the message, the node, and for code the line and column in
    the .ygtc file."""

    message: str | None  # None only as read from a store that had none
    node: str | None = None
    line: int | None = None
    column: int | None = None
    keys: tuple[str, ...] = STEP_ERROR_KEYS
    source: Any = None  # the JSON it was read from

    def at(self, node: str) -> RunError:
        """This step error as its run's error, naming the node."""
        return RunError(self.message, node, self.line, self.column, NODE_ERROR_KEYS)

    def where(self, file: str | None) -> str:
        """`file:line:column: ` when the error has a line, else ''."""
        return f"{file}:{self.line}:{self.column}: " if self.line else ""

    def to_json(self) -> dict[str, Any]:
        if self.source is not None:
            return self.source
        return {k: getattr(self, k) for k in self.keys}

    @staticmethod
    def from_json(value: Any) -> RunError | None:
        if value is None or value == {}:
            return None
        if type(value) is not dict:
            return RunError(_text(value) or "", source=value)
        return RunError(
            _text(value.get("message")),
            _text(value.get("node")),
            _int(value.get("line")),
            _int(value.get("column")),
            tuple(value),
            value,
        )


@_quick_init
@dataclass(frozen=True, slots=True)
class Decision:
    """One condition a branch node tried: its value (or the error it gave) and where it leads."""

    expression: str | None
    next: str | None
    value: Any = None
    error: str | None = None
    failed: bool = False  # the condition gave an error instead of a value
    source: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.source is not None:
            return self.source
        if self.failed:
            return {"expression": self.expression, "error": self.error, "next": self.next}
        return {"expression": self.expression, "value": self.value, "next": self.next}

    @staticmethod
    def from_json(value: dict[str, Any]) -> Decision:
        failed = "value" not in value
        return Decision(
            _text(value.get("expression")),
            value.get("next") if type(value.get("next")) is str else _text(value.get("next")),
            value.get("value"),
            _text(value.get("error")) if failed else None,
            failed,
            value,
        )


@_quick_init
@dataclass(frozen=True, slots=True)
class Step:
    """One node run: what it returned (`output`), where it went, how long it took, its logs."""

    node: str | None
    type: str | None
    status: str | None
    started_at: str | None
    duration_us: int | float | None
    output: Any = None
    next: str | None = None
    decision: tuple[Decision, ...] | None = None
    error: RunError | None = None
    logs: tuple[str, ...] = ()
    source: dict[str, Any] | None = None
    # Greentic-shaped steps only (GREENTIC_STEP_KEYS); documented steps leave them unset.
    operation: str | None = None
    input: Any = None
    mocked: dict[str, Any] | None = None
    flow: str | None = None
    depth: int | None = None
    at: str | None = None
    keys: tuple[str, ...] = STEP_KEYS

    @property
    def is_greentic(self) -> bool:
        return self.operation is not None

    def to_json(self) -> dict[str, Any]:
        if self.source is not None:
            return self.source
        decision = self.decision
        out = {
            "node": self.node,
            "type": self.type,
            "status": self.status,
            "started_at": self.started_at,
            "duration_us": self.duration_us,
            "output": self.output,
            "next": self.next,
            "decision": None if decision is None else [d.to_json() for d in decision],
            "error": None if self.error is None else self.error.to_json(),
            "logs": list(self.logs),
        }
        if self.keys is not STEP_KEYS:
            out.update(operation=self.operation, input=self.input, mocked=self.mocked, flow=self.flow, depth=self.depth, at=self.at)
        return out

    def view(self) -> Any:
        """How its node type says the step reads (a `nodes.StepView`)."""
        from .nodes import StepView, node_type_of

        if self.operation is not None:  # a Greentic operation is no documented node type
            if self.mocked is not None:
                return StepView(f"mocked: {self.mocked.get('component')}", "warn")
            return StepView("waiting" if self.status == WAITING else None, "warn" if self.status == WAITING else "")
        return node_type_of(self.type).describe(self)

    @staticmethod
    def from_json(value: dict[str, Any]) -> Step:
        decision = value.get("decision")
        nxt = value.get("next")
        return Step(
            _text(value.get("node")),
            _text(value.get("type")),
            _text(value.get("status")),
            _text(value.get("started_at")),
            _number(value.get("duration_us")),
            value.get("output"),
            nxt if type(nxt) is str else None,
            tuple(Decision.from_json(d) for d in decision if type(d) is dict) if type(decision) is list else None,
            RunError.from_json(value.get("error")),
            _texts(value.get("logs")),
            value,
            *_greentic_step_fields(value),
        )


def _steps_json(steps: tuple[Step, ...]) -> list[dict[str, Any]]:
    """`[step.to_json() for step in steps]`, with the steps the engine made (documented
    keys, no stored JSON) and their decisions written out here: the store encodes every
    step of every run, and a method call per step and per decision was a third of it."""
    out = []
    for s in steps:
        if s.source is not None or s.keys is not STEP_KEYS:
            out.append(s.to_json())
            continue
        decision = s.decision
        if decision is not None:
            decisions = []
            for d in decision:
                if d.source is not None:
                    decisions.append(d.source)
                elif d.failed:
                    decisions.append({"expression": d.expression, "error": d.error, "next": d.next})
                else:
                    decisions.append({"expression": d.expression, "value": d.value, "next": d.next})
        error = s.error
        out.append(
            {
                "node": s.node,
                "type": s.type,
                "status": s.status,
                "started_at": s.started_at,
                "duration_us": s.duration_us,
                "output": s.output,
                "next": s.next,
                "decision": None if decision is None else decisions,
                "error": None if error is None else error.to_json(),
                "logs": list(s.logs) if s.logs else [],
            }
        )
    return out


def _greentic_step_fields(value: dict[str, Any]) -> tuple[Any, ...]:
    if "operation" not in value:
        return ()
    mocked = value.get("mocked")
    return (
        _text(value.get("operation")) or "",
        value.get("input"),
        mocked if type(mocked) is dict else None,
        _text(value.get("flow")),
        _int(value.get("depth")),
        _text(value.get("at")),
        GREENTIC_STEP_KEYS,
    )


_ABSENT: Any = object()


class _Raw:
    """A stored run that was no JSON object at all, kept to be written back as it was."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@_quick_init
@dataclass(frozen=True, slots=True)
class FlowRun:
    """One run of one flow on one capture (SPEC §6): the path it took, every step, how it
    ended. An async run names its parent run and the node that queued it (`parent_id`,
    `via_node`: the async child link); `keys` says which JSON keys it has, in order (a run
    still queued or running has fewer than one that ended)."""

    id: int | str | None
    flow: str | None
    file: str | None = None
    trigger: str | None = None
    parent_id: int | str | None = None
    via_node: str | None = None
    status: str | None = "ok"  # None only as read from a store that had none
    started_at: str | None = None
    duration_us: int | float | None = 0
    path: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    error: RunError | None = None
    warnings: tuple[str, ...] = ()
    state: Any = _ABSENT
    reason: str | None = None
    keys: tuple[str, ...] = RUN_KEYS
    source: Any = None  # the JSON it was read from (a store may hold any value)
    # Greentic-shaped runs only (GREENTIC_RUN_KEYS).
    output: Any = None
    response: Any = None
    resume_at: str | None = None

    @property
    def is_greentic(self) -> bool:
        return "resume_at" in self.keys

    @property
    def failed(self) -> bool:
        """It ended without doing its work: an error, a limit, or interrupted."""
        return self.status in FAILED_STATUSES

    @property
    def is_async(self) -> bool:
        """Queued by an async node of another run (not triggered by the event itself)."""
        return bool(self.parent_id)

    @property
    def answered(self) -> bool:
        """One of its steps gave the sender's answer."""
        return any(s.view().answered for s in self.steps)

    def redacted(self, redact: Any) -> FlowRun:
        """The run with its JSON passed through `redact` (secrets masked for display)."""
        return FlowRun.from_json(redact(self.to_json()))

    def to_json(self) -> dict[str, Any]:
        """The run as stored and as `show --json` prints it."""
        source = self.source
        if source is not None:
            return source.value if type(source) is _Raw else source
        if self.keys is TRACED_KEYS:  # what the engine ran: written out at once
            error, state = self.error, self.state
            return {
                "id": self.id,
                "flow": self.flow,
                "file": self.file,
                "trigger": self.trigger,
                "parent_id": self.parent_id,
                "via_node": self.via_node,
                "status": self.status,
                "started_at": self.started_at,
                "duration_us": self.duration_us,
                "path": list(self.path),
                "steps": _steps_json(self.steps),
                "error": None if error is None else error.to_json(),
                "warnings": list(self.warnings),
                "state": None if state is _ABSENT else state,
            }
        out: dict[str, Any] = {}
        for key in self.keys:
            if key == "path":
                out[key] = list(self.path)
            elif key == "steps":
                out[key] = [s.to_json() for s in self.steps]
            elif key == "error":
                out[key] = None if self.error is None else self.error.to_json()
            elif key == "warnings":
                out[key] = list(self.warnings)
            elif key == "state":
                out[key] = None if self.state is _ABSENT else self.state
            else:
                out[key] = getattr(self, key)
        return out

    @property
    def shapeless(self) -> bool:
        """Read from a stored value that is not a JSON object at all (views skip it)."""
        return type(self.source) is _Raw

    @staticmethod
    def from_json(value: Any) -> FlowRun:
        """A stored run, whatever its shape; `to_json()` gives `value` back as it was."""
        if type(value) is not dict:
            return FlowRun(None, None, status=None, duration_us=None, source=_Raw(value))
        steps = value.get("steps")
        state = value.get("state", _ABSENT)
        return FlowRun(
            _id(value.get("id")),
            _text(value.get("flow")),
            _text(value.get("file")),
            _text(value.get("trigger")),
            _id(value.get("parent_id")),
            _text(value.get("via_node")),
            _text(value.get("status")),
            _text(value.get("started_at")),
            _number(value.get("duration_us")),
            _texts(value.get("path")),
            tuple(Step.from_json(s) for s in steps if type(s) is dict) if type(steps) is list else (),
            RunError.from_json(value.get("error")),
            _texts(value.get("warnings")),
            state,
            _text(value.get("reason")),
            tuple(value),
            value,
            value.get("output"),
            value.get("response"),
            _text(value.get("resume_at")),
        )

    def summary_json(self) -> dict[str, Any]:
        """The run as `list --json` names it (SPEC §10): flow, status, path."""
        source = self.source
        if source is None:
            return {"flow": self.flow, "status": self.status, "path": list(self.path)}
        if type(source) is _Raw:
            return {"flow": None, "status": None, "path": []}
        return {"flow": source.get("flow"), "status": source.get("status"), "path": list(source.get("path") or [])}


def skipped(run_id: int, flow: str, file: str, trigger: str | None, started_at: str, reason: str) -> FlowRun:
    """A triggered run that did not run, and why."""
    return FlowRun(run_id, flow, file, trigger, status="skipped", started_at=started_at, reason=reason, keys=SKIPPED_KEYS)


def queued(flow: str, parent_id: int | None) -> FlowRun:
    """An async child queued, to run once the answer is out."""
    return FlowRun(None, flow, None, parent_id=parent_id, status="queued", keys=QUEUED_KEYS)


def running(flow: str, file: str) -> FlowRun:
    """A triggered run still going in a worker when the answer went out."""
    return FlowRun(None, flow, file, status="running", keys=RUNNING_KEYS)


def broken(exc: BaseException) -> FlowRun:
    """What is recorded when the engine itself failed (a bug of ours)."""
    return FlowRun(
        None, None, status="error", error=RunError(f"internal error: {type(exc).__name__}: {exc}", keys=("message",)), keys=BROKEN_KEYS
    )


def runs_to_json(runs: Any) -> list[Any]:
    """Runs as stored. Items that are not FlowRuns (already JSON) pass as they are."""
    return [r.to_json() if type(r) is FlowRun else r for r in runs]


def runs_from_json(value: Any) -> tuple[FlowRun, ...]:
    """Stored runs as FlowRuns (each gives back its JSON as it was)."""
    if type(value) is not list:
        return ()
    return tuple(map(FlowRun.from_json, value))
