"""Captures as the views expect them: runs, steps and notes of the shapes SPEC §6 gives.

A store written by another version, by hand or by a tool may hold runs and notes of any JSON
shape (a string for a run, a map for `path`, NaN for a duration). Runs are read into typed
FlowRuns by the store; what had no usable shape is dropped or shown as text here, once, on
its way in, and the stored capture is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..model import Capture, unicode_text


def _text(value: Any, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)[:200]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:200]


def in_shape(capture: Capture, *, deep: bool = True) -> Capture:
    """The capture with runs and notes the views can read (itself when they already are).
    A run's attributes are always of their declared types (`FlowRun.from_json` sees to
    that); a stored run that was no JSON object at all is left out, and notes that are not
    text are shown as text. `deep=False` leaves the notes: a table row does not read them."""
    runs, notes = capture.runs, capture.notes
    # Every live capture arrives in shape, with one run or two and no notes: a loop that
    # stops at the first odd one, no generator for an empty tuple.
    runs_ok = True
    for run in runs:
        if run.shapeless:
            runs_ok = False
            break
    notes_ok = not deep or not notes or all(type(n) is str for n in notes)
    if runs_ok and notes_ok:
        return capture
    changes: dict[str, Any] = {}
    if not runs_ok:
        changes["runs"] = tuple(run for run in runs if not run.shapeless)
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
