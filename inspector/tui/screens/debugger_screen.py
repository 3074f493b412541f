"""The debugger: step through a recorded re-run of a captured request's flow — next, back,
continue to a breakpoint, restart — with the node's source, what it did, and the scope. On a
mocked node of a Greentic-shaped flow, `m` edits its output (JSON) and the run is recorded
again with it, staying at that node (issue #20)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static, TextArea

from ...flow.model import Flow, Node
from ...flow.runs import Decision, FlowRun, RunError
from ..actions import DEBUGGER_ACTIONS
from ..debug_session import DebugSession, Frame
from ..guard import GuardedPump
from ..shapes import cells, dumps, printable
from ..widgets.code import code
from ..widgets.flow_tree import error_at
from ..widgets.node_list import NodeList
from ..widgets.plain import PlainStatic
from ..widgets.scope_tree import ScopeTree


def node_text(flow: Flow, node: Node) -> tuple[str, int]:
    """The node as written in its .ygtc file and its first line; its config when unreadable."""
    try:
        lines = Path(flow.file).read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        lines = []
    start = node.position.line
    if lines and 0 < start <= len(lines):
        others = sorted(n.position.line for n in flow.nodes if n.position.line > start)
        end = others[0] - 1 if others else len(lines)
        chunk = lines[start - 1 : end]
        indent = len(chunk[0]) - len(chunk[0].lstrip(" -")) if chunk else 0
        keep = [chunk[0]] if chunk else []
        for line in chunk[1:]:
            # Stop at the next top-level key (e.g. `triggers:`) or a comment at the list's level.
            if line.strip() and len(line) - len(line.lstrip(" ")) < indent:
                break
            keep.append(line)
        while keep and not keep[-1].strip():
            keep.pop()
        return "\n".join(keep), start
    text = yaml.safe_dump({"id": node.id, "type": node.type, "config": node.config, "next": node.next}, sort_keys=False, allow_unicode=True)
    return text.rstrip(), 0


class MockOutputEditor(GuardedPump, ModalScreen[str | None]):
    """Edit a mocked node's output as JSON; ctrl+s keeps it (the text), esc cancels (None)."""

    DEFAULT_CSS = """
    MockOutputEditor {
        align: center middle;
        & > Vertical { width: 80; max-width: 95%; height: 20; border: round $primary; background: $surface; padding: 0 1; }
        & TextArea { height: 1fr; }
        & #mock-hint { color: $text-muted; height: auto; }
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "keep", "Use this output", tooltip="Use this output and run again from this node", id="mock-output-keep"),
        Binding("escape", "dismiss(None)", "Cancel", tooltip="Close without changing the output", id="mock-output-cancel"),
    ]

    def __init__(self, title: str, text: str):
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(printable(self.title_text))
            yield TextArea(self.text, id="mock-output", language=None, soft_wrap=False)
            yield PlainStatic("ctrl+s use this output (JSON) · esc cancel", id="mock-hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_keep(self) -> None:
        self.dismiss(self.query_one(TextArea).text)


class DebuggerScreen(GuardedPump, Screen[None]):
    DEFAULT_CSS = """
    DebuggerScreen {
        layout: vertical;
        & #debug-title { height: 1; background: $panel; padding: 0 1; }
        & #debug-top { height: 1fr; }
        & #debug-bottom { height: 1fr; }
        & NodeList { width: 30; }
        & #debug-source {
            width: 1fr; border: round $primary 50%; border-title-color: $text-muted; padding: 0 1;
        }
        & #debug-result {
            width: 50%; border: round $primary 50%; border-title-color: $text-muted; padding: 0 1;
        }
        & ScopeTree {
            width: 1fr; border: round $primary 50%; border-title-color: $text-muted;
            &:focus { border: round $primary; }
        }
    }
    """

    BINDINGS = [
        *(a.binding() for a in DEBUGGER_ACTIONS),
        # Out of the footer: it applies to mocked Greentic nodes only, whose result panel says "m edits it".
        Binding(
            "m",
            "edit_output",
            "Edit mock",
            show=False,
            tooltip="Edit the output of this mocked (Greentic) node and run again",
            id="debug-edit-mock",
        ),
    ]
    ACTIONS = DEBUGGER_ACTIONS

    def __init__(self, session: DebugSession, redact: Callable[[Any], Any] | None = None):
        super().__init__()
        self.session = session
        # The capture's Redactor.value: a script's `print(headers)` or a scope holding
        # `event.headers.authorization` must not show the token (SPEC §3).
        self.redact = redact or (lambda value: value)

    def _masked(self, frame: Frame) -> Frame:
        r = self.redact
        return dataclasses.replace(
            frame,
            output=r(frame.output),
            decision=None if frame.decision is None else tuple(Decision.from_json(r(d.to_json())) for d in frame.decision),
            error=None if frame.error is None else RunError.from_json(r(frame.error.to_json())),
            logs=tuple(r(list(frame.logs))),
            scope=r(frame.scope),
        )

    def compose(self) -> ComposeResult:
        yield PlainStatic(id="debug-title")
        with Horizontal(id="debug-top"):
            yield NodeList(id="debug-nodes")
            with VerticalScroll(id="debug-source"):
                yield PlainStatic(id="debug-source-text")
        with Horizontal(id="debug-bottom"):
            with VerticalScroll(id="debug-result"):
                yield PlainStatic(id="debug-result-text")
            yield ScopeTree(id="debug-scope")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(NodeList).focus()
        self.refresh_view()

    # Actions

    def action_next_step(self) -> None:
        if not self.session.step():
            self.notify("the run ended here; r restarts", timeout=3)
        self.refresh_view()

    def action_previous_step(self) -> None:
        if not self.session.back():
            self.notify("this is the first node", timeout=3)
        self.refresh_view()

    def action_continue_run(self) -> None:
        if self.session.continue_():
            frame = self.session.current
            self.notify(f"breakpoint: {frame.node}" if frame else "breakpoint", timeout=3)
        else:
            self.notify("no breakpoint ahead: at the last node", timeout=3)
        self.refresh_view()

    def action_toggle_breakpoint(self) -> None:
        nodes = self.query_one(NodeList)
        flow = self.session.current_flow()
        if flow is None or nodes.highlighted is None:
            return
        node_id = nodes.get_option_at_index(nodes.highlighted).id
        if node_id is None:
            return
        on = self.session.toggle_breakpoint(flow.name, node_id)
        self.notify(f"breakpoint {'set on' if on else 'cleared from'} {node_id}", timeout=2)
        self.refresh_view()

    def action_restart(self) -> None:
        self.query_one("#debug-title", Static).update(Text(" restarting…", style="bold"))
        self._restart()

    @work(thread=True, exclusive=True, group="debugger", name="restarting the debugger run", exit_on_error=False)
    def _restart(self) -> None:
        # exit_on_error=False: the app's worker handler reports a failure (a flow that now
        # fails to load, a capture the engine cannot take); the screen stays open.
        try:
            self.app.call_from_thread(self._reload_flows_if_changed)
            self.session.restart()
        finally:
            self.app.call_from_thread(self.refresh_view)

    def _reload_flows_if_changed(self) -> None:
        reload = getattr(self.app, "reload_flows_now", None)
        if reload is not None:
            reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit_output(self) -> None:
        session = self.session
        frame = session.current
        if frame is None or not session.editable:
            self.notify("only a mocked node of a Greentic-shaped flow has an output to edit", severity="warning", timeout=3)
            return
        text = dumps(self.redact(frame.output), ensure_ascii=False, indent=2)

        def keep(result: str | None) -> None:
            if result is None:
                return
            import json

            try:
                value = json.loads(result)
            except ValueError as exc:
                self.notify(f"not JSON, output unchanged: {exc}", severity="error", timeout=6)
                return
            session.set_output(frame.flow, frame.node, value)
            self.notify(f"{frame.node}: output edited; the run was recorded again from the start", timeout=3)
            self.refresh_view()

        self.app.push_screen(MockOutputEditor(f"output of {frame.flow}/{frame.node}", text), keep)

    # Rendering

    def refresh_view(self) -> None:
        session = self.session
        capture = session.capture
        frame = session.current
        if frame is not None:
            frame = self._masked(frame)
        frames = session.frames
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Debugger", style="bold")
        if frames:
            title.append(f"  step {session.position + 1}/{len(frames)}", style="bold")
        flow = session.current_flow()
        if flow is not None:
            title.append(f"  ·  flow {flow.name}", style="bold cyan")
        title.append(printable(f"  ·  #{capture.id} {capture.request.method} {capture.request.target}"))
        if capture.signature.status not in ("valid", "unsigned"):
            title.append(f"  ·  signature {capture.signature.status}: re-run anyway", style="yellow")
        self.query_one("#debug-title", Static).update(title)

        nodes = self.query_one(NodeList)
        source = self.query_one("#debug-source", VerticalScroll)
        result = self.query_one("#debug-result", VerticalScroll)
        scope = self.query_one(ScopeTree)
        if session.error or frame is None or flow is None:
            message = session.error or "the flow evaluated no node"
            self.query_one("#debug-source-text", Static).update(Text(message, style="red"))
            self.query_one("#debug-result-text", Static).update("")
            scope.clear()
            return
        breakpoints = {node for f, node in session.breakpoints if f == flow.name}
        nodes.show(flow, frame.node, session.visited(flow.name), breakpoints, session.finished)

        node = flow.node(frame.node)
        if node is not None:
            text, start = node_text(flow, node)
            error_line = frame.error.line if frame.error else None
            source.border_title = Content(printable(f"{node.id} · {node.type} · {flow.file}:{node.position.line}"))
            self.query_one("#debug-source-text", Static).update(code(text, "yaml", first_line=start, mark_line=error_line))
        result.border_title = Content(printable(f"step {session.position + 1} of {len(frames)}: {frame.node}"))
        self.query_one("#debug-result-text", Static).update(self._result(frame))
        scope.border_title = Content(printable(f"scope seen by {frame.node}"))
        scope.show(frame.scope)

    def _result(self, frame: Frame) -> Group:
        parts: list[RenderableType] = []
        if self.session.finished:
            parts.append(self._ending())
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        status_style = (
            "bold green"
            if frame.status == "ok"
            else "bold red"
            if frame.status == "error"
            else "bold magenta"
            if frame.status == "mocked"
            else "bold yellow"
        )
        grid.add_row(*cells("status", Text(f"{frame.status}  ({frame.type})", style=status_style)))
        if frame.decision:
            lines = Text()
            for i, d in enumerate(frame.decision):
                if i:
                    lines.append("\n")
                if d.failed:
                    lines.append("✗ ", style="red")
                    lines.append(d.expression or "?")
                    lines.append(f"  error: {d.error or ''}", style="red")
                    continue
                value = d.value
                lines.append("✓ " if value is True else "· ", style="green" if value is True else "dim")
                lines.append(d.expression or "?")
                lines.append(f"  → {dumps(value)}", style="bold green" if value is True else "dim")
            grid.add_row(*cells("decision", lines))
        if self.session.greentic:
            mocked = frame.scope.get("mocked") if isinstance(frame.scope, dict) else None
            if isinstance(mocked, dict):
                where = mocked.get("source") or "no entry in mocks.yaml: {}"
                grid.add_row(*cells("mocked", Text(f"{mocked.get('component')} · output from {where} · m edits it", style="magenta")))
        view = frame.as_step().view()  # what the node type says about its step
        if frame.error:
            run = self.session.run_of(frame) or FlowRun(None, frame.flow, frame.file)
            grid.add_row(*cells("error", Text(error_at(run, frame.error), style="red")))
        elif view.answered is not None and isinstance(frame.output, dict):
            body = frame.output.get("body")
            shown = body if isinstance(body, str) else dumps(body, ensure_ascii=False)
            grid.add_row(*cells("answer", Text(f"{frame.output.get('status')} {shown}", style="green" if view.answered else "yellow")))
            if not view.answered and view.note:
                grid.add_row(*cells("", Text(view.note, style="yellow")))
        elif frame.output is not None and view.shows_output:
            out = (
                dumps(frame.output, ensure_ascii=False, indent=2)
                if isinstance(frame.output, (dict, list))
                else dumps(frame.output, ensure_ascii=False)
            )
            grid.add_row(*cells("output", out if len(out) < 2000 else out[:1999] + "…"))
        grid.add_row(*cells("next", Text(f"→ {frame.next}" if frame.next else "(end of the run)", style="bold" if frame.next else "dim")))
        for log in frame.logs:
            grid.add_row(*cells("log", log))
        parts.append(grid)
        return Group(*parts)

    def _ending(self) -> Text:
        rec = self.session.recording
        end = Text()
        statuses = ", ".join(f"{r.flow} {r.status}" for r in rec.runs)
        end.append(f"■ run ended: {statuses}", style="bold")
        if rec.answer:
            resp = self.redact(rec.answer["response"])
            by = f" by {rec.answer['node']}" if rec.answer.get("node") else " (emit.response)"
            end.append(f" · answered {resp.get('status', 200)}{by}")
        for w in self.redact(rec.warnings):
            end.append(f"\nwarning: {w}", style="yellow")
        end.append("\n")
        return end
