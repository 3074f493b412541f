"""Response tab: what the sender got back — status, headers, body, time."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...model import Capture
from ..shapes import answer_value, cells, dumps
from .code import code
from .context import ViewContext, status_style
from .plain import PlainStatic


class ResponseView(VerticalScroll):
    DEFAULT_CSS = """
    ResponseView { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="response-text")
        yield PlainStatic(id="response-body")

    def show(self, capture: Capture, ctx: ViewContext) -> None:
        resp = capture.response
        target = self.query_one("#response-text", Static)
        body_target = self.query_one("#response-body", Static)
        if resp is None:
            target.update(Text("Not answered yet.", style="dim"))
            body_target.update("")
            return
        head = Text()
        head.append(f" {resp.status} ", style=status_style(resp.status) + " reverse")
        if resp.duration_ms is not None:
            head.append(f"  answered in {resp.duration_ms:.1f} ms", style="dim")
        headers = Table(box=None, padding=(0, 2, 0, 0), header_style="dim")
        headers.add_column("header", style="cyan", no_wrap=True)
        headers.add_column("value", overflow="fold")
        for name, value in resp.headers:
            headers.add_row(*cells(name, ctx.mask(name, value)))
        target.update(Group(head, Text(""), headers, Text("")))
        value = ctx.redact(answer_value(resp))
        if value is None:
            body_target.update(Text("(empty body)", style="dim"))
        elif isinstance(value, str):
            body_target.update(Text(value))
        else:
            body_target.update(code(dumps(value, indent=2, ensure_ascii=False), "json"))
