"""The TUI never exits on data (issues #16, #21): every key on every hostile capture leaves
the app running and its server answering; what cannot be shown is said, not raised."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import aiohttp
import pytest

from inspector.flow import FlowSet
from inspector.model import Capture, Request, SignatureResult
from inspector.store import Store
from inspector.tui.screens.copied_screen import CopiedScreen
from inspector.tui.screens.debugger_screen import DebuggerScreen
from inspector.tui.screens.export_screen import ExportScreen
from tests.conftest import FUZZ_SCALE

from .conftest import build_request, make_app, record_notifications, settle, text_of, wait_for
from .hostile import hostile_captures

SIZE = (100, 30)
WEST = timezone(timedelta(hours=-5))  # local time before UTC: year 1 UTC is year 0 here
HOSTILE = hostile_captures()

# Keys that act on the selected capture, each followed by what closes what it opened; the
# tabs are stepped through because a view is drawn only when its tab is shown.
VIEW_KEYS: tuple[tuple[str, ...], ...] = (("right_square_bracket",),) * 5 + (
    ("v",),
    ("v",),
    ("v",),
    ("left_square_bracket",),
)
# Keys that open a screen or send a request; "d" is the debugger (below).
ACTION_KEYS: tuple[tuple[str, ...], ...] = (
    ("c", "escape"),
    ("w", "down", "down", "enter", "escape"),
    ("e", "escape"),
    ("u", "escape"),
    ("R",),
    ("S",),
    ("d",),
)
# The suite gives every capture every view and a rotating share of the action keys, so that
# each action meets several hostile captures and the test stays under a minute; `make fuzz`
# (INSPECTOR_FUZZ_SCALE > 1) presses every key on every capture.
FULL_MATRIX = FUZZ_SCALE > 1
ACTIONS_PER_CAPTURE = len(ACTION_KEYS) if FULL_MATRIX else 1
# Keys whose screens show the app rather than one capture: pressed once per app.
APP_KEYS: tuple[tuple[str, ...], ...] = (
    ("t", "c", "r", "x", "escape"),
    ("question_mark", "escape"),
    ("s", "escape"),
    ("slash", "escape"),
    ("x",),
    ("x",),
    ("r",),
)
# What a store can hold (NaN is refused by the store: the live path is tested below). Six
# apps share them, so that each test stays short.
STORED = [(label, c) for label, c in HOSTILE if label != "NaN received_at"]
CHUNKS = 6


def failures(seen: list[str]) -> list[str]:
    return [m for m in seen if " failed: " in m or m.startswith("could not show")]


async def answered(app) -> int:
    """The server still answers a webhook, and the capture reaches the table."""
    request = build_request("github.ping", app.config)
    before = len(app.table.rows)
    async with aiohttp.ClientSession() as session:
        async with session.post(app.listening + request.target, data=request.body, headers=list(request.headers)) as resp:
            await resp.read()
            return resp.status if len(app.table.rows) >= before else -1


def _seeded(workdir: Path, captures: list[Capture]) -> tuple[Store, list[int]]:
    store = Store(workdir / ".inspector" / "captures.sqlite3")
    return store, [store.insert(c).id for c in captures]


@pytest.mark.parametrize("chunk", range(CHUNKS))
async def test_every_key_on_hostile_captures_keeps_the_app_and_its_server_running(workdir: Path, chunk: int):
    captures = STORED[chunk::CHUNKS]
    store, ids = _seeded(workdir, [c for _, c in captures])
    app = make_app(workdir, store=store, tz=WEST)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.main.history_done and len(app.table.rows) == len(ids), pilot)
        app.table.follow = False  # resends must not move the cursor off the capture
        for n, ((label, _), cid) in enumerate(zip(captures, ids, strict=True)):
            assert app.table.select_id(cid)
            await wait_for(lambda cid=cid: app.detail.capture is not None and app.detail.capture.id == cid, pilot)
            first = (chunk + n * CHUNKS) * ACTIONS_PER_CAPTURE  # this capture's share of the actions
            actions = [ACTION_KEYS[(first + i) % len(ACTION_KEYS)] for i in range(ACTIONS_PER_CAPTURE)]
            for keys in VIEW_KEYS + tuple(a for a in actions if a != ("d",)):
                await pilot.press(*keys)
                assert app.is_running and app._exception is None, (label, keys)
            await settle(app)
            if ("d",) in actions:
                # The debugger, where a flow is triggered: step, breakpoint, continue, restart.
                await pilot.press("d")
                await settle(app)
                if isinstance(app.screen, DebuggerScreen):
                    await pilot.press("n", "p", "b", "c", "r")
                    await settle(app)
                    await pilot.press("escape")
            assert app.is_running and app._exception is None and failures(seen) == [], (label, failures(seen))
        for keys in APP_KEYS:
            await pilot.press(*keys)
        assert app.is_running and app._exception is None and failures(seen) == [], failures(seen)
        assert await answered(app) == 200
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_copy_and_export_of_header_bytes_that_are_not_utf8(workdir: Path):
    capture = dict(HOSTILE)["non-UTF-8 header bytes"]
    store, _ = _seeded(workdir, [capture])
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.detail.capture is not None, pilot)
        await pilot.press("c")
        assert isinstance(app.screen, CopiedScreen)
        app.clipboard.encode("utf-8")  # what OSC 52 sends: it must encode
        await pilot.press("escape", "w")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, ExportScreen), pilot)
        written = workdir / ".inspector" / "export-1.curl.sh"
        assert written.exists() and b"X-Bad" in written.read_bytes()
        assert failures(seen) == []
        # The headers tab shows the bytes as U+FFFD, never as a surrogate a terminal cannot take.
        headers = text_of(app.detail.query_one("#view-headers"))
        assert "caf\ufffd" in headers and "\udce9" not in headers


async def test_the_body_view_cycles_through_a_body_nested_1000_levels(workdir: Path):
    capture = dict(HOSTILE)["1,000-level nested array"]
    store, _ = _seeded(workdir, [capture])
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.detail.capture is not None, pilot)
        for mode in ("raw", "hex", "pretty"):
            await pilot.press("v")
            assert app.main.body_mode == mode
        body = text_of(app.detail.query_one("#view-body"))
        assert "nested too deeply to pretty-print" in body and "[[[[" in body
        assert failures(seen) == []


async def test_a_gzip_bomb_is_inflated_for_display_only_up_to_the_limit(workdir: Path):
    from inspector.tui.widgets.body_view import INFLATE_LIMIT, display_body

    capture = dict(HOSTILE)["gzip bomb"]
    body, note = display_body(capture.request)
    assert len(body) == INFLATE_LIMIT and "inflates to more than" in note
    store, _ = _seeded(workdir, [capture])
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.detail.capture is not None, pilot)
        assert "inflates to more than 8,388,608 bytes; the first 8,388,608 are shown" in text_of(app.detail.query_one("#view-body"))


# The net itself: failures that no fix above anticipates still become notifications.


async def test_an_action_that_raises_is_an_error_notification_and_the_server_keeps_answering(workdir: Path, monkeypatch):
    import inspector.tui.screens.main as main_module

    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(main_module, "to_curl", broken)
    app = make_app(workdir)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        assert await answered(app) == 200
        await wait_for(lambda: app.table.current is not None, pilot)
        await pilot.press("c")
        assert app.is_running and app._exception is None
        assert any(m.startswith("copy as curl failed: UnicodeEncodeError: ") for m in seen), seen
        assert await answered(app) == 200
        await wait_for(lambda: len(app.table.rows) == 2, pilot)


async def test_a_handler_a_timer_a_worker_and_a_render_that_raise_are_reported(workdir: Path, monkeypatch):
    from inspector.tui.widgets.request_table import RequestTable

    app = make_app(workdir)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)

        def boom(*args, **kwargs):
            raise RuntimeError("[/b] a bug")  # markup in the text must not break the toast

        # A message handler of ours.
        monkeypatch.setattr(type(app.main), "on_sample_sent", boom)
        app.main.send_sample("github.ping")
        await wait_for(lambda: any("sample sent in MainScreen failed: RuntimeError: [/b] a bug" in m for m in seen), pilot)
        await wait_for(lambda: app.table.row(1) is not None, pilot)
        # A row that cannot be drawn.
        monkeypatch.setattr(RequestTable, "_render_row", boom)
        app.table._strips.clear()
        app.table.refresh()
        await wait_for(lambda: any(m.startswith("drawing row #1 failed") for m in seen), pilot)
        # A handler of a modal screen: the screen keeps working (esc still closes it).
        monkeypatch.setattr(ExportScreen, "_write", boom)
        await pilot.press("w", "enter")
        await wait_for(lambda: any("in ExportScreen failed: RuntimeError: [/b] a bug" in m for m in seen), pilot)
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportScreen)
        # A worker thread.
        monkeypatch.setattr(FlowSet, "changed", boom)
        await pilot.press("r")
        await settle(app)
        # A timer's callback (the detail pane is filled from one).
        monkeypatch.setattr(type(app.main), "update_lower", boom)
        app.main._schedule_detail(0.01)
        await wait_for(lambda: any(m.startswith("showing the capture failed") for m in seen), pilot)
        assert app.is_running and app._exception is None
        assert await answered(app) == 200
        await pilot.press("ctrl+q")
    assert app.return_code == 0


# Calendar edges (#21)


async def test_an_entry_dated_before_year_1_in_utc_opens_and_shows(workdir: Path):
    """`0001-01-01T00:00:00+14:00`, which older versions imported as it was (`import` now
    refuses it): the store holds a time before year 1 in UTC, year 0 in local time."""
    store, _ = _seeded(workdir, [dict(HOSTILE)["before year 1 in UTC"]])
    app = make_app(workdir, store=store, tz=WEST, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.detail.capture is not None, pilot)
        assert app.table.current.received_at == -62135596800 - 14 * 3600
        overview = text_of(app.detail.query_one("#view-overview"))
        assert "received" in overview and "0000-12-31" in overview
        assert failures(seen) == []


async def test_a_nan_time_from_a_live_capture_shows_a_dash_not_an_exit(workdir: Path):
    app = make_app(workdir, serve=False, tz=WEST)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        capture = dict(HOSTILE)["year 1 exactly"]
        request = capture.request
        nan = Capture(
            99,
            Request(request.method, request.path, headers=request.headers, body=request.body, received_at=float("nan")),
            "demo",
            "github",
            SignatureResult("unsigned"),
        )
        app._capture_arrived(nan)
        await wait_for(lambda: app.table.row(99) is not None, pilot)
        await pilot.pause()
        assert app.is_running and app._exception is None and failures(seen) == []


# Overview of a failed run (#16)


async def test_the_overview_says_plainly_that_the_flow_failed(workdir: Path):
    (workdir / "flows" / "github.ygtc").write_text(
        "name: github\nnodes:\n  - id: handle\n    type: script\n    config:\n      script: 'event.payload.commits.len() + comits'\n"
        "  - id: ok\n    type: http_response\n    config:\n      status: 200\n"
        "triggers:\n  - type: event\n    event_type: github\n    target: handle\n"
    )
    app = make_app(workdir, serve=False, flows=FlowSet.load("flows"))
    async with app.run_test(size=SIZE) as pilot:
        capture = await app.pipeline.handle(build_request("github.push", app.config), wait=True)
        assert capture.response.status == 500 and capture.runs[0].to_json()["status"] == "error"
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.runs, pilot)
        overview = text_of(app.detail.query_one("#view-overview"))
        assert "✗ the flow failed: github" in overview
        assert "github ended with error at node handle: " in overview and "comits" in overview
        assert "the sender got 500" in overview


# Keymap (#21)


async def test_an_unknown_binding_id_in_the_keymap_is_reported_with_the_valid_ids(workdir: Path):
    app = make_app(workdir, serve=False, keymap={"send-sampel": "ctrl+s", "filter": "ctrl+f"}, keymap_file=".inspector/keymap.json")
    async with app.run_test(size=SIZE) as pilot:
        problems = app.problems()
        line = next(p for p in problems if "keymap.json" in p)
        assert "unknown binding id 'send-sampel'" in line and "valid ids:" in line and "send-sample" in line
        assert "'filter'" not in line.split("valid ids:")[0]
        assert "send-sampel" in text_of(app.query_one("#problems"))
        await pilot.press("ctrl+f")  # the valid entry still applies
        assert app.focused is app.query_one("#filter-input")


async def test_a_keymap_that_gives_one_key_to_two_actions_says_so(workdir: Path):
    # "debug": "D" was the README's example until D became the diff key: one of them then did nothing
    app = make_app(workdir, serve=False, keymap={"debug": "D"}, keymap_file=".inspector/keymap.json")
    async with app.run_test(size=SIZE):
        line = next(p for p in app.problems() if "keymap.json" in p)
        assert "'D' is the key of" in line and "'debug'" in line and "'diff-marked'" in line
        assert "another key" in line


async def test_a_keymap_that_swaps_two_keys_is_no_problem(workdir: Path):
    app = make_app(workdir, serve=False, keymap={"debug": "D", "diff-marked": "d"}, keymap_file=".inspector/keymap.json")
    async with app.run_test(size=SIZE):
        assert not [p for p in app.problems() if "keymap.json" in p]


def test_a_keymap_file_with_an_unknown_id_is_a_problem_at_launch(workdir: Path):
    from inspector.__main__ import COMMON_DEFAULTS
    from inspector.tui.launch import build_app

    (workdir / ".inspector").mkdir(exist_ok=True)
    (workdir / ".inspector" / "keymap.json").write_text('{"quit-app": "ctrl+x"}')
    args = type("Args", (), dict(COMMON_DEFAULTS))()
    args.answers, args.store, args.port = "answers.example.json", str(workdir / ".inspector" / "captures.sqlite3"), 0
    app, store = build_app(args)
    try:
        assert any("unknown binding id 'quit-app'" in p and "quit" in p.split("valid ids:")[1] for p in app.problems())
    finally:
        store.close()


async def test_the_debugger_shows_a_flow_whose_names_look_like_markup(workdir: Path):
    (workdir / "flows" / "github.ygtc").write_text(
        "name: '[/i]'\nnodes:\n  - id: '[/b]'\n    type: script\n    config:\n      script: '\"[/red]\"'\n"
        "triggers:\n  - type: event\n    event_type: github\n"
    )
    app = make_app(workdir, serve=False, flows=FlowSet.load("flows"))
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await app.pipeline.handle(build_request("github.ping", app.config), wait=True)
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.runs, pilot)
        await pilot.press("d")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)
        await pilot.press("n", "b", "r")  # b: "breakpoint set on [/b]" is a toast
        await settle(app)
        await pilot.pause(0.1)
        assert any(m == "breakpoint set on [/b]" for m in seen), seen
        # Taken as text: as markup, "[/b]" fails the toast, and "[@click=…]" would be a live action.
        assert [n.markup for n in app._notifications if n.message == "breakpoint set on [/b]"] == [False]
        assert app.is_running and app._exception is None
        # The title getter gives markup: "[" comes back escaped, so it was taken as text.
        assert app.screen.query_one("#debug-source").border_title.startswith("\\[/b] · script")
        assert failures(seen) == [], failures(seen)


async def test_modal_forms_show_typed_text_and_paths_that_look_like_markup(workdir: Path):
    capture = dict(HOSTILE)["markup in every field"]
    store, _ = _seeded(workdir, [capture])
    app = make_app(workdir, store=store, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.detail.capture is not None, pilot)
        # Export to a folder that cannot exist: the reason quotes the path.
        await pilot.press("w")
        app.screen.query_one("#export-path").value = str(workdir / "answers.example.json" / "[/b]" / "x.sh")
        await pilot.press("enter")
        assert isinstance(app.screen, ExportScreen)
        assert "✗ cannot write" in text_of(app.screen.query_one("#export-error")) and "[/b]" in text_of(
            app.screen.query_one("#export-error")
        )
        await pilot.press("escape", "u")
        app.screen.query_one("#url-input").value = "http://127.0.0.1:9"
        await pilot.pause()
        assert "[/red]" in text_of(app.screen.query_one("#url-target"))
        await pilot.press("escape", "e")
        app.screen.query_one("#edit-headers").text = "[/b] no colon"
        await pilot.press("ctrl+s")
        assert "line 1" in text_of(app.screen.query_one("#edit-headers-error"))
        await pilot.press("escape")
        assert app.is_running and app._exception is None and failures(seen) == [], failures(seen)


@pytest.mark.parametrize("keys", ["\udcff", "", "ctrl+", "a,,b"])
async def test_a_keymap_value_that_is_not_a_key_is_a_problem_and_the_server_starts(workdir: Path, keys: str):
    app = make_app(workdir, keymap={"send-sample": keys, "filter": "ctrl+f"}, keymap_file=".inspector/keymap.json")
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await pilot.pause()
        assert app.listening is not None and await answered(app) == 200
        assert any("'send-sample'" in p and "is not a key (ignored)" in p for p in app.problems()), app.problems()
        await pilot.press("ctrl+f")  # the valid entry applies
        assert app.focused is app.query_one("#filter-input")
        assert app.is_running and app._exception is None and failures(seen) == []


async def test_the_server_starts_and_history_loads_when_the_screen_cannot_be_drawn(workdir: Path, monkeypatch):
    """A bug in drawing the welcome screen (as a core change once caused) is reported; it no
    longer ends on_mount before the server listens."""
    from inspector.tui.screens.main import MainScreen

    def boom(self, *args):
        raise TypeError("webhook_url() takes 3 positional arguments but 4 were given")

    monkeypatch.setattr(MainScreen, "update_lower", boom)
    store, _ = _seeded(workdir, [dict(HOSTILE)["empty body"]])
    app = make_app(workdir, store=store)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.main.history_done, pilot)
        assert app.listening is not None and await answered(app) == 200
        assert app.is_running and app._exception is None
        # Said, each time it fails (the new capture's arrival redraws the lower pane too).
        await wait_for(lambda: any("failed: TypeError: webhook_url() takes" in m for m in seen), pilot)


async def test_a_debugger_restart_that_fails_is_reported_and_the_debugger_stays(workdir: Path, monkeypatch):
    from inspector.tui.debug_session import DebugSession

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await app.pipeline.handle(build_request("github.ping", app.config), wait=True)
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.runs, pilot)
        await pilot.press("d")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)

        def broken(self):
            raise RecursionError("maximum recursion depth exceeded")

        monkeypatch.setattr(DebugSession, "restart", broken)
        await pilot.press("r")
        await settle(app)
        await wait_for(lambda: any(m.startswith("restarting the debugger run failed: RecursionError") for m in seen), pilot)
        assert isinstance(app.screen, DebuggerScreen) and app.is_running and app._exception is None
        await pilot.press("escape")
        assert not isinstance(app.screen, DebuggerScreen)


async def test_notifications_show_control_characters_as_symbols(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        app.notify("resend of #1 to http://x/%ff/\x00nope\x1b[31m got no answer \udcff")
        await pilot.pause()
        [shown] = [n.message for n in app._notifications]
        assert shown == "resend of #1 to http://x/%ff/\u2400nope\u241b[31m got no answer \ufffd"
