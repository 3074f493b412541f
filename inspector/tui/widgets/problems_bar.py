"""Errors the user must see without a traceback: flow load errors, a store that could not be
opened, a port in use, an invalid answers.json. One line each, at most a few shown. Below
them, requests the receiver refused as malformed HTTP: how many, and why the latest was."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

MAX_LINES = 4
REPAINT_SECONDS = 0.2  # a flood of refused requests repaints the bar this often, not per request


class ProblemsBar(Static):
    DEFAULT_CSS = """
    ProblemsBar {
        height: auto;
        max-height: 7;
        background: $error 15%;
        color: $text;
        padding: 0 1;
        display: none;
        &.-visible { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.problems: list[str] = []
        self.hint = ""
        self.rejected = 0
        self.last_rejection = ""
        self._repaint_due = False

    def show(self, problems: list[str], hint: str = "") -> None:
        self.problems = list(problems)
        self.hint = hint
        self._paint()

    def rejection(self, reason: str) -> None:
        """The receiver refused a request (it is in the table too, as a 400 row)."""
        self.rejected += 1
        self.last_rejection = reason
        if not self._repaint_due:
            self._repaint_due = True
            self.set_timer(REPAINT_SECONDS, self._paint)

    def _paint(self) -> None:
        self._repaint_due = False
        problems = self.problems
        self.set_class(bool(problems) or bool(self.rejected), "-visible")
        if not problems and not self.rejected:
            self.update("")
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        shown = problems[:MAX_LINES]
        for i, problem in enumerate(shown):
            if i:
                text.append("\n")
            text.append("✗ ", style="bold red")
            text.append(problem)
        more = len(problems) - len(shown)
        if more or self.hint:
            text.append("\n")
            if more:
                text.append(f"… and {more} more (`webhook-inspector check` lists them)  ", style="dim")
            text.append(self.hint, style="dim")
        if self.rejected:
            if problems:
                text.append("\n")
            count = f"{self.rejected} request{'s' if self.rejected != 1 else ''}"
            text.append("⚠ ", style="bold yellow")
            text.append(f"{count} refused as malformed HTTP (400, kept as rows); latest: {self.last_rejection}")
        self.update(text)
