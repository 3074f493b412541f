"""Signature tab: the verdict, which scheme judged it, why, every hint, and received vs
expected (secret-bearing values masked)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...model import Capture
from ..shapes import cells
from .context import SIG_STYLE, ViewContext, sig_mark
from .plain import PlainStatic


class SignatureView(VerticalScroll):
    DEFAULT_CSS = """
    SignatureView { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="signature-text")

    def show(self, capture: Capture, ctx: ViewContext) -> None:
        sig = capture.signature
        head = Text()
        head.append(f" {sig_mark(sig.status)} {sig.status} ", style=SIG_STYLE.get(sig.status, "") + " reverse")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(*cells("scheme", sig.scheme or "none applies"))
        grid.add_row(*cells("algorithm", sig.algorithm or "–"))
        grid.add_row(*cells("header", sig.header or "–"))
        grid.add_row(*cells("reason", sig.reason or ("The signature matches." if sig.status == "valid" else "–")))
        if sig.hints:
            hints = Text()
            for i, hint in enumerate(sig.hints):
                if i:
                    hints.append("\n")
                hints.append("• ", style="yellow")
                hints.append(hint)
            grid.add_row(*cells("hints", hints))
        elif sig.status not in ("valid", "unsigned"):
            grid.add_row(*cells("hints", Text("none could be computed", style="dim")))
        header = sig.header or ""
        if sig.received is not None or sig.expected is not None:
            grid.add_row(
                *cells(
                    "received",
                    Text(ctx.mask(header, sig.received) if sig.received else "(absent)", style="red" if sig.status != "valid" else "green"),
                )
            )
            grid.add_row(*cells("expected", Text(ctx.mask(header, sig.expected) if sig.expected else "–", style="green")))
        elif header:
            got = capture.request.headers.get(header)
            grid.add_row(*cells("received", Text(ctx.mask(header, got) if got else "(absent)")))
        if sig.status == "unsigned":
            grid.add_row(*cells("", Text("No scheme in answers.json applies to this request, so nothing was verified.", style="dim")))
        self.query_one("#signature-text", Static).update(Group(head, Text(""), grid))
