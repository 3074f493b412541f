"""The filter line (`/`): the SPEC §10 language, its error or what it matched.

Enter applies the filter and keeps it (`/` reopens it with its text, the cursor at the end);
Escape clears it and shows every capture again."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from ..guard import GuardedPump
from .plain import PlainStatic

PLACEHOLDER = "tenant:demo type:order.* sig:invalid status:4xx flow:NAME method:POST origin:sample -term, or words to search"


class FilterBar(GuardedPump, Vertical):
    DEFAULT_CSS = """
    FilterBar {
        height: auto;
        display: none;
        &.-visible { display: block; }
        & > #filter-row { height: 1; }
        & #filter-label { width: auto; padding: 0 1; color: $text-muted; }
        & Input { width: 1fr; height: 1; border: none; padding: 0; background: $surface; }
        & Input:focus { border: none; background: $boost; }
        & #filter-count { width: auto; max-width: 50%; padding: 0 1; color: $text-muted; }
        /* Its own line at full width, wrapped: the whole message is the point of an error. */
        & > #filter-status { height: auto; padding: 0 1; color: $error; display: none; }
        & > #filter-status.-error { display: block; }
    }
    """

    BINDINGS = [
        Binding("escape", "clear", "Clear the filter", show=False, tooltip="Clear the filter and show every capture", id="filter-clear")
    ]

    @dataclass
    class Changed(Message):
        """The text changed (`final`: Enter was pressed)."""

        bar: FilterBar
        text: str
        final: bool

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield PlainStatic("filter /", id="filter-label")
            # Not selected on focus: a reopened filter is edited, not replaced by the first key.
            yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
            yield PlainStatic("", id="filter-count")
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
        self.input.cursor_position = len(self.input.value)

    def set_text(self, text: str) -> None:
        with self.input.prevent(Input.Changed):
            self.input.value = text

    def status(self, message: str, *, error: bool = False) -> None:
        """An error goes on its own line, wrapped; anything else (a count, "searching…") is
        short and sits after the input, and replaces an error shown before."""
        count = self.query_one("#filter-count", Static)
        problem = self.query_one("#filter-status", Static)
        if error:
            problem.update(Text(message))
            count.update("")  # it was about an earlier text; the table's title keeps the count
        else:
            count.update(Text(message, no_wrap=True, overflow="ellipsis"))
            problem.update("")
        problem.set_class(error and bool(message), "-error")
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

    def action_clear(self) -> None:
        had_text = bool(self.text)
        self.set_text("")
        self.status("")
        self.remove_class("-visible")
        if had_text:
            self.post_message(self.Changed(self, "", True))
        self._focus_table()

    def _focus_table(self) -> None:
        tables = self.screen.query("RequestTable")
        if tables:
            tables.first().focus()
