"""Overview tab: the capture in a dozen lines — route, signature, answer, flow paths."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...model import Capture
from ..rows import got_no_answer, provider_event
from .context import ViewContext, sig_mark, SIG_STYLE, status_style


class OverviewView(VerticalScroll):
    DEFAULT_CSS = """
    OverviewView { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="overview-text")

    def show(self, capture: Capture, ctx: ViewContext) -> None:
        req = capture.request
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        head = Text()
        head.append(f"{req.method} ", style="bold")
        head.append(req.target)
        if capture.replay_of is not None:
            head.append(f"   ↻ replay of #{capture.replay_of}", style="bold cyan")
        grid.add_row(f"#{capture.id}", head)
        grid.add_row("received", f"{ctx.when(req.received_at)}  from {req.client or '?'}")
        if capture.event_type is None:
            grid.add_row("route", Text("no webhook route matched this path (answered 404)", style="yellow"))
        else:
            route = Text(f"tenant {capture.tenant} · event_type {capture.event_type}")
            event = provider_event(capture)
            if event:
                route.append(f" · provider event {event}", style="cyan")
            grid.add_row("route", route)
        ctype = req.headers.get("content-type") or "no Content-Type"
        size = f"{req.body_size:,} bytes · {ctype}"
        if req.truncated:
            size += f" · truncated (first {len(req.body):,} bytes kept)"
        grid.add_row("body", size)
        sig = capture.signature
        line = Text()
        line.append(f"{sig_mark(sig.status)} {sig.status}", style=SIG_STYLE.get(sig.status, ""))
        if sig.scheme:
            line.append(f"  {sig.scheme}", style="bold")
            line.append(f" ({sig.algorithm}, {sig.header})" if sig.header else f" ({sig.algorithm})", style="dim")
        if sig.status != "valid" and sig.reason:
            line.append(f"\n{sig.reason}")
        grid.add_row("signature", line)
        resp = capture.response
        if resp is None and got_no_answer(capture):
            grid.add_row("response", Text("no answer from the target (see the note)", style="bold red"))
        elif resp is None:
            grid.add_row("response", Text("not answered yet", style="dim"))
        else:
            line = Text()
            line.append(str(resp.status), style=status_style(resp.status))
            if resp.duration_ms is not None:
                line.append(f"  in {resp.duration_ms:.1f} ms", style="dim")
            value = ctx.redact(resp.body_value())
            if value is not None:
                shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                line.append("  " + (shown if len(shown) <= 200 else shown[:199] + "…"))
            grid.add_row("response", line)
        if not capture.runs:
            grid.add_row("flows", Text("no flow ran" + (f" (none is triggered by {capture.event_type})" if capture.event_type else ""), style="dim"))
        for i, run in enumerate(ctx.redact(list(capture.runs))):
            line = Text()
            if run.get("parent_id"):
                line.append("  ↳ async ", style="dim")
            line.append(str(run.get("flow")), style="bold")
            status = run.get("status")
            line.append(f"  {status}", style="green" if status == "ok" else "yellow" if status in ("running", "skipped") else "red")
            path = run.get("path") or []
            if path:
                line.append("  " + " → ".join(path), style="cyan")
            if run.get("reason"):
                line.append(f"  ({run['reason']})", style="dim")
            err = run.get("error")
            if err and status != "skipped":
                at = f"{run.get('file')}:{err.get('line')}:{err.get('column')}: " if err.get("line") else ""
                line.append(f"\n{at}{err.get('message')}", style="red")
            grid.add_row("flows" if i == 0 else "", line)
        if capture.origin != "live" or capture.replay_of:
            grid.add_row("origin", f"{capture.origin}" + (f" · replay of #{capture.replay_of}" if capture.replay_of else ""))
        for note in ctx.redact(list(capture.notes)):
            grid.add_row("note", note)
        self.query_one("#overview-text", Static).update(grid)
