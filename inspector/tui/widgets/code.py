"""Syntax-highlighted code and JSON with the app theme's colours (textual.highlight), with
optional line numbers and a marked line (the one an error points at)."""

from __future__ import annotations

from textual.content import Content
from textual.highlight import highlight


def code(text: str, language: str, *, first_line: int = 0, mark_line: int | None = None) -> Content:
    highlighted = highlight(text, language=language)
    if not first_line:
        return highlighted
    lines = highlighted.split("\n", allow_blank=True)
    width = len(str(first_line + len(lines) - 1))
    out = []
    for i, line in enumerate(lines):
        number = first_line + i
        if number == mark_line:
            prefix = Content.styled(f"✗{number:>{width}} ", "bold $error")
        else:
            prefix = Content.styled(f" {number:>{width}} ", "$text-muted")
        out.append(prefix + line)
    return Content("\n").join(out)
