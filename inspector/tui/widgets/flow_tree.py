"""Flow tab: run → steps (type, status, duration), branch decisions with each condition's
value, outputs (expand to see them whole), errors at file:line, async runs under their parent.
A Greentic-shaped step (issue #20) also shows its rendered input, whether it was mocked and by
which component, the flow it ran in when flow.call took it elsewhere, and its node's YAML."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...flow.model import BROKEN_FLOW_NOTE
from ...flow.runs import FlowRun, RunError, Step
from ...model import Capture
from ..shapes import dumps

# The tree node of each step by (its run's id, its node id): where an async child run hangs.
StepNodes = dict[tuple[int | str | None, str | None], TreeNode[Any]]

STATUS_STYLE = {
    "ok": "green",
    "error": "bold red",
    "limit": "bold red",
    "interrupted": "red",
    "skipped": "yellow",
    "running": "yellow",
    "unused": "yellow",
    "mocked": "magenta",
    "waiting": "yellow",
}


def _us(us: Any) -> str:
    if not isinstance(us, (int, float)):
        return ""
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us} µs"


def _short(value: Any, limit: int = 70) -> str:
    text = value if isinstance(value, str) else dumps(value, ensure_ascii=False)
    text = text.replace("\n", "⏎")
    if isinstance(value, str):
        text = dumps(value, ensure_ascii=False) if len(text) <= limit else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_at(run: FlowRun, err: RunError) -> str:
    return f"{err.where(run.file)}{_message(err)}"


def _message(err: RunError) -> str:
    return err.message if err.message is not None else "(no message)"


_TONE = {"ok": "green", "warn": "yellow"}


class FlowTree(Tree[Any]):
    DEFAULT_CSS = """
    FlowTree { padding: 0 1; background: $surface; }
    """

    def __init__(self, **kwargs: Any):
        super().__init__("runs", **kwargs)
        self.show_root = False
        self.guide_depth = 3

    def show(self, capture: Capture, ctx: Any = None) -> None:
        self.clear()
        root = self.root
        runs = [run.redacted(ctx.redact) for run in capture.runs] if ctx is not None else list(capture.runs)
        runs = [run for run in runs if not run.shapeless]
        if not runs:
            why = (
                f"no flow is triggered by event type {capture.event_type}"
                if capture.event_type
                else "no webhook route matched, so no flow ran"
            )
            root.add_leaf(Text(why, style="dim"))
            for note in capture.notes:  # the file that may be meant for it, and why it did not load
                if isinstance(note, str) and note.startswith(BROKEN_FLOW_NOTE):
                    root.add_leaf(Text(note, style="red"))
            root.expand()
            return
        by_id = {r.id: r for r in runs if r.id is not None}
        placed: dict[Any, TreeNode[Any]] = {}
        step_nodes: StepNodes = {}
        for run in runs:
            parent = None
            if run.parent_id is not None and run.parent_id in by_id:
                parent = step_nodes.get((run.parent_id, run.via_node)) or placed.get(run.parent_id)
            if parent is not None:
                parent.expand()  # an async run is shown under the node that queued it
            node = self._add_run(parent or root, run, step_nodes)
            if run.id is not None:
                placed[run.id] = node
        root.expand()

    def _add_run(self, parent: TreeNode[Any], run: FlowRun, step_nodes: StepNodes) -> TreeNode[Any]:
        status = run.status or "?"
        label = Text()
        if run.parent_id:
            label.append("async ", style="dim")
        label.append(run.flow if run.flow is not None else "(unnamed flow)", style="bold")
        label.append(f"  {status}", style=STATUS_STYLE.get(status, ""))
        if run.duration_us:
            label.append(f"  {_us(run.duration_us)}", style="dim")
        if run.trigger:
            label.append(f"  ← {run.trigger}", style="dim")
        if run.file:
            label.append(f"  {run.file}", style="dim")
        node = parent.add(label, data=run, expand=True)
        if run.reason:
            node.add_leaf(Text(f"not run: {run.reason}", style="yellow"))
        for warning in run.warnings:
            node.add_leaf(Text(f"warning: {warning}", style="yellow"))
        for step in run.steps:
            step_nodes[(run.id, step.node)] = self._add_step(node, run, step)
        err = run.error
        if err and not run.steps and status != "skipped":
            node.add_leaf(Text(f"✗ {error_at(run, err)}", style="red"))
        elif err and status in ("limit", "interrupted"):
            node.add_leaf(Text(f"✗ {_message(err)}", style="red"))
        if status == "running":
            node.add_leaf(Text("running…", style="yellow"))
        return node

    def _add_step(self, parent: TreeNode[Any], run: FlowRun, step: Step) -> TreeNode[Any]:
        status = step.status or "?"
        view = step.view()  # what the node type says about its step
        label = Text()
        if step.is_greentic and step.depth:
            label.append("  " * step.depth + f"{step.flow}/", style="dim")
        label.append(step.node or "?", style="bold cyan")
        label.append(f" ({step.type})", style="dim")
        label.append(f"  {status}", style=STATUS_STYLE.get(status, ""))
        if step.duration_us is not None:
            label.append(f"  {_us(step.duration_us)}", style="dim")
        if step.next:
            label.append(f"  → {step.next}")
        output = step.output
        err = step.error
        show_output = output is not None and not err and view.shows_output
        whole = dumps(output, indent=2, ensure_ascii=False) if show_output else ""
        inline = show_output and "\n" not in whole and len(whole) <= 60
        if view.note:
            label.append(f"  {view.note}", style=_TONE.get(view.tone, ""))
        elif inline:
            label.append(f"  {_short(output, 60)}", style="italic")
        greentic = step.is_greentic
        expandable = bool(step.decision or err or step.logs or (show_output and not inline) or greentic)
        if not expandable:
            return parent.add_leaf(label, data=step)
        node = parent.add(label, data=step, expand=bool(step.decision or err or step.logs))
        if greentic:
            self._add_greentic(node, step)
        for d in step.decision or ():
            line = Text()
            if d.failed:
                line.append("✗ ", style="red")
                line.append(d.expression or "?")
                line.append(f"  error: {d.error or ''}", style="red")
            else:
                value = d.value
                line.append("✓ " if value is True else "· ", style="green" if value is True else "dim")
                line.append(d.expression or ("(default)" if greentic else "?"))
                line.append(f"  → {dumps(value)}", style="green" if value is True else "dim")
            node.add_leaf(line)
        if step.decision and not step.next and not err:
            ends = "the run waits at this node" if greentic and run.status == "waiting" else "the run ends"
            node.add_leaf(Text(f"no condition held and there is no default: {ends}", style="dim"))
        if err:
            node.add_leaf(Text(f"✗ {error_at(run, err)}", style="red"))
        for log in step.logs:
            node.add_leaf(Text(f"log: {log}", style="dim"))
        if show_output and not inline:
            out = Text()
            out.append("output ", style="dim")
            out.append(_short(output))
            holder = node.add(out, expand=False)
            for output_line in whole.splitlines()[:500]:
                holder.add_leaf(Text(output_line))
        return node

    def _add_greentic(self, node: TreeNode[Any], step: Step) -> None:
        """The operation's rendered input, the mock, and the node's YAML with line numbers."""
        from ...greentic.glue import node_lines

        if step.mocked is not None:
            source = step.mocked.get("source")
            where = f"output from {source}" if source else "no entry in mocks.yaml: output {}"
            node.add_leaf(Text(f"mocked: {step.mocked.get('component')} ({where})", style="magenta"))
        whole = dumps(step.input, indent=2, ensure_ascii=False)
        holder = node.add(Text.assemble(("input ", "dim"), _short(step.input)), expand=False)
        for line in whole.splitlines()[:500]:
            holder.add_leaf(Text(line))
        lines = node_lines(step.at)
        if lines:
            source = node.add(Text.assemble(("yaml ", "dim"), (step.at or "", "dim")), expand=False)
            width = len(str(lines[-1][0]))
            for number, text in lines:
                source.add_leaf(Text.assemble((f"{number:>{width}} ", "dim"), text))
