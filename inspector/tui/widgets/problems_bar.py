"""Errors the user must see without a traceback: flow load errors, a store that could not be
opened, a port in use, an invalid answers.json. One line each, at most a few shown."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

MAX_LINES = 4


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

    def show(self, problems: list[str], hint: str = "") -> None:
        self.problems = list(problems)
        self.set_class(bool(problems), "-visible")
        if not problems:
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
        if more or hint:
            text.append("\n")
            if more:
                text.append(f"… and {more} more (`webhook-inspector check` lists them)  ", style="dim")
            text.append(hint, style="dim")
        self.update(text)
