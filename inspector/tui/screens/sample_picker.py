"""Pick a built-in sample event to send through the pipeline."""

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


class SamplePicker(GuardedPump, ModalScreen[str | None]):
    DEFAULT_CSS = """
    SamplePicker {
        align: center middle;
        & > Vertical {
            width: 80;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        & OptionList { height: auto; max-height: 24; border: none; }
        & #picker-hint { color: $text-muted; }
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without sending", id="picker-cancel")]

    def __init__(self, samples: list[tuple[str, str, str | None]]):
        """`samples`: (name, description, signing entry or None)."""
        super().__init__()
        self.samples = samples

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Send a sample"
            options = []
            for name, description, entry in self.samples:
                label = Text(no_wrap=True, overflow="ellipsis")
                label.append(name, style="bold")
                label.append(f"  {'signed with ' + entry if entry else 'unsigned'}", style="green" if entry else "dim")
                label.append(f"\n  {description}", style="dim")
                options.append(Option(label, id=name))
            yield OptionList(*options, id="sample-list")
            yield PlainStatic("enter send · esc cancel — goes through the pipeline, no HTTP", id="picker-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
