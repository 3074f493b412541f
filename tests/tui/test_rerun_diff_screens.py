"""The Diff and Rerun screens on captures the real pipeline made (conftest.seed_store), by
snapshot and by pilot: on a small app of their own here; through the inspector's keys in
test_rerun_diff_keys.py."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable

from inspector.config import load_config
from inspector.flow import FlowSet
from inspector.model import Headers
from inspector.rerun import Rerunner
from inspector.signatures import Masker
from inspector.tui.screens.diff_screen import DiffScreen
from inspector.tui.screens.rerun_screen import RerunScreen

from .conftest import NOW, build_request, seed_store, tree_text, wait_for

SIZE = (100, 30)


class Harness(App[None]):
    def __init__(self, screen):
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


def _captures(workdir: Path):
    config = load_config(workdir / "answers.example.json")
    push = build_request("github.push", config, NOW)
    ping = build_request("github.ping", config, NOW + 1)
    secret = push.__class__(
        **{**push.__dict__, "headers": Headers(list(push.headers) + [("Authorization", "Bearer sk_live_supersecretvalue99")])}
    )
    order = build_request("generic.order.created", config, NOW + 2)
    store = seed_store(workdir, [(push, "live"), (ping, "live"), (secret, "live"), (order, "live")])
    captures = {c.id: c for c in store.iter_arrived()}
    store.close()
    return config, captures


def _edited_flows(workdir: Path) -> Path:
    folder = workdir / "flows-edited"
    shutil.copytree(workdir / "flows", folder)
    text = (folder / "github.ygtc").read_text()
    text = text.replace("next: handle_ping", "next: ignore")  # ping now goes elsewhere: changed
    text = text.replace('format!("Received {} commits", commits.len())', "nope(commits)")  # push fails: regressed
    (folder / "github.ygtc").write_text(text)
    return folder


def _rerun_screen(workdir: Path, flows: Path | None = None):
    config, captures = _captures(workdir)
    rerunner = Rerunner(config, FlowSet.load(flows or workdir / "flows"))
    ordered = [captures[i] for i in sorted(captures, reverse=True)]
    return RerunScreen(ordered, rerunner.rerun, masker=Masker(config), what="filter: all")


def test_diff_screen(workdir: Path, snap_compare):
    config, captures = _captures(workdir)
    app = Harness(DiffScreen(captures[1], captures[2], Masker(config)))

    async def run_before(pilot) -> None:
        await wait_for(lambda: isinstance(app.screen, DiffScreen), pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_rerun_screen(workdir: Path, snap_compare):
    app = Harness(_rerun_screen(workdir, _edited_flows(workdir)))

    async def run_before(pilot) -> None:
        await wait_for(lambda: isinstance(app.screen, RerunScreen) and app.screen.results is not None, pilot, timeout=10)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_diff_screen_lists_each_difference_masks_secrets_and_toggles_volatile_headers(workdir: Path):
    config, captures = await asyncio.to_thread(_captures, workdir)
    screen = DiffScreen(captures[1], captures[3], Masker(config))
    app = Harness(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.screen is screen, pilot)
        table = screen.query_one("#diff-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        wheres = [r[0] for r in rows]
        assert "headers.authorization" in wheres
        assert "supersecretvalue99" not in repr(rows)
        assert "headers (volatile)" not in wheres  # the same delivery ids: nothing volatile differs
        grouped = table.row_count
        # Push vs ping: delivery ids and signatures differ, grouped until `v`.
        other = DiffScreen(captures[1], captures[2], Masker(config))
        await app.push_screen(other)
        table = other.query_one("#diff-table", DataTable)
        wheres = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "headers (volatile)" in wheres and "headers.x-github-delivery" not in wheres
        await pilot.press("v")
        wheres = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "headers (volatile)" not in wheres and "headers.x-github-delivery" in wheres
        assert "flows.github.path" in wheres
        await pilot.press("escape")
        assert app.screen is screen and grouped


async def test_diff_screen_of_a_capture_with_itself_says_they_are_the_same(workdir: Path):
    _, captures = await asyncio.to_thread(_captures, workdir)
    screen = DiffScreen(captures[1], captures[1])
    app = Harness(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.screen is screen, pilot)
        assert "The same request" in str(screen.query_one("#diff-summary").render())
        assert screen.query_one("#diff-table", DataTable).row_count == 0


async def test_rerun_screen_lists_verdicts_and_shows_both_trees_of_the_highlighted_capture(workdir: Path):
    screen = await asyncio.to_thread(_rerun_screen, workdir, _edited_flows(workdir))
    app = Harness(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: screen.results is not None, pilot, timeout=10)
        assert screen.summary.counts == {"same": 1, "changed": 1, "fixed": 0, "regressed": 2}
        table = screen.query_one("#rerun-results", DataTable)
        verdicts = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert verdicts == {"4": "same", "3": "regressed", "2": "changed", "1": "regressed"}
        # The cursor starts on the first regression; its trees part at handle_push.
        assert table.cursor_row == 1
        before = tree_text(screen.query_one("#rerun-before"))
        after = tree_text(screen.query_one("#rerun-after"))
        assert "ok" in before and "error" in after.lower()
        differences = screen.query_one("#rerun-differences", DataTable)
        wheres = [str(differences.get_row_at(i)[0]) for i in range(differences.row_count)]
        assert "response.status" in wheres and "flows.github.status" in wheres
        # Move to the changed one: its differences and trees follow.
        await pilot.press("down")
        await pilot.pause(0.05)
        wheres = [str(differences.get_row_at(i)[0]) for i in range(differences.row_count)]
        assert "flows.github.path" in wheres
        assert "ignore" in tree_text(screen.query_one("#rerun-after"))
        # The secret header of capture 3 never shows in its answer or trees.
        await pilot.press("up")
        await pilot.pause(0.05)
        assert "supersecretvalue99" not in tree_text(screen.query_one("#rerun-after"))


async def test_rerun_again_picks_up_nothing_new_and_a_failure_is_shown_not_raised(workdir: Path):
    screen = await asyncio.to_thread(_rerun_screen, workdir)
    app = Harness(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: screen.results is not None, pilot, timeout=10)
        assert screen.summary.counts["same"] == 4
        await pilot.press("r")
        await wait_for(lambda: screen.results is not None, pilot, timeout=10)
        assert screen.summary.counts["same"] == 4

    def broken(captures):
        raise RuntimeError("the engine broke")

    screen = RerunScreen([], broken)
    app = Harness(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: screen.failure is not None, pilot)
        assert "RuntimeError: the engine broke" in str(screen.query_one("#rerun-summary").render())
