"""`init --greentic`'s starter pack loads without a problem and runs as written (issue #20
item 4): an order.created webhook goes through state, the branch and flow.call to a mocked
component; anything else takes the other arm."""

from __future__ import annotations

import json

import pytest

from inspector.flow import FlowSet
from inspector.greentic import glue
from inspector.model import Headers, Request
from inspector.starter.greentic import starter_pack, write_greentic_starter


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()


def post(fs, body: dict):
    request = Request(
        "POST", "/v1/events/ingress/webhook/demo", "", Headers([("Content-Type", "application/json")]), json.dumps(body).encode()
    )
    return glue.run_for_request(fs, request)


def test_the_starter_pack_loads_cleanly_and_runs_both_arms(tmp_path):
    written = write_greentic_starter(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == sorted(f"pack/{name}" for name in starter_pack())
    fs = FlowSet.load("pack")
    assert fs.problems == []
    assert [f.id for f in fs.greentic_flows] == ["default", "notify"]
    [run] = post(fs, {"type": "order.created", "data": {"id": "ord_1", "total": "12.50"}})
    assert run.status == "ok"
    assert [(s.flow, s.node, s.status) for s in run.steps] == [
        ("default", "in", "ok"),
        ("default", "previous", "ok"),
        ("default", "remember", "ok"),
        ("default", "notify", "ok"),
        ("notify", "post", "mocked"),
        ("notify", "done", "ok"),
        ("default", "answer", "ok"),
    ]
    assert run.steps[4].input["input"]["text"] == "New order ord_1 (12.50)"
    assert run.steps[4].output["echoed"] == "New order ord_1 (12.50)"
    assert run.response == {"status": 200, "body": {"notified": True, "order": "ord_1", "previous_order": None}}
    [other] = post(fs, {"type": "order.paid", "data": {"id": "ord_2"}})
    assert other.path == ("in", "previous", "remember", "ignored")
    assert other.steps[1].output == {"key": "last-order", "value": "ord_1", "found": True}


def test_init_never_overwrites_the_pack(tmp_path):
    write_greentic_starter(tmp_path)
    (tmp_path / "pack" / "mocks.yaml").write_text("# mine\n")
    with pytest.raises(FileExistsError, match="mocks.yaml"):
        write_greentic_starter(tmp_path)
    assert (tmp_path / "pack" / "mocks.yaml").read_text() == "# mine\n"


def test_the_greentic_sample_reaches_the_starter_pack_on_the_ingress_route(tmp_path):
    from inspector.config import Config
    from inspector.samples import SAMPLES, build

    write_greentic_starter(tmp_path)
    fs = FlowSet.load("pack")
    request, _entry = build("greentic.order.created", Config(), tenant="acme", signed_url_base="http://127.0.0.1:8080")
    assert request.path == "/v1/events/ingress/webhook/acme"
    assert "greentic.order.created" not in SAMPLES  # every entry there runs against the documented flows
    [run] = glue.run_for_request(fs, request)
    assert run.status == "ok" and run.path == ("in", "previous", "remember", "notify", "answer")


def test_the_pack_flow_a_webhook_reaches_is_listed_with_its_ingress_url(tmp_path):
    # serve and the TUI's tunnel panel listed only documented triggers: a Greentic user saw
    # /events/webhook/demo/{event_type}, a URL that never runs their flows
    from inspector.pipeline import Pipeline
    from inspector.tunnel import trigger_urls

    write_greentic_starter(tmp_path)
    fs = FlowSet.load("pack")
    pipeline = Pipeline(None, fs, local_base="http://127.0.0.1:9")
    urls = [(t.flow, t.trigger_type, t.url) for t in trigger_urls(fs, pipeline, "acme", base="http://h:1")]
    assert urls == [("default", "ingress", "http://h:1/v1/events/ingress/webhook/acme/default/default")]


def test_serve_prints_the_ingress_url_of_the_pack(tmp_path):
    import queue
    import signal
    import subprocess
    import sys
    import threading

    write_greentic_starter(tmp_path)
    argv = [sys.executable, "-m", "inspector", "--flows", "pack", "--tunnel", "none", "serve", "--port", "0"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    said: list[str] = []
    try:
        while not any("← ingress" in line for line in said):
            said.append(lines.get(timeout=20))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    webhook = next(line for line in said if line.startswith("webhook URL: "))
    base = webhook.split()[-1].split("/events/")[0]
    assert said[-1].strip() == f"default ← ingress webhook: {base}/v1/events/ingress/webhook/demo/default/default"
