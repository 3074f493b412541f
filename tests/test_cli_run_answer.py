"""`run` (issue 18 item 7): the answer it prints carries no capture id (it stores nothing),
and when no flow runs it exits 1 with the reason on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_answers

RESPOND_WITH_AN_ID = """\
name: own_id
version: "1"
nodes:
  - id: respond
    type: http_response
    config:
      status: 201
      body:
        id: 1
        ok: true
triggers:
  - type: event
    event_type: "order.created"
    target: respond
"""

BROKEN = """\
name: refund
version: "1"
nodes:
  - id: a
    type: scirpt
triggers:
  - type: event
    event_type: refund
    target: a
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_answers(tmp_path, {"signatures": {"github": {"header": "X-Hub-Signature-256", "algorithm": "github", "secret": "s3cret"}}})
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "own_id.ygtc").write_text(RESPOND_WITH_AN_ID)
    (tmp_path / "flows" / "refund.ygtc").write_text(BROKEN)
    return tmp_path


def run_json(folder: Path, *args: str):
    r = run_cli("run", *args, "--json", cwd=folder)
    return r, json.loads(r.stdout)


def test_run_prints_no_capture_id_it_never_stored(folder):
    for event_type, status in (("nothing.here", 200), ("github", 401)):
        r, data = run_json(folder, "--event-type", event_type, "--body", "{}")
        response = data["response"]
        assert response["status"] == status
        assert "id" not in response["body"], response["body"]
        assert [n for n, _v in response["headers"]] == ["Content-Type"]
        r = run_cli("run", "--event-type", event_type, "--body", "{}", cwd=folder)
        text = r.stdout.decode()
        assert '"id"' not in text and "X-Inspector-Capture" not in text
        assert f"response: {status} {{" in text
    assert not (folder / ".inspector").exists()


def test_run_shows_an_id_a_flow_answers_with(folder):
    r, data = run_json(folder, "--event-type", "order.created", "--body", "{}")
    assert r.returncode == 0
    assert data["response"]["status"] == 201 and data["response"]["body"] == {"id": 1, "ok": True}
    r = run_cli("run", "--event-type", "order.created", "--body", "{}", cwd=folder)
    assert r.returncode == 0
    assert 'response: 201 {"id": 1, "ok": true}' in r.stdout.decode()


def test_run_with_no_flow_triggered_exits_1_with_the_reason(folder):
    r = run_cli("run", "--event-type", "nothing.here", "--body", "{}", cwd=folder)
    assert r.returncode == 1
    assert "error: no flow is triggered by event type nothing.here" in r.stderr.decode().splitlines()
    assert not any(line.startswith("no flow") for line in r.stdout.decode().splitlines())
    r, data = run_json(folder, "--event-type", "nothing.here", "--body", "{}")
    assert r.returncode == 1 and data["runs"] == []  # stdout is still the one JSON document
    assert "error: no flow is triggered by event type nothing.here" in r.stderr.decode().splitlines()


def test_run_names_the_flow_file_that_failed_to_load(folder):
    r = run_cli("run", "--event-type", "refund", "--body", "{}", cwd=folder)
    assert r.returncode == 1
    last = r.stderr.decode().splitlines()[-1]
    assert last.startswith("error: no flow is triggered by event type refund: flows/refund.ygtc failed to load (flows/refund.ygtc:5:11:"), (
        last
    )
