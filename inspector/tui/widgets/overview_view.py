"""Overview tab: the capture in a dozen lines — route, signature, answer, flow paths."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...flow.model import BROKEN_FLOW_NOTE
from ...flow.runs import FlowRun
from ...model import Capture, Response
from ..rows import got_no_answer, provider_event
from ..shapes import answer_value, cells, dumps
from .context import SIG_STYLE, ViewContext, sig_mark, status_style


def failure_text(failed: list[FlowRun], response: Response | None) -> Text:
    """Said first, in words: which flow failed, at which node, why, and what the sender got."""
    text = Text(style="bold red")
    if len(failed) == 1:
        run = failed[0]
        text.append(f"✗ the flow failed: {run.flow}")
    else:
        text.append(f"✗ {len(failed)} flows failed: " + ", ".join(str(r.flow) for r in failed))
    for run in failed:
        where = f" at node {run.path[-1]}" if run.path else ""
        why = f": {run.error.message}" if run.error and run.error.message else ""
        text.append(f"\n{run.flow} ended with {run.status or '?'}{where}{why}", style="red")
    if response is not None and response.status >= 500:
        text.append(f"\nthe sender got {response.status}", style="red")
    return text


class OverviewView(VerticalScroll):
    DEFAULT_CSS = """
    OverviewView { padding: 0 1; }
    """

    _drawn: tuple[int, int | None] = (0, None)  # the overview's width and height as last laid out

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
        grid.add_row(*cells(f"#{capture.id}", head))
        grid.add_row(*cells("received", f"{ctx.when(req.received_at)}  from {req.client or '?'}"))
        if capture.event_type is None:
            grid.add_row(*cells("route", Text("no webhook route matched this path (answered 404)", style="yellow")))
        else:
            route = Text(f"tenant {capture.tenant} · event_type {capture.event_type}")
            event = provider_event(capture)
            if event:
                route.append(f" · provider event {event}", style="cyan")
            grid.add_row(*cells("route", route))
        ctype = req.headers.get("content-type") or "no Content-Type"
        size = f"{req.body_size:,} bytes · {ctype}"
        if req.truncated:
            size += f" · truncated (first {len(req.body):,} bytes kept)"
        grid.add_row(*cells("body", size))
        sig = capture.signature
        line = Text()
        line.append(f"{sig_mark(sig.status)} {sig.status}", style=SIG_STYLE.get(sig.status, ""))
        if sig.scheme:
            line.append(f"  {sig.scheme}", style="bold")
            line.append(f" ({sig.algorithm}, {sig.header})" if sig.header else f" ({sig.algorithm})", style="dim")
        if sig.status != "valid" and sig.reason:
            line.append(f"\n{sig.reason}")
        grid.add_row(*cells("signature", line))
        resp = capture.response
        if resp is None and got_no_answer(capture):
            grid.add_row(*cells("response", Text("no answer from the target (see the note)", style="bold red")))
        elif resp is None:
            grid.add_row(*cells("response", Text("not answered yet", style="dim")))
        else:
            line = Text()
            line.append(str(resp.status), style=status_style(resp.status))
            if resp.duration_ms is not None:
                line.append(f"  in {resp.duration_ms:.1f} ms", style="dim")
            value = ctx.redact(answer_value(resp))
            if value is not None:
                shown = value if isinstance(value, str) else dumps(value, ensure_ascii=False)
                line.append("  " + (shown if len(shown) <= 200 else shown[:199] + "…"))
            grid.add_row(*cells("response", line))
        runs = [run.redacted(ctx.redact) for run in capture.runs]
        failed = [r for r in runs if r.failed]
        if failed:
            grid.add_row(*cells("outcome", failure_text(failed, resp)))
        broken = [n[len(BROKEN_FLOW_NOTE) :] for n in capture.notes if isinstance(n, str) and n.startswith(BROKEN_FLOW_NOTE)]
        if not capture.runs and broken:
            # Said here, where a person looks for why nothing ran (and not again as notes).
            grid.add_row(
                *cells("flows", Text("no flow ran: a flow file that may be meant for it failed to load\n" + "\n".join(broken), style="red"))
            )
        elif not capture.runs:
            grid.add_row(
                *cells(
                    "flows",
                    Text("no flow ran" + (f" (none is triggered by {capture.event_type})" if capture.event_type else ""), style="dim"),
                )
            )
        for i, run in enumerate(runs):
            line = Text()
            if run.parent_id:
                line.append("  ↳ async ", style="dim")
            line.append(str(run.flow if run.flow is not None else "(unnamed flow)"), style="bold")
            status = run.status or "?"
            line.append(f"  {status}", style="green" if status == "ok" else "yellow" if status in ("running", "skipped") else "red")
            if run.path:
                line.append("  " + " → ".join(run.path), style="cyan")
            if run.reason:
                line.append(f"  ({run.reason})", style="dim")
            err = run.error
            if err and status != "skipped":
                line.append(f"\n{err.where(run.file)}{err.message if err.message is not None else '(no message)'}", style="red")
            grid.add_row(*cells("flows" if i == 0 else "", line))
        if capture.origin != "live" or capture.replay_of:
            grid.add_row(*cells("origin", f"{capture.origin}" + (f" · replay of #{capture.replay_of}" if capture.replay_of else "")))
        for note in ctx.redact(
            [n for n in capture.notes if not (not capture.runs and isinstance(n, str) and n.startswith(BROKEN_FLOW_NOTE))]
        ):
            grid.add_row(*cells("note", note))
        text = self.query_one("#overview-text", Static)
        # Static.update lays out the whole screen again (≈ 15 ms), which follow mode under load
        # did every second for an overview of the same height: only when its height changes.
        width = text.content_region.width
        height = None
        if width > 0:
            console = self.app.console
            height = len(console.render_lines(grid, console.options.update(width=width, height=None), pad=False))
        text.update(grid, layout=height is None or (width, height) != self._drawn)
        self._drawn = (width, height)
