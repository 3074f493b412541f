"""The TUI through Pilot: a real aiohttp server on port 0, a real store, the real pipeline."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp

from inspector.config import load_config
from inspector.export import to_curl
from inspector.flow import FlowSet
from inspector.store import Store
from inspector.tui.actions import MAIN_ACTIONS
from inspector.tui.screens.copied_screen import CopiedScreen
from inspector.tui.screens.debugger_screen import DebuggerScreen
from inspector.tui.screens.help_screen import HelpScreen
from inspector.tui.screens.sample_picker import SamplePicker

from .conftest import NOW, bad_github_request, build_request, ingest, make_app, settle, text_of, tree_text, wait_for

SIZE = (100, 30)


async def test_post_to_the_running_server_appears_in_the_table(workdir: Path):
    app = make_app(workdir)
    async with app.run_test(size=SIZE) as pilot:
        assert app.listening and app.listening.startswith("http://127.0.0.1:")
        request = build_request("github.push", app.config)
        async with aiohttp.ClientSession() as session:
            async with session.post(app.listening + request.target, data=request.body, headers=list(request.headers)) as resp:
                assert resp.status == 200
                await resp.read()
        await wait_for(lambda: len(app.table.view) == 1, pilot, timeout=1.0)
        row = app.table.view[0]
        assert (row.method, row.route, row.event, row.sig_mark, row.status_text) == ("POST", "demo/github", "push", "✓", "200")
        await wait_for(lambda: row.steps == 3, pilot)
        assert row.steps_text == "3"
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    # The server stopped: nothing listens on the port any more (SO_REUSEADDR: connections in
    # TIME_WAIT do not count, a listening socket would).
    port = int(app.listening.rsplit(":", 1)[1])
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


async def test_selecting_a_capture_fills_every_tab(workdir: Path):
    store = Store(workdir / ".inspector" / "captures.sqlite3")
    config = load_config(workdir / "answers.example.json")
    await ingest(store, FlowSet.load("flows"), config, [(build_request("github.push", config), "live")])
    app = make_app(workdir, serve=False, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await wait_for(lambda: app.table.current is not None, pilot)
        await wait_for(lambda: app.detail.capture is not None, pilot)
        detail = app.detail
        overview = text_of(detail.query_one("#view-overview"))
        assert "POST /events/webhook/demo/github" in overview and "provider event push" in overview
        assert "valid" in overview and "check_event → handle_push → ok" in overview
        headers = text_of(detail.query_one("#view-headers"))
        assert "X-GitHub-Event" in headers and "X-Hub-Signature-256" in headers
        body = text_of(detail.query_one("#view-body"))
        assert '"ref": "refs/heads/main"' in body
        signature = text_of(detail.query_one("#view-signature"))
        assert "✓ valid" in signature and "X-Hub-Signature-256" in signature and "sha256" in signature
        flow = tree_text(detail.query_one("#view-flow"))
        assert "github  ok" in flow and "check_event (branch)" in flow and "headers['x-github-event'] == 'push'  → true" in flow
        response = text_of(detail.query_one("#view-response"))
        assert "200" in response and "Received 3 commits" in response
        # Raw and hex views of the body.
        await pilot.press("v")
        assert '"ref": "refs/heads/main"' in text_of(detail.query_one("#view-body"))
        await pilot.press("v")
        assert "00000000  7b 0a" in text_of(detail.query_one("#view-body"))
        assert detail.tabs.active == "tab-body"


async def test_sample_goes_through_the_pipeline_and_is_selected(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        welcome = text_of(app.query_one("#welcome"))
        assert "press s to send a sample" in welcome
        assert "/events/webhook/demo/github" in welcome
        await pilot.press("s")
        assert isinstance(app.screen, SamplePicker)
        await pilot.press("down", "down", "down", "enter")  # stripe.payment_intent.succeeded
        await wait_for(lambda: app.table.current is not None and app.detail.capture is not None, pilot)
        row = app.table.current
        assert (row.route, row.event, row.sig_mark, row.origin) == ("demo/stripe", "payment_intent.succeeded", "✓", "sample")
        assert app.query_one("#lower").current == "detail"


async def test_the_filter_narrows_the_table(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        for name in ("github.push", "stripe.payment_intent.succeeded", "shopify.orders.create"):
            await app.pipeline.handle(build_request(name, app.config), origin="live", now=NOW, wait=True)
        await app.pipeline.handle(bad_github_request(app.config), now=NOW, wait=True)
        await wait_for(lambda: len(app.table.view) == 4, pilot)
        await pilot.press("slash")
        await pilot.press(*"sig:invalid")
        await wait_for(lambda: len(app.table.view) == 1, pilot)
        assert app.table.view[0].signature.status == "invalid"
        await pilot.press("enter")
        assert app.focused is app.table
        # Field terms, negation and globs.
        app.query_one("#filter-input").value = "-type:github"
        await wait_for(lambda: [r.event_type for r in app.table.view] == ["stripe", "shopify"], pilot)
        # A bare word searches headers and bodies through the store.
        await pilot.press("slash")
        app.query_one("#filter-input").value = "orders/create"
        await pilot.press("enter")
        await settle(app)
        await wait_for(lambda: [r.event_type for r in app.table.view] == ["shopify"], pilot)
        # A bad term says why, and the table keeps its last good filter.
        app.query_one("#filter-input").value = "sig:bogus"
        await pilot.pause()
        status = text_of(app.query_one("#filter-status"))
        assert "unknown status bogus" in status
        # Clearing the filter shows everything again.
        app.query_one("#filter-input").value = ""
        await wait_for(lambda: len(app.table.view) == 4, pilot)


async def test_the_debugger_steps_through_the_github_flow(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.pipeline.handle(build_request("github.push", app.config), wait=True)
        await wait_for(lambda: app.table.current is not None, pilot)
        await pilot.press("d")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)
        screen = app.screen
        session = screen.session
        assert [f.node for f in session.frames] == ["check_event", "handle_push", "ok"]
        result = text_of(screen.query_one("#debug-result-text"))
        assert "✓ headers['x-github-event'] == 'push'  → true" in result
        assert "→ handle_push" in result
        source = text_of(screen.query_one("#debug-source-text"))
        assert "id: check_event" in source and "type: branch" in source
        scope = tree_text(screen.query_one("#debug-scope"))
        assert "prev: ()" in scope and "event" in scope
        await pilot.press("n")
        assert session.current.node == "handle_push"
        assert '"Received 3 commits"' in text_of(screen.query_one("#debug-result-text"))
        assert "let commits" in text_of(screen.query_one("#debug-source-text"))
        # A breakpoint on `ok`, restart, continue: it stops there.
        nodes = screen.query_one("#debug-nodes")
        nodes.highlighted = [o.id for o in nodes.options].index("ok")
        await pilot.press("b")
        assert ("github", "ok") in session.breakpoints
        await pilot.press("r")
        await settle(app)
        await pilot.pause()
        assert session.position == 0
        await pilot.press("c")
        assert session.current.node == "ok"
        result = text_of(screen.query_one("#debug-result-text"))
        assert "run ended: github ok" in result and "answered 200 by ok" in result
        await pilot.press("escape")
        assert not isinstance(app.screen, DebuggerScreen)


async def test_a_broken_flow_file_shows_its_error(workdir: Path):
    (workdir / "flows" / "broken.ygtc").write_text("name: broken\nnodes:\n  - id: a\n    type: scrpit\n")
    app = make_app(workdir, serve=False, flows=FlowSet.load("flows"))
    async with app.run_test(size=SIZE) as pilot:
        problems = text_of(app.query_one("#problems"))
        assert "flows/broken.ygtc:4:11: unknown node type 'scrpit'" in problems
        header = text_of(app.query_one("#status"))
        assert "6 loaded, 1 with errors" in header
        # Fixing the file and reloading clears it.
        (workdir / "flows" / "broken.ygtc").write_text(
            "name: broken\nnodes:\n  - id: a\n    type: script\n    config:\n      script: '1'\n"
        )
        await pilot.press("r")
        await settle(app)
        await wait_for(lambda: "with errors" not in text_of(app.query_one("#status")), pilot)
        assert not app.query_one("#problems").has_class("-visible")


async def test_a_port_in_use_is_shown_not_raised(workdir: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        app = make_app(workdir, port=port)
        async with app.run_test(size=SIZE) as pilot:
            problems = text_of(app.query_one("#problems"))
            assert f"port {port} on 127.0.0.1 is already in use; pass --port N" in problems
            # Everything that needs no socket still works.
            await app.pipeline.handle(build_request("github.ping", app.config), origin="sample", wait=True)
            await wait_for(lambda: len(app.table.rows) == 1, pilot)
            await pilot.press("ctrl+q")
        assert app.return_code == 0


async def test_a_store_that_cannot_be_opened_is_shown(workdir: Path):
    from inspector.__main__ import COMMON_DEFAULTS
    from inspector.tui.launch import build_app

    (workdir / "not-a-store.sqlite3").write_text("this is not SQLite " * 100)
    args = type("Args", (), dict(COMMON_DEFAULTS))()
    args.store = str(workdir / "not-a-store.sqlite3")
    args.answers = "answers.example.json"
    args.port = 0
    app, store = build_app(args)
    async with app.run_test(size=SIZE) as pilot:
        # Whitespace normalised: where the sentence wraps depends on the temporary path's length.
        problems = " ".join(text_of(app.query_one("#problems")).split())
        assert "not a capture store" in problems and "captures are kept in memory until you quit" in problems
        assert "memory only" in text_of(app.query_one("#status"))
        await app.pipeline.handle(build_request("github.ping", app.config), wait=True)
        await wait_for(lambda: len(app.table.rows) == 1, pilot)
        await pilot.press("ctrl+q")
    store.close()
    assert app.return_code == 0


async def test_an_invalid_answers_file_is_shown_and_nothing_listens(workdir: Path):
    from inspector.__main__ import COMMON_DEFAULTS
    from inspector.tui.launch import build_app

    (workdir / "answers.json").write_text('{"events-webhook": {"enabled": "yes"')
    args = type("Args", (), dict(COMMON_DEFAULTS))()
    args.answers = "answers.json"
    args.store = str(workdir / "s.sqlite3")
    args.port = 0
    app, store = build_app(args)
    async with app.run_test(size=SIZE) as pilot:
        problems = text_of(app.query_one("#problems"))
        assert "answers.json" in problems and "line 1" in problems
        assert app.listening is None
        assert "answers.json has errors" in problems and "not listening" in text_of(app.query_one("#status"))
        await pilot.press("ctrl+q")
    store.close()


async def test_history_loads_at_start_up_and_new_captures_follow(workdir: Path):
    store = Store(workdir / ".inspector" / "captures.sqlite3")
    config = load_config(workdir / "answers.example.json")
    await ingest(store, FlowSet.load("flows"), config, [(build_request("github.ping", config, NOW + i), "live") for i in range(5)])
    app = make_app(workdir, serve=False, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await wait_for(lambda: len(app.table.rows) == 5 and app.main.history_done, pilot)
        assert [r.id for r in app.table.view] == [1, 2, 3, 4, 5]
        assert app.table.current.id == 5 and app.table.follow
        # Moving up turns follow off: a new capture does not move the cursor.
        await pilot.press("up")
        assert not app.table.follow and app.table.current.id == 4
        await app.pipeline.handle(build_request("github.ping", config), wait=True)
        await wait_for(lambda: len(app.table.rows) == 6, pilot)
        assert app.table.current.id == 4
        await pilot.press("f")
        assert app.table.follow and app.table.current.id == 6
        # Clear the view, then show it again.
        await pilot.press("x")
        assert app.table.view == [] and len(app.table.rows) == 6
        await app.pipeline.handle(build_request("github.ping", config), wait=True)
        await wait_for(lambda: [r.id for r in app.table.view] == [7], pilot)
        await pilot.press("x")
        assert len(app.table.view) == 7


async def test_a_burst_is_coalesced(workdir: Path):
    import asyncio

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        request = build_request("generic.order.created", app.config)
        before = app.main.batches_taken
        await asyncio.gather(*(app.pipeline.handle(request) for _ in range(300)))
        await wait_for(lambda: len(app.table.rows) == 300, pilot)
        assert app.main.batches_taken - before < 300
        assert app.table.current.id == 300


async def test_copy_as_curl_uses_the_clipboard_and_shows_the_text(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        request = build_request(
            "github.push",
            app.config,
            headers=build_request("github.push", app.config).headers.with_set("Authorization", "Bearer very-secret-token-123456"),
        )
        await app.pipeline.handle(request, wait=True)
        await wait_for(lambda: app.table.current is not None, pilot)
        await pilot.press("c")
        assert isinstance(app.screen, CopiedScreen)
        copied = app.clipboard
        # The core's export form (SPEC §9), masked as everywhere else.
        assert copied == to_curl(app.main.selected_capture(), app.local_base, app.masker)
        assert copied.startswith("curl -sS -X POST 'http://127.0.0.1:0/events/webhook/demo/github'")
        assert "-H 'X-GitHub-Event: push'" in copied and "--data-binary" in copied
        assert "very-secret-token" not in copied and "Bear…(" in copied
        assert app.screen.query_one("#copied-text").text == copied
        await pilot.press("escape")
        assert not isinstance(app.screen, CopiedScreen)


async def test_every_action_is_in_the_footer_palette_and_help(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        ids = {b.binding.id for b in app.screen.active_bindings.values()}
        for action in MAIN_ACTIONS:
            assert action.id in ids, action.id
            assert action.help
        titles = [t for t, _, _ in app.palette_entries(app.screen)]
        for action in MAIN_ACTIONS:
            assert action.label in titles
        assert "Send sample github.push" in titles
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = text_of(app.screen.query_one("#help-text"))
        for action in MAIN_ACTIONS:
            assert action.id in text, action.id
        assert "sig:invalid" in text and "keymap.json" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_main_screen_holds_the_table_and_its_keys_wait_under_a_modal(workdir: Path):
    """Issue #17 item 6: the app keeps the lifecycle, MainScreen the table, the filter, the
    history and the detail. Its keys act while it is on top; help and quit work everywhere."""
    from inspector.tui.screens.main import MainScreen

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        assert isinstance(app.screen, MainScreen) and app.screen_stack == [app.main]
        assert app.table.screen is app.main and app.focused is app.table
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("s")  # the main screen's key: nothing under the help screen
        assert isinstance(app.screen, HelpScreen)
        # What the app queries is the main screen, whatever sits above it.
        assert app.query_one("#requests") is app.table
        await pilot.press("escape")
        assert app.screen is app.main and app.focused is app.table
        await pilot.press("s")
        assert isinstance(app.screen, SamplePicker)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_the_palette_runs_actions(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        entries = {t: run for t, _, run in app.palette_entries(app.screen)}
        entries["Send sample github.ping"]()
        await wait_for(lambda: len(app.table.rows) == 1, pilot)
        await entries["Follow"]()
        assert not app.table.follow
        # Through the palette itself.
        await pilot.press("ctrl+p")
        await pilot.press(*"Debug")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)


async def test_keys_are_remappable_by_binding_id(workdir: Path):
    app = make_app(workdir, serve=False, keymap={"send-sample": "ctrl+s"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert not isinstance(app.screen, SamplePicker)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SamplePicker)
        await pilot.press("escape")
        assert "press ^s to send a sample" in text_of(app.query_one("#welcome"))


async def test_the_debugger_asks_which_flow_when_several_ran(workdir: Path):
    from inspector.tui.screens.flow_picker import FlowPicker

    (workdir / "flows" / "zz_audit.ygtc").write_text(
        "name: audit\nnodes:\n  - id: log\n    type: script\n    config:\n      script: 'event.event_type'\n"
        'triggers:\n  - type: event\n    event_type: "*"\n'
    )
    app = make_app(workdir, serve=False, flows=FlowSet.load("flows"))
    async with app.run_test(size=SIZE) as pilot:
        await app.pipeline.handle(build_request("github.ping", app.config), wait=True)
        await wait_for(lambda: app.table.current is not None and app.table.current.steps == 4, pilot)
        await pilot.press("d")
        assert isinstance(app.screen, FlowPicker)
        await pilot.press("down", "enter")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)
        assert app.screen.session.flow_name == "audit"
        assert app.screen.session.current.output == "github"
