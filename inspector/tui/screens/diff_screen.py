"""Two captures side by side (`m` marks one, `D` on another): each place they differ, as
`webhook-inspector diff` lists them — request line and query, headers (volatile ones grouped),
the body by JSON path or form field, the signature, the answer, and where each flow parts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable

from ...diff import VOLATILE, Difference, diff_captures, masked, shown
from ...model import Capture
from ..guard import GuardedPump
from ..widgets.plain import PlainStatic


def differences_for_view(a: Capture, b: Capture, masker: Any, all_headers: bool = False) -> list[Difference]:
    """The differences, with each side's secrets masked (`masker`: a signatures.Masker)."""
    found = diff_captures(a, b, all_headers=all_headers)
    if masker is None:
        return found
    return masked(found, masker.for_capture(a), masker.for_capture(b))


def _cell(value: Any, width: int) -> Text:
    text = shown(value, width)
    return Text(text, style="dim" if text == "(absent)" else "")


def fill_differences(table: DataTable[Any], found: list[Difference], total: int, a_label: str = "a", b_label: str = "b") -> None:
    """The differences as rows of `where`, a, b, the values cut to share `total` columns."""
    where_width = max([len("headers (volatile)")] + [len(d.where) for d in found])
    width = max(12, (total - where_width - 8) // 2)
    table.clear(columns=True)
    table.add_columns("where", a_label, b_label)
    for d in found:
        if d.where == VOLATILE:
            names = ", ".join(d.a)
            names = names if len(names) <= width else names[: width - 1] + "…"
            table.add_row(Text("headers (volatile)", style="italic"), Text(names, style="dim"), Text("differ every delivery", style="dim"))
            continue
        table.add_row(Text(d.where, style="bold"), _cell(d.a, width), _cell(d.b, width))


class DiffScreen(GuardedPump, ModalScreen[None]):
    DEFAULT_CSS = """
    DiffScreen {
        align: center middle;
        & > Vertical { width: 96%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
        & #diff-summary { height: auto; }
        & DataTable { height: 1fr; }
        & .hint { color: $text-muted; height: 1; }
    }
    """

    BINDINGS = [
        Binding("escape", "dismiss", "Close", tooltip="Close the comparison", id="diff-close"),
        Binding("v", "toggle_volatile", "Volatile headers", tooltip="List volatile headers one by one, or group them", id="diff-volatile"),
    ]

    def __init__(self, a: Capture, b: Capture, masker: Any = None):
        super().__init__()
        self.a, self.b, self.masker = a, b, masker
        self.all_headers = False
        self.differences = differences_for_view(a, b, masker)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"capture {self.a.id} (a) ↔ capture {self.b.id} (b)"
            yield PlainStatic(self._summary(), id="diff-summary")
            yield DataTable(id="diff-table", zebra_stripes=True, cursor_type="row")
            yield PlainStatic("esc close · v volatile headers one by one / grouped", classes="hint")

    def _summary(self) -> str:
        n = len(self.differences)
        if not n:
            return "The same request, signature verdict, answer and flow paths (ids, times and the client left aside)."
        return f"{n} difference{'s' if n != 1 else ''}"

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#diff-table", DataTable)
        fill_differences(table, self.differences, self.app.size.width - 8)

    def action_toggle_volatile(self) -> None:
        self.all_headers = not self.all_headers
        self.differences = differences_for_view(self.a, self.b, self.masker, self.all_headers)
        self.query_one("#diff-summary", PlainStatic).update(self._summary())
        self._fill()
