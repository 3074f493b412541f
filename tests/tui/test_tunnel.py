"""The tunnel in the TUI (SPEC §8, §11): pyngrok driving the fake ngrok agent for real, a real
server on port 0, the header, the welcome screen and the tunnel panel; and forward mode."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from inspector.tui.screens.help_screen import HelpScreen
from inspector.tui.screens.tunnel_screen import TunnelScreen

from .conftest import build_request, make_app, record_notifications, settle, text_of, wait_for

SIZE = (100, 30)


def header(app) -> str:
    return text_of(app.query_one("#status"))


async def test_the_panel_starts_ngrok_shows_the_urls_and_stops_it(workdir: Path, fake_ngrok):
    app = make_app(workdir, ngrok_tunnel=fake_ngrok.make)
    async with app.run_test(size=SIZE) as pilot:
        assert "local only" in header(app)
        await pilot.press("t")
        assert isinstance(app.screen, TunnelScreen)
        panel = app.screen
        assert "Start ngrok" in str(panel.query_one("#tunnel-start-button").label)
        # The panel's own keys are in the palette and the help.
        titles = [t for t, _, _ in app.palette_entries(panel)]
        assert {"Start tunnel", "Stop tunnel", "Self-check", "Copy URL"} <= set(titles)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and app.screen.title_text == "Help — tunnel panel"
        assert "tunnel-selfcheck" in text_of(app.screen.query_one("#help-text"))
        await pilot.press("escape")
        assert app.screen is panel
        await pilot.press("s")
        await wait_for(lambda: app.tunnel.status.state == "up" and app.tunnel.status.selfcheck is not None, pilot, timeout=15)
        await pilot.pause()
        public = app.tunnel.status.public_url
        assert public.startswith("http://127.0.0.1:") and public != app.listening
        state = text_of(panel.query_one("#tunnel-state"))
        assert f"● up  {public}  (ngrok)" in state
        assert "✓ self-check ok (" in state and "reached this inspector" in state
        urls = [str(o.prompt) for o in panel.query_one("#tunnel-urls").options]
        assert f"{public}/events/webhook/demo/github" in "\n".join(urls)
        assert "public_base_url (https://your-domain.ngrok-free.app) is a placeholder; senders must call" in text_of(
            panel.query_one("#tunnel-note")
        )
        # Copy the highlighted URL (the first trigger's).
        await pilot.press("down", "enter")
        assert app.clipboard.startswith(public + "/events/webhook/demo/")
        assert f"public {public}" in header(app) and "✓ self-check" in header(app)
        # A webhook through the public URL arrives like any other.
        request = build_request("github.push", app.config)
        async with aiohttp.ClientSession() as session:
            async with session.post(public + request.target, data=request.body, headers=list(request.headers)) as resp:
                assert resp.status == 200
        await wait_for(lambda: len(app.table.rows) == 1, pilot)
        # Self-check again on demand, then stop.
        await pilot.press("r")
        await settle(app)
        await wait_for(lambda: not app.tunnel.status.checking and app.tunnel.status.selfcheck.ok, pilot)
        await pilot.press("x")
        await wait_for(lambda: app.tunnel.status.state == "stopped", pilot, timeout=10)
        await pilot.pause()
        assert "○ stopped — local only" in text_of(panel.query_one("#tunnel-state"))
        assert app.pipeline.public_url is None
        await pilot.press("escape", "ctrl+q")
    assert app.return_code == 0


async def test_a_tunnel_started_at_launch_updates_the_welcome_screen(workdir: Path, fake_ngrok):
    app = make_app(workdir, tunnel=fake_ngrok.make())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.tunnel.status.state == "up", pilot, timeout=15)
        await pilot.pause()
        public = app.tunnel.status.public_url
        welcome = text_of(app.query_one("#welcome"))
        assert "Send webhooks to (POST) — public, through the tunnel:" in welcome
        assert f"{public}/events/webhook/demo/github" in welcome
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    # Quitting stopped the agent.
    from inspector.tunnel import _spawned

    proc = _spawned.get(app.tunnel.binary.path)
    assert proc is None or proc.poll() is not None


async def test_a_refused_authtoken_is_shown_with_its_fix_and_localhost_keeps_working(workdir: Path, fake_ngrok):
    fake_ngrok.mode("auth-fail")
    app = make_app(workdir, tunnel=fake_ngrok.make())
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.tunnel.status.state == "failed", pilot, timeout=15)
        await pilot.pause()
        assert "✗ tunnel failed (t: the fix): ngrok refused the authtoken" in header(app)
        assert any("tunnel failed: ngrok refused the authtoken" in m and "fix:" in m for m in seen), seen
        assert "Webhooks still reach" in text_of(app.query_one("#welcome"))
        await pilot.press("t")
        state = text_of(app.screen.query_one("#tunnel-state"))
        assert "✗ failed: ngrok refused the authtoken" in state and "fix:" in state and "NGROK_AUTHTOKEN" in state
        assert "No public URL" in text_of(app.screen.query_one("#tunnel-urls-title"))
        await pilot.press("escape")
        # Localhost still answers.
        request = build_request("github.ping", app.config)
        async with aiohttp.ClientSession() as session:
            async with session.post(app.listening + request.target, data=request.body, headers=list(request.headers)) as resp:
                assert resp.status == 200
        await wait_for(lambda: len(app.table.rows) == 1, pilot)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_launch_wires_the_tunnel_and_forward_mode(workdir: Path):
    from inspector.__main__ import COMMON_DEFAULTS
    from inspector.tui.launch import build_app

    args = type("Args", (), dict(COMMON_DEFAULTS))()
    args.answers, args.store, args.port = "answers.example.json", str(workdir / "s.sqlite3"), 0
    # A --public-url that does not reach us (loopback, so no test ever leaves the machine).
    args.public_url, args.forward_to = "http://127.0.0.1:9", "http://127.0.0.1:19/hook"
    app, store = build_app(args)
    # From the start: the self-check can fail before run_test hands over the pilot.
    seen = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.tunnel.status.selfcheck is not None, pilot, timeout=15)
        await pilot.pause()
        text = header(app)
        assert "public http://127.0.0.1:9 (your tunnel)  ✗" in text
        assert any(m.startswith("self-check: FAILED — ") for m in seen), seen
        assert "→ forward to http://127.0.0.1:19/hook" in text
        assert app.pipeline.forward_to == "http://127.0.0.1:19/hook"
        # Forwarded to a target that is down: a clear 502, captured.
        capture = await app.pipeline.handle(build_request("github.ping", app.config), wait=True)
        assert capture.response.status == 502
        await pilot.press("ctrl+q")
    store.close()
    args.public_url, args.forward_to = None, "localhost:3000"
    args.tunnel = "none"
    app, store = build_app(args)
    async with app.run_test(size=SIZE) as pilot:
        assert "--forward-to 'localhost:3000' is not an http:// or https:// URL; not forwarding" in text_of(app.query_one("#problems"))
        assert app.pipeline.forward_to is None and "local only" in header(app)
        await pilot.press("ctrl+q")
    store.close()
