"""Body tab: pretty (JSON highlighted, forms as a table, text), raw, or hex — `v` cycles."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...flow import decode_body
from ...model import Capture, is_json_type
from .code import code
from .context import ViewContext

MODES = ("pretty", "raw", "hex")
PRETTY_LIMIT = 256 * 1024  # larger bodies are shown raw: highlighting them would stall the UI
HEX_LIMIT = 16 * 1024


def hexdump(data: bytes, limit: int = HEX_LIMIT) -> str:
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset:offset + 16]
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
        yield Static(id="body-info")
        yield Static(id="body-text")

    def show(self, capture: Capture, ctx: ViewContext) -> None:
        req = capture.request
        body, warning = decode_body(req)
        ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
        mode = ctx.body_mode
        info = Text(no_wrap=True, overflow="ellipsis")
        info.append(f"{ctype or 'no Content-Type'} · {req.body_size:,} bytes")
        if body is not req.body:
            info.append(f" · {req.headers.get('content-encoding')} decoded for display ({len(body):,} bytes)")
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

    def _content(self, body: bytes, ctype: str, mode: str):
        if not body:
            return Text("(empty body)", style="dim")
        if mode == "hex":
            return Text(hexdump(body))
        text = body.decode("utf-8", "replace")
        if mode == "raw" or len(body) > PRETTY_LIMIT:
            return Text(text)
        stripped = text.lstrip()
        if is_json_type(ctype) or stripped[:1] in ("{", "["):
            try:
                value = json.loads(text)
            except ValueError as exc:
                return Group(Text(f"not valid JSON ({exc}); shown as text", style="yellow"), Text(text))
            return code(json.dumps(value, indent=2, ensure_ascii=False), "json")
        if ctype == "application/x-www-form-urlencoded":
            table = Table(box=None, padding=(0, 2, 0, 0), header_style="dim")
            table.add_column("form field", style="cyan", no_wrap=True)
            table.add_column("value", overflow="fold")
            for k, v in parse_qsl(text, keep_blank_values=True):
                table.add_row(k, v)
            return table
        return Text(text)
