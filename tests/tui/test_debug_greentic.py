"""The debugger on a Greentic-shaped flow (issue #20 item 3): every node a frame (called
flows included), a mocked node's output edited and the run recorded again from there, in the
model and on the screen; the server's state store is left as it was."""

from __future__ import annotations

import io
import json

from rich.console import Console
from textual.app import App
from textual.widgets import TextArea

from inspector.flow import FlowSet
from inspector.greentic import glue
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.tui.debug_session import DebugSession
from inspector.tui.screens.debugger_screen import DebuggerScreen, MockOutputEditor
from tests.greentic.shop_pack import write_pack


def capture_of(kind: str = "new") -> Capture:
    body = json.dumps({"order": {"id": "o-1"}, "kind": kind}).encode()
    request = Request("POST", "/v1/events/ingress/webhook/acme", "", Headers([("Content-Type", "application/json")]), body)
    return Capture(1, request, "acme", "webhook", SignatureResult("unsigned"))


def session_for(tmp_path, monkeypatch, kind: str = "new") -> DebugSession:
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()
    return DebugSession(FlowSet.load(write_pack(tmp_path / "shop")), "default", capture_of(kind))


def test_each_node_is_a_frame_and_a_mocked_output_can_be_edited(tmp_path, monkeypatch):
    session = session_for(tmp_path, monkeypatch)
    assert session.greentic and session.error is None
    assert [(f.flow, f.node, f.status) for f in session.frames] == [
        ("default", "in", "ok"),
        ("default", "count", "ok"),
        ("default", "remember", "ok"),
        ("default", "classify", "mocked"),
        ("default", "notify", "ok"),
        ("notify", "send", "mocked"),
        ("notify", "done", "ok"),
        ("default", "answer", "ok"),
    ]
    assert session.frames[3].scope["input"] == {"text": "Order o-1: new"}
    assert session.current_flow().name == "default" and session.current_flow().node("classify").type == "templating.handlebars"
    assert not session.editable  # emit.log runs here
    session.toggle_breakpoint("notify", "send")
    assert session.continue_() and session.current.node == "send" and session.editable
    assert session.current_flow().name == "notify"
    session.set_output("notify", "send", {"ok": True, "ts": "edited"})
    assert session.current.node == "send" and session.current.output == {"ok": True, "ts": "edited"}
    assert session.current.scope["mocked"]["source"] == "edited in the debugger"
    assert session.step() and session.current.output == {"sent": True, "order": "o-1"}
    # An output that fails the node, then one that fixes it.
    session.set_output("notify", "send", {"ok": False, "error": {"code": "x", "message": "down"}})
    assert session.current.node == "send" and session.current.status == "error" and session.editable
    assert session.recording.runs[0].status == "error"
    session.set_output("notify", "send", {"ok": True})
    assert session.recording.runs[0].status == "ok"
    # The debugger's state.set calls did not reach the server's state store.
    assert glue.state_for(session.flows).values == {}


def test_a_capture_on_another_route_says_why_nothing_ran(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    request = Request("POST", "/events/webhook/acme/x", "", Headers(), b"{}")
    session = DebugSession(fs, "default", Capture(1, request, "acme", "x", SignatureResult("unsigned")))
    assert session.frames == [] and "no Greentic ingress route" in session.recording.warnings[0]


class DebugApp(App):
    def __init__(self, session: DebugSession):
        super().__init__()
        self.session = session

    def on_mount(self) -> None:
        self.push_screen(DebuggerScreen(self.session))


async def test_the_screen_edits_a_mocked_output_and_continues(tmp_path, monkeypatch):
    session = session_for(tmp_path, monkeypatch)
    app = DebugApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("n")
        assert session.current.node == "classify"
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen._result(session.current))
        result = console.export_text()
        assert "templating.handlebars · output from shop/mocks.yaml:3:13 · m edits it" in result
        await pilot.press("m")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, MockOutputEditor)
        area = editor.query_one(TextArea)
        assert json.loads(area.text) == {"text": "Order o-1: new!"}
        area.text = '{"text": "changed"}'
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)
        assert session.current.node == "classify" and session.current.output == {"text": "changed"}
        await pilot.press("n")  # notify: flow.call, whose input used the edited text
        assert session.current.node == "notify"
        assert session.frames[session.position].scope["input"]["input"]["summary"] == "changed"
        await pilot.press("m")  # not a mocked node
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)


async def test_d_on_a_greentic_capture_opens_the_debugger_on_its_flow(tmp_path, monkeypatch):
    from inspector.starter.greentic import write_greentic_starter
    from tests.tui.conftest import make_app, settle, text_of, wait_for

    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()
    write_greentic_starter(tmp_path)
    (tmp_path / "answers.example.json").write_text('{"events-webhook": {}}')
    app = make_app(tmp_path, serve=False, flows=FlowSet.load("pack"))
    async with app.run_test(size=(120, 40)) as pilot:
        body = json.dumps({"type": "order.created", "data": {"id": "ord_3", "total": "1.00"}}).encode()
        request = Request("POST", "/v1/events/ingress/webhook/demo", "", Headers([("Content-Type", "application/json")]), body)
        await app.pipeline.handle(request, wait=True)
        await wait_for(lambda: app.table.current is not None, pilot)
        await pilot.press("d")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)
        session = app.screen.session
        assert session.greentic and [f.node for f in session.frames][:3] == ["in", "previous", "remember"]
        source = text_of(app.screen.query_one("#debug-source-text"))
        assert "emit.log:" in source and "in:" in source
