"""Screenshots of the TUI at 100×30, deterministic: fixed clock, time zone, address and ids,
and captures made by the real pipeline with their timings fixed (conftest.ingest)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from inspector.config import load_config
from inspector.model import Headers, Request

from .conftest import NOW, FixedAddress, bad_github_request, build_request, make_app, seed_store, settle, wait_for

SIZE = (100, 30)


def _store(workdir: Path):
    config = load_config(workdir / "answers.example.json")
    requests = [
        (Request("GET", "/favicon.ico", "", Headers([("User-Agent", "curl/8.5.0")]), b"", "127.0.0.1", NOW), "live"),
        (build_request("stripe.payment_intent.succeeded", config, NOW + 1), "live"),
        (build_request("shopify.orders.create", config, NOW + 2), "sample"),
        (bad_github_request(config, NOW + 3), "live"),
        (build_request("github.push", config, NOW + 4), "live"),
    ]
    return seed_store(workdir, requests)


def _app(workdir: Path):
    return make_app(workdir, store=_store(workdir), port=8080, receiver_factory=FixedAddress)


def _ready(app, select: int | None = None, tab: str | None = None, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await settle(app)
        await wait_for(lambda: app.history_done and app.detail.capture is not None, pilot)
        if select is not None:
            app.table.select_id(select)
            await wait_for(lambda: app.detail.capture is not None and app.detail.capture.id == select, pilot)
        if tab is not None:
            app.detail.tabs.active = f"tab-{tab}"
        for key in keys:
            await pilot.press(key)
            await settle(app)
        await pilot.pause(0.2)

    return run_before


def test_main_screen_with_a_capture_selected(workdir: Path, snap_compare):
    app = _app(workdir)
    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(app))


def test_flow_tab(workdir: Path, snap_compare):
    app = _app(workdir)
    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(app, tab="flow"))


def test_signature_tab_of_a_failed_check(workdir: Path, snap_compare):
    app = _app(workdir)
    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(app, select=4, tab="signature"))


def test_debugger(workdir: Path, snap_compare):
    app = _app(workdir)

    async def run_before(pilot) -> None:
        await _ready(app)(pilot)
        await pilot.press("d")
        await settle(app)
        await wait_for(lambda: app.screen.__class__.__name__ == "DebuggerScreen", pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_a_resent_capture_is_linked_to_its_original(workdir: Path, snap_compare):
    config = load_config(workdir / "answers.example.json")
    original = build_request("stripe.payment_intent.succeeded", config, NOW)
    resent = replace(original, headers=original.headers.with_set("X-Inspector-Replay-Of", "1"), received_at=NOW + 60)
    app = make_app(workdir, store=seed_store(workdir, [(original, "live"), (resent, "live")]), port=8080, receiver_factory=FixedAddress)
    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(app, select=2))


def test_edit_and_resend(workdir: Path, snap_compare):
    app = _app(workdir)

    async def run_before(pilot) -> None:
        await _ready(app, select=2)(pilot)
        await pilot.press("e")
        # The method field's cursor blinks too: shown as drawn at focus, whatever the load.
        for area in app.screen.query("TextArea, Input"):
            area.cursor_blink = False
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_tunnel_panel_with_a_public_url(workdir: Path, snap_compare):
    from inspector.tunnel import PublicUrl

    app = make_app(
        workdir,
        store=_store(workdir),
        port=8080,
        receiver_factory=FixedAddress,
        tunnel=PublicUrl("https://example.trycloudflare.com"),
        tunnel_check=False,
    )

    async def run_before(pilot) -> None:
        await _ready(app)(pilot)
        await wait_for(lambda: app.tunnel.status.state == "up", pilot)
        await pilot.press("t")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# Issue 18 item 6: a small terminal (80×24) and a roomy one (120×34).

SMALL = (80, 24)
LARGE = (120, 34)


def _first_screen(workdir: Path):
    app = make_app(workdir, port=8080, receiver_factory=FixedAddress)

    async def run_before(pilot) -> None:
        await settle(app)
        await wait_for(lambda: app.history_done and app.listening is not None, pilot)
        await pilot.pause(0.2)

    return app, run_before


def test_first_screen_at_80x24_shows_press_s_and_the_keys(workdir: Path, snap_compare):
    app, run_before = _first_screen(workdir)
    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_first_screen_at_120x34(workdir: Path, snap_compare):
    app, run_before = _first_screen(workdir)
    assert snap_compare(app, terminal_size=LARGE, run_before=run_before)


def test_main_screen_at_80x24(workdir: Path, snap_compare):
    app = _app(workdir)
    assert snap_compare(app, terminal_size=SMALL, run_before=_ready(app))


def test_tunnel_panel_at_80x24_keeps_its_buttons(workdir: Path, snap_compare):
    app = make_app(workdir, store=_store(workdir), port=8080, receiver_factory=FixedAddress)

    async def run_before(pilot) -> None:
        await _ready(app)(pilot)
        await pilot.press("t")
        await wait_for(lambda: app.screen.__class__.__name__ == "TunnelScreen", pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_a_long_filter_error_wraps_at_80x24(workdir: Path, snap_compare):
    app = _app(workdir)

    async def run_before(pilot) -> None:
        await _ready(app)(pilot)
        await pilot.press("slash", *"sig:bogus,wrong")
        app.query_one("#filter-input").cursor_blink = False
        await wait_for(lambda: app.query_one("#filter-status").has_class("-error"), pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
