"""The CLI with Greentic-shaped flows (issue #20): `init --greentic` writes a pack that `check`
accepts, printing per flow its entry node, entry points, mocked nodes and webhook URL; load
problems are printed at file:line:col."""

from __future__ import annotations

import json

from tests.conftest import run_cli

ENV = {"NGROK_AUTHTOKEN": ""}


def test_init_greentic_then_check_lists_each_flow_and_its_url(tmp_path):
    r = run_cli("init", "--greentic", cwd=tmp_path, env=ENV)
    assert r.returncode == 0, r.stderr
    assert b"wrote " in r.stdout and (tmp_path / "pack" / "pack.yaml").is_file()
    assert not (tmp_path / "answers.json").exists()  # the pack only
    r = run_cli("check", "--flows", "pack", "--port", "8123", cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 0, (text, r.stderr)
    assert "flows: 2 ok (pack)" in text
    assert "greentic flows (source pack):" in text
    assert "  default (events) pack/flows/on_webhook.ygtc: entry node in; entrypoints: default" in text
    assert "    webhook: http://127.0.0.1:8123/v1/events/ingress/webhook/demo/default/default" in text
    assert "  notify (messaging) pack/flows/notify.ygtc: entry node post; entrypoints: none" in text
    assert "    mocked: post (chat-post)" in text
    r = run_cli("init", "--greentic", cwd=tmp_path, env=ENV)
    assert r.returncode == 2 and b"never overwrites" in r.stderr


def test_check_prints_greentic_problems_at_their_position(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "bad.ygtc").write_text(
        "id: bad\ntype: events\nnodes:\n  in:\n    emit.log: {}\n    routing:\n      - to: nowhere\n"
    )
    r = run_cli("check", cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 1
    assert "flows/bad.ygtc:7:" in text and "nowhere" in text
    assert "flows: 0 ok, 1 invalid (flows)" in text


def test_run_runs_greentic_flows_in_process_and_prints_the_trace(tmp_path):
    assert run_cli("init", "--greentic", cwd=tmp_path, env=ENV).returncode == 0
    body = '{"type": "order.created", "data": {"id": "ord_9", "total": "3.00"}}'
    r = run_cli("run", "--flows", "pack", "--event-type", "default", "--body", body, cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 0, (text, r.stderr)
    assert "flows: 2 loaded from pack" in r.stderr.decode()
    lines = text.splitlines()
    assert lines[1].startswith("flow default [ok]")
    assert lines[2].startswith("  in (emit.log) ok  next: previous  → ")
    assert '  remember (state.set) ok  next: notify  [in.event.payload.type == "order.created" → True]' in text
    assert "    notify/post (component.exec) mocked  next: done  [mocked: chat-post, output from pack/mocks.yaml:5:13]" in text
    assert (
        '      input: {"component": "chat-post", "operation": "send", "input": {"channel": "orders", "text": "New order ord_9 (3.00)"}}'
        in text
    )
    assert lines[-1] == "response: 200 accepted"
    r = run_cli("run", "--flows", "pack", "--event-type", "default", "--body", body, "--json", cwd=tmp_path, env=ENV)
    data = json.loads(r.stdout)
    assert data["response"]["status"] == 200 and data["response"]["body"] == "accepted"
    steps = data["runs"][0]["steps"]
    assert [(s["flow"], s["node"], s["status"]) for s in steps][3:6] == [
        ("default", "notify", "ok"),
        ("notify", "post", "mocked"),
        ("notify", "done", "ok"),
    ]
    assert steps[4]["mocked"] == {"component": "chat-post", "source": "pack/mocks.yaml:5:13"}
    assert steps[4]["at"] == "pack/flows/notify.ygtc:6:3"


async def test_show_prints_a_stored_greentic_trace_node_by_node(tmp_path, monkeypatch):
    from inspector.config import Config
    from inspector.flow import Engine, FlowSet
    from inspector.model import Headers, Request
    from inspector.pipeline import Pipeline
    from inspector.starter.greentic import write_greentic_starter
    from inspector.store import Store

    monkeypatch.chdir(tmp_path)
    write_greentic_starter(tmp_path)
    store = Store(tmp_path / "captures.sqlite3")
    pipeline = Pipeline(Config(), store, engine=Engine(FlowSet.load("pack")))
    body = json.dumps({"type": "order.created", "data": {"id": "ord_5", "total": "1.00"}}).encode()
    request = Request("POST", "/v1/events/ingress/webhook/demo/default/default", "", Headers([("Content-Type", "application/json")]), body)
    capture = await pipeline.handle(request, wait=True)
    store.close()
    r = run_cli("show", str(capture.id), "--store", "captures.sqlite3", cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "response: 200" in text and "flow default [ok]" in text
    assert "    notify/post (component.exec) mocked  next: done  [mocked: chat-post, output from pack/mocks.yaml:5:13]" in text
    r = run_cli("show", str(capture.id), "--store", "captures.sqlite3", "--json", cwd=tmp_path, env=ENV)
    run = json.loads(r.stdout)["runs"][0]
    assert run["path"] == ["in", "previous", "remember", "notify", "answer"]
    assert run["steps"][4]["operation"] == "component.exec" and run["steps"][4]["input"]["input"]["text"] == "New order ord_5 (1.00)"


def test_a_mocked_node_without_a_mock_says_mocks_yaml_has_no_entry(tmp_path):
    # it said "output from nowhere: {}", which did not say where to put one
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "lookup.ygtc").write_text(
        "id: lookup\ntype: messaging\nnodes:\n  in:\n    mcp:\n      server: github\n      tool: get_issue\n    routing:\n      - out: true\n"
    )
    r = run_cli("run", "--event-type", "lookup", "--body", "{}", cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 0, (text, r.stderr)
    assert "  in (mcp) mocked  [mocked: mcp, no entry in mocks.yaml: output {}]  → {}" in text
