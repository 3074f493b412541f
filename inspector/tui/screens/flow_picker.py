"""Pick which flow to debug when several are triggered by a capture."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..guard import GuardedPump
from ..widgets.plain import PlainStatic


class FlowPicker(GuardedPump, ModalScreen[str | None]):
    DEFAULT_CSS = """
    FlowPicker {
        align: center middle;
        & > Vertical { width: 70; max-width: 95%; height: auto; border: round $primary; background: $surface; padding: 0 1; }
        & OptionList { height: auto; max-height: 16; border: none; }
        & #picker-hint { color: $text-muted; }
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without debugging", id="flow-picker-cancel")]

    def __init__(self, flows: list[tuple[str, str]]):
        """`flows`: (name, file)."""
        super().__init__()
        self.flows = flows

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Debug which flow?"
            yield OptionList(*[Option(Text.assemble((name, "bold"), ("  " + file, "dim")), id=name) for name, file in self.flows])
            yield PlainStatic("enter debug · esc cancel", id="picker-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
