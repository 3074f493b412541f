"""The store under hostile conditions: rows SQLite refuses inside a group commit, traces too
large or too deep to keep, values that will not encode, a store file deleted or replaced
while serving, a full disk, a store locked by another process. Real SQLite files in
tmp_path, a real aiohttp server on port 0."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import textwrap

import aiohttp
import pytest

import inspector.store.codec as store_module
from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.store import Store, StoreError
from tests.harness import LiveServer, reread


def capture(n: int = 0, body: bytes = b"{}", runs: tuple = ()) -> Capture:
    req = Request("POST", f"/events/webhook/demo/e{n}", "", Headers([("X-N", str(n))]), body, "127.0.0.1", 1_700_000_000.0 + n)
    return Capture(None, req, "demo", f"e{n}", SignatureResult("unsigned"), runs=runs)


def run_with_output(output) -> dict:
    return {
        "id": 1,
        "flow": "f",
        "file": "f.ygtc",
        "trigger": "event:x",
        "parent_id": None,
        "via_node": None,
        "status": "ok",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_us": 5,
        "path": ["a"],
        "steps": [
            {
                "node": "a",
                "type": "script",
                "status": "ok",
                "started_at": "2026-01-01T00:00:00.000Z",
                "duration_us": 5,
                "output": output,
                "next": None,
                "decision": None,
                "error": None,
                "logs": ["said"],
            }
        ],
        "error": None,
        "warnings": [],
    }


def answer(cid: int) -> Response:
    return Response.json(200, {"id": cid})


# Item 2: one refused row never takes the rest of its group commit down


async def test_a_row_sqlite_refuses_fails_alone_and_its_group_still_commits(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(path, quiet_stock=64)
    store.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)  # SQLite's 1e9, scaled down
    try:
        await store.reserve_id()
        joined = [
            store.insert_grouped(capture(1), answer),
            store.insert_grouped(capture(2, runs=(run_with_output("x" * 150_000),)), answer),  # its trace is refused
            store.insert_grouped(capture(3, body=b"B" * 150_000), answer),  # its request is refused
            store.insert_grouped(capture(4), answer),
        ]
        results = await asyncio.gather(*(future for _, future in joined), return_exceptions=True)
    finally:
        store.close()
    ids = [c.id for c, _ in joined]
    assert results[0] is None and results[1] is None and results[3] is None, results
    assert isinstance(results[2], StoreError) and "could not store this request" in str(results[2]) and "too big" in str(results[2])
    assert reread(path, ids[0]).request.body == b"{}" and reread(path, ids[3]).request.body == b"{}"
    assert reread(path, ids[2]) is None  # its sender hears 503, never a 2xx
    slim = reread(path, ids[1])
    assert slim.request.body == b"{}" and slim.response.status == 200
    assert slim.runs[0].to_json()["steps"][0]["node"] == "a" and slim.runs[0].to_json()["steps"][0]["output"] is None
    assert any("SQLite refused" in n and "too big" in n for n in slim.notes), slim.notes


async def test_a_row_that_fills_the_disk_is_left_out_and_the_rest_of_its_group_is_redone(tmp_path):
    """SQLite abandons the whole transaction on SQLITE_FULL (not only the statement): the
    group is redone without the row that filled the disk, or with its slimmer fallback."""
    path = tmp_path / "s.sqlite3"
    store = Store(path, quiet_stock=64)
    try:
        await store.add(capture(0), answer)
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count={pages + 12}")  # ~48 KiB left
        await store.reserve_id()
        joined = [
            store.insert_grouped(capture(1), answer),
            store.insert_grouped(capture(2, body=b"B" * 200_000), answer),  # cannot fit at all
            store.insert_grouped(capture(3, runs=(run_with_output("t" * 200_000),)), answer),  # fits without its trace
            store.insert_grouped(capture(4), answer),
        ]
        results = await asyncio.gather(*(future for _, future in joined), return_exceptions=True)
    finally:
        store.close()
    ids = [c.id for c, _ in joined]
    assert [r is None for r in results] == [True, False, True, True], results
    assert "disk is full" in str(results[1])
    assert reread(path, ids[0]) is not None and reread(path, ids[3]) is not None and reread(path, ids[1]) is None
    slim = reread(path, ids[2])
    assert slim.runs[0].to_json()["steps"][0]["output"] is None and any("disk is full" in n for n in slim.notes), slim.notes


async def test_a_trace_update_sqlite_refuses_keeps_the_capture_and_says_why(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    try:
        first = await store.add(capture(1), answer)
        second = await store.add(capture(2), answer)
        store.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)
        done = await asyncio.gather(
            store.update_grouped(first.id, runs=[run_with_output("y" * 150_000)]),
            store.update_grouped(second.id, runs=[run_with_output("small")]),
        )
    finally:
        store.close()
    assert done == [None, None]
    refused = reread(path, first.id)
    assert refused.runs == () and refused.response.status == 200
    assert any("SQLite refused the flow trace" in n for n in refused.notes), refused.notes
    assert reread(path, second.id).runs[0].to_json()["steps"][0]["output"] == "small"


def test_a_trace_over_the_size_cap_is_stored_without_step_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_TRACE_CHARS", 10_000)
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    try:
        stored = store.insert(capture(1, runs=(run_with_output("z" * 20_000),)), answer)
        small = store.insert(capture(2, runs=(run_with_output("z" * 100),)), answer)
    finally:
        store.close()
    kept = reread(path, stored.id)
    assert (
        kept.runs[0].to_json()["status"] == "ok"
        and kept.runs[0].to_json()["steps"][0]["output"] is None
        and kept.runs[0].to_json()["steps"][0]["logs"] == []
    )
    assert any("more than the store keeps (10000)" in n for n in kept.notes), kept.notes
    assert stored.notes == kept.notes  # what the pipeline tells listeners is what was stored
    assert reread(path, small.id).runs[0].to_json()["steps"][0]["output"] == "z" * 100 and reread(path, small.id).notes == ()


async def test_a_trace_stored_after_the_answer_over_the_size_cap_adds_its_note(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_TRACE_CHARS", 10_000)
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    try:
        stored = await store.add(capture(1).with_(notes=("received in part",)), answer)
        await store.update_grouped(stored.id, runs=[run_with_output("w" * 20_000)])
    finally:
        store.close()
    kept = reread(path, stored.id)
    assert kept.runs[0].to_json()["steps"][0]["output"] is None
    assert kept.notes[0] == "received in part" and "more than the store keeps" in kept.notes[1], kept.notes


def test_a_trace_too_deep_to_write_is_stored_slim(tmp_path):
    deep: object = 1
    for _ in range(3000):
        deep = [deep]
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    try:
        stored = store.insert(capture(1, runs=(run_with_output(deep),)), answer)
    finally:
        store.close()
    kept = reread(path, stored.id)
    assert kept.response.status == 200 and kept.runs[0].to_json()["path"] == ["a"]
    assert any("could not be written as JSON" in n and "nested too deeply" in n for n in kept.notes), kept.notes


# A column that does not hold what this version writes is named in the damaged capture's note.
# The value is written by SQL under the column's name, so the test holds the reader to the
# table's real columns, not to its own idea of their order.
@pytest.mark.parametrize(
    "column, value",
    [
        *((name, "X'FF'") for name in ("method", "path", "query", "tenant", "event_type", "client", "origin")),
        *((name, "5") for name in ("body", "response_body")),
        *((name, "'not json'") for name in ("headers", "response_headers", "signature", "runs", "notes")),
        *((name, "'many'") for name in ("body_size", "response_status", "response_ms", "replay_of")),
    ],
)
def test_a_damaged_column_is_named_in_the_note(tmp_path, column, value):
    from inspector.store import damaged_row
    from inspector.store.codec import COLUMNS

    store = Store(tmp_path / "s.sqlite3")
    try:
        req = Request("POST", "/events/webhook/demo/e", "a=1", Headers([("X-N", "1")]), b"{}", "127.0.0.1", 1.7e9, truncated=True, size=9)
        kept = store.insert(Capture(None, req, "demo", "e", SignatureResult("unsigned"), origin="replay", replay_of=1), answer)
        store.db.execute(f"UPDATE captures SET {column} = {value} WHERE id = ?", (kept.id,))
        row = store.db.execute(f"SELECT {COLUMNS} FROM captures WHERE id = ?", (kept.id,)).fetchone()
    finally:
        store.close()
    read = damaged_row(row)
    assert read.notes[-1] == f"this stored capture is damaged: {column} could not be read as written"
    assert read.id == kept.id and read.request.received_at == 1.7e9


@pytest.mark.parametrize(
    "column, value",
    [
        *((name, "X'FF'") for name in ("method", "path", "query", "tenant", "event_type", "client", "origin")),
        ("body", "5"),
        ("response_body", "5"),
    ],
)
def test_a_text_column_holding_bytes_or_a_blob_holding_a_number_reads_as_damaged(tmp_path, column, value):
    """Read exactly, they passed into the capture as they were: list, show and export failed
    with an internal error on bytes where text belongs, and a body of 5 read as five NUL bytes."""
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    try:
        req = Request("POST", "/events/webhook/demo/e", "a=1", Headers([("X-N", "1")]), b"{}", "127.0.0.1", 1.7e9)
        kept = store.insert(Capture(None, req, "demo", "e", SignatureResult("unsigned")), answer)
        store.db.execute(f"UPDATE captures SET {column} = {value} WHERE id = ?", (kept.id,))
    finally:
        store.close()
    read = reread(path, kept.id)
    assert read.notes[-1] == f"this stored capture is damaged: {column} could not be read as written"
    texts = (read.request.method, read.request.path, read.request.query, read.tenant, read.event_type, read.request.client, read.origin)
    assert all(t is None or type(t) is str for t in texts), texts
    assert type(read.request.body) is bytes and type(read.response.body) is bytes
    assert b"\x00" not in read.request.body + read.response.body


# Item 4: anything that raises while storing keeps the request with a 500 and a note


class Server(LiveServer):
    """The echo flow on a store in tmp_path (or `store`), served on port 0; `post` sends JSON."""

    def __init__(self, tmp_path, store: Store | None = None):
        super().__init__(tmp_path, store=store or Store(tmp_path / "captures.sqlite3", quiet_stock=64))

    async def post(self, path="/events/webhook/demo/echo", body=b'{"a": 1}', headers=None):
        return await super().post(path, body, headers or {"Content-Type": "application/json"})


async def test_a_capture_that_will_not_encode_is_kept_with_a_500_that_says_why(tmp_path, monkeypatch):
    real = store_module.signature_text

    def planted(verdict):  # the signature verdict's JSON
        raise RuntimeError("planted encoding failure")

    monkeypatch.setattr(store_module, "signature_text", planted)
    async with Server(tmp_path) as s:
        status, raw, headers = await s.post(body=b'{"exact": "bytes"}')
        assert status == 500, raw
        data = json.loads(raw)
        cid = int(headers["X-Inspector-Capture"])
        assert data["id"] == cid and "planted encoding failure" in data["detail"]
        monkeypatch.setattr(store_module, "signature_text", real)
        kept = reread(s.store_path, cid)
        assert kept.request.body == b'{"exact": "bytes"}' and kept.response.status == 500
        assert kept.signature.status == "unsigned"
        assert any("planted encoding failure" in n for n in kept.notes), kept.notes


async def test_a_sender_gets_2xx_only_for_a_stored_row_and_others_are_unaffected(tmp_path):
    """Through the server: the request SQLite refuses is answered 503 saying why (its
    sender may retry); requests in the same group commits are answered and stored."""
    async with Server(tmp_path) as s:
        s.store.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 200_000)
        big = json.dumps({"pad": "p" * 250_000}).encode()
        answers = await asyncio.gather(*(s.post(body=big if i == 5 else json.dumps({"n": i}).encode()) for i in range(12)))
        for i, (status, raw, headers) in enumerate(answers):
            if i == 5:
                assert status == 503 and b"too big" in raw, raw
                assert "X-Inspector-Capture" not in headers
            else:
                assert status == 200, raw
                kept = reread(s.store_path, int(headers["X-Inspector-Capture"]))
                assert kept.request.body == json.dumps({"n": i}).encode()


# Item 6: the store file deleted or replaced while serving


def remove_store(path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def test_a_deleted_store_is_created_again_and_nothing_later_is_lost(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    said: list[str] = []
    store.notice = said.append
    try:
        before = store.insert(capture(1), answer)
        remove_store(path)  # rm .inspector/captures.sqlite3*
        after = store.insert(capture(2), answer)
        again = store.insert(capture(3), answer)
    finally:
        store.close()
    assert len(said) == 1 and "was deleted while in use" in said[0] and "new, empty capture store" in said[0], said
    assert reread(path, before.id) is None and after.id > before.id  # an id never names two captures
    assert reread(path, after.id).request.path == "/events/webhook/demo/e2" and reread(path, again.id) is not None


async def test_a_group_commit_into_a_deleted_store_is_written_again_before_anyone_is_answered(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(path, quiet_stock=64)
    said: list[str] = []
    store.notice = said.append
    try:
        first = await store.add(capture(1), answer)
        remove_store(path)
        stored = await asyncio.gather(*(store.add(capture(n), answer) for n in range(2, 8)))
        await store.update_grouped(stored[0].id, runs=[run_with_output("later")])
    finally:
        store.close()
    assert len(said) == 1, said
    assert reread(path, first.id) is None
    for c in stored:
        assert reread(path, c.id).request.headers.get("X-N") == c.request.headers.get("X-N")
    assert reread(path, stored[0].id).runs[0].to_json()["steps"][0]["output"] == "later"


def test_a_store_replaced_by_another_capture_store_goes_on_in_that_file(tmp_path):
    path, other = tmp_path / "s.sqlite3", tmp_path / "other.sqlite3"
    store = Store(path)
    said: list[str] = []
    store.notice = said.append
    try:
        store.insert(capture(1), answer)
        o = Store(other)
        kept = o.insert(capture(9), answer)
        o.close()
        os.replace(other, path)
        after = store.insert(capture(2), answer)
    finally:
        store.close()
    assert len(said) == 1 and "replaced by another file" in said[0], said
    assert reread(path, kept.id).request.headers.get("X-N") == "9" and reread(path, after.id).request.headers.get("X-N") == "2"


def test_a_store_replaced_by_a_file_that_is_not_a_store_refuses_writes_until_it_is_moved_away(tmp_path):
    path, foreign = tmp_path / "s.sqlite3", tmp_path / "foreign.sqlite3"
    store = Store(path)
    said: list[str] = []
    store.notice = said.append
    try:
        store.insert(capture(1), answer)
        db = sqlite3.connect(foreign)
        db.execute("CREATE TABLE x (a)")
        db.execute("PRAGMA user_version=1")  # another program's database
        db.commit()
        db.close()
        os.replace(foreign, path)
        with pytest.raises(StoreError, match="was replaced by another file while in use and cannot be opened again"):
            store.insert(capture(2), answer)
        with pytest.raises(StoreError, match="cannot be opened again"):
            store.insert(capture(3), answer)
        assert len(said) == 1 and said[0].startswith("error: ")
        os.unlink(path)  # the person moves the wrong file away
        store._broken_at = 0.0  # instead of waiting for the half-second retry
        after = store.insert(capture(4), answer)
    finally:
        store.close()
    assert "can be used again" in said[-1]
    assert reread(path, after.id).request.headers.get("X-N") == "4"


# Item 7: a full disk and a store another process holds locked: 503 saying why, one line each


async def test_a_full_disk_answers_503_saying_so_with_one_line_each(tmp_path, capsys):
    async with Server(tmp_path) as s:
        status, _, _ = await s.post()
        assert status == 200
        capsys.readouterr()
        # SQLite's own "database or disk is full", without filling a disk: no free page
        # left inside the file either (the dropped event_type index left one).
        s.store.db.execute("VACUUM")
        pages = s.store.db.execute("PRAGMA page_count").fetchone()[0]
        s.store.db.execute(f"PRAGMA max_page_count={pages}")
        answers = await asyncio.gather(*(s.post(body=json.dumps({"pad": "x" * 5000, "n": i}).encode()) for i in range(3)))
        for status, raw, _headers in answers:
            assert status == 503, raw
            data = json.loads(raw)
            assert "disk is full" in data["detail"] and "disk space" in data["hint"]
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 3 and all(
            line.startswith("error: could not capture POST /events/webhook/demo/echo; answered 503:") and "disk is full" in line
            for line in lines
        ), err
        assert "Traceback" not in err
        s.store.db.execute("PRAGMA max_page_count=1073741823")  # space again: captures again
        status, _, headers = await s.post(body=b'{"after": 1}')
        assert status == 200 and reread(s.store_path, int(headers["X-Inspector-Capture"])).request.body == b'{"after": 1}'


async def test_a_store_locked_by_another_process_answers_503_saying_so(tmp_path, capsys):
    store = Store(tmp_path / "captures.sqlite3")  # shares the store: each request reserves its id
    store.busy_seconds = 0.3
    async with Server(tmp_path, store) as s:
        other = sqlite3.connect(s.store_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer that does not let go
        try:
            status, raw, headers = await s.post()
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert status == 503 and "X-Inspector-Capture" not in headers
        data = json.loads(raw)
        assert "write lock" in data["detail"] and "another process" in data["hint"]
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "answered 503" in err and "write lock" in err and "Traceback" not in err
        status, _, _ = await s.post()
        assert status == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_goes_on_storing_after_its_store_is_deleted(tmp_path, workers):
    """`rm .inspector/captures.sqlite3*` while `serve` runs: every later acknowledged request
    is in the store at that path, and stderr says once (per process) what happened."""

    from tests.test_durability import start_serve

    store_path = tmp_path / ".inspector" / "captures.sqlite3"
    proc, url = start_serve(tmp_path, store_path, workers)
    try:

        async def send(tag: str, count: int) -> dict[int, bytes]:
            got = {}
            async with aiohttp.ClientSession() as session:
                for i in range(count):
                    body = json.dumps({"tag": tag, "n": i}).encode()
                    async with session.post(
                        url + "/events/webhook/demo/order.created", data=body, timeout=aiohttp.ClientTimeout(total=15)
                    ) as resp:
                        await resp.read()
                        assert resp.status == 200
                        got[int(resp.headers["X-Inspector-Capture"])] = body
            return got

        before = asyncio.run(send("before", 5))
        remove_store(store_path)
        after = asyncio.run(send("after", 20))
    finally:
        proc.terminate()
        proc.wait(15)
    err = proc.stderr.read()
    store = Store(store_path)
    try:
        assert {cid: store.get(cid).request.body for cid in after if store.get(cid)} == after
        assert all(store.get(cid) is None or store.get(cid).request.body != body for cid, body in before.items())
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        store.close()
    said = [line for line in err.splitlines() if "while in use" in line]
    assert 1 <= len(said) <= workers and all(str(store_path) in line for line in said), err
    assert "Traceback" not in err, err


def test_a_truncated_shm_file_is_grown_back_instead_of_killing_the_process(tmp_path):
    """SQLite maps `-shm`; cutting it (`truncate -s 0 captures.sqlite3-shm`) made the next
    commit die with SIGBUS (exit 135), and every capture in flight with it."""
    import subprocess
    import sys

    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(os.getcwd())!r})
        from inspector.store import Store
        from tests.test_hostile_store import capture
        store = Store({str(tmp_path / "s.sqlite3")!r})
        store.start_checkpointer(every=0.01)
        print(store.insert(capture(1)).id, flush=True)
        os.truncate({str(tmp_path / "s.sqlite3-shm")!r}, 0)
        print(store.insert(capture(2)).id, flush=True)
        print(store.insert(capture(3)).id, flush=True)
        store.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.split() == ["1", "2", "3"]
    assert "-shm was cut to 0 bytes by another program" in done.stderr and "Traceback" not in done.stderr
    db = sqlite3.connect(tmp_path / "s.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in db.execute("SELECT id FROM captures ORDER BY id")] == [1, 2, 3]
