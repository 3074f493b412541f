"""Resend, edit & resend, resend to URL and export from the TUI (SPEC §9, §11), through Pilot:
the real pipeline and store, real aiohttp targets on port 0."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from inspector.tui.screens.edit_resend import EditResendScreen
from inspector.tui.screens.export_screen import ExportScreen
from inspector.tui.screens.help_screen import HelpScreen
from inspector.tui.screens.resend_to_url import ResendToUrlScreen

from .conftest import NOW, build_request, make_app, record_notifications, settle, text_of, tree_text, wait_for

SIZE = (100, 30)


async def _captured(app, name: str, now: float = NOW, **changes):
    """One capture made by the app's own pipeline, selected in the table."""
    capture = await app.pipeline.handle(build_request(name, app.config, now, **changes), now=now, wait=True)
    return capture


async def _selected(app, pilot, capture_id: int) -> None:
    await wait_for(lambda: app.table.row(capture_id) is not None, pilot)
    app.table.select_id(capture_id)
    await wait_for(lambda: app.detail.capture is not None and app.detail.capture.id == capture_id, pilot)


@asynccontextmanager
async def target(handler):
    """A real aiohttp server on port 0 answering every path with `handler`."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_resend_creates_a_capture_linked_to_its_original(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        original = await _captured(app, "github.push")
        await _selected(app, pilot, original.id)
        await pilot.press("R")
        await settle(app)
        await wait_for(lambda: len(app.table.rows) == 2 and app.table.current.id == 2, pilot)
        row = app.table.current
        assert (row.replay_of, row.origin, row.sig_mark, row.status_text) == (original.id, "replay", "✓", "200")
        new = app.store.get(2)
        assert new.request.body == original.request.body and new.replay_of == original.id
        assert "X-Inspector-Replay-Of" not in new.request.headers  # the link is a field, not a stored header
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.id == 2, pilot)
        assert f"replay of #{original.id}" in text_of(app.query_one("#view-overview"))
        assert any(m.startswith("resent #1 (as captured) → #2: 200") for m in seen), seen
        # The table marks it.
        assert "↻2" in "".join(s.text for s in app.table.render_line(2))


async def test_resend_re_signed_gives_a_stripe_capture_a_valid_signature(workdir: Path):
    # An hour after the event: Stripe's tolerance (300 s) has passed.
    app = make_app(workdir, serve=False, clock=lambda: NOW + 3600)
    async with app.run_test(size=SIZE) as pilot:
        original = await _captured(app, "stripe.payment_intent.succeeded", NOW)
        assert original.signature.status == "valid"  # checked at NOW, when it arrived
        await _selected(app, pilot, original.id)
        await pilot.press("R")  # as captured: the old timestamp
        await settle(app)
        await wait_for(lambda: app.table.row(2) is not None, pilot)
        assert app.store.get(2).signature.status == "expired"
        await _selected(app, pilot, original.id)
        await pilot.press("S")  # re-signed: a fresh timestamp and signature
        await settle(app)
        await wait_for(lambda: app.table.row(3) is not None, pilot)
        resigned = app.store.get(3)
        assert (resigned.signature.status, resigned.replay_of, resigned.response.status) == ("valid", original.id, 200)
        assert resigned.request.headers.get("Stripe-Signature") != original.request.headers.get("Stripe-Signature")
        assert resigned.request.body == original.request.body


async def test_edit_and_resend_shows_a_bad_header_line_then_sends_the_edit(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        plain = build_request("github.push", app.config)
        original = await _captured(app, "github.push", headers=plain.headers.with_set("Authorization", "Bearer very-secret-token-123456"))
        await _selected(app, pilot, original.id)
        await pilot.press("e")
        assert isinstance(app.screen, EditResendScreen)
        screen = app.screen
        headers = screen.query_one("#edit-headers")
        assert "very-secret-token" not in headers.text and "Authorization: Bear" in headers.text  # masked
        assert screen.query_one("#edit-resign").value  # a signed capture: re-sign is on by default
        # A line without a colon: said inline, nothing sent, the form stays open.
        headers.text = headers.text + "\nnot a header"
        await pilot.press("ctrl+s")
        error = screen.query_one("#edit-headers-error")
        assert error.has_class("-visible")
        lines = headers.text.split("\n")
        assert f"line {len(lines)}: header 'not a header' has no colon; write it as 'Name: value'" in text_of(error)
        assert app.screen is screen and len(app.table.rows) == 1
        # Fixed, with an edited body, re-signed.
        headers.text = headers.text.replace("not a header", "X-Edited: yes")
        body = screen.query_one("#edit-body")
        body.text = body.text.replace('"refs/heads/main"', '"refs/heads/edited"')
        await pilot.press("ctrl+s")
        await settle(app)
        await wait_for(lambda: app.table.row(2) is not None, pilot)
        assert not isinstance(app.screen, EditResendScreen)
        new = app.store.get(2)
        assert b'"refs/heads/edited"' in new.request.body
        assert new.request.headers.get("X-Edited") == "yes"
        assert new.request.headers.get("Authorization") == "Bearer very-secret-token-123456"  # masked = as captured
        assert (new.signature.status, new.replay_of) == ("valid", original.id)
        # Its flow tree: the edited push ran the GitHub flow.
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.id == 2, pilot)
        assert "github  ok" in tree_text(app.detail.query_one("#view-flow"))


async def test_edit_and_resend_says_when_the_core_refuses(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        original = await _captured(app, "github.push")
        await _selected(app, pilot, original.id)
        await pilot.press("e")
        screen = app.screen
        screen.query_one("#edit-path").value = "no-slash"
        await pilot.press("ctrl+s")
        assert "path 'no-slash' must start with /" in text_of(screen.query_one("#edit-error"))
        screen.query_one("#edit-path").value = "/events/webhook/demo/github"
        screen.query_one("#edit-to").value = "ftp://example"
        await pilot.press("ctrl+s")
        assert "is not a URL" in text_of(screen.query_one("#edit-error"))
        await pilot.press("escape")
        assert app.screen is app.main and len(app.table.rows) == 1


async def test_resend_to_a_url_stores_the_answer_and_failures_are_shown(workdir: Path):
    async def ok(request: web.Request) -> web.Response:
        assert await request.read()
        return web.json_response({"got": request.path}, status=201)

    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()  # until the test has seen the timeout
        return web.Response(text="too late")

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"this is not HTTP\r\n\r\n")
        await writer.drain()
        writer.close()

    garbage_server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    garbage_url = f"http://127.0.0.1:{garbage_server.sockets[0].getsockname()[1]}"
    app = make_app(workdir, serve=False, resend_timeout=2.0)
    async with target(ok) as ok_url, target(slow) as slow_url, app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        original = await _captured(app, "github.push")

        async def resend_to(url: str) -> int:
            await _selected(app, pilot, original.id)
            count = len(app.table.rows)
            await pilot.press("u")
            assert isinstance(app.screen, ResendToUrlScreen)
            app.screen.query_one("#url-input").value = url
            await pilot.press("enter")
            return count + 1

        # A target that answers: its answer is stored, linked to the original.
        new_id = await resend_to(ok_url)
        await wait_for(lambda: app.table.row(new_id) is not None, pilot)
        stored = app.store.get(new_id)
        assert (stored.origin, stored.replay_of, stored.response.status) == ("replay", original.id, 201)
        assert json.loads(stored.response.body) == {"got": "/events/webhook/demo/github"}
        assert app.table.row(new_id).status_text == "201"

        # Nothing listens: a clear message, the attempt kept.
        new_id = await resend_to("http://127.0.0.1:9")
        await wait_for(lambda: app.table.row(new_id) is not None, pilot)
        await wait_for(lambda: any("cannot connect to http://127.0.0.1:9/events/webhook/demo/github" in m for m in seen), pilot)
        row = app.table.row(new_id)
        assert row.response is None and row.status_text == "error"
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.id == new_id, pilot)
        assert "no answer from the target" in text_of(app.query_one("#view-overview"))

        # Slow: the UI stays responsive while it waits, then says it timed out.
        new_id = await resend_to(slow_url)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and app.table.row(new_id) is None  # still waiting
        await pilot.press("escape")
        await wait_for(lambda: app.table.row(new_id) is not None, pilot, timeout=10)
        assert any(f"{slow_url}/events/webhook/demo/github did not answer within 2 s" in m for m in seen), seen
        release.set()

        # Garbage: said so.
        new_id = await resend_to(garbage_url)
        await wait_for(lambda: app.table.row(new_id) is not None, pilot)
        assert any("answered something that is not valid HTTP" in m for m in seen), seen
        assert app.store.get(new_id).replay_of == original.id

        # A bad URL never leaves the prompt.
        await _selected(app, pilot, original.id)
        await pilot.press("u")
        app.screen.query_one("#url-input").value = "localhost:3000"
        await pilot.press("enter")
        assert isinstance(app.screen, ResendToUrlScreen)
        assert "is not a URL" in text_of(app.screen.query_one("#url-error"))
        await pilot.press("escape")
    garbage_server.close()
    await garbage_server.wait_closed()


async def test_a_capture_that_cannot_be_re_signed_says_why(workdir: Path):
    from inspector.model import Headers, Request

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        request = Request(
            "POST", "/events/webhook/demo/order.created", "", Headers([("Content-Type", "application/json")]), b"{}", "test", NOW
        )
        original = await app.pipeline.handle(request, now=NOW, wait=True)
        await _selected(app, pilot, original.id)
        await pilot.press("S")
        await settle(app)
        await wait_for(lambda: any("cannot resend #1" in m for m in seen), pilot)
        assert any("nothing to re-sign" in m for m in seen), seen
        assert len(app.table.rows) == 1


async def test_export_writes_a_file_and_says_where(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        original = await _captured(app, "github.push")
        await _selected(app, pilot, original.id)
        await pilot.press("w")
        assert isinstance(app.screen, ExportScreen)
        path = app.screen.query_one("#export-path")
        assert path.value == str(Path(".inspector") / "export-1.curl.sh")
        await pilot.press("down", "down")  # har: the default path follows the format
        assert path.value == str(Path(".inspector") / "export-1.har")
        # A path that cannot be written is said inline.
        path.value = "answers.example.json/x.har"
        await pilot.press("enter")
        assert isinstance(app.screen, ExportScreen)
        assert "cannot write answers.example.json/x.har" in text_of(app.screen.query_one("#export-error"))
        path.value = str(Path(".inspector") / "export-1.har")
        await pilot.press("enter")
        assert not isinstance(app.screen, ExportScreen)
        written = workdir / ".inspector" / "export-1.har"
        assert written.stat().st_mode & 0o777 == 0o600  # exports hold bodies and headers: owner only
        har = json.loads(written.read_text())
        entry = har["log"]["entries"][0]
        assert entry["request"]["url"] == "http://127.0.0.1:0/events/webhook/demo/github"
        assert any(f"wrote #1 as har to {written}" in m for m in seen), seen


async def test_resend_to_a_url_waits_for_a_locked_store_without_freezing_the_ui(workdir: Path):
    """Another process (a --workers worker, `import`) holds the store's write lock while the
    target's answer comes back: the UI keeps running and the answer is stored once the lock
    is free."""
    import sqlite3
    import threading
    import time

    answered = asyncio.Event()

    async def ok(request: web.Request) -> web.Response:
        answered.set()
        return web.json_response({"ok": True})

    app = make_app(workdir, serve=False)
    async with target(ok) as ok_url, app.run_test(size=SIZE) as pilot:
        original = await _captured(app, "github.push")
        await _selected(app, pilot, original.id)
        held, release = threading.Event(), threading.Event()

        def hold_lock() -> None:
            other = sqlite3.connect(app.store.path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(5)
            other.execute("COMMIT")
            other.close()

        holder = threading.Thread(target=hold_lock)
        holder.start()
        await asyncio.to_thread(held.wait, 5)
        gaps, ticking = [], True

        async def tick() -> None:  # how long the event loop goes without running us
            last = time.monotonic()
            while ticking:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticker = asyncio.create_task(tick())
        count = len(app.table.rows)
        await pilot.press("u")
        app.screen.query_one("#url-input").value = ok_url
        await pilot.press("enter")
        await asyncio.wait_for(answered.wait(), 5)
        ticks_at_answer = len(gaps)
        await asyncio.sleep(0.5)  # the answer is back; the store is still locked
        assert app.table.row(count + 1) is None
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        # A loop that waited on the lock would not have ticked at all until the release
        # (and would not have opened the help screen); a free one ticks every 10 ms. Counting
        # ticks rather than timing the longest gap holds on a loaded machine too.
        ticks_while_locked = len(gaps) - ticks_at_answer
        release.set()
        await wait_for(lambda: app.table.row(count + 1) is not None, pilot)
        ticking = False
        await ticker
        holder.join()
        assert ticks_while_locked >= 5, f"the event loop ran only {ticks_while_locked} times while the store was locked"
        stored = app.store.get(count + 1)
        assert (stored.origin, stored.replay_of, stored.response.status) == ("replay", original.id, 200)


async def test_resend_to_a_url_that_cannot_be_stored_says_it_was_sent(workdir: Path):
    """The target got the request; only storing the attempt failed. The message must not say
    "cannot resend", which would invite sending it twice."""
    from inspector.store import StoreError

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ok": True}, status=202)

    app = make_app(workdir, serve=False)
    async with target(ok) as ok_url, app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        original = await _captured(app, "github.push")
        await _selected(app, pilot, original.id)

        async def refuse(capture, decide=None):
            raise StoreError("captures.sqlite3: could not commit captures (disk full)")

        app.store.add = refuse
        await pilot.press("u")
        app.screen.query_one("#url-input").value = ok_url
        await pilot.press("enter")
        await wait_for(lambda: any("could not be stored" in m for m in seen), pilot)
        said = next(m for m in seen if "could not be stored" in m)
        assert said.startswith(f"sent #{original.id} to {ok_url}/events/webhook/demo/github, but it answered 202"), said
        assert "disk full" in said and "cannot resend" not in said
