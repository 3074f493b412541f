"""The debugger's list of a flow's nodes: breakpoints, the nodes already evaluated, and the
current one highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...flow.model import Flow


class NodeList(OptionList):
    DEFAULT_CSS = """
    NodeList {
        width: 30;
        padding: 0;
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text-muted;
        &:focus { border: round $primary; }
    }
    """

    def show(self, flow: Flow, current: str | None, visited: list[str], breakpoints: set[str], finished: bool) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.border_title = Content(flow.name)  # a str would be read as markup
        done = set(visited[:-1]) if visited else set()
        options = []
        for node in flow.nodes:
            label = Text(no_wrap=True, overflow="ellipsis")
            label.append("● " if node.id in breakpoints else "  ", style="bold red")
            if node.id == current:
                label.append("▶ ", style="bold yellow")
                label.append(node.id, style="bold reverse")
            else:
                label.append("✓ " if node.id in done else "  ", style="green")
                label.append(node.id, style="" if node.id in done else "dim" if finished else "")
            label.append(f"  {node.type}", style="dim")
            room = max(self.size.width - 4, 12) if self.size.width else 24
            label.truncate(room, overflow="ellipsis")
            options.append(Option(label, id=node.id))
        self.add_options(options)
        if highlighted is not None and highlighted < len(options):
            self.highlighted = highlighted
        elif current is not None:
            self.highlighted = next((i for i, n in enumerate(flow.nodes) if n.id == current), 0)
