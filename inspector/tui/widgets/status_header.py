"""The header: where the inspector listens, the tunnel's state and public URL, the answers file,
the flows — and a third line when forward mode sends every webhook on to another server."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from ..guard import GuardedPump


@dataclass(frozen=True)
class HeaderState:
    listening: str | None  # http://127.0.0.1:8080, None when not serving
    listen_error: str | None  # why not
    tunnel_state: str  # off | starting | up | failed | stopped (tunnel.TunnelStatus.state)
    tunnel: str  # the public URL when up; else what is going on ("ngrok starting…", the reason)
    tunnel_hint: str
    answers: str  # the file in use, or "none"
    answers_error: bool
    flows: int
    flow_errors: int  # files with errors
    store: str
    captures: int | None
    selfcheck: str | None = (
        None  # "✓ self-check 182 ms", "✗ self-check failed", "… self-check"; its first character alone when short of room
    )
    selfcheck_ok: bool | None = None
    forward_to: str | None = None  # forward mode's target
    rerun_offer: str | None = None  # after a flow reload: "ctrl+r rerun 12 captures" (issue #19)


class StatusHeader(GuardedPump, Static):
    DEFAULT_CSS = """
    StatusHeader {
        height: 2;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    def show(self, state: HeaderState) -> None:
        width = max(self.size.width - 2, 20) if self.size.width else 200
        line1 = self._line1(state, long=True)
        if line1.cell_len > width:  # the self-check's verdict shrinks to its mark first
            line1 = self._line1(state, long=False)
        line2 = Text()
        line2.append("answers ", style="dim")
        line2.append(state.answers, style="red" if state.answers_error else "")
        line2.append("   flows ", style="dim")
        line2.append(f"{state.flows} loaded")
        if state.flow_errors:
            line2.append(f", {state.flow_errors} with errors", style="bold red")
        if state.rerun_offer:
            line2.append(f"  {state.rerun_offer}", style="bold yellow")
        line2.append("   store ", style="dim")
        line2.append(state.store)
        if state.captures is not None:
            line2.append(f" ({state.captures:,})", style="dim")
        lines = [line1, line2]
        if state.forward_to:
            line3 = Text()
            line3.append("→ forward to ", style="bold magenta")
            line3.append(state.forward_to, style="bold")
            line3.append(": every accepted webhook goes there too, and its answer back to the sender", style="dim")
            lines.append(line3)
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        height = len(lines)  # 3 only in forward mode, which is set at start: no re-layout later
        if self.styles.height is None or self.styles.height.value != height:
            self.styles.height = height
        text = Text("\n").join(lines)
        text.no_wrap = True
        text.overflow = "ellipsis"
        self.state = state
        self.update(text, layout=False)  # fixed lines: a repaint, never a re-layout

    def _line1(self, state: HeaderState, long: bool) -> Text:
        line = Text()
        if state.listening:
            line.append("● ", style="green")
            line.append("listening ", style="dim")
            line.append(state.listening, style="bold")
        else:
            line.append("● ", style="red")
            line.append(state.listen_error or "not listening", style="red")
        line.append("   ")
        self._tunnel(line, state, long)
        return line

    @staticmethod
    def _tunnel(line: Text, state: HeaderState, long: bool) -> None:
        kind = state.tunnel_state
        if kind == "up":
            line.append("public ", style="dim")
            line.append(state.tunnel, style="bold")
            if state.tunnel_hint:
                line.append(f" ({state.tunnel_hint})", style="dim")
            if state.selfcheck:
                style = "green" if state.selfcheck_ok else "bold red" if state.selfcheck_ok is False else "dim"
                line.append(f"  {state.selfcheck if long else state.selfcheck[:1]}", style=style)
        elif kind == "starting":
            line.append(f"◌ {state.tunnel}", style="yellow")
        elif kind == "failed":
            line.append("✗ tunnel failed", style="bold red")
            if state.tunnel_hint:
                line.append(f" ({state.tunnel_hint})", style="dim")
            line.append(f": {state.tunnel}", style="red")
        else:
            line.append(state.tunnel, style="yellow")
            if state.tunnel_hint:
                line.append(f" — {state.tunnel_hint}", style="dim")

    def on_resize(self) -> None:
        state = getattr(self, "state", None)
        if state is not None:
            self.show(state)
