"""Headers tab: every header in its original order and case (secrets masked), then the query."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...model import Capture
from ..shapes import cells
from .context import ViewContext
from .plain import PlainStatic


class HeadersView(VerticalScroll):
    DEFAULT_CSS = """
    HeadersView { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="headers-text")

    def show(self, capture: Capture, ctx: ViewContext) -> None:
        req = capture.request
        table = Table(box=None, padding=(0, 2, 0, 0), show_header=True, header_style="dim", expand=False)
        table.add_column(f"header ({len(req.headers)})", style="cyan", no_wrap=True)
        table.add_column("value", overflow="fold")
        for name, value in req.headers:
            shown = ctx.mask(name, value)
            table.add_row(*cells(name, Text(shown, style="yellow" if shown != value else "")))
        parts: list[RenderableType] = [table]
        pairs = req.query_pairs()
        if pairs:
            query = Table(box=None, padding=(0, 2, 0, 0), header_style="dim")
            query.add_column("query parameter", style="cyan", no_wrap=True)
            query.add_column("value", overflow="fold")
            for k, v in pairs:
                query.add_row(*cells(k, v))
            parts += [Text(""), query]
        from rich.console import Group

        self.query_one("#headers-text", Static).update(Group(*parts))
