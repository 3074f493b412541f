"""The tunnel panel (SPEC §8): the tunnel's state with its reason and fix, the public URL, the
exact URL to paste into each sender's settings, the self-check, and start / stop buttons.
The app owns the tunnel; this screen shows what the app hands it and asks the app to act."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from ...tunnel import TriggerUrl, TunnelStatus
from ..actions import TUNNEL_ACTIONS
from ..guard import GuardedPump
from ..widgets.plain import PlainStatic

if TYPE_CHECKING:
    from ..app import InspectorApp


@dataclass(frozen=True)
class TunnelView:
    """Everything the panel shows, built by the app from the tunnel's status."""

    status: TunnelStatus
    listening: str | None  # the local address, None when the server is not listening
    base: str  # the base URL senders call now: the public URL when up, else the local one
    urls: tuple[TriggerUrl, ...]  # one per trigger, on `base`
    note: str | None  # answers.json's public_base_url disagrees, or is what others use
    start_label: str  # "Start ngrok" when there is no tunnel yet


STATE_MARK = {
    "up": ("●", "bold green"),
    "starting": ("◌", "bold yellow"),
    "failed": ("✗", "bold red"),
    "stopped": ("○", "yellow"),
    "off": ("○", "yellow"),
}


def status_text(view: TunnelView) -> Text:
    s = view.status
    mark, style = STATE_MARK.get(s.state, ("○", ""))
    t = Text()
    t.append(f"{mark} ", style=style)
    kind = {"ngrok": "ngrok", "public-url": "your tunnel, --public-url"}.get(s.kind, "no tunnel")
    if s.state == "up":
        t.append("up  ", style=style)
        t.append(s.public_url or "", style="bold")
        t.append(f"  ({kind})", style="dim")
    elif s.state == "starting":
        t.append(f"starting {kind}…", style=style)
        if s.detail:
            t.append(f"  {s.detail}", style="dim")
    elif s.state == "failed":
        t.append("failed: ", style=style)
        t.append(s.reason or "unknown reason")
    elif s.state == "stopped":
        t.append("stopped — local only", style=style)
    else:
        t.append("local only", style=style)
        if s.reason:
            t.append(f" — {s.reason}", style="dim")
    if s.fix and s.state in ("failed", "off"):
        t.append("\nfix: ", style="bold")
        t.append(s.fix)
    if s.state == "up":
        t.append("\n")
        check = s.selfcheck
        if s.checking:
            t.append("… self-check: sending a request through the public URL", style="yellow")
        elif check is None:
            t.append("self-check not run yet — r runs it", style="dim")
        elif check.ok:
            t.append(f"✓ self-check ok ({check.ms} ms): a request through the public URL reached this inspector", style="green")
        else:
            t.append(f"✗ self-check FAILED — {check.reason}", style="bold red")
            if check.fix:
                t.append(f"\nfix: {check.fix}")
        if s.detail:
            t.append(f"\n{s.detail}", style="dim")
    t.append("\nlocal: ", style="dim")
    t.append(view.listening or "not listening (see the problems on the main screen)", style="" if view.listening else "red")
    return t


class TunnelScreen(GuardedPump, ModalScreen[None]):
    DEFAULT_CSS = """
    TunnelScreen {
        align: center middle;
        & > VerticalScroll {
            width: 96%; max-width: 130; height: auto; max-height: 94%;
            border: round $primary; background: $surface; padding: 0 1;
            border-title-color: $text;
        }
        /* Docked: on a small terminal the state, fix and URLs scroll; the buttons stay put. */
        & #tunnel-foot { dock: bottom; height: auto; background: $surface; }
        & #tunnel-state { height: auto; margin-bottom: 1; }
        & #tunnel-urls-title { color: $text-muted; }
        & OptionList { height: auto; max-height: 12; border: none; padding: 0; }
        & #tunnel-note { color: $warning; height: auto; margin-top: 1; }
        & #tunnel-note.-empty { display: none; }
        & #tunnel-buttons { height: 1; margin-top: 1; }
        & #tunnel-buttons Button { margin-right: 2; }
        & .hint { color: $text-muted; }
    }
    """

    # A modal screen hides the app's bindings: help is bound here too (same id, same keymap entry).
    BINDINGS: ClassVar[list[BindingType]] = [
        *(a.binding() for a in TUNNEL_ACTIONS),
        Binding("question_mark", "app.help", "Help", show=False, tooltip="Every key of the tunnel panel", id="help"),
    ]
    ACTIONS = TUNNEL_ACTIONS

    def __init__(self, view: TunnelView):
        super().__init__()
        self.view = view

    @property
    def inspector(self) -> InspectorApp:
        return cast("InspectorApp", self.app)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tunnel-box") as box:
            box.border_title = "Tunnel"
            box.can_focus = False  # the keys scroll the URL list; the wheel scrolls the panel
            with Vertical(id="tunnel-foot"):
                with Horizontal(id="tunnel-buttons"):
                    yield Button("Start", id="tunnel-start-button", variant="primary", compact=True)
                    yield Button("Stop", id="tunnel-stop-button", compact=True)
                    yield Button("Self-check", id="tunnel-selfcheck-button", compact=True)
                    yield Button("Close", id="tunnel-close-button", compact=True)
                yield PlainStatic(id="tunnel-hint", classes="hint")
            yield PlainStatic(id="tunnel-state")
            yield PlainStatic(id="tunnel-urls-title")
            yield OptionList(id="tunnel-urls")
            yield PlainStatic(id="tunnel-note")

    def on_mount(self) -> None:
        self.show(self.view)
        self.query_one(OptionList).focus()

    def show(self, view: TunnelView) -> None:
        self.view = view
        s = view.status
        self.query_one("#tunnel-state", Static).update(status_text(view))
        public = s.state == "up" and s.public_url
        self.query_one("#tunnel-urls-title", Static).update(
            "Paste into each sender's webhook settings (POST) — enter copies:"
            if public
            else "No public URL: these reach this machine only — enter copies:"
        )
        urls = self.query_one(OptionList)
        highlighted = urls.highlighted
        width = max([len("base URL")] + [len(u.flow) for u in view.urls])
        options = [self._option("base URL", "", view.base, width, "url-base")]
        for i, u in enumerate(view.urls):
            options.append(self._option(u.flow, u.event_type, u.url, width, f"url-{i}"))
        urls.set_options(options)
        if options:
            urls.highlighted = min(highlighted or 0, len(options) - 1)
        note = self.query_one("#tunnel-note", Static)
        note.update(Text(view.note or ""))
        note.set_class(not view.note, "-empty")
        start = self.query_one("#tunnel-start-button", Button)
        start.label = view.start_label
        start.disabled = s.state in ("starting", "up") or view.listening is None
        self.query_one("#tunnel-stop-button", Button).disabled = s.state not in ("starting", "up")
        self.query_one("#tunnel-selfcheck-button", Button).disabled = s.state != "up" or s.checking
        hints = []
        for a in TUNNEL_ACTIONS:
            label = a.short or a.label
            hints.append(f"{self.inspector.key_for(a.id, a.key_display or a.key, self)} {label[0].lower()}{label[1:]}")
        self.query_one("#tunnel-hint", Static).update(" · ".join(hints))

    @staticmethod
    def _option(name: str, event_type: str, url: str, width: int, option_id: str) -> Option:
        label = Text(no_wrap=False)
        label.append(f"{name:<{width}}  ", style="bold cyan" if event_type else "bold")
        label.append(url)
        if event_type and event_type != url.rsplit("/", 1)[-1]:
            label.append(f"  (event_type {event_type})", style="dim")
        return Option(label, id=option_id)

    def highlighted_url(self) -> str | None:
        urls = self.query_one(OptionList)
        if urls.highlighted is None:
            return None
        option_id = urls.get_option_at_index(urls.highlighted).id
        if option_id == "url-base":
            return self.view.base
        index = int((option_id or "url-0").split("-", 1)[1])
        return self.view.urls[index].url if index < len(self.view.urls) else None

    # Actions (keys in actions.TUNNEL_ACTIONS)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_copy_url()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {
            "tunnel-start-button": self.action_start,
            "tunnel-stop-button": self.action_stop,
            "tunnel-selfcheck-button": self.action_self_check,
            "tunnel-close-button": self.action_close,
        }.get(event.button.id or "")
        if action is not None:
            action()

    def action_start(self) -> None:
        self.inspector.start_tunnel()

    def action_stop(self) -> None:
        self.inspector.stop_tunnel()

    def action_self_check(self) -> None:
        self.inspector.run_self_check()

    def action_copy_url(self) -> None:
        url = self.highlighted_url()
        if url:
            self.app.copy_to_clipboard(url)
            self.notify(f"copied (OSC 52): {url}", timeout=6)

    def action_close(self) -> None:
        self.dismiss(None)
