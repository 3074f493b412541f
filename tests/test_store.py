import sqlite3

import pytest

from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.store import SCHEMA_VERSION, Store, StoreError
from inspector.store.schema import MIGRATIONS


def capture(n=0, body=b"{}"):
    req = Request("POST", f"/events/webhook/demo/e{n}", "a=1", Headers([("X-A", "1"), ("x-a", "2")]), body, "127.0.0.1", 1700000000.0 + n)
    return Capture(None, req, "demo", f"e{n}", SignatureResult("valid", "github", "sha256", "X-Hub-Signature-256", "ok", ("h",)))


def test_round_trip_and_response_in_same_transaction(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    stored = store.insert(capture(body=b"\x00\xff"), lambda cid: Response.json(200, {"id": cid}))
    again = Store(tmp_path / "s.sqlite3").get(stored.id)
    assert again.request == stored.request
    assert again.response.status == 200 and again.response.body_value() == {"id": stored.id}
    assert again.signature == stored.signature


def test_wal_mode(tmp_path):
    Store(tmp_path / "s.sqlite3")
    db = sqlite3.connect(tmp_path / "s.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_not_sqlite_is_refused_clearly(tmp_path):
    bad = tmp_path / "s.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as exc:
        Store(bad)
    assert str(bad) in str(exc.value) and "--store" in str(exc.value)
    assert bad.read_bytes() == b"this is not a database" * 100  # nothing lost


def test_other_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE x (a)")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not a capture store"):
        Store(path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer webhook-inspector"):
        Store(path)


def test_retention_keeps_the_newest(tmp_path):
    store = Store(tmp_path / "s.sqlite3", max_captures=10)
    for i in range(25):
        store.insert(capture(i))
    store.enforce_retention()
    ids = store.ids()
    assert len(ids) == 10 and ids[-1] == 25 and ids[0] == 16


def test_retention_runs_automatically(tmp_path):
    store = Store(tmp_path / "s.sqlite3", max_captures=100)
    for i in range(1000):
        store.insert(capture(i))
    assert store.count() == 100


def test_retention_finds_what_to_drop_by_id_not_by_scanning_every_old_capture(tmp_path):
    # It visited every capture older than RETENTION_GRACE through the received_at index:
    # 10 ms per 50,000 captures, every 1,000 inserts, on the event loop.
    from inspector.store.commit import RETENTION_DELETE

    store = Store(tmp_path / "s.sqlite3")
    plan = " ".join(str(row[-1]) for row in store.db.execute("EXPLAIN QUERY PLAN " + RETENTION_DELETE, (1, 2.0)))
    assert "INTEGER PRIMARY KEY" in plan and "received_at" not in plan, plan
    store.close()


def test_a_writer_drops_the_unused_event_type_index_and_keeps_the_schema_version(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):  # a store as the first version made it
        db.execute(statement)
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    store = Store(path)
    store.insert(capture(1))
    store.close()
    db = sqlite3.connect(path)
    indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "captures_event_type" not in indexes and "captures_received_at" in indexes
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
    db.close()


def test_iter_newest_pages_and_update(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    for i in range(7):
        store.insert(capture(i))
    assert [c.id for c in store.iter_newest(batch=3)] == [7, 6, 5, 4, 3, 2, 1]
    store.update(3, runs=[{"flow": "f", "status": "ok", "path": ["a"]}], response=Response.json(202, {}))
    c = store.get(3)
    assert c.flows_summary() == [{"flow": "f", "status": "ok", "path": ["a"]}] and c.response.status == 202
    assert [c.id for c in store.newer_than(5)] == [6, 7]


def test_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="--store"):
        Store(blocker / "sub" / "s.sqlite3")
