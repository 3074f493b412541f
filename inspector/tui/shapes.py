"""Captures as the views expect them: runs, steps and notes of the shapes SPEC §6 gives.

A store written by another version, by hand or by a tool may hold runs of any JSON shape
(a string for a run, a map for `path`, NaN for a duration). The views read these fields
freely, so every capture is put in shape once, here, on its way in; what had no usable
shape is dropped or shown as text, and the stored capture is left as it is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from ..model import Capture, unicode_text

_SCALAR_ID = (int, str)


def _text(value: Any, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)[:200]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:200]


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _error(value: Any) -> dict[str, Any] | None:
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        return {"message": _text(value), "line": None, "column": None}
    line, column = value.get("line"), value.get("column")
    return {
        **value,
        "message": _text(value.get("message"), "(no message)"),
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
        "column": column if isinstance(column, int) and not isinstance(column, bool) else None,
    }


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list):
        return [] if value is None else [_text(value) or ""]
    return [_text(v, "") or "" for v in value]


def _decision(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    out = []
    for d in value:
        if not isinstance(d, dict):
            continue
        d = dict(d, expression=_text(d.get("expression"), "?"))
        if "error" in d:
            d["error"] = _text(d["error"], "")
        out.append(d)
    return out


def _step(step: dict[str, Any]) -> dict[str, Any]:
    nxt = step.get("next")
    return {
        **step,
        "node": _text(step.get("node"), "?"),
        "type": _text(step.get("type")),
        "status": _text(step.get("status"), "?"),
        "next": nxt if isinstance(nxt, str) else None,
        "decision": _decision(step.get("decision")),
        "error": _error(step.get("error")),
        "logs": _texts(step.get("logs")),
        "duration_us": _number(step.get("duration_us")),
    }


def _run(run: dict[str, Any]) -> dict[str, Any]:
    steps = run.get("steps")
    ids = {k: (v if isinstance(v, _SCALAR_ID) and not isinstance(v, bool) else None) for k in ("id", "parent_id") for v in (run.get(k),)}
    return {
        **run,
        **ids,
        "flow": _text(run.get("flow"), "(unnamed flow)"),
        "status": _text(run.get("status"), "?"),
        "path": _texts(run.get("path")),
        "steps": [_step(s) for s in steps if isinstance(s, dict)] if isinstance(steps, list) else [],
        "error": _error(run.get("error")),
        "duration_us": _number(run.get("duration_us")),
        "warnings": _texts(run.get("warnings")),
        "reason": _text(run.get("reason")),
        "trigger": _text(run.get("trigger")),
        "file": _text(run.get("file")),
        "via_node": _text(run.get("via_node")),
    }


def _fine(run: Any) -> bool:
    """The common case, checked cheaply: a run as the engine writes it."""
    if type(run) is not dict:
        return False
    path, steps, error = run.get("path"), run.get("steps"), run.get("error")
    return (
        type(run.get("flow")) is str
        and type(run.get("status")) is str
        and (path is None or (type(path) is list and all(type(p) is str for p in path)))
        and (steps is None or (type(steps) is list and all(_fine_step(s) for s in steps)))
        and (error is None or (type(error) is dict))
        and (run.get("duration_us") is None or _number(run.get("duration_us")) is not None)
    )


def _fine_step(step: Any) -> bool:
    if type(step) is not dict:
        return False
    decision, error, logs = step.get("decision"), step.get("error"), step.get("logs")
    return (
        (decision is None or (type(decision) is list and all(type(d) is dict for d in decision)))
        and (error is None or type(error) is dict)
        and (logs is None or type(logs) is list)
        and (step.get("duration_us") is None or _number(step.get("duration_us")) is not None)
    )


def _fine_for_row(run: Any) -> bool:
    """What a table row reads of a run: its flow, status and path."""
    if type(run) is not dict:
        return False
    path = run.get("path")
    return type(run.get("flow")) is str and type(run.get("status")) is str and (path is None or type(path) is list)


def in_shape(capture: Capture, *, deep: bool = True) -> Capture:
    """The capture with runs and notes the views can read (itself when they already are).
    `deep=False` checks only what a table row reads, cheaply: 100,000 rows load at start."""
    runs, notes = capture.runs, capture.notes
    runs_ok = all(map(_fine if deep else _fine_for_row, runs))
    notes_ok = not deep or all(type(n) is str for n in notes)
    if runs_ok and notes_ok:
        return capture
    changes: dict[str, Any] = {}
    if not runs_ok:
        changes["runs"] = tuple(_run(r) if not _fine(r) else r for r in runs if isinstance(r, dict))
    if not notes_ok:
        changes["notes"] = tuple(_text(n, "") or "" for n in notes)
    return capture.with_(**changes)


# C0 controls as their Unicode pictures (␍ ␊ ␛ …), DEL as ␡: written raw, they would move the
# cursor or start a terminal escape sequence (a method "PO\r\nST\x1b[31m" must not repaint the screen).
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"} | {c: "\ufffd" for c in range(0x80, 0xA0)}


def printable(text: str) -> str:
    """`text` safe to put on a terminal line: control characters shown as pictures, bytes
    that were not UTF-8 as U+FFFD."""
    if text.isprintable() and text.isascii():
        return text
    return unicode_text(text).translate(_PICTURES)


def printable_lines(text: str) -> str:
    """As `printable`, but line breaks and tabs stay (for multi-line views)."""
    if text.isascii() and text.replace("\n", "").replace("\t", "").isprintable():
        return text
    return unicode_text(text).replace("\r\n", "\n").translate(_PICTURES_BUT_LINES)


_PICTURES_BUT_LINES = {k: v for k, v in _PICTURES.items() if k not in (0x0A, 0x09)}


def answer_value(response: Any) -> Any:
    """`Response.body_value()`, or its text when the JSON is nested past what Python parses."""
    try:
        return response.body_value()
    except RecursionError:
        return response.body.decode("utf-8", "replace")


TOO_DEEP = "(nested too deeply to show)"


def deep_safe(redact: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`redact`, with the parts of a value nested past Python's recursion limit (a step that
    returned a 1,000-level payload) replaced by a note instead of failing the whole view.
    Nothing leaves unredacted: what cannot be redacted is not shown."""

    def safe(value: Any, depth: int = 0) -> Any:
        try:
            return redact(value)
        except RecursionError:
            if depth >= 4:
                return TOO_DEEP
            if isinstance(value, list):
                return [safe(v, depth + 1) for v in value]
            if isinstance(value, dict):
                return {k: safe(v, depth + 1) for k, v in value.items()}
            return TOO_DEEP

    return safe


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps`, or a note when the value is nested too deeply to encode."""
    try:
        return json.dumps(value, **kwargs)
    except RecursionError:
        return json.dumps(TOO_DEEP)
    except (TypeError, ValueError) as exc:
        return json.dumps(f"(cannot show: {exc})")


def cells(*values: Any) -> list[Any]:
    """Table cells from data. Rich reads a str cell as markup (a header named "X-[/b]" would
    fail to render) and writes control characters raw: strs become plain, printable Text."""
    from rich.text import Text

    out: list[Any] = []
    for value in values:
        if isinstance(value, str):
            value = Text(printable_lines(value))
        elif isinstance(value, Text):
            shown = printable_lines(value.plain)
            if shown != value.plain:
                value = Text(shown, style=value.style)
        out.append(value)
    return out
