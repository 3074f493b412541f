"""The filter line (`/`): the SPEC §10 language, its error or what it matched."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from ..guard import GuardedPump
from .plain import PlainStatic

PLACEHOLDER = "tenant:demo type:order.* sig:invalid status:4xx flow:NAME method:POST origin:sample -term, or words to search"


class FilterBar(GuardedPump, Horizontal):
    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        display: none;
        &.-visible { display: block; }
        & > #filter-label { width: auto; padding: 0 1; color: $text-muted; }
        & > Input { width: 1fr; height: 1; border: none; padding: 0; background: $surface; }
        & > Input:focus { border: none; background: $boost; }
        & > #filter-status { width: auto; max-width: 50%; padding: 0 1; color: $text-muted; }
        & > #filter-status.-error { color: $error; }
    }
    """

    BINDINGS = [Binding("escape", "leave", "Back to the table", show=False, id="filter-leave")]

    @dataclass
    class Changed(Message):
        """The text changed (`final`: Enter was pressed)."""

        bar: "FilterBar"
        text: str
        final: bool

    def compose(self) -> ComposeResult:
        yield PlainStatic("filter /", id="filter-label")
        yield Input(placeholder=PLACEHOLDER, id="filter-input")
        yield PlainStatic("", id="filter-status")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def text(self) -> str:
        return self.input.value

    def open(self) -> None:
        self.add_class("-visible")
        self.input.focus()

    def set_text(self, text: str) -> None:
        with self.input.prevent(Input.Changed):
            self.input.value = text

    def status(self, message: str, *, error: bool = False) -> None:
        label = self.query_one("#filter-status", Static)
        label.update(Text(message, no_wrap=True, overflow="ellipsis"))
        label.set_class(error, "-error")
        if message or self.text:
            self.add_class("-visible")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self, event.value, False))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Changed(self, event.value, True))
        if not event.value.strip():
            self.remove_class("-visible")
        self._focus_table()

    def action_leave(self) -> None:
        if not self.text:
            self.remove_class("-visible")
        self._focus_table()

    def _focus_table(self) -> None:
        tables = self.screen.query("RequestTable")
        if tables:
            tables.first().focus()
