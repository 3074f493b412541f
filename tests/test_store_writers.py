"""Several writers on one store (serve --workers, the TUI beside serve, CLI imports): ids
reserved in blocks, group commits that never block the event loop on another writer's lock,
nothing lost, and ids given back on close."""

import asyncio
import multiprocessing
import sqlite3
import time

import pytest

from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.store import BUSY_GROUP, SERVER_STOCK, Store, StoreError


def capture(tag: str, body: bytes = b"{}") -> Capture:
    req = Request("POST", f"/events/webhook/demo/{tag}", "", Headers([("X-Tag", tag)]), body, "127.0.0.1", time.time())
    return Capture(None, req, "demo", tag, SignatureResult("unsigned"))


def rows(path) -> list[tuple[int, str, bytes]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, event_type, body FROM captures ORDER BY id").fetchall()
    finally:
        db.close()


def test_one_writer_ids_are_contiguous_across_sessions(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    assert [store.insert(capture(f"a{i}")).id for i in range(3)] == [1, 2, 3]
    store.close()  # the unused rest of the reserved block goes back
    store = Store(path)
    assert store.insert(capture("b")).id == 4
    store.close()
    assert [r[0] for r in rows(path)] == [1, 2, 3, 4]


async def test_two_writers_interleave_and_lose_nothing(tmp_path):
    path = tmp_path / "s.sqlite3"
    first, second = Store(path), Store(path)
    done = []
    for i in range(40 * BUSY_GROUP):  # busy: ids come from stocks, topped up many times
        for name, store in (("p", first), ("q", second)):
            stored, committed = store.insert_grouped(capture(f"{name}{i}", body=f"{name}{i}".encode()))
            done.append((stored, committed))
        if i % 7 == 0:
            await asyncio.sleep(0)  # commit groups now and then, as a busy loop does
    await asyncio.gather(*(c for _, c in done))
    ids = [s.id for s, _ in done]
    assert len(set(ids)) == len(ids)
    stored = {r[0]: (r[1], r[2]) for r in rows(path)}
    assert {s.id: (s.event_type, s.request.body) for s, _ in done} == stored
    for name in "pq":  # one writer's ids follow its arrival order
        own = [s.id for s, _ in done if s.event_type.startswith(name)]
        assert own == sorted(own)
    first.close()
    second.close()


async def test_quiet_writers_number_captures_in_arrival_order(tmp_path):
    """Two processes taking turns at a quiet pace: ids follow the order of arrival."""
    path = tmp_path / "s.sqlite3"
    stores = [Store(path), Store(path)]
    order = []
    for i in range(30):
        store = stores[(i * 7 // 3) % 2]  # an irregular alternation
        stored, committed = store.insert_grouped(capture(f"n{i}"))
        await committed
        order.append(stored.id)
    assert order == sorted(order)
    for store in stores:
        store.close()
    assert [r[0] for r in rows(path)] == list(range(1, 31))  # and nothing is skipped


async def store_as_the_server_does(store: Store, c: Capture) -> Capture:
    await store.reserve_id()
    stored, committed = store.insert_grouped(c)
    await committed
    return stored


def count_writes(store: Store) -> list[None]:
    """From now on, one item per write transaction the store attempts."""
    attempts: list[None] = []
    write = store._write

    def counted(*args, **kwargs):
        attempts.append(None)
        return write(*args, **kwargs)

    store._write = counted
    return attempts


@pytest.mark.parametrize("stocked", [False, True])
async def test_a_locked_store_does_not_block_the_loop(tmp_path, stocked):
    """Whether the request must reserve its id (a worker's store) or has one in stock (a
    lone server's, just used), it waits for another process's lock without stopping the
    event loop: in reserve_id, or in the group commit."""
    path = tmp_path / "s.sqlite3"
    store = Store(path, quiet_stock=SERVER_STOCK if stocked else 0)
    await store_as_the_server_does(store, capture("first"))
    assert (store._stock() > 0) == stocked
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for a while
    attempts = count_writes(store)
    task = asyncio.ensure_future(store_as_the_server_does(store, capture("second")))
    ticks = 0
    started = time.perf_counter()
    while time.perf_counter() - started < 0.4:
        await asyncio.sleep(0.005)
        ticks += 1
    assert ticks > 20, "the event loop was blocked while the store was locked"
    assert not task.done()
    assert bool(store._waiters) == stocked  # which of the two waits
    # It tries again often at first, then every 20 ms: not 800 times in 0.4 s.
    assert 5 < len(attempts) < 80
    other.execute("COMMIT")
    stored = await asyncio.wait_for(task, 2)
    assert [r[1] for r in rows(path)] == ["first", "second"]
    assert stored.id == 2
    store.close()


@pytest.mark.parametrize("stocked", [False, True])
async def test_a_lock_held_too_long_fails_the_waiting_requests_clearly(tmp_path, stocked):
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    store.insert(capture("first"))
    if stocked:
        store._write([], blocking=True, reserve=5)
    store.busy_seconds = 0.1
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="write lock"):
        await asyncio.wait_for(store_as_the_server_does(store, capture("second")), 5)
    other.execute("ROLLBACK")
    # The store still works afterwards.
    await asyncio.wait_for(store_as_the_server_does(store, capture("third")), 2)
    assert [r[1] for r in rows(path)] == ["first", "third"]
    store.close()


def test_a_writer_beside_a_server_keeps_ids_unique(tmp_path):
    """The TUI or `import` writes with insert() while serve holds a reserved block."""
    path = tmp_path / "s.sqlite3"
    server, tui = Store(path), Store(path)

    async def serve_some(n):
        pairs = [server.insert_grouped(capture(f"s{i}")) for i in range(n)]
        await asyncio.gather(*(c for _, c in pairs))
        return [s.id for s, _ in pairs]

    served = asyncio.run(serve_some(5))
    imported = [tui.insert(capture(f"t{i}")).id for i in range(5)]
    served += asyncio.run(serve_some(5))
    assert len(set(served + imported)) == 15
    assert served == sorted(served) and imported == sorted(imported)
    server.close()
    tui.close()
    assert len(rows(path)) == 15


def _write_from_a_process(path: str, tag: str, count: int) -> None:
    async def main():
        store = Store(path)
        pending = []
        for i in range(count):
            pending.append(store.insert_grouped(capture(f"{tag}{i:04d}", body=f"{tag}-{i}".encode()))[1])
            if i % 5 == 4:
                await asyncio.sleep(0)
        await asyncio.gather(*pending)
        store.close()

    asyncio.run(main())


def test_two_processes_write_one_store(tmp_path):
    path = str(tmp_path / "s.sqlite3")
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_from_a_process, args=(path, tag, 400)) for tag in "xy"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    found = rows(path)
    assert len(found) == 800
    for tag in "xy":
        own = [(cid, event) for cid, event, _ in found if event.startswith(tag)]
        assert [e for _, e in own] == sorted(e for _, e in own)  # arrival order within a writer
        assert {body for _, event, body in found if event.startswith(tag)} == {f"{tag}-{i}".encode() for i in range(400)}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_decide_that_fails_leaves_the_group_alone(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Store(path)

    def broken(cid):
        raise ValueError("flow engine bug")

    async def main():
        _, good = store.insert_grouped(capture("good"))
        with pytest.raises(ValueError):
            store.insert_grouped(capture("bad"), broken)
        _, also = store.insert_grouped(capture("also"), lambda cid: Response.json(200, {"id": cid}))
        await asyncio.gather(good, also)

    asyncio.run(main())
    assert [r[1] for r in rows(path)] == ["good", "also"]
    store.close()


async def test_ids_left_from_a_burst_are_not_used_after_others_numbered_past_them(tmp_path):
    """Worker A takes a burst and keeps a stock of ids; the light traffic after it lands on
    worker B. A's next capture must still be numbered after B's, not with A's old ids."""
    path = tmp_path / "s.sqlite3"
    a, b = Store(path), Store(path)
    await asyncio.gather(*(store_as_the_server_does(a, capture(f"burst{i}")) for i in range(2 * BUSY_GROUP)))
    assert a._stock() > 0
    quiet = [await store_as_the_server_does(b, capture(f"quiet{i}")) for i in range(20)]
    await asyncio.sleep(0.06)  # A has been idle past STALE_STOCK_SECONDS (0.01 s)
    late = await store_as_the_server_does(a, capture("late"))
    assert late.id > max(c.id for c in quiet)
    # A small group on A (traffic is light now) drops what stock it has left behind B.
    b_again = await store_as_the_server_does(b, capture("b-again"))
    later = await store_as_the_server_does(a, capture("later"))
    assert later.id > b_again.id
    a.close()
    b.close()


@pytest.mark.parametrize("trace_committed", [False, True])
async def test_a_lone_server_that_idled_numbers_after_what_others_stored_meanwhile(tmp_path, monkeypatch, trace_committed):
    """`serve` alone keeps SERVER_STOCK ids in stock. While it idles, `import` (another
    writer) stores captures; the server's next capture must be numbered after them, or
    retention by id would treat the newest capture as one of the oldest. A flow trace
    committed meanwhile (an update, no new capture) does not make the stock fresh."""
    import inspector.store.ids as store_module

    monkeypatch.setattr(store_module, "LONE_STALE_SECONDS", 0.05)
    path = tmp_path / "s.sqlite3"
    server = Store(path, quiet_stock=SERVER_STOCK)
    first = await store_as_the_server_does(server, capture("first"))
    assert server._stock() > 0
    importer = Store(path)
    imported = [importer.insert(capture(f"imported{i}")).id for i in range(5)]
    importer.close()
    await asyncio.sleep(0.1)
    if trace_committed:
        await server.update_grouped(first.id, runs=[{"flow": "slow", "status": "ok"}])
    late = await store_as_the_server_does(server, capture("late"))
    assert late.id > max(imported) > first.id
    # Busy again: the next ones come from the stock, with no check and no reservation each.
    writes = count_writes(server)
    more = await asyncio.gather(*(store_as_the_server_does(server, capture(f"m{i}")) for i in range(10)))
    assert sorted(c.id for c in more)[0] > late.id
    assert len(writes) == 1  # the group's own commit
    server.close()
    assert len({r[0] for r in rows(path)}) == 17


async def test_retention_keeps_a_capture_just_acknowledged_whatever_its_id(tmp_path):
    path = tmp_path / "s.sqlite3"
    a = Store(path, max_captures=3)
    old = capture("old")
    old = old.with_(request=old.request.__class__(**{**old.request.__dict__, "received_at": time.time() - 3600}))
    first = a.insert(old)
    recent = [a.insert(capture(f"new{i}")) for i in range(5)]
    # Number a fresh capture below the others, as a stale stock would.
    a.db.execute("UPDATE captures SET id=0 WHERE id=?", (recent[0].id,))
    assert a.enforce_retention() == 1  # only the hour-old one goes
    assert a.get(first.id) is None and a.get(0) is not None
    a.close()


def test_a_reservation_that_fails_to_commit_is_forgotten(tmp_path):
    """The COMMIT of a reservation fails (disk full): the writer must not keep those ids, or
    they would collide with the next writer's."""

    class FailingCommit:
        def __init__(self, db):
            self._db, self.fail = db, True

        def execute(self, sql, *args):
            if self.fail and sql == "COMMIT":
                self.fail = False
                raise sqlite3.OperationalError("database or disk is full")
            return self._db.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._db, name)

    path = tmp_path / "s.sqlite3"
    a, b = Store(path), Store(path)
    a.db = FailingCommit(a.db)
    with pytest.raises(sqlite3.Error):
        a.insert(capture("a-fails"))
    assert a._stock() == 0
    from_b = b.insert(capture("b"))
    from_a = a.insert(capture("a"))
    assert from_a.id != from_b.id
    assert sorted(r[1] for r in rows(path)) == ["a", "b"]
    a.close()
    b.close()


async def test_a_group_of_trace_updates_leaves_a_busy_writers_stock_alone(tmp_path):
    """Traces stored after the answer make group commits of UPDATEs only: they say nothing
    about the traffic, and must not cost the next burst one reservation per request."""
    store = Store(tmp_path / "s.sqlite3")  # a serve worker's: no quiet stock
    first = await asyncio.gather(*(store_as_the_server_does(store, capture(f"a{i}")) for i in range(2 * BUSY_GROUP)))
    await asyncio.gather(*(store_as_the_server_does(store, capture(f"b{i}")) for i in range(2 * BUSY_GROUP)))
    assert store._stock() > 0
    await store.update_grouped(first[0].id, runs=[{"flow": "f"}])
    assert store._stock() > 0
    writes = count_writes(store)
    await asyncio.gather(*(store_as_the_server_does(store, capture(f"c{i}")) for i in range(2 * BUSY_GROUP)))
    assert len(writes) <= 2
    store.close()
