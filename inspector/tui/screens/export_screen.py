"""Export: pick a format (curl, HTTPie, HAR 1.2, JSON, a fixture) and a file; the core's `export` writes
it. A file that cannot be written is said inline and the form stays open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..guard import GuardedPump
from ..widgets.plain import PlainStatic

FORMATS: tuple[tuple[str, str, str], ...] = (
    ("curl", "curl.sh", "one curl command that sends the exact bytes again"),
    ("httpie", "httpie.sh", "the same as an HTTPie command"),
    ("har", "har", "HAR 1.2: request and response, for browsers' dev tools and other tools"),
    ("json", "json", "everything about the capture, as `show --json` prints it"),
    ("fixture", "fixture.json", "a fixture for your app's own tests (README: Fixtures and shareable bundles)"),
)


def default_path(folder: Path, capture_id: int, fmt: str) -> str:
    ext = next(e for f, e, _ in FORMATS if f == fmt)
    return str(folder / f"export-{capture_id}.{ext}")


class ExportScreen(GuardedPump, ModalScreen[str | None]):
    DEFAULT_CSS = """
    ExportScreen {
        align: center middle;
        & > Vertical {
            width: 90; max-width: 96%; height: auto;
            border: round $primary; background: $surface; padding: 0 1;
            border-title-color: $text;
        }
        & OptionList { height: auto; border: none; padding: 0; margin-bottom: 1; }
        & #export-error { color: $error; height: auto; display: none; }
        & #export-error.-visible { display: block; }
        & .hint { color: $text-muted; }
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without writing", id="export-cancel")]

    def __init__(self, capture_id: int, folder: Path, write: Callable[[str, str], str | None], *, masked: bool = True):
        """`write(format, path)` writes the file and says why it could not (None: written)."""
        super().__init__()
        self.capture_id = capture_id
        self.folder = folder
        self.write = write
        self.masked = masked
        self.fmt = "curl"
        self._auto_path = default_path(folder, capture_id, self.fmt)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Export #{self.capture_id}"
            options = []
            for fmt, _, description in FORMATS:
                label = Text(no_wrap=True, overflow="ellipsis")
                label.append(f"{fmt:<7}", style="bold")
                label.append(f" {description}", style="dim")
                options.append(Option(label, id=fmt))
            yield OptionList(*options, id="export-format")
            yield PlainStatic("write to:")
            yield Input(self._auto_path, id="export-path")
            yield PlainStatic(id="export-error")
            secrets = (
                "secret-bearing headers are masked (start with --reveal to export them as they are)"
                if self.masked
                else "--reveal is on: secret-bearing headers are written as they are"
            )
            yield PlainStatic(f"{secrets}\n↑↓ format · enter write · esc cancel", classes="hint")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.fmt = event.option.id or "curl"
        path = self.query_one("#export-path", Input)
        if path.value == self._auto_path:  # not edited by hand: follow the format
            self._auto_path = path.value = default_path(self.folder, self.capture_id, self.fmt)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._write()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._write()

    def _write(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        error = self.query_one("#export-error", Static)
        problem = "type a file name" if not path else self.write(self.fmt, path)
        if problem:
            error.update(Text(f"✗ {problem}"))  # the path and reason are data, not markup
            error.add_class("-visible")
            return
        self.dismiss(path)
