"""Rerun: the captures the table shows (its filter) go through today's answers.json and flows,
as `webhook-inspector rerun` does, and each gets a verdict — same, changed, fixed, regressed.
The highlighted capture's differences are listed under the verdicts, and its flow trees, as
recorded and as today's flows run it, side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from ...flow.runs import FlowRun
from ...model import Capture
from ...rerun import Result, Summary, summarize
from ..guard import GuardedPump
from ..widgets.context import ViewContext
from ..widgets.flow_tree import FlowTree
from ..widgets.plain import PlainStatic
from .diff_screen import fill_differences

VERDICT_STYLE = {"same": "dim", "changed": "bold yellow", "fixed": "bold green", "regressed": "bold red"}


def _timeless(capture: Capture) -> Capture:
    """The capture with its runs' durations left out: a rerun's timings (in process, on a
    machine doing other things) say nothing, and the recorded ones are not comparable."""
    runs: list[FlowRun] = []
    for run in capture.runs:
        if run.shapeless:
            continue
        steps = tuple(replace(s, duration_us=None, source=None) for s in run.steps)
        runs.append(replace(run, duration_us=None, steps=steps, source=None))
    return capture.with_(runs=tuple(runs))


class RerunScreen(GuardedPump, Screen[None]):
    DEFAULT_CSS = """
    RerunScreen {
        layout: vertical;
        & #rerun-summary { height: 1; padding: 0 1; background: $panel; }
        & #rerun-results { height: 1fr; min-height: 4; }
        & #rerun-differences { height: auto; max-height: 9; border-top: solid $primary-darken-2; }
        & #rerun-trees { height: 1fr; min-height: 6; }
        & #rerun-trees > Vertical { width: 1fr; border-top: solid $primary-darken-2; }
        & .side { height: 1; padding: 0 1; color: $text-muted; }
        & FlowTree { height: 1fr; }
    }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close", tooltip="Back to the captures", id="rerun-close"),
        Binding("r", "rerun", "Rerun again", tooltip="Run the same captures through the flows as they are now", id="rerun-again"),
    ]

    def __init__(
        self,
        captures: Sequence[Capture] | Callable[[], Sequence[Capture]],
        rerun: Callable[[Sequence[Capture]], list[Result]],
        *,
        masker: Any = None,
        what: str = "",
    ):
        """`captures`, or a function that reads them (called on the worker thread, so a store
        is never read on the event loop). `rerun(captures)` runs them (a `rerun.Rerunner`'s,
        made for today's answers.json and flows), also on the worker thread. `what`: which
        captures, for the summary line."""
        super().__init__()
        self._load = captures if callable(captures) else None
        self.captures: list[Capture] = [] if callable(captures) else list(captures)
        self._rerun = rerun
        self.masker = masker
        self.what = what
        self.results: list[Result] | None = None
        self.summary: Summary | None = None
        self.failure: str | None = None

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="rerun-summary")
        yield DataTable(id="rerun-results", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="rerun-differences", cursor_type="row", show_cursor=False)
        with Horizontal(id="rerun-trees"):
            with Vertical():
                yield PlainStatic("as recorded", classes="side", id="rerun-before-label")
                yield FlowTree(id="rerun-before")
            with Vertical():
                yield PlainStatic("through today's flows", classes="side", id="rerun-after-label")
                yield FlowTree(id="rerun-after")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#rerun-results", DataTable)
        table.add_columns("id", "verdict", "event", "answer", "differences")
        self.action_rerun()

    def action_rerun(self) -> None:
        self.results = None
        self.summary = None
        what = f" ({self.what})" if self.what else ""
        n = len(self.captures)
        count = f"{n} capture{'s' if n != 1 else ''}" if self._load is None else "captures"
        self._set_summary(Text(f"rerunning {count}{what} through today's answers.json and flows…"))
        self.run_worker(self._work, thread=True, exclusive=True, group="rerun", name="rerun")

    def _work(self) -> None:
        try:
            if self._load is not None:
                self.captures = list(self._load())
                self._load = None  # `r` reruns the same captures
            results = self._rerun(self.captures)
        except Exception as exc:  # a bug of ours: say so on the screen, keep the app
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._show, results)

    def _failed(self, why: str) -> None:
        self.failure = why
        self._set_summary(Text(f"rerun failed: {why}", style="bold red"))

    def _set_summary(self, text: Text) -> None:
        self.query_one("#rerun-summary", PlainStatic).update(text)

    def _show(self, results: list[Result]) -> None:
        self.results = results
        self.summary = summarize(results)
        line = Text()
        for i, verdict in enumerate(("same", "changed", "fixed", "regressed")):
            if i:
                line.append(", ")
            line.append(f"{self.summary.counts[verdict]} {verdict}", style=VERDICT_STYLE[verdict] if self.summary.counts[verdict] else "")
        if self.what:
            line.append(f"   ({self.what})", style="dim")
        self._set_summary(line)
        table = self.query_one("#rerun-results", DataTable)
        table.clear()
        for r in results:
            c = r.before
            event = f"{c.tenant}/{c.event_type}" if c.event_type else c.request.path
            before = c.response.status if c.response else "-"
            after = r.after.response.status if r.after.response else "-"
            n = len(r.differences)
            table.add_row(
                str(c.id),
                Text(r.verdict, style=VERDICT_STYLE[r.verdict]),
                event,
                f"{before} → {after}",
                f"{n} ({r.differences[0].where}{', …' if n > 1 else ''})" if n else "",
                key=str(c.id),
            )
        if not results:
            self._set_summary(Text("no captures to rerun: the table shows none (clear the filter, or send a sample)", style="dim"))
            return
        # Start where it matters: the first regression, else the first change.
        order = {"regressed": 0, "fixed": 1, "changed": 2, "same": 3}
        first = min(range(len(results)), key=lambda i: (order[results[i].verdict], i))
        table.move_cursor(row=first)
        self._details(results[first])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "rerun-results" or not self.results:
            return
        if 0 <= event.cursor_row < len(self.results):
            self._details(self.results[event.cursor_row])

    def _details(self, result: Result) -> None:
        from ...diff import masked

        found = list(result.differences)
        if self.masker is not None:
            redact = self.masker.for_capture(result.before)
            found = masked(found, redact, redact)
        fill_differences(self.query_one("#rerun-differences", DataTable), found, self.app.size.width - 4, "recorded", "today")
        ctx = None
        if self.masker is not None:
            redact = self.masker.for_capture(result.before)
            ctx = ViewContext(mask=redact, redact=redact.value)
        self.query_one("#rerun-before", FlowTree).show(_timeless(result.before), ctx)
        self.query_one("#rerun-after", FlowTree).show(_timeless(result.after), ctx)
        self.query_one("#rerun-before-label", PlainStatic).update(f"capture {result.id} as recorded")
        self.query_one("#rerun-after-label", PlainStatic).update(f"capture {result.id} through today's flows: {result.verdict}")
