"""Pick a built-in sample event to send through the pipeline: each sample as its provider
sends it, and the form-encoded variants `send NAME --form` sends."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ... import samples
from ..guard import GuardedPump
from ..widgets.plain import PlainStatic

FORM_DESCRIPTION = "form-encoded, JSON in `payload`, signed over the form bytes"


@dataclass(frozen=True)
class SampleChoice:
    """One thing the picker and the palette offer: a sample, and whether to send it the way
    `send NAME --form` does (samples.build(..., form=True) builds both, so they cannot differ)."""

    name: str
    form: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} (form)" if self.form else self.name

    @property
    def description(self) -> str:
        return FORM_DESCRIPTION if self.form else samples.get(self.name).description


def sample_choices() -> list[SampleChoice]:
    """Every sample as JSON, then the form variants: appended, so the JSON entries keep the
    positions (and keystrokes) they always had."""
    plain = [SampleChoice(s.name) for s in samples.SAMPLES.values()]
    return plain + [SampleChoice(s.name, form=True) for s in samples.SAMPLES.values() if s.form]


class SamplePicker(GuardedPump, ModalScreen[SampleChoice | None]):
    # The list's cap is in vh so that it scrolls inside the box: the box's own 90% cap only
    # clips, and at 24 rows a fixed cap let the last entries and the hint fall below its edge.
    # 75vh leaves the box's borders and the hint room from 20 rows up.
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
        & OptionList { height: auto; max-height: 75vh; border: none; }
        & #picker-hint { color: $text-muted; }
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without sending", id="picker-cancel")]

    def __init__(self, choices: list[tuple[SampleChoice, str | None]]):
        """`choices`: each with the name of the signing entry that applies to it, or None."""
        super().__init__()
        self.choices = choices
        self._by_id = {choice.label: choice for choice, _ in choices}

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Send a sample"
            options = []
            for choice, entry in self.choices:
                label = Text(no_wrap=True, overflow="ellipsis")
                label.append(choice.label, style="bold")
                label.append(f"  {'signed with ' + entry if entry else 'unsigned'}", style="green" if entry else "dim")
                label.append(f"\n  {choice.description}", style="dim")
                options.append(Option(label, id=choice.label))
            yield OptionList(*options, id="sample-list")
            yield PlainStatic("enter send · esc cancel — goes through the pipeline, no HTTP", id="picker-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._by_id.get(event.option.id or ""))
