"""The TUI with --workers: worker processes answer on the same port and every capture they
store shows up in the table; they stop when the app quits."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from argparse import Namespace

import aiohttp
import pytest

from inspector.cli.serve import worker_argv
from inspector.store import Store

from .conftest import make_app, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreading is Linux's")


async def test_captures_from_worker_processes_reach_the_table(workdir):
    store_path = workdir / ".inspector" / "captures.sqlite3"
    args = Namespace(
        answers=str(workdir / "answers.example.json"),
        flows=str(workdir / "flows"),
        store=str(store_path),
        host="127.0.0.1",
        tenant="demo",
        max_captures=1000,
        public_url=None,
        reveal=False,
        forward_to=None,
    )
    app = make_app(workdir, store=Store(store_path), workers=3, worker_command=lambda port: worker_argv(args, port, report=True))
    async with app.run_test(size=(120, 30)) as pilot:
        deadline = time.monotonic() + 20
        while (app.process_pool is None or not app.process_pool.all_ready.is_set()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert app.process_pool is not None and len(app.process_pool.workers) == 2
        assert app.store._checkpointer is not None  # the workers leave checkpoints to it
        pids = {w.process.pid for w in app.process_pool.workers}

        ids = []
        # New connections, so the kernel spreads them over the three processes.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=10)) as session:

            async def one(i: int) -> None:
                async with session.post(f"{app.listening}/events/webhook/demo/order.created", data=json.dumps({"n": i})) as resp:
                    assert resp.status == 200
                    ids.append(int(resp.headers["X-Inspector-Capture"]))

            await asyncio.gather(*(one(i) for i in range(60)))

        deadline = time.monotonic() + 10
        while len(app.table.rows) < 60 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert len(app.table.rows) == 60
        assert len(set(ids)) == 60
        assert [row.id for row in app.table.rows] == sorted(ids)  # in id order, however they came
        assert [row.id for row in app.table.view] == sorted(ids)
    for pid in pids:  # the workers stopped with the app
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not _alive(pid)


async def test_a_capture_numbered_below_those_shown_goes_to_its_place(workdir):
    """Under load a worker may commit a capture numbered below one another worker committed
    first; the table stays in id order and the cursor stays on its row."""
    store_path = workdir / ".inspector" / "captures.sqlite3"
    writers = [Store(store_path) for _ in range(6)]
    app = make_app(workdir, store=Store(store_path))
    async with app.run_test(size=(120, 30)) as pilot:
        from tests.test_store_writers import capture

        # Wait for conditions, not for time: on a loaded machine the history page may still
        # be loading, and it would bring the later captures in on its own.
        await wait_for(lambda: app.main.history_done, pilot)
        for writer in writers:  # one id each, in this order
            _reserve(writer, 1)
        ids = [writer._next_id for writer in writers]
        assert ids == sorted(ids)
        for i in (1, 4):
            writers[i].insert(capture(f"e{i}"))
        await wait_for(lambda: {row.id for row in app.table.rows} >= {ids[1], ids[4]}, pilot)
        app.table.follow = False  # the user left follow mode (else the cursor rightly follows the newest)
        assert app.table.select_id(ids[4])
        for i in (0, 3, 5, 2):
            writers[i].insert(capture(f"e{i}"))
        await wait_for(lambda: len(app.table.rows) == 6, pilot)
        assert [row.id for row in app.table.rows] == ids
        assert [row.id for row in app.table.view] == ids
        assert app.table.current is not None
        assert app.table.current.id == ids[4]
        await pilot.press("end")
        assert app.table.current.id == ids[5]
    for writer in writers:
        writer.close()


def _reserve(store: Store, count: int) -> None:
    """Ids this writer numbers its next captures with, reserved now: another writer's captures
    committed meanwhile get higher ids (as with serve --workers under load)."""
    store.db.execute("BEGIN IMMEDIATE")
    store._reserve(count)
    store.db.execute("COMMIT")


async def test_clear_view_hides_what_was_there_not_a_late_capture_numbered_below(workdir):
    """`x` hides the captures shown so far. A capture committed after it, numbered below the
    highest hidden id by another writer, is new to the user and shows."""
    store_path = workdir / ".inspector" / "captures.sqlite3"
    other, third = Store(store_path), Store(store_path)
    app = make_app(workdir, store=Store(store_path))
    async with app.run_test(size=(120, 30)) as pilot:
        from tests.test_store_writers import capture

        await wait_for(lambda: app.main.history_done, pilot)
        _reserve(other, 2)
        first, hidden = other.insert(capture("e0")).id, third.insert(capture("e2")).id
        await wait_for(lambda: len(app.table.view) == 2, pilot)
        await pilot.press("x")
        assert app.table.view == []
        late = other.insert(capture("e1")).id  # numbered below #hidden, committed after the clear
        last = third.insert(capture("e3")).id
        ids = [first, late, hidden, last]
        assert ids == sorted(ids)
        await wait_for(lambda: len(app.table.view) == 2, pilot)
        assert [row.id for row in app.table.view] == [late, last]
        # A filter and a text search keep it too; `x` again shows everything.
        assert app.main.set_filter("e1")
        await wait_for(lambda: not app.main.searching, pilot)
        assert [row.id for row in app.table.view] == [late]
        assert app.main.set_filter("")
        assert [row.id for row in app.table.view] == [late, last]
        await pilot.press("x")
        assert [row.id for row in app.table.view] == ids
    other.close()
    third.close()


async def test_clear_view_shows_a_late_capture_that_a_history_page_brought_in_first(workdir):
    """History still loading when `x` is pressed: a page read before the clear lands after it
    with a capture committed after the clear, which the store watcher reports only then. The
    report makes it show, as if the page had not raced it; rows the page brings that were
    stored before (nobody reports them) stay hidden, and so does an update of a hidden row."""
    from inspector.tui.messages import HistoryBatch
    from inspector.tui.rows import Row
    from tests.test_store_writers import capture

    store_path = workdir / ".inspector" / "captures.sqlite3"
    other, third = Store(store_path), Store(store_path)
    _reserve(other, 2)
    before = other.insert(capture("e0")).id
    app = make_app(workdir, store=Store(store_path), load_history=False)
    async with app.run_test(size=(120, 30)) as pilot:
        app.main.history_done = False  # as if the history reader were still at work
        shown = third.insert(capture("e2")).id
        await wait_for(lambda: len(app.table.view) == 1, pilot)
        await pilot.press("x")
        assert app.table.view == []
        late = other.insert(capture("e1")).id
        assert before < late < shown
        app.main.on_history_batch(HistoryBatch([Row(other.get(late)), Row(other.get(before))], 2, 3))
        assert app.table.view == []
        app._worker_capture(shown, True)  # an update of a row that was there: stays hidden
        await wait_for(lambda: len(app.table.view) == 1, pilot)
        assert [row.id for row in app.table.view] == [late]
        assert [row.id for row in app.table.rows] == [before, late, shown]
    other.close()
    third.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_a_flood_of_worker_warnings_is_one_notification(workdir):
    app = make_app(workdir)
    async with app.run_test(size=(120, 30)) as pilot:
        for i in range(3000):
            app._worker_warning(f"warning: line {i}")
        await wait_for(lambda: any("more line(s)" in n.message for n in app._notifications), pilot)
        shown = [n for n in app._notifications if "warning: line" in n.message]
        assert len(shown) == 1
        assert "warning: line 0" in shown[0].message and "2992 more line(s)" in shown[0].message
        app._worker_warning("warning: once more")
        await wait_for(lambda: any(n.message == "warning: once more" for n in app._notifications), pilot)


async def test_a_late_row_above_the_screen_leaves_the_cursor_on_screen(workdir):
    from inspector.tui.rows import Row
    from tests.test_store_writers import capture

    app = make_app(workdir)
    async with app.run_test(size=(100, 24)) as pilot:
        table = app.table
        rows = [Row(capture(f"e{i}").with_(id=i)) for i in range(2, 202, 2)]
        table.append(rows, [True] * len(rows))
        await pilot.pause()
        table.focus()
        await pilot.press("up")  # out of follow mode, one above the newest
        await pilot.pause()
        assert not table.follow
        current = table.current.id
        for late in (101, 103):  # another worker's, numbered above the screen
            table.append([Row(capture("late").with_(id=late))], [True])
            await pilot.pause()
        top, visible = int(table.scroll_y), table.size.height - 1
        assert table.current.id == current
        assert top <= table.cursor < top + visible
