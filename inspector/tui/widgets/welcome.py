"""What a first-time user sees before any webhook arrives: the exact URLs to paste into the
sender's settings, and how to try one without any outside service."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.app import ComposeResult
from textual.widgets import Static

from ...tunnel import TriggerUrl
from .plain import PlainStatic


class Welcome(VerticalScroll):
    DEFAULT_CSS = """
    Welcome {
        height: 1fr;
        padding: 1 2;
        background: $surface;
        border: round $primary 30%;
        & > Static { width: 1fr; }
    }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="welcome-text")

    def show(self, urls: list[TriggerUrl], *, sample_key: str, help_key: str, listening: str | None,
             public_note: str | None, example_url: str, filtered: bool = False, cleared_note: str | None = None,
             tunnel_note: str | None = None, public: bool = False) -> None:
        """`public`: the URLs are the tunnel's; `tunnel_note`: what the tunnel is doing, when
        it is not up (starting, failed)."""
        t = Text()
        if cleared_note:
            t.append(cleared_note + "\n\n", style="yellow")
        if filtered:
            t.append("No capture matches the filter.\n", style="bold")
            t.append("Press / to change it; an empty filter (/, delete the text, enter) shows every capture.\n")
            self.query_one("#welcome-text", Static).update(t)
            return
        t.append("Waiting for webhooks", style="bold")
        t.append(f" — listening on {listening}\n" if listening else " — the server is not listening (see above)\n")
        # Near the top: on a small terminal the end of this text is below the fold, and the
        # sample is the one thing to try that needs no outside service.
        t.append(f"press {sample_key} to send a sample", style="bold reverse")
        t.append(f"   ·   {help_key} help   ·   ctrl+p every command\n\n", style="dim")
        if urls:
            t.append("Send webhooks to (POST)" + (" — public, through the tunnel:\n" if public else ":\n"), style="bold")
            width = max(len(u.flow) for u in urls)
            for u in urls:
                t.append(f"  {u.flow:<{width}}  ", style="cyan")
                t.append(u.url)
                if u.event_type != u.url.rsplit("/", 1)[-1]:
                    t.append(f"   (event_type {u.event_type})", style="dim")
                t.append("\n")
        else:
            t.append("No flow has a trigger yet; every event type is captured at:\n", style="bold")
            t.append(f"  {example_url.rsplit('/', 1)[0]}/{{event_type}}\n")
        if tunnel_note:
            t.append(f"\n{tunnel_note}\n", style="yellow")
        if public_note:
            t.append(f"\n{public_note}\n", style="dim")
        t.append("\nTry it from a shell:\n", style="bold")
        t.append(f"  curl -X POST {example_url} \\\n")
        t.append("       -H 'Content-Type: application/json' -d '{\"message\": \"Hello from webhook\"}'")
        self.query_one("#welcome-text", Static).update(t)
