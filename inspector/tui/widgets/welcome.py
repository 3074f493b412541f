"""What a first-time user sees before any webhook arrives: the exact URLs to paste into the
sender's settings, and how to try one without any outside service."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
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

    def on_resize(self) -> None:
        # The URL list is laid out for the width: draw it again for the new one.
        shown = getattr(self, "_shown", None)
        if shown is not None:
            self.show(*shown[0], **shown[1])

    def _room(self) -> int:
        """Columns for a line of text, a scrollbar's width kept aside; 0 before the first layout."""
        width = self.scrollable_content_region.width
        return max(width - (0 if self.show_vertical_scrollbar else self.styles.scrollbar_size_vertical), 0)

    def show(
        self,
        urls: list[TriggerUrl],
        *,
        sample_key: str,
        help_key: str,
        listening: str | None,
        public_note: str | None,
        example_url: str,
        filtered: bool = False,
        cleared_note: str | None = None,
        tunnel_note: str | None = None,
        public: bool = False,
    ) -> None:
        """`public`: the URLs are the tunnel's; `tunnel_note`: what the tunnel is doing, when
        it is not up (starting, failed)."""
        self._shown = (
            (urls,),
            dict(
                sample_key=sample_key,
                help_key=help_key,
                listening=listening,
                public_note=public_note,
                example_url=example_url,
                filtered=filtered,
                cleared_note=cleared_note,
                tunnel_note=tunnel_note,
                public=public,
            ),
        )
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
            # A name and its URL share a line when it fits; a long one goes above its URL
            # (wrapped, the URL would start at the left edge, under nothing).
            room = self._room() or 10_000
            fits = [u for u in urls if 4 + len(u.flow) + len(u.url) <= room]
            width = max((len(u.flow) for u in fits), default=0)
            for u in urls:
                if u in fits and 4 + width + len(u.url) <= room:
                    t.append(f"  {u.flow:<{width}}  ", style="cyan")
                else:
                    t.append(f"  {u.flow}\n", style="cyan")
                    t.append("    ")
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
