"""An open TUI shows every capture in its store, whoever wrote it (issue #17 item 3): an
`import` from another process, a second writer, rows whose async runs end later."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time

from inspector.store import Store

from .conftest import make_app, wait_for

SECOND = 1.0  # what the issue allows between another process's commit and the table


def _export(n: int) -> dict:
    body = json.dumps({"n": n}).encode()
    return {
        "method": "POST",
        "path": f"/events/webhook/demo/imported.{n}",
        "headers": [["Content-Type", "application/json"]],
        "body_base64": base64.b64encode(body).decode(),
        "received_at": f"2020-09-13T12:26:{n:02d}Z",  # long ago: imports keep their original times
        "response": {"status": 200, "headers": [], "body": {"ok": True}},
    }


async def test_an_import_by_another_process_shows_within_a_second(workdir):
    store_path = workdir / ".inspector" / "captures.sqlite3"
    app = make_app(workdir, store=Store(store_path))
    dump = workdir / "dump.json"
    dump.write_text(json.dumps([_export(n) for n in range(3)]))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: app.main.history_done, pilot)
        own = await app.pipeline.handle(_live_request(), origin="live", wait=True)
        await wait_for(lambda: app.table.row(own.id) is not None, pilot)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "inspector",
            "--store",
            str(store_path),
            "--answers",
            str(workdir / "answers.example.json"),
            "import",
            str(dump),
            cwd=workdir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err
        committed = time.monotonic()
        await wait_for(lambda: len(app.table.rows) == 4, pilot, timeout=SECOND)
        took = time.monotonic() - committed
        assert took < SECOND, took
        rows = app.table.rows
        assert [r.id for r in rows] == sorted(r.id for r in rows) and rows[0].id == own.id  # in id order
        assert [r.origin for r in rows] == ["live", "import", "import", "import"]  # marked like the rest
        assert app.main.total == 4 and "4 captures" in str(app.table.border_title)


async def test_a_row_another_writer_updates_later_is_refreshed(workdir):
    """Another `serve` on the same store: its async runs end after the answer and record
    their trace on the row; the table and the detail pane show the new state."""
    from tests.test_store_writers import capture

    store_path = workdir / ".inspector" / "captures.sqlite3"
    other = Store(store_path)
    app = make_app(workdir, store=Store(store_path))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: app.main.history_done, pilot)
        stored = other.insert(capture("slow"))
        await wait_for(lambda: app.table.row(stored.id) is not None, pilot, timeout=SECOND)
        assert app.table.select_id(stored.id)
        await wait_for(lambda: app.main._detail_id == stored.id, pilot)
        assert not app.table.row(stored.id).runs
        other.update(stored.id, runs=[_run("slow", "ok")])
        await wait_for(lambda: len(app.table.row(stored.id).runs) == 1, pilot, timeout=SECOND)
        assert app.table.row(stored.id).steps == 1  # the run's path, as the flow column shows it
        await wait_for(lambda: app.main._detail_capture is not None and len(app.main._detail_capture.runs) == 1, pilot)
        assert len(app.table.rows) == 1
    other.close()


async def test_ids_that_jump_show_the_rows_between_once_committed(workdir):
    """A writer that reserved ids 1-5 commits them after another writer's #6: the table
    shows 6 at once and the rest in their places when they come."""
    from tests.test_store_writers import capture

    store_path = workdir / ".inspector" / "captures.sqlite3"
    slow, fast = Store(store_path), Store(store_path)
    app = make_app(workdir, store=Store(store_path))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: app.main.history_done, pilot)
        slow.db.execute("BEGIN IMMEDIATE")
        slow._reserve(5)
        slow.db.execute("COMMIT")
        jumped = fast.insert(capture("fast")).id
        await wait_for(lambda: [r.id for r in app.table.rows] == [jumped], pilot, timeout=SECOND)
        between = [slow.insert(capture(f"slow{i}")).id for i in range(5)]
        assert max(between) < jumped
        await wait_for(lambda: [r.id for r in app.table.rows] == between + [jumped], pilot, timeout=SECOND)
    slow.close()
    fast.close()


async def test_an_idle_watcher_reads_nothing(workdir):
    """While nobody writes, watching is one PRAGMA per look: no table read, no thread."""
    from inspector.store.watch import StoreWatcher

    store_path = workdir / ".inspector" / "captures.sqlite3"
    app = make_app(workdir, store=Store(store_path))
    statements: list[str] = []
    polls: list[int] = []
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: app.main.history_done and app.store_watcher is not None, pilot)
        watcher = app.store_watcher
        real_poll = watcher.poll
        watcher.poll = lambda **kw: polls.append(1) or real_poll(**kw)
        watcher.db.set_trace_callback(statements.append)
        started = time.perf_counter()
        checks = 0
        # Ten looks' time, counted by the looks themselves (the PRAGMAs), not by a sleep.
        await wait_for(lambda: len(statements) >= 10, pilot, timeout=5)
        assert set(statements) == {"PRAGMA data_version"} and not polls
        # What one look costs, measured on the same connection.
        watcher.db.set_trace_callback(None)
        started = time.perf_counter()
        for _ in range(1000):
            checks += not watcher.changed()
        per_look = (time.perf_counter() - started) / 1000
        assert checks == 1000
        assert per_look < 0.0005, f"{per_look * 1e6:.0f} µs per look"
        assert isinstance(watcher, StoreWatcher)


def _live_request():
    from inspector.model import Headers, Request

    return Request(
        "POST", "/events/webhook/demo/live.one", "", Headers([("Content-Type", "application/json")]), b"{}", "127.0.0.1", 1_700_000_000.0
    )


def _run(flow: str, status: str) -> dict:
    return {
        "id": "r1",
        "flow": flow,
        "file": f"flows/{flow}.ygtc",
        "trigger": "slow",
        "parent_id": None,
        "via_node": None,
        "status": status,
        "started_at": "2023-11-14T22:13:20Z",
        "duration_us": 5,
        "path": ["start"],
        "steps": [],
        "error": None,
        "warnings": [],
    }
