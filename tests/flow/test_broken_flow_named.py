"""A flow file that fails to load is named wherever a request it was meant for shows up: the
sender's answer, `serve`'s request line and the capture's notes (issue #18.4). Also: a node
dropped for its own script error is still a node that `next` and `target` may name."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from inspector.config import Config
from inspector.flow import Engine, FlowSet, load_text
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.store import Store
from tests.conftest import ROOT

# Line 8, column 12 is the `*` the script parser stops at.
BROKEN_REFUND = """\
name: refund
nodes:
  - id: compute
    type: script
    config:
      script: |
        let x = event.payload.amount;
        x +* 2
    next: respond
  - id: respond
    type: http_response
    config:
      body: "refunded"
triggers:
  - type: event
    event_type: "refund.*"
    target: compute
"""
WHERE = "flows/refund.ygtc:8:12"
WHY = "script: expected an expression, found '*'"

FIXED_REFUND = BROKEN_REFUND.replace("x +* 2", "x * 2")

ORDER = """\
nodes:
  - id: ok
    type: http_response
    config:
      body: "order"
triggers:
  - event_type: order.created
"""


def project(tmp_path: Path, refund: str = BROKEN_REFUND) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "refund.ygtc").write_text(refund)
    (flows / "order.ygtc").write_text(ORDER)
    return flows


def test_a_script_parse_error_is_one_error_not_also_a_missing_node():
    flow, problems = load_text(BROKEN_REFUND, "flows/refund.ygtc")
    assert flow is None
    assert [str(p) for p in problems] == [f"{WHERE}: {WHY}"]


def test_a_node_that_is_truly_missing_is_still_reported():
    text = BROKEN_REFUND.replace("target: compute", "target: compte")
    _, problems = load_text(text, "flows/refund.ygtc")
    assert [p.message for p in problems][0] == WHY
    assert any("trigger target 'compte' names no node — did you mean 'compute'?" in p.message for p in problems)


def test_which_event_types_a_broken_file_may_serve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    flows = project(tmp_path)
    # YAML that does not parse still says what it is for...
    (flows / "tabs.ygtc").write_text("nodes:\n\t- id: a\ntriggers:\n  - event_type: 'ship.*'\n")
    # ...unless what it says cannot be read: then it may be meant for anything.
    (flows / "mystery.ygtc").write_text("nodes: [\ntriggers:\n  - event_type:\n      - x\n")
    (flows / "binary.ygtc").write_bytes(b"\xff\xfe\x00n\x00o")
    # Broken YAML with no `event_type:` key has no trigger to serve one (code naming
    # event.event_type is not a key).
    (flows / "notes.ygtc").write_text("nodes: [\n  {id: a, type: script, config: {script: 'event.event_type'}}\n")
    # A second flow of the same name is skipped; its triggers are known.
    (flows / "zz-order-copy.ygtc").write_text("name: order\n" + ORDER.replace("order.created", "order.copied"))
    # A file with no triggers can only be called by another flow's async node.
    (flows / "helper.ygtc").write_text("nodes:\n  - id: a\n    type: nope\n")
    fs = FlowSet.load("flows")
    by_file = {b.file: b.event_types for b in fs.broken}
    assert by_file == {
        "flows/binary.ygtc": None,
        "flows/helper.ygtc": (),
        "flows/mystery.ygtc": None,
        "flows/notes.ygtc": (),
        "flows/refund.ygtc": ("refund.*",),
        "flows/tabs.ygtc": ("ship.*",),
        "flows/zz-order-copy.ygtc": ("order.copied",),
    }
    unknown = ["flows/binary.ygtc", "flows/mystery.ygtc"]
    assert [b.file for b in fs.broken_for("refund.created")] == unknown + ["flows/refund.ygtc"]
    assert [b.file for b in fs.broken_for("ship.sent")] == unknown + ["flows/tabs.ygtc"]
    assert [b.file for b in fs.broken_for("order.copied")] == unknown + ["flows/zz-order-copy.ygtc"]
    assert [b.file for b in fs.broken_for("refund")] == unknown  # `refund.*` needs the dot
    binary = fs.broken_for("anything")[0]
    assert binary.reason() == (
        "flows/binary.ygtc failed to load (flows/binary.ygtc:1:1: not UTF-8 text; save the file as UTF-8; "
        "which event types it serves cannot be read)"
    )


def post(url: str, body: bytes = b'{"amount": 5}') -> tuple[int, dict | str]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
        return resp.status, json.loads(text) if resp.headers.get_content_type() == "application/json" else text


async def test_the_sender_is_told_which_file_failed_and_where(tmp_path, monkeypatch):
    import asyncio

    monkeypatch.chdir(tmp_path)
    project(tmp_path)
    flows = FlowSet.load("flows")
    store = Store(tmp_path / "captures.sqlite3")
    pipeline = Pipeline(Config(), store, engine=Engine(flows))
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        status, body = await asyncio.to_thread(post, receiver.url + "/events/webhook/demo/refund.created")
        assert status == 200
        assert body["warning"] == (
            f"no flow is triggered by event type refund.created: flows/refund.ygtc failed to load ({WHERE}: {WHY}); fix it and it reloads"
        )
        assert store.get(body["id"]).notes == (f"flow file failed to load: {WHERE}: {WHY} — fix it and it reloads",)
        # An event type the broken file is not for keeps the plain warning.
        _, other = await asyncio.to_thread(post, receiver.url + "/events/webhook/demo/customer.created")
        assert other["warning"] == "no flow is triggered by event type customer.created"
        assert store.get(other["id"]).notes == ()
        # Fixed, it reloads and answers; nothing is said about it any more.
        (tmp_path / "flows" / "refund.ygtc").write_text(FIXED_REFUND + "\n")
        assert flows.refresh()
        status, answered = await asyncio.to_thread(post, receiver.url + "/events/webhook/demo/refund.created")
        assert status == 200 and answered == "refunded"
    finally:
        await receiver.stop()
        await pipeline.close()
        store.close()


def test_serve_names_the_broken_file_in_the_request_line(tmp_path):
    project(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector",
            "--answers",
            str(ROOT / "answers.example.json"),
            "--flows",
            "flows",
            "--store",
            str(tmp_path / "captures.sqlite3"),
            "serve",
            "--port",
            "0",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:"), first
        url = first.split(" ")[-1]
        post(url + "/events/webhook/demo/refund.created")
        post(url + "/events/webhook/demo/order.created")
        refund_line = proc.stdout.readline().strip()
        order_line = proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert refund_line.startswith("[200] POST /events/webhook/demo/refund.created  sig=unsigned  flows=0  ")
    assert refund_line.endswith(f"  flow failed to load: {WHERE}")
    assert "failed to load" not in order_line
    assert f"{WHERE}: {WHY}" in err  # said once at start, as before
