"""A JSON value as an expandable tree: the debugger's scope (`event`, `prev`, `nodes`, `state`)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..shapes import dumps, printable

MAX_CHILDREN = 200
MAX_DEPTH = 64  # a payload nested 1,000 levels deep would overflow the recursion below


def _leaf(value: Any) -> Text:
    if isinstance(value, str):
        shown = printable(dumps(value, ensure_ascii=False))
        return Text(shown if len(shown) <= 120 else shown[:119] + "…", style="green")
    if value is None:
        return Text("()", style="dim")
    if isinstance(value, bool):
        return Text(str(value).lower(), style="magenta")
    return Text(dumps(value), style="cyan")


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        return f"#{{…}} {len(value)} key{'s' if len(value) != 1 else ''}"
    return f"[…] {len(value)} item{'s' if len(value) != 1 else ''}"


class ScopeTree(Tree[Any]):
    DEFAULT_CSS = """
    ScopeTree { background: $surface; padding: 0 1; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__("scope", **kwargs)
        self.show_root = False
        self.guide_depth = 2

    def show(self, scope: dict[str, Any], expanded: tuple[str, ...] = ("prev", "nodes", "state")) -> None:
        self.clear()
        for key, value in scope.items():
            self._add(self.root, key, value, expand=key in expanded, depth=0)
        self.root.expand()

    def _add(self, parent: TreeNode[Any], key: str, value: Any, *, expand: bool, depth: int) -> None:
        label = Text()
        label.append(printable(str(key)), style="bold")
        if isinstance(value, (dict, list)) and value and depth >= MAX_DEPTH:
            label.append(f"  {_summary(value)}, nested deeper than {MAX_DEPTH} levels (not shown)", style="dim")
            parent.add_leaf(label)
        elif isinstance(value, (dict, list)) and value:
            label.append(f"  {_summary(value)}", style="dim")
            node = parent.add(label, expand=expand)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for i, (k, v) in enumerate(items):
                if i >= MAX_CHILDREN:
                    node.add_leaf(Text(f"… {len(value) - MAX_CHILDREN} more", style="dim"))
                    break
                self._add(
                    node,
                    str(k) if isinstance(value, dict) else f"[{k}]",
                    v,
                    expand=expand and depth < 1 and len(value) <= 8,
                    depth=depth + 1,
                )
        else:
            label.append(": ")
            label.append_text(
                _leaf(value) if not isinstance(value, (dict, list)) else Text("#{}" if isinstance(value, dict) else "[]", style="dim")
            )
            parent.add_leaf(label)
