"""Typed flow runs (issue #17 item 4): FlowRun, Step, RunError and Decision are built by the
engine and read as attributes; JSON exists only at the store, `--json` and export. The stored
shape is the one the store has always held, key for key and in order, and a trace written
by an older version (or by hand) reads back and is written again byte for byte."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest

from inspector.config import Config
from inspector.flow import Engine, FlowSet
from inspector.flow.runs import FlowRun, RunError, Step, runs_from_json
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.pipeline import Pipeline
from inspector.store import Store, trace_text
from tests.conftest import ROOT, run_cli

# The keys, in order, of what the engine has always written (written out here, not taken
# from inspector.flow.runs, so a change there cannot change what is checked).
RUN = [
    "id",
    "flow",
    "file",
    "trigger",
    "parent_id",
    "via_node",
    "status",
    "started_at",
    "duration_us",
    "path",
    "steps",
    "error",
    "warnings",
]
STEP = ["node", "type", "status", "started_at", "duration_us", "output", "next", "decision", "error", "logs"]

# A trace as versions before typed runs stored it: a traced run (state at the end) whose
# branch decided and whose script failed, a run stopped before a step (its error names the
# node first), an async child of a flow that is not loaded, a skipped run, the placeholders
# of runs still queued or running, the record of the engine itself failing; then shapes a
# hand or another tool may have left (a run that is a string, a path that is a map, a status
# that is a number, steps that are not a list, an error that is text).
OLD_TRACE = [
    {
        "id": 1,
        "flow": "order",
        "file": "flows/order.ygtc",
        "trigger": "event:order.*",
        "parent_id": None,
        "via_node": None,
        "status": "error",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_us": 1234,
        "path": ["check", "boom"],
        "steps": [
            {
                "node": "check",
                "type": "branch",
                "status": "ok",
                "started_at": "2026-01-01T00:00:00.000Z",
                "duration_us": 12,
                "output": {"matched": "payload.total > 10", "next": "boom"},
                "next": "boom",
                "decision": [
                    {"expression": "payload.x == 1", "value": False, "next": "a"},
                    {"expression": "payload.total > 10", "value": True, "next": "boom"},
                ],
                "error": None,
                "logs": [],
            },
            {
                "node": "boom",
                "type": "script",
                "status": "error",
                "started_at": "2026-01-01T00:00:00.001Z",
                "duration_us": 40,
                "output": None,
                "next": None,
                "decision": None,
                "error": {"message": "cannot index a number", "line": 7, "column": 3},
                "logs": ["said ü"],
            },
        ],
        "error": {"message": "cannot index a number", "line": 7, "column": 3, "node": "boom"},
        "warnings": ["the body is not valid JSON"],
        "state": {"seen": True, "n": [1, 2.5, None]},
    },
    {
        "id": 2,
        "flow": "loop",
        "file": "flows/loop.ygtc",
        "trigger": "event:order.created",
        "parent_id": None,
        "via_node": None,
        "status": "limit",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_us": 99,
        "path": [],
        "steps": [],
        "error": {"message": "step limit: the run took 1000 steps without ending (a cycle?)", "node": "spin", "line": None, "column": None},
        "warnings": [],
        "state": {},
    },
    {
        "id": 3,
        "flow": "missing",
        "file": None,
        "trigger": None,
        "parent_id": 1,
        "via_node": "later",
        "status": "error",
        "started_at": "2026-01-01T00:00:00.002Z",
        "duration_us": 0,
        "path": [],
        "steps": [],
        "error": {"message": "no flow named 'missing' is loaded (flows: order)", "node": "later", "line": None, "column": None},
        "warnings": [],
    },
    {
        "id": 4,
        "flow": "order",
        "file": "flows/order.ygtc",
        "trigger": "event:order.*",
        "parent_id": None,
        "via_node": None,
        "status": "skipped",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_us": 0,
        "path": [],
        "steps": [],
        "error": None,
        "warnings": [],
        "reason": "signature invalid",
    },
    {"id": None, "flow": "child", "file": None, "status": "queued", "parent_id": 1, "path": [], "steps": []},
    {"id": None, "flow": "slow", "file": "flows/slow.ygtc", "status": "running", "path": [], "steps": []},
    {"id": None, "flow": None, "status": "error", "path": [], "steps": [], "error": {"message": "internal error: RuntimeError: x"}},
    "a run that is text",
    {"flow": 5, "status": 7, "path": {"a": 1}, "steps": "none", "error": "it broke", "duration_us": "slow", "extra": [1]},
]


def _store_with_trace(path: Path, trace_text_: str) -> int:
    store = Store(path)
    req = Request("POST", "/events/webhook/demo/order.created", "", Headers([("X-N", "1")]), b"{}", "127.0.0.1", 1_700_000_000.0)
    stored = asyncio.run(store.add(Capture(None, req, "demo", "order.created", SignatureResult("unsigned"))))
    store.close()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE captures SET runs=? WHERE id=?", (trace_text_, stored.id))
    db.close()
    return stored.id


def test_an_old_trace_reads_back_as_flowruns_and_is_written_again_byte_for_byte(tmp_path):
    old = json.dumps(OLD_TRACE, ensure_ascii=False, separators=(",", ":"))
    path = tmp_path / "s.sqlite3"
    cid = _store_with_trace(path, old)
    store = Store(path)
    try:
        capture = store.get(cid)
    finally:
        store.close()
    assert all(type(run) is FlowRun for run in capture.runs)
    assert trace_text(capture.runs) == (old, None)  # the row codec writes exactly what it read
    assert json.dumps(capture.detail_json()["runs"], ensure_ascii=False) == json.dumps(OLD_TRACE, ensure_ascii=False)
    # list --json (SPEC §10): flow, status and path of each run, as read from the stored JSON.
    dicts = [r for r in OLD_TRACE if isinstance(r, dict)]
    assert capture.summary_json()["flows"][: len(dicts) - 1] == [
        {"flow": r.get("flow"), "status": r.get("status"), "path": list(r.get("path") or [])} for r in dicts[:-1]
    ]

    # The attributes are typed whatever the stored shape was.
    first, stopped, missing, skipped_, queued_, running_, broken_, text, odd = capture.runs
    assert first.path == ("check", "boom") and first.failed and first.state == {"seen": True, "n": [1, 2.5, None]}
    assert [s.node for s in first.steps] == ["check", "boom"] and isinstance(first.steps[1].error, RunError)
    assert [(d.expression, d.value, d.failed) for d in first.steps[0].decision] == [
        ("payload.x == 1", False, False),
        ("payload.total > 10", True, False),
    ]
    assert first.error.node == "boom" and first.error.line == 7 and first.error.where(first.file) == "flows/order.ygtc:7:3: "
    assert stopped.error.node == "spin" and stopped.status == "limit"
    assert missing.parent_id == 1 and missing.via_node == "later" and missing.is_async
    assert skipped_.reason == "signature invalid" and queued_.status == "queued" and running_.status == "running"
    assert broken_.flow is None and broken_.error.message == "internal error: RuntimeError: x"
    assert text.shapeless and text.to_json() == "a run that is text"
    assert odd.flow == "5" and odd.status == "7" and odd.path == ('{"a": 1}',) and odd.steps == () and odd.duration_us is None
    assert odd.error.message == "it broke"


def test_show_json_prints_an_old_trace_as_stored(tmp_path):
    trace = [r for r in OLD_TRACE if isinstance(r, dict) and r.get("flow") != 5]  # the shapes the engine wrote
    path = tmp_path / "s.sqlite3"
    cid = _store_with_trace(path, json.dumps(trace, ensure_ascii=False))
    got = run_cli("show", str(cid), "--json", "--store", str(path), cwd=ROOT)
    assert got.returncode == 0, got.stderr
    runs = json.loads(got.stdout)["runs"]
    assert json.dumps(runs, ensure_ascii=False) == json.dumps(trace, ensure_ascii=False)
    text = run_cli("show", str(cid), "--store", str(path), cwd=ROOT)
    assert text.returncode == 0, text.stderr
    shown = text.stdout.decode()
    assert "flow order [error]" in shown and "ERROR flows/order.ygtc:7:3: cannot index a number" in shown
    assert "payload.total > 10 → True" in shown and "log: said ü" in shown


FLOWS = {
    "order": """
        name: order
        nodes:
          - id: check
            type: branch
            config:
              conditions:
                - expression: "payload.total > 10"
                  next: respond
              default: boom
          - id: respond
            type: http_response
            config:
              status: 201
              body: {ok: true}
            next: later
          - id: later
            type: async
            config:
              flow: child
          - id: boom
            type: script
            config:
              script: |
                payload.total.nope
        triggers:
          - type: event
            event_type: order.*
    """,
    "child": """
        name: child
        nodes:
          - id: work
            type: script
            config:
              script: |
                state.x = 1;
                print("child");
                42
    """,
}


def _pipeline(tmp_path, store: Store | None):
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    for name, text in FLOWS.items():
        (d / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    return Pipeline(Config(ack_timeout_seconds=5.0), store, engine=Engine(FlowSet.load(d)))


def _handle(p: Pipeline, body: bytes) -> Capture:
    req = Request("POST", "/events/webhook/demo/order.created", "", Headers([("Content-Type", "application/json")]), body, "t", time.time())

    async def go():
        capture = await p.handle(req, wait=True)
        await p.drain(5)
        await p.close()
        return capture

    return asyncio.run(go())


@pytest.mark.parametrize("store", [True, False])
def test_the_engine_writes_the_shape_the_store_always_held(tmp_path, store):
    st = Store(tmp_path / "s.sqlite3") if store else None
    c = _handle(_pipeline(tmp_path, st), b'{"total": 21}')
    parent, child = c.runs
    assert type(parent) is FlowRun and type(parent.steps[0]) is Step
    assert parent.path == ("check", "respond", "later") and child.parent_id == parent.id and child.via_node == "later"
    assert parent.answered and not child.answered and c.response.status == 201
    for run in (parent, child):
        data = run.to_json()
        assert list(data) == RUN + ["state"]
        assert all(list(step) == STEP for step in data["steps"])
    assert parent.to_json()["steps"][0]["decision"] == [{"expression": "payload.total > 10", "value": True, "next": "respond"}]
    assert child.to_json()["state"] == {"x": 1} and child.to_json()["steps"][0]["logs"] == ["child"]
    if st is not None:
        again = Store(tmp_path / "s.sqlite3")
        try:
            stored = again.get(c.id)
        finally:
            again.close()
        st.close()
        assert [r.to_json() for r in stored.runs] == [r.to_json() for r in c.runs]
        assert trace_text(stored.runs)[0] == trace_text(c.runs)[0]

    failed = _handle(_pipeline(tmp_path, None), b'{"total": 1}').runs[0].to_json()
    assert failed["status"] == "error" and list(failed["error"]) == ["message", "line", "column", "node"]
    assert list(failed["steps"][-1]["error"]) == ["message", "line", "column"]


def test_run_error_json_orders_of_a_stopped_run_and_a_missing_flow():
    stopped = RunError("interrupted", "n", keys=("message", "node", "line", "column"))
    assert list(stopped.to_json()) == ["message", "node", "line", "column"]
    assert list(RunError("m", None, 3, 4).at("x").to_json()) == ["message", "line", "column", "node"]


def test_runs_from_json_takes_anything():
    assert runs_from_json(None) == () and runs_from_json({"a": 1}) == ()
    runs = runs_from_json([1, None, {"steps": [1, {"decision": "x"}]}])
    assert [r.shapeless for r in runs] == [True, True, False]
    assert runs[2].steps[0].decision is None and runs[2].to_json() == {"steps": [1, {"decision": "x"}]}


# No run is built as a dict outside the serialisation boundary: the engine, pipeline, CLI and
# TUI build and read FlowRuns. The JSON keys only a run has, as dict keys or subscripts, may
# appear in the module that defines the JSON shape and in the store's row codec only.
_RUN_KEYS = re.compile(r"""["'](steps|parent_id|via_node)["']\s*[:\]]|\.get\(\s*["'](steps|parent_id|via_node)["']""")
_BOUNDARY = {Path("inspector/flow/runs.py"), Path("inspector/store/codec.py")}


def test_no_dict_shaped_run_outside_the_serialisation_boundary():
    found = []
    for file in sorted((ROOT / "inspector").rglob("*.py")):
        rel = file.relative_to(ROOT)
        if rel in _BOUNDARY:
            continue
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if _RUN_KEYS.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, "runs built or read as dicts (use FlowRun/Step attributes):\n" + "\n".join(found)
