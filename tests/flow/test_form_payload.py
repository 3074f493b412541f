"""Form-encoded deliveries that wrap a JSON document in a `payload` field (GitHub's
"application/x-www-form-urlencoded" setting, Slack's interactivity callbacks): flows see the
JSON as event.payload, the form's fields as event.form, and `show` says what it was."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import aiohttp

from inspector.config import load_config
from inspector.flow import Engine, FlowSet
from inspector.flow.engine import event_scope, form_json
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.samples import build
from inspector.store import Store
from tests.conftest import ROOT, run_cli

FORM = "application/x-www-form-urlencoded"


async def _deliver(tmp_path, request) -> tuple[int, dict, int, Store]:
    config = load_config(ROOT / "answers.example.json", env={})
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(ROOT / "flows")))
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(receiver.url + request.target, data=request.body, headers=list(request.headers)) as resp:
                status, answer = resp.status, await resp.json()
                cid = int(resp.headers["X-Inspector-Capture"])
        await pipeline.drain(5)
    finally:
        await receiver.stop()
    return status, answer, cid, store


async def test_a_form_encoded_github_push_counts_its_commits(tmp_path):
    config = load_config(ROOT / "answers.example.json", env={})
    request, entry = build("github.push", config, signed_url_base="http://127.0.0.1:8080", form=True)
    assert entry == "github"
    assert request.headers.get("content-type") == FORM and request.body.startswith(b"payload=%7B")
    status, answer, cid, store = await _deliver(tmp_path, request)
    capture = store.get(cid)
    assert capture.signature.status == "valid"  # signed over the raw form bytes, as GitHub does
    assert status == 200 and answer == {"ok": True, "result": "Received 3 commits"}
    run = capture.runs[0].to_json()
    assert run["status"] == "ok" and run["path"] == ["check_event", "handle_push", "ok"] and run["warnings"] == []
    store.close()

    r = run_cli("--store", str(tmp_path / "s.sqlite3"), "show", str(cid), cwd=tmp_path)
    text = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "form-encoded, JSON in `payload`" in text
    assert '"ref": "refs/heads/main"' in text  # the decoded document is shown, not only the escaped form


def test_event_payload_is_the_wrapped_json_and_event_form_keeps_the_fields():
    document = {"type": "block_actions", "actions": [{"action_id": "approve", "value": "42"}]}
    body = urlencode({"payload": json.dumps(document), "token": "legacy"}).encode()
    request = Request("POST", "/events/webhook/demo/slack", "", Headers([("Content-Type", FORM + "; charset=utf-8")]), body, "t", 0.0)
    capture = Capture(1, request, "demo", "slack", SignatureResult("unsigned"))
    event, warnings = event_scope(capture)
    assert event["payload"] == document and warnings == []
    assert event["form"] == {"payload": json.dumps(document), "token": "legacy"}
    assert event["body"] == body.decode()


def test_only_a_json_object_or_array_in_payload_is_unwrapped():
    assert form_json({"payload": "[1, 2]"}) == ([1, 2], None)
    assert form_json({"payload": "42"}) == (None, None)  # a plain form value
    assert form_json({"data": '{"a": 1}'}) == (None, None)  # only the field both providers use
    value, warning = form_json({"payload": '{"a": '})
    assert value is None and "form field `payload` starts like JSON but is not valid JSON" in warning


def test_run_unwraps_a_form_and_warns_when_the_payload_field_is_broken(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "slack.ygtc").write_text(
        "name: slack\nnodes:\n  - id: look\n    type: script\n    config:\n      script: |\n"
        '        format!("{} via {}", event.payload?.type ?? event.payload, event.form?.token ?? "-")\n'
        "triggers:\n  - type: event\n    event_type: slack\n"
    )
    form = urlencode({"payload": json.dumps({"type": "view_submission"}), "token": "t1"})
    args = ("--flows", str(flows), "run", "--event-type", "slack", "-H", f"Content-Type: {FORM}", "--json")
    r = run_cli(*args, "--body", form, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = json.loads(r.stdout)["runs"][0]
    assert run["steps"][0]["output"] == "view_submission via t1"

    r = run_cli(*args, "--body", "payload=%7Bbroken&token=t2", cwd=tmp_path)
    run = json.loads(r.stdout)["runs"][0]
    assert any("form field `payload` starts like JSON but is not valid JSON" in w for w in run["warnings"])


def test_send_form_is_for_samples_whose_provider_sends_forms(tmp_path):
    r = run_cli("send", "stripe.payment_intent.succeeded", "--form", cwd=tmp_path)
    assert r.returncode == 2 and b"no form-encoded version" in r.stderr and b"github.push" in r.stderr
    r = run_cli("send", cwd=tmp_path)
    assert b"github.push" in r.stdout and b"--form" in r.stdout
