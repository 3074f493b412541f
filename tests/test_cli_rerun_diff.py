"""`webhook-inspector rerun` and `diff` as processes, on a store a real server filled with the
bundled samples; the flows and answers.json are copies edited per test."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from inspector.config import load_config
from inspector.flow import Engine, FlowSet
from inspector.model import Request
from inspector.pipeline import REPLAY_HEADER, Pipeline
from inspector.samples import build
from inspector.store import Store
from tests.conftest import ROOT, run_cli
from tests.test_rerun import record_samples


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli_recorded")
    path = folder / "captures.sqlite3"
    asyncio.run(record_samples(path, ROOT / "answers.example.json", ROOT / "flows"))
    return path


@pytest.fixture
def project(tmp_path, recorded) -> Path:
    """A project folder: flows and answers.json to edit, and a copy of the recorded store."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copy(ROOT / "answers.example.json", tmp_path / "answers.json")
    (tmp_path / ".inspector").mkdir()
    shutil.copy(recorded, tmp_path / ".inspector" / "captures.sqlite3")
    return tmp_path


def ids_by_type(project: Path) -> dict[str, int]:
    store = Store(project / ".inspector" / "captures.sqlite3", readonly=True)
    try:
        out = {}
        for c in store.iter_arrived():
            out[c.request.headers.get("x-inspector-sample") or f"{c.event_type}.{c.request.headers.get('x-github-event')}"] = c.id
        return out
    finally:
        store.close()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def push_id(project: Path) -> int:
    return next(v for k, v in ids_by_type(project).items() if k.endswith("push"))


# rerun


def test_rerun_of_unchanged_flows_is_all_same_exit_0(project):
    r = run_cli("rerun", cwd=project)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["ID", "VERDICT", "EVENT", "ANSWER", "DIFFERENCES"]
    assert len(lines) == 1 + 8 + 1  # one line per capture, then the summary
    assert lines[-1] == "8 same, 0 changed, 0 fixed, 0 regressed"


def test_rerun_says_what_changed_and_exits_0(project):
    edit(project / "flows" / "github.ygtc", 'format!("Received {} commits", commits.len())', 'format!("Got {} commits", commits.len())')
    r = run_cli("rerun", cwd=project)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    line = next(x for x in text.splitlines() if x.split()[:1] == [str(push_id(project))])
    assert "changed" in line and 'response.body.result: "Received 3 commits" → "Got 3 commits"' in line
    assert text.splitlines()[-1] == "7 same, 1 changed, 0 fixed, 0 regressed"


def test_rerun_exits_1_when_anything_regressed(project):
    edit(project / "flows" / "github.ygtc", 'format!("Received {} commits", commits.len())', "nope(commits)")
    r = run_cli("rerun", cwd=project)
    assert r.returncode == 1
    assert r.stdout.decode().splitlines()[-1] == "7 same, 0 changed, 0 fixed, 1 regressed"
    # The line says what broke, not only the 500 it caused.
    line = next(x for x in r.stdout.decode().splitlines() if "regressed" in x.split()[:2])
    assert "200 → 500  flow github failed at handle_push: flows/github.ygtc:22:9: unknown function 'nope'" in line
    # Only the others: nothing regressed among them.
    others = [str(i) for i in range(1, 9) if i != push_id(project)]
    r = run_cli("rerun", *others, cwd=project)
    assert r.returncode == 0 and r.stdout.decode().splitlines()[-1] == "7 same, 0 changed, 0 fixed, 0 regressed"


def test_rerun_json_shape(project):
    edit(project / "flows" / "github.ygtc", "next: handle_push", "next: handle_ping")
    r = run_cli("rerun", "--json", "--filter", "type:github", cwd=project)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"results", "summary"}
    assert data["summary"] == {"same": 2, "changed": 1, "fixed": 0, "regressed": 0}
    push = next(x for x in data["results"] if x["id"] == push_id(project))
    assert set(push) == {"id", "verdict", "before", "after", "differences"}
    assert push["verdict"] == "changed"
    assert set(push["before"]) == {"status", "body", "signature", "flows"}
    assert {
        "where": "flows.github.path",
        "before": ["check_event", "handle_push", "ok"],
        "after": ["check_event", "handle_ping", "ok"],
    } in push["differences"]
    assert all(set(d) == {"where", "before", "after"} for d in push["differences"])


def test_rerun_ignore_and_limit(project):
    edit(project / "flows" / "github.ygtc", 'format!("Received {} commits", commits.len())', 'format!("Got {} commits", commits.len())')
    r = run_cli("rerun", "--ignore", "response.body.result", cwd=project)
    assert r.returncode == 0 and r.stdout.decode().splitlines()[-1] == "8 same, 0 changed, 0 fixed, 0 regressed"
    r = run_cli("rerun", "--limit", "3", "--json", cwd=project)
    assert len(json.loads(r.stdout)["results"]) == 3


@pytest.mark.parametrize(
    "argv, code, says",
    [
        (["rerun", "999"], 2, "error: no capture 999 in .inspector/captures.sqlite3; see `webhook-inspector list`"),
        (["rerun", "--filter", "type:nothing.here"], 2, "error: no capture matches --filter 'type:nothing.here'"),
        (["rerun", "--filter", "sig:maybe"], 2, "sig:maybe: unknown status"),
        (["rerun", "--ignore", "body.x"], 2, "--ignore 'body.x': a path starts with response, signature or flows"),
        (["rerun", "abc"], 2, "'abc' is not a capture id"),
        (["diff", "1", "999"], 2, "error: no capture 999 in .inspector/captures.sqlite3"),
        (["diff", "1"], 2, "error: capture 1 is no replay; name the capture to compare it with: `webhook-inspector diff 1 B`"),
    ],
)
def test_clear_errors(project, argv, code, says):
    r = run_cli(*argv, cwd=project)
    assert r.returncode == code
    assert says in r.stderr.decode()
    assert r.stdout == b""


def test_rerun_on_an_empty_store_says_so(tmp_path):
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    r = run_cli("rerun", cwd=tmp_path)
    assert r.returncode == 0
    assert "nothing to rerun" in r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["0 same, 0 changed, 0 fixed, 0 regressed"]
    assert not (tmp_path / ".inspector").exists()  # a rerun creates no store


def test_rerun_stores_nothing(project):
    before = ids_by_type(project)
    run_cli("rerun", cwd=project)
    assert ids_by_type(project) == before


# diff


def test_diff_of_a_capture_with_itself_is_equal(project):
    r = run_cli("diff", "1", "1", cwd=project)
    assert r.returncode == 0 and "are the same" in r.stdout.decode()
    r = run_cli("diff", "1", "1", "--json", cwd=project)
    assert r.returncode == 0 and json.loads(r.stdout) == {"equal": True, "differences": []}


def test_diff_of_two_deliveries(project):
    ids = ids_by_type(project)
    push = next(v for k, v in ids.items() if k.endswith("push"))
    ping = next(v for k, v in ids.items() if k.endswith("ping"))
    r = run_cli("diff", str(push), str(ping), cwd=project)
    assert r.returncode == 1
    text = r.stdout.decode()
    assert "headers that change with every delivery differ (--all-headers lists them): X-GitHub-Delivery" in text
    assert '  headers.x-github-event\n    a: "push"\n    b: "ping"' in text
    assert "  flows.github.path\n" in text
    r = run_cli("diff", str(push), str(ping), "--json", "--all-headers", cwd=project)
    data = json.loads(r.stdout)
    assert data["equal"] is False
    assert all(set(d) == {"where", "a", "b"} for d in data["differences"])
    wheres = [d["where"] for d in data["differences"]]
    assert "headers.x-github-delivery" in wheres and "headers.volatile" not in wheres
    assert {"where": "$.zen", "a": None, "b": "Keep it logically awesome."} in data["differences"]


async def _replayed(project: Path) -> tuple[int, int]:
    """An original and a replay of it with an edited body and a secret header, stored by the pipeline."""
    config = load_config(project / "answers.json", env={})
    store = Store(project / ".inspector" / "captures.sqlite3")
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(project / "flows")))
    request, _ = build("generic.order.created", config, signed_url_base=pipeline.base_url, mark=False)
    original = await pipeline.handle(request, wait=True)
    body = json.loads(request.body)
    body["order_id"] = "changed-order"
    headers = request.headers.with_set(REPLAY_HEADER, str(original.id)).with_set("Authorization", "Bearer sk_live_topsecretvalue123")
    replay = await pipeline.handle(Request("POST", request.path, "", headers, json.dumps(body).encode()), wait=True)
    await pipeline.drain(5)
    store.close()
    return original.id, replay.id


def test_diff_of_a_replay_and_its_original_masks_secrets(project):
    original, replay = asyncio.run(_replayed(project))
    r = run_cli("diff", str(replay), "--json", cwd=project)
    assert r.returncode == 1, r.stderr
    data = json.loads(r.stdout)
    text = r.stdout.decode()
    assert "topsecretvalue" not in text
    auth = next(d for d in data["differences"] if d["where"] == "headers.authorization")
    assert auth["a"] is not None and auth["b"] is None
    assert any(d["where"] == "$.order_id" and d["a"] == "changed-order" for d in data["differences"])
    r2 = run_cli("diff", str(replay), str(original), "--json", cwd=project)
    assert json.loads(r2.stdout) == data
