"""CLI manners (issue 18 item 7): `list` newest first by arrival time, read commands that
create nothing, `show` without Python's None. Usage errors: test_cli_usage.py; `run`'s
answer and exit code: test_cli_run_answer.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.store import Store
from tests.conftest import run_cli

# 1. list: newest first by arrival time


def capture(at: float, method: str = "POST") -> Capture:
    request = Request(method, "/events/webhook/demo/x", "", Headers([("A", "b")]), b"{}", "127.0.0.1", at)
    return Capture(None, request, "demo", "x", SignatureResult("unsigned"), Response(200, Headers(), b""))


# ids 1..6 in the order stored; arrival times out of that order, as imports and several
# writers make them (6 and 3 arrived at the same second).
ARRIVALS = [(1000.0, "POST"), (5000.0, "GET"), (3000.0, "POST"), (2000.0, "GET"), (4000.0, "POST"), (3000.0, "GET")]
BY_ARRIVAL = [2, 5, 6, 3, 4, 1]


@pytest.fixture
def mixed_store(tmp_path: Path) -> Path:
    path = tmp_path / "captures.sqlite3"
    store = Store(path)
    try:
        for at, method in ARRIVALS:
            store.insert(capture(1_700_000_000.0 + at, method))
    finally:
        store.close()
    return path


def listed(store: Path, *args: str) -> list[int]:
    r = run_cli("--store", str(store), "list", "--json", *args, cwd=store.parent)
    assert r.returncode == 0, r.stderr
    return [c["id"] for c in json.loads(r.stdout)]


def test_list_is_newest_first_by_arrival_with_filter_and_limit_agreeing(mixed_store):
    assert listed(mixed_store) == BY_ARRIVAL
    assert listed(mixed_store, "--limit", "3") == BY_ARRIVAL[:3]
    gets = [i for i in BY_ARRIVAL if ARRIVALS[i - 1][1] == "GET"]
    assert listed(mixed_store, "--filter", "method:GET") == gets
    assert listed(mixed_store, "--filter", "method:GET", "--limit", "2") == gets[:2]
    text = run_cli("--store", str(mixed_store), "list", cwd=mixed_store.parent).stdout.decode().splitlines()
    assert [int(line.split()[0]) for line in text[1:]] == BY_ARRIVAL


def test_a_store_without_the_arrival_index_lists_the_same_and_is_left_alone(mixed_store):
    with sqlite3.connect(mixed_store) as db:
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name='captures_received_at'").fetchone()
        db.execute("DROP INDEX captures_received_at")  # as a store from before it was added
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    before = mixed_store.read_bytes()
    assert listed(mixed_store) == BY_ARRIVAL
    assert mixed_store.read_bytes() == before
    Store(mixed_store).close()  # the first writer builds it
    with sqlite3.connect(mixed_store) as db:
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name='captures_received_at'").fetchone()
    db.close()


def test_iter_arrived_reads_in_batches_and_skips_nothing(mixed_store):
    store = Store(mixed_store, readonly=True)
    try:
        assert [c.id for c in store.iter_arrived(batch=4)] == BY_ARRIVAL
        assert [c.id for c in store.iter_arrived(batch=1)] == BY_ARRIVAL
    finally:
        store.close()


# 2. Read commands in an empty folder create nothing


def test_read_commands_in_an_empty_folder_create_nothing(tmp_path):
    for args, code in ((("list",), 0), (("list", "--json"), 0), (("show", "1"), 1), (("export", "1"), 1)):
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == code, r.stderr
        assert "no capture store at .inspector/captures.sqlite3" in r.stderr.decode()
        assert list(tmp_path.iterdir()) == [], args
    assert json.loads(run_cli("list", "--json", cwd=tmp_path).stdout) == []


# 3. show: no None, whatever a stored trace lacks


def test_show_prints_no_none_for_a_trace_of_nulls(tmp_path):
    path = tmp_path / "captures.sqlite3"
    request = Request("POST", "/events/webhook/demo/x", "", Headers([("A", "b")]), b"{}", None, 1_700_000_000.0)
    runs = (
        {
            "id": 1,
            "flow": None,
            "file": None,
            "status": None,
            "parent_id": None,
            "via_node": None,
            "duration_us": None,
            "steps": [
                {
                    "node": None,
                    "type": None,
                    "status": None,
                    "output": None,
                    "decision": [{"expression": None, "value": None}, {"expression": "x", "error": None}],
                    "error": {"message": None, "line": 3, "column": None},
                    "logs": [None],
                }
            ],
            "error": {"message": None},
        },
        {"id": 2, "flow": "child", "parent_id": 1, "via_node": None, "status": "error", "steps": [], "error": {"message": None}},
        {"id": 3, "flow": "g", "parent_id": None, "status": "error", "steps": [], "error": None},
    )
    sig = SignatureResult("error", scheme="x", algorithm=None, header=None, reason=None)
    store = Store(path)
    try:
        store.insert(Capture(None, request, None, None, sig, Response(500, Headers(), b"", None), runs=runs, origin="import"))
    finally:
        store.close()
    r = run_cli("--store", str(path), "show", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    assert "None" not in text
    assert "from –" in text and "tenant=–  event_type=–" in text and "flow – [–]" in text
