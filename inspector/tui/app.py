"""The inspector TUI (SPEC §11): the server, a live request table, the detail tabs, the
debugger, resend / export, the tunnel. Everything runs through the core's Pipeline, Store,
FlowSet, Engine, replay, export and tunnel modules.

The App is built from parts so tests and benches can inject a clock, a port, a store, a time
zone and a tunnel: `InspectorApp(config, flows, store, port=0, clock=lambda: T, tz=timezone.utc)`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer
from textual.worker import get_current_worker

from .. import heap, samples
from ..config import Config
from ..export import export, to_curl, write_private
from ..filters import Filter, FilterError, parse_filter
from ..flow import Engine, FlowSet
from ..model import Capture, unicode_text
from ..pipeline import DRAIN_SECONDS_TUI, Pipeline
from ..replay import DEFAULT_TIMEOUT
from ..resend import ResendOrder, ResendOutcome, carry_out, problem
from ..server import ServeOptions, ServerSession, SessionEvents
from ..signatures import Masker, scheme_for
from ..store import Store, StoreError
from ..store.watch import StoreWatcher
from ..tunnel import (
    NoTunnel,
    PublicUrl,
    TriggerUrl,
    Tunnel,
    public_base_url_note,
    trigger_urls,
    tunnel_from_options,
)
from .actions import DEBUGGER_ACTIONS, MAIN_ACTIONS, TUNNEL_ACTIONS, UserAction, known_binding_ids
from .commands import InspectorCommands
from .debug_session import DebugSession
from .guard import GuardedPump, describe, guarded_callback, report
from .messages import CapturesPending, FlowsReloaded, HistoryBatch, HistoryDone, ResendDone, SampleSent, SearchProgress, TunnelChanged
from .rows import Row, needs_store, select
from .screens.copied_screen import CopiedScreen
from .screens.debugger_screen import DebuggerScreen
from .screens.edit_resend import EditResendScreen
from .screens.export_screen import ExportScreen
from .screens.flow_picker import FlowPicker
from .screens.help_screen import HelpScreen
from .screens.resend_to_url import ResendToUrlScreen
from .screens.sample_picker import SampleChoice, SamplePicker, sample_choices
from .screens.tunnel_screen import TunnelScreen, TunnelView
from .shapes import deep_safe, in_shape, printable_lines
from .widgets.body_view import MODES
from .widgets.context import ViewContext
from .widgets.detail_pane import DetailPane
from .widgets.filter_bar import FilterBar
from .widgets.problems_bar import ProblemsBar
from .widgets.request_table import RequestTable
from .widgets.status_header import HeaderState, StatusHeader
from .widgets.welcome import Welcome

TAKE_INTERVAL = 0.08  # new captures reach the table within this (plus one frame): ≤ 100 ms
# Captures other processes write are looked for this often: one PRAGMA while none come.
WATCH_INTERVAL = 0.1
WATCH_RETRY_SECONDS = 1.0  # after the watcher's connection failed
HISTORY_FIRST_BATCH = 200  # small, so the first rows paint at once
HISTORY_BATCH = 2000
# The detail pane re-renders at most this often: at once for the user's own moves, and at a
# calmer pace when follow mode moves it for every capture of a burst.
DETAIL_INTERVAL_USER = 0.05
DETAIL_INTERVAL_UPDATE = 0.25  # the capture shown got its flow runs' results
DETAIL_INTERVAL_FOLLOW = 1.0
WARNING_GATHER_SECONDS = 0.5  # a worker's stderr lines within this show as one notification
WARNING_LINES = 8


NO_TUNNEL_FIX = "start ngrok from the tunnel panel, or pass --public-url URL for a tunnel you run (cloudflared, Tailscale Funnel)"

MAIN_SCREEN_ONLY = frozenset(a.action for a in MAIN_ACTIONS if a.id not in ("quit", "help"))
# What a failed action is called in its error notification: the words of the help screen.
ACTION_LABELS = {a.action: a.label for a in (*DEBUGGER_ACTIONS, *TUNNEL_ACTIONS, *MAIN_ACTIONS)}


def _export_dir(store: Store) -> Path:
    """Exports go next to the store (`.inspector/`), shown relative to here when inside it."""
    if str(store.path) == ":memory:":
        return Path(".inspector")
    folder = Path(store.path).parent.resolve()
    try:
        return folder.relative_to(Path.cwd().resolve())
    except ValueError:
        return folder


def keymap_problem(unknown: list[str], keymap_file: str | None) -> str:
    """The keymap's ids that bind nothing, and the ids that do."""
    where = keymap_file or "keymap.json"
    names = ", ".join(repr(unicode_text(k)) for k in unknown)
    return (
        f"{where}: unknown binding id{'s' if len(unknown) > 1 else ''} {names} (ignored); "
        f"valid ids: {', '.join(sorted(known_binding_ids()))}"
    )


def _key_text(keys: str) -> bool:
    """Whether a keymap value can name keys: printable ASCII, each comma-separated key
    non-empty (Textual takes anything, and fails later drawing the footer)."""
    return bool(keys) and keys.isascii() and keys.isprintable() and all(k.strip() and not k.endswith("+") for k in keys.split(","))


def _freeze_gc() -> None:
    """Move what exists now (widgets, styles, history rows) out of the cycle collector's view.

    Every request allocates; each collection then walked the whole UI and up to 100,000 rows
    again, which cost the server a quarter of its throughput with the TUI open. Frozen objects
    are still freed by reference counting; they are only never scanned for cycles.
    """
    heap.settle()


@dataclass(frozen=True)
class _AtBase:
    """The pipeline's webhook URLs on another base. The core's `trigger_urls` uses
    `pipeline.base_url`, which is answers.json's public_base_url when no tunnel is up: not an
    address that reaches this process until a tunnel forwards it."""

    pipeline: Pipeline
    base: str

    def webhook_url(self, tenant: str, event_type: str, base: str | None = None) -> str:
        return self.pipeline.webhook_url(tenant, event_type, base or self.base)


class _AppEvents(SessionEvents):
    """The server session's events, as the TUI shows them: notifications and the header."""

    def __init__(self, app: InspectorApp):
        self.app = app

    def warning(self, text: str) -> None:
        self.app.notify(text, severity="warning", timeout=8)

    def worker_line(self, text: str) -> None:
        self.app._worker_warning(text)

    def worker_capture(self, capture_id: int, update: bool) -> None:
        self.app._worker_capture(capture_id, update)

    def tunnel_changed(self, status: Any) -> None:
        self.app.post_message(TunnelChanged(status))  # from the tunnel's threads too

    def flows_reloaded(self, flows: Any) -> None:
        self.app.post_message(FlowsReloaded(True))

    def answers_reloaded(self, path: Path, config: Config) -> None:
        self.app._answers_reloaded(path, config)

    def answers_failed(self, path: Path, problems: list[str]) -> None:
        self.app._answers_failed(path, problems)

    def watch_trouble(self, why: str, every: float) -> None:
        self.app.notify(
            f"could not check flows and answers.json for changes ({why}); serving goes on with what is loaded, "
            f"and the check is retried every {every:g} s",
            severity="warning",
            timeout=8,
        )

    def watch_recovered(self) -> None:
        self.app.notify("flows and answers.json are watched again", timeout=4)


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    serve: bool = True  # False: no listening socket (tests, snapshots)


class InspectorApp(GuardedPump, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "webhook-inspector"
    COMMANDS = App.COMMANDS | {InspectorCommands}
    BINDINGS = [a.binding() for a in MAIN_ACTIONS]
    ACTIONS = MAIN_ACTIONS

    def _fatal_error(self) -> None:
        # Textual's crash report prints every frame's local variables, and ours hold received
        # tokens, request bodies and answers.json secrets; the frames alone say where it broke.
        # Same report as Textual 8's App._fatal_error, with show_locals off (no public switch).
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        report = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(report, self.console.options)))
        self._close_messages_no_wait()

    def __init__(
        self,
        config: Config | None,
        flows: FlowSet,
        store: Store,
        *,
        answers: Path | str | None = None,
        problems: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 8080,
        serve: bool = True,
        tenant: str = "demo",
        public_url: str | None = None,
        reveal: bool = False,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        pipeline: Pipeline | None = None,
        keymap: dict[str, str] | None = None,
        keymap_file: str | None = None,
        store_label: str | None = None,
        load_history: bool = True,
        watch_flows: bool = True,
        notices: Iterable[str] = (),
        receiver_factory: Callable[[Pipeline, str, int], Any] | None = None,
        tunnel: Tunnel | None = None,
        ngrok_tunnel: Callable[[], Tunnel] | None = None,
        tunnel_check: bool = True,
        forward_to: str | None = None,
        resend_timeout: float = DEFAULT_TIMEOUT,
        export_dir: Path | str | None = None,
        workers: int = 1,
        worker_command: Callable[[int], Callable[[int, int], list[str]]] | None = None,
    ):
        """`tunnel`: started once the server listens (default: `public_url`'s, else none);
        `ngrok_tunnel` builds the ngrok tunnel the panel's Start offers when there is none;
        `tunnel_check`: run the self-check once the tunnel is up; `forward_to`: forward mode."""
        super().__init__()
        self.config_ok = config is not None
        self.config = config or Config()
        self.flows = flows
        self.store = store
        self.answers = str(answers) if answers else None
        self.startup_problems = list(problems)
        self.notices = list(notices)
        self.server = ServerOptions(host, port, serve)
        self.tenant = tenant
        self.reveal = reveal
        self.clock = clock
        self.tz = tz
        self.keymap = dict(keymap or {})
        self.keymap_file = keymap_file
        self.store_label = store_label or str(store.path)
        self.load_history = load_history
        self.watch_flows = watch_flows
        self.masker = Masker(config, reveal=reveal)
        self.answers_problems: list[str] = []  # a changed answers.json that did not load
        # The server (server.py, shared with `serve`): listen, workers, tunnel, the flows and
        # answers.json watcher, the wind-down. The tunnel, not the options, sets the public URL.
        self.session = ServerSession(
            self.config,
            flows,
            store,
            ServeOptions(
                host=host,
                port=port,
                workers=workers if worker_command is not None else 1,
                tenant=tenant,
                forward_to=forward_to,
                answers=Path(answers) if answers else None,
                store=str(store.path),
            ),
            events=_AppEvents(self),
            engine=Engine(flows, clock=clock),
            pipeline=pipeline,
            clock=clock,
            receiver_factory=receiver_factory,
            worker_command=worker_command,
            report_workers=True,
        )
        self.engine = self.session.engine
        self.pipeline = self.session.pipeline
        self.forward_to = forward_to
        if forward_to and pipeline is not None:
            self.pipeline.forward_to = forward_to
        # The tunnel: its statuses come back as TunnelChanged messages; the pipeline follows its URL.
        if tunnel is None:
            tunnel = PublicUrl(public_url) if public_url else NoTunnel("no tunnel", NO_TUNNEL_FIX)
        self.tunnel: Tunnel = tunnel
        self.ngrok_tunnel = ngrok_tunnel or (lambda: tunnel_from_options("ngrok"))
        self.tunnel_check = tunnel_check
        self._follow_tunnel(self.tunnel)
        self._last_tunnel_state = self.tunnel.status.state
        self._last_selfcheck = None
        self.resend_timeout = resend_timeout
        self.last_resend_url = ""
        self.export_dir = Path(export_dir) if export_dir is not None else _export_dir(store)
        # --workers: more processes answer on the port (workers.py); they report captures
        # over their channels and this app reads them from the store.
        self.server_processes = workers
        self.worker_command = worker_command
        self._warnings: list[str] = []  # worker stderr lines not shown yet
        # Builds the listening side; tests may pass one with a fixed address.
        self.receiver_factory = receiver_factory
        self.listen_error: str | None = None
        self.body_mode = MODES[0]
        self.total = 0  # captures in the store, as far as we know
        # Captures other processes write (import, replay --to, another serve, --workers):
        # the store watcher finds them; ids this process stored wait here to be marked seen.
        self.watching_store = False
        self.store_watcher: StoreWatcher | None = None  # while its connection is open
        self._watch_seen: list[int] = []
        self._watch_recheck: list[int] = []
        self._watch_nudge = asyncio.Event()
        self.history_loaded = 0
        self.history_done = False
        # Live captures wait here until the table takes them (see messages.CapturesPending).
        self._incoming: list[tuple[Capture, bool]] = []  # (capture, first report of it)
        self.batches_taken = 0  # how many times the table took the buffer (bursts collapse)
        self._taken_at = 0.0
        self._table_title = self._table_subtitle = ""
        self._take_due = False
        self._pending_posted = False
        self._quitting = False
        self._shut_down = False
        # Filter state: `filter` is the core's predicate; text searches read the store.
        self.filter_text = ""
        self.filter: Filter = parse_filter("")
        self.filter_in_store = False
        self._search_generation = 0
        self._search_hits: set[int] = set()
        self.searching = False  # a text search is reading the store
        self._at_clear: set[int] | None = None  # ids in the table then, while history still loads
        self.watermark = 0  # `clear view` hides ids up to here…
        # …except these: captures that arrived after the clear with an id at or below it
        # (`--workers`: another worker numbered them first but reported them later).
        self._late: set[int] = set()
        # The detail pane
        self._detail_id: int | None = None
        self._detail_capture: Capture | None = None
        self._detail_due = False
        self._detail_due_at = 0.0
        self._detail_token = 0
        self._detail_last = 0.0
        self._select_when_seen: int | None = None
        self._header_due = False
        unknown = [k for k in self.keymap if k not in known_binding_ids()]
        if unknown:
            self.startup_problems.append(keymap_problem(unknown, self.keymap_file))
        for binding_id, keys in list(self.keymap.items()):
            if not _key_text(keys):
                del self.keymap[binding_id]
                self.startup_problems.append(
                    f"{self.keymap_file or 'keymap.json'}: {unicode_text(binding_id)!r}: {unicode_text(keys)!r} is not a key "
                    f'(ignored); write keys as the help screen shows them, e.g. "ctrl+s", "f2", "ctrl+s,f2"'
                )

    # The net under every key (guard.py): an action, a handler, a timer or a worker that
    # raises shows an error notification naming it, and the app and its server keep running.

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as exc:
            label = ACTION_LABELS.get(action_name) or action_name.replace("_", " ")
            report(self, label[:1].lower() + label[1:], exc)
            return True

    def notify(
        self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None, markup: bool = False
    ) -> None:
        """Our notifications carry data (paths, reasons, node ids, exception text) that is not
        markup: a `[` in it must not make the toast fail to render. Widgets' `notify` passes
        markup=True by default, so it is not taken from them."""
        # Control characters (a NUL or ESC in a path a sender chose) would reach the terminal raw.
        super().notify(printable_lines(str(message)), title=title, severity=severity, timeout=timeout, markup=False)

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52 carries UTF-8: text with bytes that were not UTF-8 (surrogate escapes) goes
        with U+FFFD in their place rather than failing to encode."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = unicode_text(text)
        super().copy_to_clipboard(text)

    # Layout

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status")
        yield ProblemsBar(id="problems")
        yield FilterBar(id="filter")
        yield RequestTable(tz=self.tz, id="requests")
        with ContentSwitcher(initial="welcome", id="lower"):
            yield Welcome(id="welcome")
            yield DetailPane(id="detail")
        yield Footer()

    @property
    def main(self) -> Screen:
        """The main screen, wherever the user is (modals and the debugger sit above it)."""
        return self.screen_stack[0]

    @property
    def table(self) -> RequestTable:
        return self.main.query_one("#requests", RequestTable)

    @property
    def detail(self) -> DetailPane:
        return self.main.query_one("#detail", DetailPane)

    def main_screen_active(self) -> bool:
        return len(self.screen_stack) <= 1 or self.screen is self.screen_stack[0]

    async def on_mount(self) -> None:
        if self.keymap:
            try:
                self.set_keymap(self.keymap)
            except Exception as exc:  # the server must start whatever the keymap holds
                self.startup_problems.append(f"{self.keymap_file or 'keymap.json'}: not applied ({describe(exc)}); the default keys work")
        self.pipeline.listeners.append(self._capture_arrived)
        self.pipeline.update_listeners.append(self._capture_updated)
        self.table.focus()
        # A screen that cannot be drawn is reported; the server starts all the same.
        self._guarded("drawing the header and welcome screen", self._update_chrome)()
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=8)
        if self.config_ok and self.server.serve:
            await self._start_server()
        elif not self.config_ok:
            self.listen_error = "not listening: answers.json has errors (above); fix it and restart"
        self._guarded("drawing the header and welcome screen", self._update_chrome)()
        if self.forward_to:
            self.notify(f"forwarding every accepted webhook to {self.forward_to}; its answer goes back to the sender", timeout=6)
        if self.receiver is not None and self.tunnel.kind != "none":
            self._open_tunnel()
        # The watcher first: what it takes as known at its start, the history reads after.
        self._start_store_watch()
        if self.load_history:
            self._load_history()
        else:
            self.history_done = True
        if self.watch_flows:
            self.session.watch()
        self.call_after_refresh(_freeze_gc)

    async def _start_server(self) -> None:
        problem = await self.session.listen()
        if problem is not None:
            self.listen_error = f"not listening: {problem}"
            return
        receiver = self.receiver
        # Its notes (slow senders, connections shed) and the requests it refuses go on screen.
        receiver.warn = lambda text: self.notify(text, severity="warning", timeout=8)
        receiver.on_reject = self.main.query_one(ProblemsBar).rejection
        if await self.session.start_workers():
            self._announce_workers(receiver.port)

    @property
    def receiver(self) -> Any:
        """The listening side, once the session listens."""
        return self.session.receiver

    @property
    def process_pool(self) -> Any:
        """The --workers processes (workers.WorkerPool), when there are any."""
        return self.session.pool

    def _announce_workers(self, port: int) -> None:
        async def announce() -> None:
            if await self.session.workers_ready(timeout=20) and not self._quitting:
                self.notify(f"{self.session.processes_answering} processes answer on port {port}", timeout=4)

        self.run_worker(announce(), group="workers", exit_on_error=False)

    def _worker_warning(self, text: str) -> None:
        """A line a worker wrote to stderr. Lines that come together show as one
        notification (at most WARNING_LINES of them), however many a worker writes."""
        if self._quitting:
            return
        self._warnings.append(text)
        if len(self._warnings) == 1:
            self.set_timer(WARNING_GATHER_SECONDS, self._show_worker_warnings)

    @guarded_callback("showing the worker processes' warnings")
    def _show_worker_warnings(self) -> None:
        lines, self._warnings = self._warnings, []
        if self._quitting or not lines:
            return
        shown = lines[:WARNING_LINES]
        if len(lines) > len(shown):
            shown.append(f"… and {len(lines) - len(shown)} more line(s) from the worker processes")
        self.notify("\n".join(shown), severity="warning", timeout=8)

    def _worker_capture(self, capture_id: int, update: bool) -> None:
        """A worker stored (or updated) a capture: the store watcher reads it now rather than
        at its next look (one way in for every capture another process writes)."""
        if update:
            self._watch_recheck.append(capture_id)
        self._watch_nudge.set()

    @property
    def listening(self) -> str | None:
        return self.receiver.url if self.receiver is not None else None

    @property
    def local_base(self) -> str:
        return self.listening or f"http://{self.server.host}:{self.server.port}"

    # Header, problems, welcome

    def problems(self) -> list[str]:
        out = list(self.startup_problems) + self.answers_problems
        if self.listen_error:
            out.append(self.listen_error)
        out += [str(p) for p in self.flows.errors]
        directory = self.flows.directory
        if directory is not None and not directory.is_dir():
            out.append(f"flows: {directory} is not a folder; no flow runs (pass --flows DIR, or `webhook-inspector init`)")
        return out

    def _update_chrome(self) -> None:
        self._update_header()
        problems = self.problems()
        hint = (
            f"{self.key_for('reload-flows', 'r')} reloads flows after a fix · {self.key_for('help', '?')} help lists every problem"
            if self.flows.errors
            else ""
        )
        self.main.query_one(ProblemsBar).show(problems, hint)
        self._update_lower()
        self._update_counts()

    @property
    def public_url(self) -> str | None:
        """Where senders reach us from outside now: the tunnel's URL while it is up."""
        status = self.tunnel.status
        return status.public_url.rstrip("/") if status.state == "up" and status.public_url else None

    def _guarded(self, what: str, callback: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return callback()
            except Exception as exc:
                report(self, what, exc)

        return run

    def _update_header(self) -> None:
        if not self.screen_stack:  # a late timer or tunnel callback while the app shuts down
            return
        status = self.tunnel.status
        panel = self.key_for("tunnel", "t")
        selfcheck, ok = None, None
        if status.state == "up":
            tunnel, hint = self.public_url or "", "your tunnel" if self.tunnel.kind == "public-url" else ""
            if status.checking:
                selfcheck = "… self-check"
            elif status.selfcheck is not None:
                ok = status.selfcheck.ok
                selfcheck = f"✓ self-check {status.selfcheck.ms} ms" if ok else f"✗ self-check failed (press {panel})"
        elif status.state == "starting":
            tunnel, hint = self._starting(), ""
        elif status.state == "failed":
            tunnel, hint = status.reason or "unknown reason", f"{panel}: the fix"
        elif status.state == "stopped":
            tunnel, hint = "tunnel stopped", f"local only · {panel} tunnel panel"
        else:
            tunnel, hint = "local only", f"{panel} tunnel panel: ngrok, or --public-url URL"
        if self.listen_error:
            listen_error = "not listening (see below)"
        elif not self.server.serve and self.receiver is None:
            listen_error = "server off"
        else:
            listen_error = None
        bad_files = len({p.position.file for p in self.flows.errors})
        self.main.query_one(StatusHeader).show(
            HeaderState(
                listening=self.listening,
                listen_error=listen_error,
                tunnel_state=status.state,
                tunnel=tunnel,
                tunnel_hint=hint,
                answers=self.answers or "none (nothing is verified; `webhook-inspector init` writes one)",
                answers_error=not self.config_ok,
                flows=len(self.flows.flows),
                flow_errors=bad_files,
                store=self.store_label,
                captures=self.total if self.history_done or self.total else None,
                selfcheck=selfcheck,
                selfcheck_ok=ok,
                forward_to=self.forward_to,
            )
        )

    def trigger_urls(self, base: str | None = None) -> list[TriggerUrl]:
        """The URL to paste into each trigger's sender, on `base` (default: where we listen)."""
        return trigger_urls(self.flows, _AtBase(self.pipeline, base or self.local_base), self.tenant)

    def key_for(self, action_id: str, default: str, screen: Screen | None = None) -> str:
        """The key bound to `action_id` now (after any keymap), as the footer shows it."""
        screen = screen or (self.screen_stack[0] if self.screen_stack else None)
        for active in screen.active_bindings.values() if screen is not None else ():
            if active.binding.id == action_id:
                return self.get_key_display(active.binding)
        return default

    def _update_lower(self) -> None:
        switcher = self.main.query_one("#lower", ContentSwitcher)
        table = self.table
        empty = not table.rows
        filtered_empty = bool(table.rows) and not table.view and bool(self.filter_text)
        cleared = bool(table.rows) and not table.view and not self.filter_text
        table.set_class(empty and not self.filter_text, "-empty")
        if empty or filtered_empty or cleared:
            base = self.public_url
            urls = self.trigger_urls(base)
            public_note = public_base_url_note(self.config.public_base_url, base) if base else self._public_base_note()
            example = self.pipeline.webhook_url(self.tenant, "order.created", base or self.local_base)
            self.main.query_one(Welcome).show(
                urls,
                sample_key=self.key_for("send-sample", "s"),
                help_key=self.key_for("help", "?"),
                listening=self.listening,
                public_note=public_note,
                example_url=example,
                filtered=filtered_empty or (empty and bool(self.filter_text)),
                cleared_note=(
                    f"View cleared: captures up to #{self.watermark} are hidden (still in the store); "
                    f"press {self.key_for('clear-view', 'x')} to show them."
                )
                if cleared and self.watermark
                else None,
                tunnel_note=self._tunnel_note(),
                public=base is not None,
            )
            switcher.current = "welcome"
        else:
            switcher.current = "detail"

    def _public_base_note(self) -> str | None:
        """With no tunnel up: what answers.json's public_base_url means for the URLs shown."""
        if not self.config.public_base_url:
            return None
        from ..starter import how_to_set_public_url, is_placeholder_url

        if is_placeholder_url(self.config.public_base_url):
            return (
                f"answers.json's public_base_url ({self.config.public_base_url}) is a placeholder, not a URL "
                f"senders can reach; the URLs shown are local. To be reachable: {how_to_set_public_url(self.local_base)}."
            )
        return (
            f"answers.json's public_base_url is {self.config.public_base_url}: senders on other machines "
            f"use it in place of {self.local_base}, once a tunnel forwards it to this port."
        )

    def _starting(self) -> str:
        """`ngrok starting…`, or what it is doing (`ngrok: downloading ngrok: 40%`)."""
        status = self.tunnel.status
        return f"{status.kind}: {status.detail}" if status.detail else f"{status.kind} starting…"

    def _tunnel_note(self) -> str | None:
        status = self.tunnel.status
        panel = self.key_for("tunnel", "t")
        if status.state == "starting":
            return f"{self._starting()} — the public URLs appear here once it is up."
        if status.state == "failed":
            return f"Tunnel failed: {status.reason} — press {panel} for the fix. Webhooks still reach {self.local_base}."
        return None

    def _update_counts(self) -> None:
        table = self.table
        count = len(table.rows)
        parts = [f"{count:,} capture{'s' if count != 1 else ''}"]
        if not self.history_done:
            parts.append(f"loading history {self.history_loaded:,}/{self.total:,}…" if self.total else "loading history…")
        if self.filter_text or self.watermark:
            parts.append(f"{len(table.view):,} shown")
        if self.watermark:
            parts.append(f"cleared up to #{self.watermark}")
        title = " · ".join(parts)
        subtitle = "follow on" if table.follow else "follow off (f)"
        # Setting a border title repaints the table; do it only when the text changes.
        if title != self._table_title:
            self._table_title = table.border_title = title
        if subtitle != self._table_subtitle:
            self._table_subtitle = table.border_subtitle = subtitle

    # Live captures: the pipeline calls these on the event loop; the table takes the whole
    # buffer once per CapturesPending (a burst collapses into one message).

    def _capture_updated(self, capture: Capture) -> None:
        self._capture_arrived(capture, first=False)

    def _capture_arrived(self, capture: Capture, first: bool = True) -> None:
        """A capture stored (`first`) or updated (a trace that ended after the answer)."""
        if self._quitting:
            return
        if first and capture.id is not None and self.watching_store:
            self._watch_seen.append(capture.id)
        self._incoming.append((in_shape(capture), first))
        # One message until the table takes the buffer: a burst costs one message, not one
        # per capture (and a message still queued is replaced by the next, `can_replace`).
        if not self._pending_posted:
            self._pending_posted = True
            self.post_message(CapturesPending())

    def on_captures_pending(self, message: CapturesPending) -> None:
        # Take the buffer at most every TAKE_INTERVAL: under load, each take is one repaint.
        wait = TAKE_INTERVAL - (time.monotonic() - self._taken_at)
        if wait > 0:
            if not self._take_due:
                self._take_due = True
                self.set_timer(wait, self._take_captures)
            return
        self._take_captures()

    @guarded_callback("showing new captures")
    def _take_captures(self) -> None:
        self._take_due = False
        self._pending_posted = False
        self._taken_at = time.monotonic()
        batch, self._incoming = self._incoming, []
        if not batch or self._quitting:
            return
        self.batches_taken += 1
        table = self.table
        latest: dict[int, tuple[Capture, bool]] = {}
        for capture, first in batch:
            if capture.id is not None:
                # An update replaces the first version; it is still the first report.
                latest[capture.id] = (capture, first or latest.get(capture.id, (None, False))[1])
        new: list[tuple[Row, bool]] = []
        refilter = False
        for cid, (capture, first) in latest.items():
            row = table.row(cid)
            if row is None:
                if cid <= self.watermark:
                    self._late.add(cid)
                shown = self._after_clear(cid) and self._matches(capture)
                if shown and self.filter_in_store:
                    self._search_hits.add(cid)
                new.append((Row(capture), shown))
            else:
                was = self._matches_row(row)
                row.update(capture)
                table.refresh_row(row)
                if not self.filter_in_store and self.filter.predicates and was != self._matches_row(row):
                    refilter = True
                if first and self._read_after_clear(cid):
                    # A history page read before the clear brought it in after; its worker
                    # reports it only now: it is new to the user, as in the branch above.
                    self._late.add(cid)
                    if self.filter_in_store and self._matches(capture):
                        self._search_hits.add(cid)
                    refilter = True
            if cid == self._detail_id:
                self._detail_capture = capture
                self._schedule_detail(DETAIL_INTERVAL_UPDATE)
        was_empty = not table.view
        if new:
            new.sort(key=lambda pair: pair[0].id)
            self.total += len(new)
            table.append([r for r, _ in new], [v for _, v in new])
            # The store keeps the newest max_captures; so does the table.
            if len(table.rows) > self.store.max_captures + 1000:
                table.trim(self.store.max_captures)
        if refilter:
            self._rebuild_view()
        if self._select_when_seen is not None and table.select_id(self._select_when_seen):
            self._select_when_seen = None
        if refilter or (was_empty and table.view):
            self._update_lower()
        self._update_counts()
        if new:
            self._schedule_header()

    def _schedule_header(self) -> None:
        """The capture count in the header: refreshed at most four times a second."""
        if self._header_due:
            return
        self._header_due = True

        def update() -> None:
            self._header_due = False
            self._update_header()

        self.set_timer(0.25, self._guarded("updating the header", update))

    # Captures other processes write: the store watcher (store/watch.py) looks at the store's
    # data version every WATCH_INTERVAL (a worker's report makes it look at once) and hands
    # what it finds to _capture_arrived, like the pipeline does with this process's captures.

    def _start_store_watch(self) -> None:
        if str(self.store.path) == ":memory:" or self.watching_store:
            return
        self.watching_store = True
        self.run_worker(self._watch_store(self._open_watcher()), group="store-watch", name="watching the store", exit_on_error=False)

    async def _watch_store(self, watcher: StoreWatcher | None) -> None:
        try:
            while not self._quitting:
                if watcher is None:
                    watcher = await asyncio.to_thread(self._open_watcher)
                    if watcher is None:
                        await asyncio.sleep(WATCH_RETRY_SECONDS)
                        continue
                self.store_watcher = watcher
                try:
                    await asyncio.wait_for(self._watch_nudge.wait(), WATCH_INTERVAL)
                except TimeoutError:
                    pass
                self._watch_nudge.clear()
                if self._quitting:
                    break
                seen, self._watch_seen = self._watch_seen, []
                for cid in seen:
                    watcher.seen(cid)
                recheck, self._watch_recheck = self._watch_recheck, []
                for cid in recheck:
                    watcher.recheck(cid)
                try:
                    if not watcher.changed() and not recheck:
                        continue
                    poll = asyncio.ensure_future(asyncio.to_thread(watcher.poll))
                    try:
                        changes = await asyncio.shield(poll)
                    except asyncio.CancelledError:
                        # The thread still reads: close its connection once it is done.
                        poll.add_done_callback(lambda _, w=watcher: w.close())
                        watcher = self.store_watcher = None
                        raise
                except (sqlite3.Error, StoreError) as exc:
                    self.log.warning(f"store watcher: {exc}; opening it again")
                    watcher.close()
                    watcher = self.store_watcher = None
                    continue
                for capture in changes.new:
                    self._capture_arrived(capture)
                for capture in changes.updated:
                    self._capture_arrived(capture, first=False)
        finally:
            self.store_watcher = None
            if watcher is not None:
                watcher.close()

    def _open_watcher(self) -> StoreWatcher | None:
        watcher = StoreWatcher(self.store.path)
        try:
            watcher.start()
        except (sqlite3.Error, StoreError) as exc:
            self.log.warning(f"store watcher: cannot open {self.store_label}: {exc}")
            watcher.close()
            return None
        return watcher

    # History: read from the store in a thread, newest first, in batches

    def _reader(self) -> tuple[Store, bool]:
        """A second connection for threads, so reads never share the writer's transaction."""
        if str(self.store.path) == ":memory:":
            return self.store, False
        return Store(self.store.path, max_captures=self.store.max_captures), True

    @work(thread=True, exclusive=True, group="history", name="loading the history", exit_on_error=False)
    def _load_history(self) -> None:
        worker = get_current_worker()
        try:
            reader, own = self._reader()
        except StoreError as exc:
            self.post_message(HistoryDone(0, str(exc)))
            return
        loaded = 0
        try:
            total = reader.count()
            self.call_from_thread(self._set_total, total)
            batch: list[Row] = []
            size = HISTORY_FIRST_BATCH
            for capture in reader.iter_newest(batch=HISTORY_BATCH):
                if worker.is_cancelled or self._quitting:
                    return
                batch.append(Row(capture))  # Row puts the runs it reads in shape
                if len(batch) >= size:
                    loaded += len(batch)
                    self.post_message(HistoryBatch(batch, loaded, total))
                    batch, size = [], HISTORY_BATCH
            if batch:
                loaded += len(batch)
                self.post_message(HistoryBatch(batch, loaded, total))
            self.post_message(HistoryDone(loaded))
        except (sqlite3.Error, StoreError) as exc:
            self.post_message(HistoryDone(loaded, f"could not read the store {self.store_label}: {exc}"))
        finally:
            if own:
                reader.close()

    def _set_total(self, total: int) -> None:
        self.total = max(self.total, total)
        self._update_counts()

    def on_history_batch(self, message: HistoryBatch) -> None:
        table = self.table
        first = not table.rows
        if self.filter_in_store:
            hits = self._search_hits  # the search reads the store itself; show what it found

            def match(row: Row) -> bool:
                return row.id in hits
        else:
            match = self._row_visible
        table.prepend(message.rows, match)
        self.history_loaded = message.loaded
        if first:
            self._update_chrome()
        else:
            self._update_counts()

    def on_history_done(self, message: HistoryDone) -> None:
        self.history_done = True
        _freeze_gc()
        if message.error:
            self.startup_problems.append(message.error)
        self.total = max(self.total, len(self.table.rows))
        self._update_chrome()

    # Filtering

    def _matches(self, capture: Capture) -> bool:
        try:
            return self.filter(capture)
        except Exception:
            return False

    def _matches_row(self, row: Row) -> bool:
        try:
            return bool(select([row], self.filter.predicates))
        except Exception:
            return False

    def _after_clear(self, capture_id: int) -> bool:
        """Not hidden by `clear view`."""
        return capture_id > self.watermark or capture_id in self._late

    def _read_after_clear(self, capture_id: int) -> bool:
        """A row hidden by `clear view` that was not in the table when it was cleared (a
        history page still being read brought it in)."""
        return (
            capture_id <= self.watermark
            and capture_id not in self._late
            and self._at_clear is not None
            and capture_id not in self._at_clear
        )

    def _row_visible(self, row: Row) -> bool:
        return self._after_clear(row.id) and self._matches_row(row)

    def on_filter_bar_changed(self, message: FilterBar.Changed) -> None:
        self.set_filter(message.text, final=message.final)

    def set_filter(self, text: str, *, final: bool = True) -> bool:
        """Apply a filter (SPEC §10 language). Field terms filter the rows in memory at once;
        text searches read the store in a thread and fill the table as they find matches."""
        bar = self.main.query_one(FilterBar)
        text = text.strip()
        try:
            flt = parse_filter(text)
        except FilterError as exc:
            bar.status(str(exc), error=True)
            return False
        in_store = needs_store(text)
        if in_store and not final:
            bar.status("enter searches path, headers and bodies")
            return False
        if text == self.filter_text and in_store == self.filter_in_store and not final:
            return True
        self.filter_text, self.filter, self.filter_in_store = text, flt, in_store
        self._search_generation += 1
        if in_store:
            self._search_hits = set()
            self.searching = True
            self.table.set_view([])
            bar.status("searching…")
            self._search(self._search_generation, flt)
        else:
            started = time.perf_counter()
            self._apply_filter_rows()
            took = (time.perf_counter() - started) * 1000
            bar.status(f"{len(self.table.view):,} of {len(self.table.rows):,} · {took:.0f} ms" if text else "")
        self._update_lower()
        self._update_counts()
        return True

    def _rebuild_view(self) -> None:
        if self.filter_in_store:
            self.table.set_view([r for r in self.table.rows if r.id in self._search_hits and self._after_clear(r.id)])
        else:
            self._apply_filter_rows()

    def _apply_filter_rows(self) -> None:
        rows = self.table.rows
        if self.watermark:
            rows = [r for r in rows if self._after_clear(r.id)]
        try:
            view = select(rows, self.filter.predicates)
        except Exception as exc:  # a term that cannot judge a row must not take the UI down
            self.query_one(FilterBar).status(f"filter failed: {exc}", error=True)
            return
        self.table.set_view(view)

    @work(thread=True, exclusive=True, group="search", name="searching the store", exit_on_error=False)
    def _search(self, generation: int, flt: Filter) -> None:
        worker = get_current_worker()
        try:
            reader, own = self._reader()
        except StoreError as exc:
            self.post_message(SearchProgress(generation, [], 0, True, str(exc)))
            return
        scanned, hits = 0, []
        last = time.monotonic()
        try:
            for capture in reader.iter_newest(batch=HISTORY_BATCH):
                if worker.is_cancelled or generation != self._search_generation:
                    return
                scanned += 1
                if capture.id is not None and self._after_clear(capture.id) and flt(capture):
                    hits.append(capture.id)
                if time.monotonic() - last > 0.25:
                    self.post_message(SearchProgress(generation, hits, scanned))
                    hits, last = [], time.monotonic()
            self.post_message(SearchProgress(generation, hits, scanned, True))
        except (sqlite3.Error, StoreError) as exc:
            self.post_message(SearchProgress(generation, hits, scanned, True, f"search stopped: {exc}"))
        finally:
            if own:
                reader.close()

    def on_search_progress(self, message: SearchProgress) -> None:
        if message.generation != self._search_generation:
            return
        self.searching = not message.done
        self._search_hits.update(message.hits)
        hits = self._search_hits
        self.table.set_view([r for r in self.table.rows if r.id in hits])
        bar = self.main.query_one(FilterBar)
        if message.error:
            bar.status(message.error, error=True)
        else:
            state = "" if message.done else "searching… "
            found = len(self.table.view)
            bar.status(f"{state}{found:,} match{'es' if found != 1 else ''} · {message.scanned:,} searched")
        self._update_lower()
        self._update_counts()

    # The detail pane

    def on_request_table_highlighted(self, message: RequestTable.Highlighted) -> None:
        self._detail_id = message.capture_id
        self._detail_capture = None
        self._schedule_detail(DETAIL_INTERVAL_USER if message.user else DETAIL_INTERVAL_FOLLOW)

    def on_request_table_follow_changed(self, message: RequestTable.FollowChanged) -> None:
        if self.screen_stack:  # not while the app is closing
            self._update_counts()

    def _schedule_detail(self, interval: float = DETAIL_INTERVAL_FOLLOW) -> None:
        wait = max(0.0, interval - (time.monotonic() - self._detail_last))
        due = time.monotonic() + wait
        if self._detail_due and due >= self._detail_due_at:
            return
        self._detail_due = True
        self._detail_due_at = due
        self._detail_token += 1
        token = self._detail_token

        def show() -> None:
            if token == self._detail_token and self.screen_stack:  # not once the app closed
                self._show_detail()

        if wait <= 0:
            self.call_later(self._guarded("showing the capture", show))
        else:
            self.set_timer(wait, self._guarded("showing the capture", show))

    def _view_context(self, capture: Capture | None = None) -> ViewContext:
        if capture is None:
            return ViewContext(mask=self.masker, tz=self.tz, body_mode=self.body_mode)
        redactor = self.masker.for_capture(capture)
        return ViewContext(mask=redactor, redact=deep_safe(redactor.value), tz=self.tz, body_mode=self.body_mode)

    @guarded_callback("showing the capture")
    def _show_detail(self) -> None:
        self._detail_due = False
        self._detail_last = time.monotonic()
        cid = self._detail_id
        if cid is None:
            self._update_lower()
            return
        capture = self._detail_capture if self._detail_capture is not None and self._detail_capture.id == cid else None
        if capture is None:
            try:
                capture = self.store.get(cid)
            except (sqlite3.Error, StoreError) as exc:
                self.notify(f"could not read capture #{cid}: {exc}", severity="error")
                return
            if capture is None:
                self.notify(
                    f"capture #{cid} is no longer in the store (retention keeps the newest {self.store.max_captures:,})", severity="warning"
                )
                return
            self._detail_capture = capture = in_shape(capture)
        self.detail.show(capture, self._view_context(capture))
        self._update_lower()

    def selected_capture(self) -> Capture | None:
        """The capture under the cursor, in full (for actions: copy, debug, later resend)."""
        row = self.table.current
        if row is None:
            return None
        if self._detail_capture is not None and self._detail_capture.id == row.id:
            return self._detail_capture
        try:
            capture = self.store.get(row.id)
        except (sqlite3.Error, StoreError) as exc:
            self.notify(f"could not read capture #{row.id}: {exc}", severity="error")
            return None
        return in_shape(capture) if capture is not None else None

    def _need_capture(self) -> Capture | None:
        capture = self.selected_capture()
        if capture is None:
            self.notify(f"no capture selected — press {self.key_for('send-sample', 's')} to send a sample", severity="warning")
        return capture

    # Actions (see actions.py for keys and help)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The main screen's actions are off (and out of the footer) under a modal or the debugger.
        if action in MAIN_SCREEN_ONLY:
            return self.main_screen_active()
        return True

    def action_send_sample(self) -> None:
        entries = []
        for choice in sample_choices():
            try:
                _, entry = samples.build(
                    choice.name, self.config, tenant=self.tenant, signed_url_base=self.pipeline.base_url, now=self.clock(), form=choice.form
                )
            except Exception:
                entry = None
            entries.append((choice, entry))
        self.push_screen(SamplePicker(entries), self._picked_sample)

    def _picked_sample(self, choice: SampleChoice | None) -> None:
        if choice:
            self.send_sample(choice.name, form=choice.form)

    def send_sample(self, name: str, *, form: bool = False) -> None:
        self.run_worker(self._send_sample(name, form), group="samples", exclusive=False, exit_on_error=False, name="sending a sample")

    async def _send_sample(self, name: str, form: bool = False) -> None:
        """Through the pipeline directly (no HTTP): the same path a request takes. `form`: as
        `send NAME --form` sends it, built by the same samples.build."""
        label = SampleChoice(name, form).label
        try:
            now = self.clock()
            request, entry = samples.build(
                name, self.config, tenant=self.tenant, signed_url_base=self.pipeline.base_url, now=now, form=form
            )
            capture = await self.pipeline.handle(request, origin="sample", now=now)
        except Exception as exc:
            self.post_message(SampleSent(label, None, None, None, f"{type(exc).__name__}: {exc}"))
            return
        self._select_when_seen = capture.id
        status = capture.response.status if capture.response else None
        self.post_message(SampleSent(label, capture.id, status, entry))

    def on_sample_sent(self, message: SampleSent) -> None:
        if message.error:
            self.notify(f"sample {message.name} could not be sent: {message.error}", severity="error")
            return
        how = f"signed with {message.entry}" if message.entry else "unsigned"
        self.notify(f"sent {message.name} ({how}) → {message.status} · #{message.capture_id}", timeout=4)
        if message.capture_id is not None and self.table.select_id(message.capture_id):
            self._select_when_seen = None

    def action_filter(self) -> None:
        self.main.query_one(FilterBar).open()

    def action_toggle_follow(self) -> None:
        table = self.table
        table.follow = not table.follow
        self.notify("follow on: new captures are selected as they arrive" if table.follow else "follow off", timeout=2)

    def action_clear_view(self) -> None:
        table = self.table
        self._late = set()
        self._at_clear = None
        if self.watermark:
            self.watermark = 0
            self.notify("showing every capture again", timeout=2)
        else:
            if self._incoming:  # arrived before the key: hidden with the rest
                self._take_captures()
            self.watermark = max((r.id for r in table.rows), default=0)
            if not self.history_done:  # pages read before now may still bring rows in
                self._at_clear = {r.id for r in table.rows}
            self.notify(
                f"view cleared (captures up to #{self.watermark} stay in the store); press {self.key_for('clear-view', 'x')} again to show them",
                timeout=4,
            )
        if self.filter_in_store:
            self.set_filter(self.filter_text)
        else:
            self._apply_filter_rows()
        self._update_lower()
        self._update_counts()

    def action_copy_curl(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        text = to_curl(capture, self.local_base, self.masker)
        self.copy_to_clipboard(text)
        self.push_screen(CopiedScreen(f"#{capture.id} as curl", text))

    # Resend (SPEC §9): through the pipeline to this inspector, or to another URL; each in a
    # worker so a slow target never stalls the UI, each outcome shown, never raised.

    def action_resend(self) -> None:
        self._resend_selected(ResendOrder())

    def action_resend_resigned(self) -> None:
        self._resend_selected(ResendOrder(resign=True))

    def _resend_selected(self, order: ResendOrder) -> None:
        capture = self._need_capture()
        if capture is not None:
            self.resend(capture, order)

    def action_edit_resend(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        sig = capture.signature
        scheme = scheme_for(sig.algorithm) if sig.algorithm else None
        resign = sig.scheme is not None and scheme is not None and scheme.signs  # an edited body breaks the old signature
        screen = EditResendScreen(capture, self.masker, partial(self._order_problem, capture), resign=resign)
        self.push_screen(screen, lambda order: self.resend(capture, order) if order else None)

    def action_resend_to_url(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return

        def chosen(order: ResendOrder | None) -> None:
            if order is not None:
                self.last_resend_url = order.to or ""
                self.resend(capture, order)

        self.push_screen(ResendToUrlScreen(capture, partial(self._order_problem, capture), url=self.last_resend_url), chosen)

    def _order_problem(self, capture: Capture, order: ResendOrder) -> str | None:
        return problem(capture, order, pipeline=self.pipeline, config=self.pipeline.config, now=self.clock())

    def resend(self, capture: Capture, order: ResendOrder) -> None:
        if order.to:
            self.notify(f"sending #{capture.id} to {order.to}… (waits up to {self.resend_timeout:g} s)", timeout=3)
        self.run_worker(self._resend(capture, order), group="resend", exclusive=False, exit_on_error=False)

    async def _resend(self, capture: Capture, order: ResendOrder) -> None:
        try:
            outcome = await carry_out(
                capture,
                order,
                pipeline=self.pipeline,
                store=self.store,
                config=self.pipeline.config,
                now=self.clock(),
                timeout=self.resend_timeout,
            )
        except Exception as exc:  # carry_out says what went wrong itself; this is the last net
            outcome = ResendOutcome(capture.id or 0, order, error=f"{type(exc).__name__}: {exc}")
        if outcome.capture is not None:
            self._select_when_seen = outcome.capture.id
            if outcome.url:  # stored here, not by the pipeline: the table hears of it from us
                self._capture_arrived(outcome.capture)
        self.post_message(ResendDone(outcome))

    def on_resend_done(self, message: ResendDone) -> None:
        outcome = message.outcome
        severity = "error" if outcome.capture is None else "warning" if outcome.failed else "information"
        self.notify(outcome.message(), severity=severity, timeout=10 if outcome.failed else 5)
        if outcome.capture is not None and outcome.capture.id is not None and self.table.select_id(outcome.capture.id):
            self._select_when_seen = None

    # Export

    def action_export(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        written: dict[str, Any] = {}

        def write(fmt: str, path: str) -> str | None:
            target = Path(path).expanduser()
            try:
                text = export([capture], fmt, self.local_base, self.masker)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_private(str(target), text)  # owner-only: exports can hold secrets
            except OSError as exc:
                return f"cannot write {path}: {exc.strerror or exc}"
            except (ValueError, RecursionError) as exc:  # text the file cannot take (e.g. UnicodeEncodeError)
                return f"cannot export #{capture.id} as {fmt}: {describe(exc)}"
            written.update(fmt=fmt, path=target.resolve())
            return None

        def done(path: str | None) -> None:
            if path is not None and written:
                self.notify(f"wrote #{capture.id} as {written['fmt']} to {written['path']}", timeout=8)

        self.push_screen(ExportScreen(capture.id or 0, self.export_dir, write, masked=not self.reveal), done)

    def action_reload_flows(self) -> None:
        self._reload_flows(force=True)

    def reload_flows_now(self) -> None:
        """Synchronous reload for the debugger's restart (already on a worker thread's behalf)."""
        if self.flows.changed():
            self.flows.reload()
            self._update_chrome()

    @work(thread=True, exclusive=True, group="flows", name="reloading flows", exit_on_error=False)
    def _reload_flows(self, force: bool) -> None:
        try:
            changed = self.flows.changed()
            if force or changed:
                self.flows.reload()
                self.call_from_thread(self.session.reloaded_flows)
                self.post_message(FlowsReloaded(True))
        except Exception as exc:  # never let a reload take the UI down
            self.post_message(FlowsReloaded(False, f"could not reload flows: {exc}"))

    def on_flows_reloaded(self, message: FlowsReloaded) -> None:
        if message.error:
            self.notify(message.error, severity="error")
            return
        errors = len(self.flows.errors)
        self.notify(
            f"flows reloaded: {len(self.flows.flows)} loaded" + (f", {errors} error(s)" if errors else ""),
            severity="warning" if errors else "information",
            timeout=3,
        )
        self._update_chrome()

    def _answers_reloaded(self, path: Path, config: Config) -> None:
        """answers.json changed and loaded (the session's watcher): new secrets and schemes
        apply from the next request on, and the masker hides the new secrets."""
        self.config = config
        self.masker = Masker(config, reveal=self.reveal)
        self.answers_problems = []
        notes = [f"answers.json: {w}" for w in config.warnings] + [
            f"{e} — requests using this entry get status `error`" for e in config.entry_errors
        ]
        self.notify(
            "\n".join([f"answers reloaded: {path}", *notes[:WARNING_LINES]]),
            severity="warning" if notes else "information",
            timeout=6 if notes else 3,
        )
        self._update_chrome()

    def _answers_failed(self, path: Path, problems: list[str]) -> None:
        """answers.json changed into something that does not load: the last good configuration
        stays, and the problems show until the file is fixed."""
        self.answers_problems = [*problems, f"{path}: keeping the previous configuration until the file is fixed"]
        shown = problems[:WARNING_LINES] + ([f"… and {len(problems) - WARNING_LINES} more"] if len(problems) > WARNING_LINES else [])
        self.notify(
            "\n".join([f"{path} has errors; keeping the previous configuration until it is fixed:", *shown]), severity="error", timeout=12
        )
        self._update_chrome()

    def action_cycle_body_view(self) -> None:
        self.body_mode = MODES[(MODES.index(self.body_mode) + 1) % len(MODES)]
        self.detail.refresh_view("body", self._view_context())
        self.detail.tabs.active = "tab-body"

    def action_next_tab(self) -> None:
        self.detail.switch(1)

    def action_previous_tab(self) -> None:
        self.detail.switch(-1)

    def action_debug(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        names: list[str] = []
        for run in capture.runs:
            if not run.parent_id and run.flow and run.flow not in names:
                names.append(run.flow)
        for flow, _ in self.engine.triggered(capture.event_type):
            if flow.name not in names:
                names.append(flow.name)
        loaded = [n for n in names if self.flows.by_name(n) is not None]
        if not loaded:
            why = (
                f"no flow is triggered by event type {capture.event_type}"
                if capture.event_type
                else "this request matched no webhook route"
            )
            if names:
                why = f"flow {', '.join(names)} is not loaded now (see the problems above)"
            self.notify(f"nothing to debug: {why}", severity="warning")
            return
        if len(loaded) == 1:
            self.open_debugger(capture, loaded[0])
            return
        choices = [(n, self.flows.by_name(n).file) for n in loaded]
        self.push_screen(FlowPicker(choices), lambda name: self.open_debugger(capture, name) if name else None)

    def open_debugger(self, capture: Capture, flow_name: str) -> None:
        self._record(capture, flow_name)

    @work(thread=True, exclusive=True, group="debugger", name="recording the debugger run", exit_on_error=False)
    def _record(self, capture: Capture, flow_name: str) -> None:
        try:
            session = DebugSession(self.flows, flow_name, capture, clock=self.clock)
        except Exception as exc:
            self.call_from_thread(self.notify, f"could not re-run {flow_name}: {type(exc).__name__}: {exc}", severity="error")
            return
        self.call_from_thread(self.push_screen, DebuggerScreen(session, redact=deep_safe(self.masker.for_capture(capture).value)))

    def action_help(self) -> None:
        screen = self.screen
        actions: list[tuple[str, UserAction, bool]] = []
        for spec in list(getattr(screen, "ACTIONS", ())) + [
            a for a in MAIN_ACTIONS if screen is self.screen_stack[0] or a.id in ("quit", "help")
        ]:
            if spec in (a for _, a, _ in actions):
                continue
            actions.append((self._key_of(screen, spec), spec, True))
        title = (
            "Help — debugger"
            if isinstance(screen, DebuggerScreen)
            else "Help — tunnel panel"
            if isinstance(screen, TunnelScreen)
            else "Help"
        )
        self.push_screen(HelpScreen(actions, self.problems(), self.keymap_file, title))

    def _key_of(self, screen: Screen, spec: UserAction) -> str:
        return self.key_for(spec.id, spec.key_display or spec.key, screen)

    def palette_entries(self, screen: Screen) -> list[tuple[str, str, Callable[[], object]]]:
        """Every action of `screen` (its own, then the app's), then every sample by name."""
        entries = []
        own = list(getattr(screen, "ACTIONS", ()))
        main = screen is self.screen_stack[0]
        for spec in own + [a for a in MAIN_ACTIONS if main or a.id in ("quit", "help")]:
            if own and spec in own:
                target: Any = screen
            else:
                target = self
            entries.append((spec.label, f"{self._key_of(screen, spec)} · {spec.help}", partial(self._run_palette, spec.action, target)))
        if main:
            for choice in sample_choices():
                entries.append(
                    (f"Send sample {choice.label}", choice.description, partial(self.send_sample, choice.name, form=choice.form))
                )
        return entries

    async def _run_palette(self, action: str, target: Any) -> None:
        await self.run_action(action, target)

    # The tunnel (SPEC §8): started once the server listens, never blocking the UI (pyngrok runs
    # in the tunnel's own threads); its statuses come back as TunnelChanged messages.

    def _follow_tunnel(self, tunnel: Tunnel) -> None:
        """Use `tunnel`: the session makes the pipeline, the record and the workers follow it,
        and its statuses come here as TunnelChanged messages."""
        self.tunnel = tunnel
        self.session.follow(tunnel)

    def _open_tunnel(self) -> None:
        self._tunnel_work(self.session.open_tunnel(check=self.tunnel_check), "start")

    def _tunnel_work(self, work: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:  # the tunnel reports its own failures; this is the last net
                self.notify(f"tunnel {what}: {type(exc).__name__}: {exc}", severity="error", timeout=10)

        self.run_worker(run(), group=f"tunnel-{what}", exit_on_error=False)

    def start_tunnel(self) -> None:
        if self.receiver is None:
            self.notify("the server is not listening, so there is nothing to tunnel to (see the problems)", severity="warning")
            return
        if self.tunnel.status.state in ("starting", "up"):
            self.notify(f"the tunnel is already {self.tunnel.status.state}", timeout=3)
            return
        if self.tunnel.kind == "none":
            self._follow_tunnel(self.ngrok_tunnel())
            self.post_message(TunnelChanged(self.tunnel.status))
        self._open_tunnel()

    def stop_tunnel(self) -> None:
        if self.tunnel.status.state not in ("starting", "up"):
            self.notify("the tunnel is not running", timeout=3)
            return
        self._tunnel_work(self.tunnel.stop(), "stop")

    def run_self_check(self) -> None:
        if self.tunnel.status.state != "up" or self.receiver is None:
            self.notify(f"no public URL to check: the tunnel is {self.tunnel.status.state}", severity="warning", timeout=4)
            return
        self._tunnel_work(self.tunnel.self_check(self.receiver), "self-check")

    def tunnel_view(self) -> TunnelView:
        public = self.public_url
        note = public_base_url_note(self.config.public_base_url, public) if public else self._public_base_note()
        return TunnelView(
            status=self.tunnel.status,
            listening=self.listening,
            base=public or self.local_base,
            urls=tuple(self.trigger_urls(public)),
            note=note,
            start_label="Start ngrok" if self.tunnel.kind == "none" else "Start",
        )

    def on_tunnel_changed(self, message: TunnelChanged) -> None:
        if self._quitting:  # stopping it on the way out: nothing left to show
            return
        status = self.tunnel.status  # the newest (a burst of changes arrives as one message)
        before, self._last_tunnel_state = self._last_tunnel_state, status.state
        check = status.selfcheck
        if status.state == "failed" and before != "failed":
            self.notify(
                f"tunnel failed: {status.reason}"
                + (f"\nfix: {status.fix}" if status.fix else "")
                + f"\nwebhooks still reach {self.local_base}",
                severity="error",
                timeout=12,
            )
        elif status.state == "up" and before != "up":
            self.notify(f"tunnel up: {self.public_url} — {self.key_for('tunnel', 't')} lists the URLs to paste", timeout=6)
        if check is not None and check is not self._last_selfcheck and not check.ok:
            self.notify(check.line() + (f"\nfix: {check.fix}" if check.fix else ""), severity="warning", timeout=10)
        self._last_selfcheck = check
        self._update_chrome()
        for screen in self.screen_stack:
            if isinstance(screen, TunnelScreen):
                screen.show(self.tunnel_view())

    def action_tunnel(self) -> None:
        self.push_screen(TunnelScreen(self.tunnel_view()))

    # Quitting: ctrl+q stops the server and the tunnel, waits a little for pending runs, exits 0

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit(0)

    async def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        self._quitting = True
        self._search_generation += 1
        for listeners, listener in (
            (self.pipeline.listeners, self._capture_arrived),
            (self.pipeline.update_listeners, self._capture_updated),
        ):
            if listener in listeners:
                listeners.remove(listener)
        try:
            # A worker lets requests in flight finish (up to 5 s), drains its flow runs for
            # DRAIN_SECONDS_TUI, then waits up to 5 s for them to end as `interrupted`: give it
            # that before killing it.
            await self.session.stop(
                drain=DRAIN_SECONDS_TUI, receiver_grace=2.0, worker_grace=5 + DRAIN_SECONDS_TUI + 5 + 2, tunnel_timeout=8.0
            )
        except Exception as exc:  # quitting must always work
            self.log.error(f"stopping the server: {exc!r}")
        try:
            self.store.flush()
        except Exception as exc:
            self.log.error(f"flushing the store: {exc!r}")

    async def on_unmount(self) -> None:
        await self.shutdown()
