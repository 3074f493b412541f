"""The debugger's model: a recorded re-run through the real engine, stepped through."""

from __future__ import annotations

from pathlib import Path

from inspector.config import load_config
from inspector.flow import FlowSet
from inspector.store import Store
from inspector.tui.debug_session import DebugSession

from .conftest import build_request, ingest


async def _capture(workdir: Path, name: str):
    config = load_config(workdir / "answers.example.json")
    store = Store(workdir / "s.sqlite3")
    [capture] = await ingest(store, FlowSet.load("flows"), config, [(build_request(name, config), "live")])
    store.close()
    return capture


async def test_steps_breakpoints_and_the_scope_at_each_step(workdir: Path):
    capture = await _capture(workdir, "github.pull_request")
    session = DebugSession(FlowSet.load("flows"), "github", capture)
    assert [f.node for f in session.frames] == ["check_event", "handle_pr", "ok"]
    first = session.current
    assert [d.value for d in first.decision] == [False, True]
    assert first.next == "handle_pr"
    assert first.scope["prev"] is None and first.scope["nodes"] == {} and first.scope["event"]["event_type"] == "github"
    assert session.step() and session.current.scope["nodes"]["check_event"]["next"] == "handle_pr"
    assert session.current.output.startswith("PR #42")
    # Scopes are copies: a later step does not change what an earlier one saw.
    assert session.frames[0].scope["nodes"] == {}
    session.toggle_breakpoint("github", "ok")
    session.position = 0
    assert session.continue_() and session.current.node == "ok"
    assert not session.continue_() and session.finished
    assert session.recording.answer["response"]["status"] == 200
    assert session.back() and session.current.node == "handle_pr"
    session.restart()
    assert session.position == 0 and len(session.frames) == 3


async def test_async_children_follow_their_parent(workdir: Path):
    capture = await _capture(workdir, "generic.report.generate")
    session = DebugSession(FlowSet.load("flows"), "ack_then_process", capture)
    assert [(f.flow, f.node) for f in session.frames] == [
        ("ack_then_process", "acknowledge"),
        ("ack_then_process", "process_async"),
        ("process_webhook_data", "work"),
    ]
    child = session.frames[-1]
    assert child.scope["event"]["payload"] == capture_payload(capture)
    assert [r["status"] for r in [r.to_json() for r in session.recording.runs]] == ["ok", "ok"]


def capture_payload(capture):
    import json

    return json.loads(capture.request.body)


async def test_a_flow_that_is_gone_says_so(workdir: Path):
    capture = await _capture(workdir, "github.ping")
    (workdir / "flows" / "github.ygtc").unlink()
    session = DebugSession(FlowSet.load("flows"), "github", capture)
    assert session.frames == [] and "flow 'github' is not loaded" in session.error
