"""Under load the table takes the new captures every TAKE_INTERVAL, and each take is one
redraw. What else changes with it is drawn in that same redraw or not at all: the header's
count and the detail pane following the newest capture when they are due, the scrollbar only
when its thumb moves. And a row reads each capture's runs the way the views do."""

from __future__ import annotations

import asyncio
from pathlib import Path

from inspector.flow.runs import FlowRun
from inspector.store import Store
from inspector.tui.rows import Row
from inspector.tui.shapes import in_shape
from inspector.tui.widgets.request_table import _thumb
from inspector.tui.widgets.status_header import StatusHeader

from .conftest import build_request, ingest, make_app, settle, text_of, wait_for

SIZE = (100, 30)


async def _captures(workdir: Path, app, count: int) -> list:
    """`count` captures of github.push, stored elsewhere: handed to the app by the test."""
    store = Store(":memory:")
    request = build_request("github.push", app.config)
    return await ingest(store, app.flows, app.config, [(request, "live")] * count)


async def test_a_take_draws_the_count_and_the_newest_capture_itself(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        first, second = await _captures(workdir, app, 2)

        def no_store_read(capture_id: int) -> None:
            raise AssertionError(f"the pane read #{capture_id} from the store; the take had it in hand")

        app.store.get = no_store_read  # type: ignore[method-assign]
        # No await between the arrival and the take: nothing else gets to draw in between.
        app._capture_arrived(first)
        app.main._take_captures()
        assert app.detail.capture is not None and app.detail.capture.id == first.id
        assert "(1)" in text_of(app.main.query_one(StatusHeader))
        # A second capture right after: the pane and the count wait until they are due (the
        # next take, or their timers when no take comes), and then show the newest.
        app._capture_arrived(second)
        app.main._take_captures()
        assert app.detail.capture.id == first.id
        await wait_for(lambda: app.detail.capture.id == second.id, pilot)
        await wait_for(lambda: "(2)" in text_of(app.main.query_one(StatusHeader)), pilot)


async def test_the_scrollbar_is_redrawn_when_its_thumb_moves_not_for_every_take(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        captures = await _captures(workdir, app, 300)
        table = app.table
        for capture in captures[:299]:
            app._capture_arrived(capture)
        app.main._take_captures()
        await pilot.pause()
        bar = table.vertical_scrollbar
        redraws = []
        original = bar.refresh
        bar.refresh = lambda *a, **k: redraws.append(1) or original(*a, **k)  # type: ignore[method-assign]
        # One more row: the one-cell thumb stays at the bottom, so the bar keeps its picture...
        app._capture_arrived(captures[299])
        app.main._take_captures()
        assert redraws == []
        # ...while it holds the figures Textual draws it from.
        assert bar.window_virtual_size == len(table.view) + 1 and bar.position == table.scroll_y
        assert _thumb(bar) == table._thumb_drawn
        # To the top: the thumb moves, and is redrawn there.
        table.action_first()
        assert redraws
        assert _thumb(bar) == table._thumb_drawn and bar.position == table.scroll_y == 0


async def test_a_row_reads_the_runs_as_the_views_do(workdir: Path):
    def run(flow: str, status: str, path: list[str]) -> FlowRun:
        return FlowRun.from_json({"id": 1, "flow": flow, "status": status, "path": path})

    app = make_app(workdir, serve=False)
    (stored,) = await _captures(workdir, app, 1)
    runs = (run("a", "ok", ["n1", "n2"]), FlowRun.from_json("not a run"), run("b", "error", ["n1"]), run("c", "running", []))
    capture = stored.with_(runs=runs)
    row = Row(capture)
    assert [(m.flow, m.status) for m in row.runs] == [("a", "ok"), ("b", "error"), ("c", "running")]
    assert (row.steps, row.run_failed, row.running, row.steps_text) == (3, True, True, "3…")
    # The same as the row of the capture put in shape first (its shapeless run left out).
    shaped = Row(in_shape(capture))
    assert (shaped.runs, shaped.steps, shaped.run_failed, shaped.running, shaped.key) == (
        row.runs,
        row.steps,
        row.run_failed,
        row.running,
        row.key,
    )
    assert Row(capture.with_(runs=())).runs == () and Row(capture.with_(runs=())).steps_text == "–"


async def test_the_store_is_looked_at_less_often_while_our_own_captures_stream_in(workdir: Path, monkeypatch):
    from inspector.tui import app as app_module

    waits: list[float] = []
    real_wait_for = asyncio.wait_for

    async def wait_for_recorded(awaitable, timeout):
        if getattr(awaitable, "cr_code", None) is asyncio.Event.wait.__code__:  # the watcher's nudge
            waits.append(timeout)
        return await real_wait_for(awaitable, timeout)

    monkeypatch.setattr(app_module.asyncio, "wait_for", wait_for_recorded)
    app = make_app(workdir, serve=False, store=Store(workdir / ".inspector" / "captures.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.main.history_done and len(waits) > 2, pilot)
        idle = list(waits)
        request = build_request("github.push", app.config)
        for _ in range(20):
            await app.pipeline.handle(request, wait=True)
            await pilot.pause(0.02)
        await wait_for(lambda: len(app.table.rows) == 20, pilot)
        streaming = waits[len(idle) :]
    # Idle it looks every WATCH_INTERVAL; with captures of its own coming in, less often.
    assert set(idle) == {app_module.WATCH_INTERVAL}
    assert app_module.WATCH_INTERVAL_BUSY in streaming


async def test_under_load_takes_come_at_the_busy_pace_and_a_lone_capture_at_once(workdir: Path):
    from inspector.tui.messages import CapturesPending
    from inspector.tui.screens.main import BUSY_BATCH

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        captures = await _captures(workdir, app, BUSY_BATCH + 2)
        main = app.main
        # A quiet moment: one capture is taken as soon as its message is handled.
        app._capture_arrived(captures[0])
        main._taken_at = 0.0
        before = main.batches_taken
        main.on_captures_pending(CapturesPending())
        assert main.batches_taken == before + 1
        # A burst: the take after it waits for its timer (TAKE_INTERVAL_BUSY), however soon
        # the next capture comes.
        for capture in captures[1 : BUSY_BATCH + 1]:
            app._capture_arrived(capture)
        main._take_captures()
        app._capture_arrived(captures[-1])
        taken = main.batches_taken
        main._taken_at -= 0.1  # later than the quiet pace would wait, sooner than the busy one
        main.on_captures_pending(CapturesPending())
        assert main.batches_taken == taken and main._take_due
        await wait_for(lambda: captures[-1].id in app.table.by_id, pilot)


async def test_under_load_the_pane_follows_in_its_open_tab_and_draws_the_others_when_opened(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        first, second = await _captures(workdir, app, 2)
        detail = app.detail
        drawn: list[str] = []
        for key in ("overview", "headers", "flow"):
            view = detail.query_one(f"#view-{key}")
            original = view.show
            view.show = lambda c, ctx, key=key, original=original: drawn.append(key) or original(c, ctx)  # type: ignore[method-assign]
        # Quiet: every tab shows the capture at once.
        app._capture_arrived(first)
        app.main._take_captures()
        assert set(drawn) == {"overview", "headers", "flow"}
        # Under load: the open tab (Overview) follows, the hidden ones wait until opened.
        drawn.clear()
        app.main._busy = True
        app.main._detail_id, app.main._detail_capture = second.id, second
        app.main._show_detail()
        assert drawn == ["overview"] and detail.capture.id == second.id
        detail.switch(1)  # to Headers: drawn for the capture shown before the next frame
        assert drawn == ["overview", "headers"]
        assert f"#{second.id}" in str(detail.border_title)
        detail.tabs.active = "tab-flow"  # a click on the tab: drawn when Textual reports it
        await wait_for(lambda: "flow" in drawn, pilot)


async def test_the_overview_lays_the_screen_out_again_only_when_its_height_changes(workdir: Path):
    from textual.widgets import Static

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        first, second = await _captures(workdir, app, 2)
        app._capture_arrived(first)
        app.main._take_captures()
        await pilot.pause()
        text = app.detail.query_one("#overview-text", Static)
        layouts: list[bool] = []
        original = text.refresh
        text.refresh = lambda *a, layout=False, **k: layouts.append(layout) or original(*a, layout=layout, **k)  # type: ignore[method-assign]
        overview = app.detail.query_one("#view-overview")
        overview.show(first, app.main._view_context(first))  # measured at its laid-out width
        await pilot.pause()
        layouts.clear()
        overview.show(second, app.main._view_context(second))  # same shape, same height
        assert layouts == [False]
        assert f"#{second.id}" in text_of(overview)
        longer = second.with_(notes=("one more line",))
        overview.show(longer, app.main._view_context(longer))
        assert layouts == [False, True]
        await pilot.pause()
        assert "one more line" in text_of(overview)


async def test_a_capture_taken_after_a_text_search_began_shows_when_it_matches(workdir: Path):
    """The table keeps rows, not captures, until it takes them; a text search that began in
    between (and may have read the store already) still decides whether each shows."""
    app = make_app(workdir, serve=False, load_history=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        hit, miss = await ingest(
            app.store,
            app.flows,
            app.config,
            [(build_request("github.push", app.config), "live"), (build_request("stripe.payment_intent.succeeded", app.config), "live")],
        )
        # The take comes only after the search has read the store (no message asks for it).
        app.main._pending_posted = True
        app._capture_arrived(hit)
        app._capture_arrived(miss)
        assert app.main.set_filter("octo-org")  # in github.push's body only
        await wait_for(lambda: not app.main.searching, pilot)
        assert not app.table.rows
        app.main._take_captures()
        assert [r.id for r in app.table.view] == [hit.id]
        # And one that arrives while the search filter stands is matched from its body.
        later = (await ingest(app.store, app.flows, app.config, [(build_request("github.push", app.config), "live")]))[0]
        app._capture_arrived(later)
        app.main._take_captures()
        assert [r.id for r in app.table.view] == [hit.id, later.id]
