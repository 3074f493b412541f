"""Issue #19 item 3 through the inspector's own keys: `m` marks a capture and `D` on another
shows their diff; the Rerun screen (ctrl+r, and the palette) reruns the captures the table
shows through the current flows; after a flow reload the header offers that rerun."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable

from inspector.config import load_config
from inspector.tui.screens.diff_screen import DiffScreen
from inspector.tui.screens.rerun_screen import RerunScreen

from .conftest import NOW, FixedAddress, build_request, make_app, record_notifications, seed_store, settle, text_of, wait_for

SIZE = (100, 30)


def _store(workdir: Path):
    config = load_config(workdir / "answers.example.json")
    requests = [
        (build_request("github.push", config, NOW), "live"),
        (build_request("github.ping", config, NOW + 1), "live"),
        (build_request("stripe.payment_intent.succeeded", config, NOW + 2), "live"),
    ]
    return seed_store(workdir, requests)


async def _ready(app, pilot) -> None:
    await settle(app)
    await wait_for(lambda: app.history_done and len(app.table.rows) == 3, pilot)


async def test_m_then_d_on_another_capture_shows_their_diff(workdir: Path):
    store = await asyncio.to_thread(_store, workdir)
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        seen = record_notifications(app)
        await pilot.press("D")  # nothing marked yet
        assert not isinstance(app.screen, DiffScreen)
        assert any("mark a capture first" in n for n in seen)
        app.table.select_id(1)
        await pilot.press("m")
        assert app.main.marked_id == 1
        assert any("capture #1 marked" in n for n in seen)
        app.table.select_id(2)
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, DiffScreen), pilot)
        screen = app.screen
        assert (screen.a.id, screen.b.id) == (1, 2)
        table = screen.query_one("#diff-table", DataTable)
        wheres = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "headers.x-github-event" in wheres and "flows.github.path" in wheres
        await pilot.press("escape")
        assert app.screen is app.main
        # m again on the marked capture unmarks it.
        app.table.select_id(1)
        await pilot.press("m")
        assert app.main.marked_id is None


async def test_rerun_runs_the_filtered_captures_through_the_flows_as_they_are_now(workdir: Path):
    store = await asyncio.to_thread(_store, workdir)
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        assert app.main.set_filter("type:github")
        await wait_for(lambda: len(app.table.view) == 2, pilot)
        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, RerunScreen) and app.screen.results is not None, pilot, timeout=10)
        screen = app.screen
        assert [r.id for r in screen.results] == [2, 1]  # newest first, only what the filter shows
        assert [r.verdict for r in screen.results] == ["same", "same"]
        assert "filter: type:github" in text_of(screen.query_one("#rerun-summary"))
        await pilot.press("escape")
        assert app.screen is app.main


async def test_after_a_flow_reload_the_header_offers_the_rerun_and_it_shows_the_change(workdir: Path):
    store = await asyncio.to_thread(_store, workdir)
    app = make_app(workdir, store=store, port=8080, receiver_factory=FixedAddress)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        header = app.main.query_one("#status")
        assert "rerun" not in text_of(header)
        path = workdir / "flows" / "github.ygtc"
        path.write_text(
            path.read_text().replace('format!("Received {} commits", commits.len())', 'format!("Got {} commits", commits.len())')
        )
        await pilot.press("r")  # reload flows
        await settle(app)
        await wait_for(lambda: "^r rerun 3 captures through them" in text_of(header), pilot)
        await pilot.press("ctrl+r")
        await wait_for(lambda: isinstance(app.screen, RerunScreen) and app.screen.results is not None, pilot, timeout=10)
        screen = app.screen
        verdicts = {r.id: r.verdict for r in screen.results}
        assert verdicts == {3: "same", 2: "same", 1: "changed"}
        changed = next(r for r in screen.results if r.id == 1)
        assert [d.where for d in changed.differences] == ["response.body.result"]
        assert "rerun" not in text_of(header)  # taken up: the offer is gone
        await pilot.press("escape")


async def test_the_palette_offers_rerun_mark_and_diff(workdir: Path):
    store = await asyncio.to_thread(_store, workdir)
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(app, pilot)
        entries = {t: run for t, _, run in app.palette_entries(app.screen)}
        assert {"Rerun", "Mark", "Diff with marked"} <= set(entries)
        await pilot.press("ctrl+p")
        await pilot.press(*"Rerun")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, RerunScreen) and app.screen.results is not None, pilot, timeout=10)
        assert len(app.screen.results) == 3
