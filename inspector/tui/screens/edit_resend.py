"""Edit & resend: the captured method, path, headers and body in a form, a re-sign toggle and an
optional target URL. A header line without a colon, or anything `prepare` refuses, is shown
inline and the form stays open; the error goes away as soon as the field is fixed."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from ...model import Capture
from ...replay import Edits, ReplayError, outgoing_headers, parse_header_line
from ...resend import ResendOrder
from ..guard import GuardedPump
from ..widgets.plain import PlainStatic


def url_problem(text: str) -> str | None:
    """Why `text` cannot be a target base URL, or None."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{text!r} is not a URL: write it as http://host:port or https://host"
    try:
        _ = parts.port  # a port that is not a number or out of range raises here
    except ValueError:
        return f"{text!r} has an invalid port"
    return None


def body_text(body: bytes) -> str | None:
    """The body as editable text, or None when it is not UTF-8 (it is then resent as captured)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


class EditResendScreen(GuardedPump, ModalScreen[ResendOrder | None]):
    DEFAULT_CSS = """
    EditResendScreen {
        align: center middle;
        & > Vertical {
            width: 96%; max-width: 140; height: 94%;
            border: round $primary; background: $surface; padding: 0 1;
            border-title-color: $text;
        }
        & .row { height: 1; margin-bottom: 1; }
        & Label { width: auto; padding-right: 1; color: $text-muted; }
        & #edit-method { width: 10; margin-right: 2; }
        & #edit-path { width: 1fr; }
        & TextArea { border: round $primary 40%; border-title-color: $text-muted; padding: 0 1; }
        & TextArea:focus { border: round $primary; border-title-color: $text; }
        & #edit-headers { height: auto; max-height: 10; }
        & #edit-body { height: 1fr; min-height: 4; }
        & .error { color: $error; height: auto; display: none; }
        & .error.-visible { display: block; }
        & #edit-options { height: 1; margin-top: 1; }
        & #edit-resign { width: auto; margin-right: 3; }
        & #edit-to { width: 1fr; }
        & #edit-buttons { height: 1; margin-top: 1; }
        & #edit-buttons Button { margin-right: 2; }
        & #edit-hint { color: $text-muted; width: 1fr; }
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", tooltip="Resend with these changes", id="edit-send"),
        Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without sending", id="edit-cancel"),
    ]

    def __init__(
        self, capture: Capture, mask: Callable[[str, str], str], check: Callable[[ResendOrder], str | None], *, resign: bool = False
    ):
        """`check(order)` says why the core would refuse the order (None: it would not)."""
        super().__init__()
        self.capture = capture
        self.mask = mask
        self.check = check
        self.resign = resign
        self.original = list(outgoing_headers(capture.request.headers))
        self.text = body_text(capture.request.body)
        self._initial: dict[str, str] = {}
        self._bad_line = 1  # the header line the last error is about

    def compose(self) -> ComposeResult:
        req = self.capture.request
        with Vertical() as box:
            box.border_title = f"Edit & resend #{self.capture.id}"
            with Horizontal(classes="row"):
                yield Label("method")
                yield Input(req.method, id="edit-method", compact=True)
                yield Label("path")
                yield Input(req.target, id="edit-path", compact=True)
            headers = TextArea("\n".join(f"{k}: {self.mask(k, v)}" for k, v in self.original), id="edit-headers", soft_wrap=False)
            headers.border_title = "headers — one Name: value per line (masked values are sent as captured)"
            yield headers
            yield PlainStatic(id="edit-headers-error", classes="error")
            if self.text is not None:
                body = TextArea(self.text, id="edit-body")
                body.border_title = "body (UTF-8)"
            else:
                body = TextArea(
                    f"binary body, {len(req.body):,} bytes: resent exactly as captured "
                    "(to change it: webhook-inspector replay ID --body-file F)",
                    id="edit-body",
                    read_only=True,
                )
                body.border_title = "body (binary, not editable here)"
            yield body
            with Horizontal(id="edit-options"):
                yield Checkbox("re-sign (fresh timestamp and signature)", self.resign, id="edit-resign", compact=True)
                yield Label("to")
                yield Input(placeholder="this inspector, or http://host:port", id="edit-to", compact=True)
            yield PlainStatic(id="edit-error", classes="error")
            with Horizontal(id="edit-buttons"):
                yield Button("Send", variant="primary", id="edit-send-button", compact=True)
                yield Button("Cancel", id="edit-cancel-button", compact=True)
                yield PlainStatic("ctrl+s send · esc cancel · tab next field", id="edit-hint")

    def on_mount(self) -> None:
        self._initial = {"headers": self.query_one("#edit-headers", TextArea).text, "body": self.query_one("#edit-body", TextArea).text}
        # The first field: tab then walks the form in the order it reads.
        self.query_one("#edit-method", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "edit-send-button":
            self.action_send()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def _show(self, widget_id: str, text: str) -> None:
        error = self.query_one(widget_id, Static)
        error.update(Text(text))  # it quotes what was typed: text, not markup
        error.set_class(bool(text), "-visible")

    def action_send(self) -> None:
        order = self.order()
        if order is None:
            return
        problem = self.check(order)
        if problem:
            self._show("#edit-error", f"✗ {problem}")
            return
        self.dismiss(order)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._recheck()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._recheck()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._recheck()

    def _recheck(self) -> None:
        """While an error is shown, say again what is wrong after each change: nothing, once
        the field is fixed (the user should not have to press send to learn it)."""
        shown = [w for w in ("#edit-headers-error", "#edit-error") if self.query_one(w).has_class("-visible")]
        if not shown:
            return
        order, where, message = self._read()
        if order is not None:
            problem = self.check(order)
            where, message = ("#edit-error", f"✗ {problem}") if problem else (None, "")
        for widget in shown:
            self._show(widget, message if widget == where else "")

    def order(self) -> ResendOrder | None:
        """The form as an order, or None after showing what is wrong with it."""
        self._show("#edit-headers-error", "")
        self._show("#edit-error", "")
        order, where, message = self._read()
        if order is not None or where is None:
            return order
        self._show(where, message)
        if where == "#edit-headers-error":
            area = self.query_one("#edit-headers", TextArea)
            area.focus()
            number = self._bad_line
            area.move_cursor((number - 1, len(area.text.split("\n")[number - 1])))
        else:
            self.query_one("#edit-to", Input).focus()
        return None

    def _read(self) -> tuple[ResendOrder | None, str | None, str]:
        """The form as an order, or (None, the error widget, what is wrong)."""
        area = self.query_one("#edit-headers", TextArea)
        lines = area.text.split("\n")
        headers: list[tuple[str, str]] = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                headers.append(parse_header_line(line))
            except ReplayError as exc:
                self._bad_line = number
                return None, "#edit-headers-error", f"✗ line {number}: {exc}"
        to = self.query_one("#edit-to", Input).value.strip() or None
        if to is not None:
            problem = url_problem(to)
            if problem:
                return None, "#edit-error", f"✗ to: {problem}"
        req = self.capture.request
        method = self.query_one("#edit-method", Input).value.strip()
        path = self.query_one("#edit-path", Input).value.strip()
        set_headers: tuple[tuple[str, str], ...] = ()
        remove: tuple[str, ...] = ()
        if area.text != self._initial["headers"]:
            headers = self._unmasked(headers)
            if headers != self.original:
                remove = tuple(dict.fromkeys(k.lower() for k, _ in self.original))
                set_headers = tuple(headers)
        body_area = self.query_one("#edit-body", TextArea)
        body = body_area.text.encode("utf-8") if self.text is not None and body_area.text != self._initial["body"] else None
        edits = Edits(
            method=method if method and method.upper() != req.method.upper() else None,
            path=path if path and path != req.target else None,
            set_headers=set_headers,
            remove_headers=remove,
            body=body,
        )
        return ResendOrder(resign=self.query_one("#edit-resign", Checkbox).value, edits=None if edits.empty else edits, to=to), None, ""

    def _unmasked(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """A value still shown masked means "as captured": put the captured value back."""
        real: dict[tuple[str, str], str] = {}
        for name, value in self.original:
            real.setdefault((name.lower(), self.mask(name, value)), value)
        return [(k, real.get((k.lower(), v), v)) for k, v in headers]
