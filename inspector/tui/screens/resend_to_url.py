"""Resend to URL: ask for another target's base URL (the capture's path and query are appended)
and whether to re-sign for it. A bad URL, or a capture the core cannot resend, is said inline."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Static

from ...model import Capture
from ...resend import ResendOrder
from ..guard import GuardedPump
from ..widgets.plain import PlainStatic
from .edit_resend import url_problem


class ResendToUrlScreen(GuardedPump, ModalScreen[ResendOrder | None]):
    DEFAULT_CSS = """
    ResendToUrlScreen {
        align: center middle;
        & > Vertical {
            width: 90; max-width: 96%; height: auto;
            border: round $primary; background: $surface; padding: 0 1;
            border-title-color: $text;
        }
        & #url-input { margin: 1 0 0 0; }
        & #url-target { color: $text-muted; height: auto; }
        & #url-options { height: 1; margin-top: 1; }
        & #url-error { color: $error; height: auto; display: none; }
        & #url-error.-visible { display: block; }
        & .hint { color: $text-muted; margin-top: 1; }
    }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without sending", id="url-cancel")]

    def __init__(self, capture: Capture, check: Callable[[ResendOrder], str | None], *, url: str = "", resign: bool = False):
        super().__init__()
        self.capture = capture
        self.check = check
        self.url = url
        self.resign = resign

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Resend #{self.capture.id} to another URL"
            yield PlainStatic(
                "Base URL of the target (your app, a staging server); the capture's path is appended. "
                "Its answer is stored as a new capture of origin replay, linked to this one."
            )
            yield Input(self.url, placeholder="http://127.0.0.1:3000", id="url-input")
            yield PlainStatic(id="url-target")
            with Horizontal(id="url-options"):
                yield Checkbox("re-sign for this URL (fresh timestamp and signature)", self.resign, id="url-resign", compact=True)
            yield PlainStatic(id="url-error")
            yield PlainStatic("enter send · esc cancel", classes="hint")

    def on_mount(self) -> None:
        self._preview(self.url)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._preview(event.value)

    def _preview(self, value: str) -> None:
        value = value.strip()
        shown = f"→ {value.rstrip('/')}{self.capture.request.target}" if value and url_problem(value) is None else ""
        self.query_one("#url-target", Static).update(Text(shown))  # a path may hold "["

    def _error(self, text: str) -> None:
        error = self.query_one("#url-error", Static)
        error.update(Text(text))
        error.set_class(bool(text), "-visible")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        url = event.value.strip()
        if not url:
            self._error("✗ type a URL, e.g. http://127.0.0.1:3000 (esc cancels)")
            return
        problem = url_problem(url)
        if problem:
            self._error(f"✗ {problem}")
            return
        order = ResendOrder(resign=self.query_one("#url-resign", Checkbox).value, to=url)
        problem = self.check(order)
        if problem:
            self._error(f"✗ {problem}")
            return
        self.dismiss(order)
