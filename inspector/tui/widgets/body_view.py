"""Body tab: pretty (JSON highlighted, forms as a table, text), raw, or hex — `v` cycles."""

from __future__ import annotations

import json
import zlib
from urllib.parse import parse_qsl

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ...flow import decode_body
from ...flow.engine import FORM_JSON_NOTE, form_json
from ...model import Capture, Request, is_json_type
from ..shapes import cells, printable, printable_lines
from .code import code
from .context import ViewContext
from .plain import PlainStatic

MODES = ("pretty", "raw", "hex")
PRETTY_LIMIT = 256 * 1024  # larger bodies are shown raw: highlighting them would stall the UI
HEX_LIMIT = 16 * 1024
TEXT_LIMIT = 256 * 1024  # raw text shown; Rich lays out every character of it on each refresh
# A compressed body is inflated for display up to this: a few KiB of gzip can inflate to
# gigabytes (a "gzip bomb"), which would freeze the UI and take the machine's memory.
INFLATE_LIMIT = 8 * 1024 * 1024
_WBITS = {"gzip": (16 + zlib.MAX_WBITS,), "x-gzip": (16 + zlib.MAX_WBITS,), "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS)}


def display_body(req: Request, limit: int = INFLATE_LIMIT) -> tuple[bytes, str | None]:
    """The body with Content-Encoding undone for display, at most `limit` bytes of it, and a
    note when it was cut or could not be undone."""
    encoding = (req.headers.get("content-encoding") or "").strip().lower()
    if not req.body or encoding not in _WBITS:
        return decode_body(req) if req.body and encoding not in ("", "identity") else (req.body, None)
    problem: Exception | None = None
    for wbits in _WBITS[encoding]:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(req.body, limit)
        except zlib.error as exc:
            problem = problem or exc
            continue
        if inflater.unconsumed_tail:
            return out, (f"Content-Encoding {printable(encoding)}: inflates to more than {limit:,} bytes; the first {limit:,} are shown")
        return out, None
    return req.body, f"Content-Encoding {printable(encoding)} could not be undone ({problem}); the raw bytes are shown"


def _raw_text(body: bytes, limit: int = TEXT_LIMIT) -> Text | Group:
    text = Text(printable_lines(body[:limit].decode("utf-8", "replace")))
    if len(body) <= limit:
        return text
    more = Text(f"… {len(body) - limit:,} more bytes (first {limit:,} shown; w exports the whole body)", style="dim")
    return Group(text, more)


def _nested_too_deep(text: str) -> Group:
    return Group(
        Text("nested too deeply to pretty-print (past Python's recursion limit); shown as text", style="yellow"),
        Text(printable_lines(text)),
    )


def hexdump(data: bytes, limit: int = HEX_LIMIT) -> str:
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  |{text}|")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes (first {limit:,} shown)")
    return "\n".join(lines)


class BodyView(VerticalScroll):
    DEFAULT_CSS = """
    BodyView {
        padding: 0 1;
        & > #body-info { color: $text-muted; }
    }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="body-info")
        yield PlainStatic(id="body-text")

    def show(self, capture: Capture, ctx: ViewContext) -> None:
        req = capture.request
        body, warning = display_body(req)
        ctype = printable((req.headers.get("content-type") or "").split(";")[0].strip().lower())
        mode = ctx.body_mode
        info = Text(no_wrap=True, overflow="ellipsis")
        info.append(f"{ctype or 'no Content-Type'} · {req.body_size:,} bytes")
        if body is not req.body:
            info.append(f" · {printable(req.headers.get('content-encoding') or '')} decoded for display ({len(body):,} bytes)")
        if req.truncated:
            info.append(" · truncated", style="yellow")
        info.append("   view: ")
        for m in MODES:
            info.append(f" {m} ", style="reverse" if m == mode else "")
        info.append("  (v)")
        if warning:
            info.append(f"\n{warning}", style="yellow")
        self.query_one("#body-info", Static).update(info)
        self.query_one("#body-text", Static).update(self._content(body, ctype, mode))

    def _content(self, body: bytes, ctype: str, mode: str) -> Text | Group | Table | Content:
        if not body:
            return Text("(empty body)", style="dim")
        if mode == "hex":
            return Text(hexdump(body))
        if mode == "raw" or len(body) > PRETTY_LIMIT:
            return _raw_text(body)
        text = body.decode("utf-8", "replace")
        stripped = text.lstrip()
        if is_json_type(ctype) or stripped[:1] in ("{", "["):
            try:
                pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            except RecursionError:
                return _nested_too_deep(text)
            except ValueError as exc:
                return Group(Text(f"not valid JSON ({exc}); shown as text", style="yellow"), Text(printable_lines(text)))
            # "\ud800" in JSON is a lone surrogate, which no terminal can show
            return code(printable_lines(pretty), "json")
        if ctype == "application/x-www-form-urlencoded":
            fields = parse_qsl(text, keep_blank_values=True)
            table = Table(box=None, padding=(0, 2, 0, 0), header_style="dim")
            table.add_column("form field", style="cyan", no_wrap=True)
            table.add_column("value", overflow="fold")
            for k, v in fields:
                table.add_row(*cells(printable(k), printable(v)))
            document, problem = form_json(dict(fields))
            if document is not None:
                # GitHub's form setting and Slack's interactivity wrap their JSON in one field:
                # that document, not the escaped form line, is what the sender meant.
                note = Text(f"{FORM_JSON_NOTE}; flows see it as event.payload, the fields as event.form", style="bold")
                # a lone surrogate (\ud800) in the JSON is text no terminal can show
                shown = code(json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8", "replace").decode(), "json")
                return Group(note, shown, Text(""), table)
            if problem:
                return Group(Text(problem, style="yellow"), table)
            return table
        return Text(printable_lines(text))
