"""StoreWatcher: what other connections write to a store, read cheaply (issue #17 item 3)."""

import sqlite3
import time

import pytest

from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.store import NoStore, Store
from inspector.store.watch import HOLE_SECONDS, StoreWatcher


def capture(n=0, origin="live"):
    req = Request("POST", f"/events/webhook/demo/e{n}", "", Headers([("X-A", "1")]), b"{}", "127.0.0.1", 1700000000.0 + n)
    return Capture(None, req, "demo", f"e{n}", SignatureResult("unsigned"), origin=origin)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def stores(tmp_path):
    path = tmp_path / "s.sqlite3"
    mine, other = Store(path), Store(path)
    watcher = StoreWatcher(path, clock=Clock())
    yield path, mine, other, watcher
    watcher.close()
    mine.close()
    other.close()


def test_what_was_stored_before_start_is_known_and_new_captures_come_once_in_id_order(stores):
    _, mine, other, watcher = stores
    old = mine.insert(capture(0))
    watcher.start()
    assert not watcher.changed() and not watcher.poll()
    a, b = other.insert(capture(1, "import")), other.insert(capture(2, "import"))
    assert watcher.changed()
    got = watcher.poll()
    assert [c.id for c in got.new] == [a.id, b.id] and old.id < a.id
    assert [c.origin for c in got.new] == ["import", "import"]  # the row's origin, like the rest
    assert not watcher.changed() and not watcher.poll()


def test_captures_this_process_already_shows_are_not_read_again(stores):
    _, mine, other, watcher = stores
    watcher.start()
    own = mine.insert(capture(1))
    watcher.seen(own.id)
    assert watcher.changed()  # another connection of this process committed
    assert not watcher.poll().new
    theirs = other.insert(capture(2))
    assert [c.id for c in watcher.poll().new] == [theirs.id]


def test_ids_that_jump_show_what_lies_between_once_it_is_committed(stores):
    """Two writers number in blocks: the higher block may commit first. The lower ids are
    holes until their writer commits them, then reported."""
    path, mine, other, watcher = stores
    watcher.start()
    mine.db.execute("BEGIN IMMEDIATE")
    mine._reserve(10)  # ids 1-10 are this writer's, not committed yet
    mine.db.execute("COMMIT")
    late = [mine.insert(capture(n)) for n in range(3)]  # numbered from its stock: 1, 2, 3
    jumped = other.insert(capture(9))  # 11
    assert jumped.id == 11 and [c.id for c in late] == [1, 2, 3]
    watcher.changed()
    assert [c.id for c in watcher.poll().new] == [1, 2, 3, 11]
    assert set(watcher.holes) == set(range(4, 11))
    filled = mine.insert(capture(4))
    watcher.changed()
    assert [c.id for c in watcher.poll().new] == [filled.id]


def test_a_hole_nobody_fills_is_forgotten(stores):
    _, mine, other, watcher = stores
    watcher.start()
    mine.db.execute("BEGIN IMMEDIATE")
    mine._reserve(5)
    mine.db.execute("COMMIT")
    other.insert(capture(1))
    watcher.changed()
    watcher.poll()
    assert watcher.holes
    watcher.clock.now += HOLE_SECONDS + 1
    watcher.poll()
    assert not watcher.holes


def test_a_row_updated_later_is_reported_again(stores):
    """An async run that ends after the answer records its trace on the row."""
    _, _, other, watcher = stores
    watcher.start()
    stored = other.insert(capture(1), lambda cid: Response.json(202, {"id": cid}))
    watcher.changed()
    assert [c.id for c in watcher.poll().new] == [stored.id]
    other.update(stored.id, runs=[{"id": "r1", "flow": "slow", "status": "ok", "path": [], "steps": []}])
    assert watcher.changed()
    got = watcher.poll(check_updates=True)
    assert not got.new and [c.id for c in got.updated] == [stored.id]
    assert len(got.updated[0].runs) == 1  # the trace it recorded
    other.insert(capture(2))  # the store changes, that row does not: not reported again
    watcher.changed()
    again = watcher.poll(check_updates=True)
    assert [c.id for c in again.new] == [stored.id + 1] and not again.updated


def test_updates_are_compared_at_most_twice_a_second_unless_asked(stores):
    _, _, other, watcher = stores
    watcher.start()
    stored = other.insert(capture(1))
    watcher.changed()
    watcher.poll()
    other.update(stored.id, notes=["later"])
    watcher.changed()
    assert watcher.poll().updated  # the first comparison is due at once
    other.update(stored.id, notes=["later", "again"])
    watcher.changed()
    assert not watcher.poll().updated  # within UPDATE_CHECK_SECONDS
    watcher.clock.now += 1
    assert [c.notes for c in watcher.poll().updated] == [("later", "again")]


def test_idle_watching_is_one_pragma_and_reads_no_table(stores):
    path, _, _, watcher = stores
    watcher.start()
    statements = []
    watcher.db.set_trace_callback(statements.append)
    started = time.perf_counter()
    for _ in range(1000):
        assert not watcher.changed()
    took = (time.perf_counter() - started) / 1000
    assert statements == ["PRAGMA data_version"] * 1000
    assert took < 0.001, f"{took * 1e6:.0f} µs per idle check"


def test_the_watcher_never_writes_or_creates_a_store(tmp_path):
    path = tmp_path / "none.sqlite3"
    with pytest.raises(NoStore):
        StoreWatcher(path).start()
    assert not path.exists()
    Store(path).close()
    watcher = StoreWatcher(path)
    watcher.start()
    with pytest.raises(sqlite3.OperationalError):
        watcher.db.execute("DELETE FROM captures")
    watcher.close()


def test_a_row_its_writer_says_changed_is_read_again_at_the_next_poll(stores):
    """`serve --workers` under the TUI: a worker reports that its async runs ended."""
    _, _, other, watcher = stores
    watcher.start()
    stored = other.insert(capture(1))
    watcher.changed()
    watcher.poll()
    other.update(stored.id, notes=["runs ended"])
    watcher.recheck(stored.id)
    got = watcher.poll()
    assert [c.notes for c in got.updated] == [("runs ended",)]
    watcher.changed()
    assert not watcher.poll(check_updates=True).updated  # its fingerprint was taken then


def test_a_close_while_a_poll_reads_waits_for_the_poll_to_end(stores):
    # The TUI closed the watcher from the event loop (quitting, or a cancelled wait for the
    # poll) while the poll's thread was inside a query on the same connection: the process
    # died with SIGSEGV in SQLite (seen once in CI).
    import threading

    _, mine, other, watcher = stores
    watcher.start()
    other.insert(capture(1, "import"))
    reading, go_on = threading.Event(), threading.Event()
    new_ids = watcher._new_ids

    def slow_new_ids(now):
        reading.set()
        assert go_on.wait(10)
        return new_ids(now)

    watcher._new_ids = slow_new_ids
    result = []
    poller = threading.Thread(target=lambda: result.append(watcher.poll()))
    poller.start()
    assert reading.wait(10)
    watcher.close()  # from another thread, mid-poll: deferred
    assert watcher.db is not None
    go_on.set()
    poller.join(10)
    assert [c.origin for c in result[0].new] == ["import"]
    assert watcher.db is None  # closed once the poll ended
    assert not watcher.poll()  # and a poll after the close reads nothing
