"""The two header lines: where the inspector listens, the tunnel, the answers file, the flows."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static


@dataclass(frozen=True)
class HeaderState:
    listening: str | None  # http://127.0.0.1:8080, None when not serving
    listen_error: str | None  # why not
    tunnel: str  # "local only", or the public URL
    tunnel_hint: str
    answers: str  # the file in use, or "none"
    answers_error: bool
    flows: int
    flow_errors: int  # files with errors
    store: str
    captures: int | None


class StatusHeader(Static):
    DEFAULT_CSS = """
    StatusHeader {
        height: 2;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def show(self, state: HeaderState) -> None:
        line1 = Text()
        if state.listening:
            line1.append("● ", style="green")
            line1.append("listening ", style="dim")
            line1.append(state.listening, style="bold")
        else:
            line1.append("● ", style="red")
            line1.append(state.listen_error or "not listening", style="red")
        line1.append("   ")
        if state.tunnel == "local only":
            line1.append("local only", style="yellow")
            if state.tunnel_hint:
                line1.append(f" — {state.tunnel_hint}", style="dim")
        else:
            line1.append("public ", style="dim")
            line1.append(state.tunnel, style="bold")
            if state.tunnel_hint:
                line1.append(f" ({state.tunnel_hint})", style="dim")
        line2 = Text()
        line2.append("answers ", style="dim")
        line2.append(state.answers, style="red" if state.answers_error else "")
        line2.append("   flows ", style="dim")
        line2.append(f"{state.flows} loaded")
        if state.flow_errors:
            line2.append(f", {state.flow_errors} with errors", style="bold red")
        line2.append("   store ", style="dim")
        line2.append(state.store)
        if state.captures is not None:
            line2.append(f" ({state.captures:,})", style="dim")
        line1.truncate(max(self.size.width - 2, 20) if self.size.width else 200, overflow="ellipsis")
        line2.truncate(max(self.size.width - 2, 20) if self.size.width else 200, overflow="ellipsis")
        text = Text("\n").join([line1, line2])
        text.no_wrap = True
        text.overflow = "ellipsis"
        self.state = state
        self.update(text, layout=False)  # two fixed lines: a repaint, never a re-layout

    def on_resize(self) -> None:
        state = getattr(self, "state", None)
        if state is not None:
            self.show(state)
