"""Shows text just put on the clipboard: OSC 52 is silently ignored by some terminals, so the
text is also here to select by hand."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import TextArea

from ..widgets.plain import PlainStatic


class CopiedScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    CopiedScreen {
        align: center middle;
        & > Vertical { width: 94%; height: auto; max-height: 90%; border: round $success; background: $surface; padding: 0 1; }
        & TextArea { height: auto; max-height: 20; }
        & .hint { color: $text-muted; }
    }
    """

    BINDINGS = [Binding("escape", "dismiss", "Close", tooltip="Close", id="copied-close")]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield PlainStatic("Copied to the terminal clipboard (OSC 52). If your terminal ignores OSC 52, select it here:", classes="hint")
            yield TextArea(self.text, read_only=True, soft_wrap=True, show_line_numbers=False, id="copied-text")
            yield PlainStatic("esc close", classes="hint")
