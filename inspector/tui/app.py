"""The inspector TUI (SPEC §11): the server, a live request table, the detail tabs, the
debugger, resend / export, the tunnel. Everything runs through the core's Pipeline, Store,
FlowSet, Engine, replay, export and tunnel modules.

The app keeps the lifecycle (the server session, the store watcher, the workers, the tunnel,
reloads, the header, quitting); its main screen (screens/main.py) owns the captures table, the
filter, the history and the detail tabs. It is built from parts so tests and benches can
inject a clock, a port, a store, a time zone and a tunnel:
`InspectorApp(config, flows, store, TuiOptions(port=0, tz=timezone.utc), TuiParts(clock=lambda: T))`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.screen import Screen

from .. import heap
from ..config import Config
from ..flow import Engine, FlowSet
from ..model import Capture, unicode_text
from ..pipeline import DRAIN_SECONDS_TUI, Pipeline
from ..replay import DEFAULT_TIMEOUT
from ..server import ServeOptions, ServerSession, SessionEvents
from ..signatures import Masker
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
from ..tunnel.status import SelfCheckResult
from . import compare
from .actions import DEBUGGER_ACTIONS, MAIN_ACTIONS, TUNNEL_ACTIONS, UserAction, known_binding_ids
from .commands import InspectorCommands
from .debug_session import DebugSession
from .guard import GuardedPump, describe, guarded_callback, report
from .messages import FlowsReloaded, TunnelChanged
from .screens.debugger_screen import DebuggerScreen
from .screens.help_screen import HelpScreen
from .screens.main import TAKE_SPARE, MainScreen
from .screens.sample_picker import sample_choices
from .screens.tunnel_screen import TunnelScreen, TunnelView
from .shapes import deep_safe, printable_lines
from .widgets.detail_pane import DetailPane
from .widgets.problems_bar import ProblemsBar
from .widgets.request_table import RequestTable
from .widgets.status_header import HeaderState, StatusHeader

# Captures other processes write are looked for this often: one PRAGMA while none come.
WATCH_INTERVAL = 0.1
# While this process's own captures stream in, the store changes all the time and each look
# can catch some of them committed but not yet reported here: read back for nothing, and
# watched for updates. Then it looks this often (other writers' captures still show within a
# second; a worker's report still makes it look at once).
WATCH_INTERVAL_BUSY = 0.5
WATCH_RETRY_SECONDS = 1.0  # after the watcher's connection failed
HEADER_INTERVAL = 0.25  # the header's capture count is redrawn at most this often
WARNING_GATHER_SECONDS = 0.5  # a worker's stderr lines within this show as one notification
WARNING_LINES = 8


NO_TUNNEL_FIX = "start ngrok from the tunnel panel, or pass --public-url URL for a tunnel you run (cloudflared, Tailscale Funnel)"

# Bound on the app, so they work on every screen (MainScreen binds every main action, these too).
GLOBAL_ACTION_IDS = ("quit", "help")
GLOBAL_ACTIONS = tuple(a for a in MAIN_ACTIONS if a.id in GLOBAL_ACTION_IDS)
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


def keymap_clash(keymap: dict[str, str], keymap_file: str | None) -> str | None:
    """The main screen's keys that a keymap gives to two actions at once (say "debug": "D",
    which is also the diff key): only one of them would work, so the user hears about it."""
    owners: dict[str, list[str]] = {}
    for action in MAIN_ACTIONS:
        keys = keymap.get(action.id, action.key)
        for key in keys.split(","):
            owners.setdefault(key.strip(), []).append(action.id)
    clashes = [(key, ids) for key, ids in owners.items() if len(ids) > 1 and any(i in keymap for i in ids)]
    if not clashes:
        return None
    where = keymap_file or "keymap.json"
    said = "; ".join(f"{key!r} is the key of {' and '.join(repr(i) for i in ids)}" for key, ids in clashes)
    return f"{where}: {said} — only one of them works; give one of them another key"


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


@dataclass(frozen=True)
class TuiOptions:
    """What the user chose (cmd_tui's flags, keymap.json): one value instead of two dozen
    constructor arguments. `serve=False`: no listening socket (tests, snapshots)."""

    # The server
    host: str = "127.0.0.1"
    port: int = 8080
    serve: bool = True
    workers: int = 1
    tenant: str = "demo"
    forward_to: str | None = None
    public_url: str | None = None
    tunnel_check: bool = True  # run the self-check once the tunnel is up
    watch_flows: bool = True
    # What the screen shows
    answers: Path | str | None = None
    store_label: str | None = None
    problems: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    reveal: bool = False
    tz: tzinfo | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    keymap_file: str | None = None
    load_history: bool = True
    resend_timeout: float = DEFAULT_TIMEOUT
    export_dir: Path | str | None = None


@dataclass(frozen=True)
class TuiParts:
    """The collaborators tests, benches and cmd_tui put in: the clock, a pipeline, the
    listening side, the tunnel (started once the server listens; default: `public_url`'s,
    else none), the ngrok tunnel the panel's Start offers when there is none, and the
    --workers command line (without it the app serves alone)."""

    clock: Callable[[], float] = time.time
    pipeline: Pipeline | None = None  # built with the options' forward_to, when given
    receiver_factory: Callable[[Pipeline, str, int], Any] | None = None
    tunnel: Tunnel | None = None
    ngrok_tunnel: Callable[[], Tunnel] | None = None
    worker_command: Callable[[int], Callable[[int, int], list[str]]] | None = None


class InspectorApp(GuardedPump, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "webhook-inspector"
    COMMANDS = App.COMMANDS | {InspectorCommands}
    # The main screen binds every main action (MainScreen); these two work on every screen.
    BINDINGS = [a.binding() for a in GLOBAL_ACTIONS]
    ACTIONS = GLOBAL_ACTIONS

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
        self, config: Config | None, flows: FlowSet, store: Store, options: TuiOptions | None = None, parts: TuiParts | None = None
    ):
        super().__init__()
        options = options or TuiOptions()
        parts = parts or TuiParts()
        self.options = options
        self.config_ok = config is not None
        self.config = config or Config()
        self.flows = flows
        self.store = store
        self.answers = str(options.answers) if options.answers else None
        self.startup_problems = list(options.problems)
        self.notices = list(options.notices)
        self.tenant = options.tenant
        self.reveal = options.reveal
        self.clock = parts.clock
        self.tz = options.tz
        self.keymap = dict(options.keymap)
        self.keymap_file = options.keymap_file
        self.store_label = options.store_label or str(store.path)
        self.load_history = options.load_history
        self.watch_flows = options.watch_flows
        self.masker = Masker(config, reveal=options.reveal)
        self.rerun_offer = False  # flows reloaded: the header offers a rerun (tui/compare.py)
        self.answers_problems: list[str] = []  # a changed answers.json that did not load
        # The server (server.py, shared with `serve`): listen, workers, tunnel, the flows and
        # answers.json watcher, the wind-down. The tunnel, not the options, sets the public URL.
        # Forward mode comes in here: the session's pipeline is built with it (make_pipeline);
        # a pipeline passed in is used as it was built.
        self.session = ServerSession(
            self.config,
            flows,
            store,
            ServeOptions(
                host=options.host,
                port=options.port,
                workers=options.workers if parts.worker_command is not None else 1,
                tenant=options.tenant,
                forward_to=options.forward_to,
                answers=Path(options.answers) if options.answers else None,
                store=str(store.path),
            ),
            events=_AppEvents(self),
            engine=Engine(flows, clock=parts.clock),
            pipeline=parts.pipeline,
            clock=parts.clock,
            receiver_factory=parts.receiver_factory,
            worker_command=parts.worker_command,
            report_workers=True,
        )
        self.engine = self.session.engine
        self.pipeline = self.session.pipeline
        self.forward_to = options.forward_to
        # The tunnel: its statuses come back as TunnelChanged messages; the pipeline follows its URL.
        tunnel = parts.tunnel
        if tunnel is None:
            tunnel = PublicUrl(options.public_url) if options.public_url else NoTunnel("no tunnel", NO_TUNNEL_FIX)
        self.tunnel: Tunnel = tunnel
        self.ngrok_tunnel = parts.ngrok_tunnel or (lambda: tunnel_from_options("ngrok"))
        self.tunnel_check = options.tunnel_check
        self._follow_tunnel(self.tunnel)
        self._last_tunnel_state = self.tunnel.status.state
        self._last_selfcheck: SelfCheckResult | None = None
        self.resend_timeout = options.resend_timeout
        self.last_resend_url = ""
        self.export_dir = Path(options.export_dir) if options.export_dir is not None else _export_dir(store)
        # --workers: more processes answer on the port (workers.py); they report captures
        # over their channels and this app reads them from the store.
        self.server_processes = options.workers
        self._warnings: list[str] = []  # worker stderr lines not shown yet
        self.listen_error: str | None = None
        # Captures other processes write (import, replay --to, another serve, --workers):
        # the store watcher finds them; ids this process stored wait here to be marked seen.
        self.watching_store = False
        self.store_watcher: StoreWatcher | None = None  # while its connection is open
        self._watch_seen: list[int] = []
        self._watch_recheck: list[int] = []
        self._watch_nudge = asyncio.Event()
        self._header_due = False
        self._header_at = 0.0  # time.monotonic() of the last redraw of the count
        self._quitting = False
        self._stopping: asyncio.Future[None] | None = None  # shutdown's work, once begun
        # The table, the filter, the history and the detail tabs (screens/main.py).
        self._main = MainScreen(tz=self.tz)
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
        clash = keymap_clash(self.keymap, self.keymap_file)
        if clash:
            self.startup_problems.append(clash)

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

    # The main screen: the app has no widgets of its own.

    def get_default_screen(self) -> MainScreen:
        """The main screen is the bottom of the stack: `app.query` looks in it, as Textual's
        App does in its default screen, whatever sits above it."""
        return self._main

    @property
    def main(self) -> MainScreen:
        """The main screen, wherever the user is (modals and the debugger sit above it)."""
        return self._main

    @property
    def table(self) -> RequestTable:
        return self._main.table

    @property
    def detail(self) -> DetailPane:
        return self._main.detail

    @property
    def history_done(self) -> bool:
        """The main screen has read the store's history (the header shows the count then)."""
        return self._main.history_done

    async def on_mount(self) -> None:
        if self.keymap:
            try:
                self.set_keymap(self.keymap)
            except Exception as exc:  # the server must start whatever the keymap holds
                self.startup_problems.append(f"{self.keymap_file or 'keymap.json'}: not applied ({describe(exc)}); the default keys work")
        # The main screen is the default screen (get_default_screen); it composes in its own
        # task, and the steps below draw on its widgets.
        await self._main.mounted.wait()
        self.pipeline.listeners.append(self._capture_arrived)
        self.pipeline.update_listeners.append(self._capture_updated)
        self.table.focus()
        # A screen that cannot be drawn is reported; the server starts all the same.
        self._guarded("drawing the header and welcome screen", self.update_chrome)()
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=8)
        if self.config_ok and self.options.serve:
            await self._start_server()
        elif not self.config_ok:
            self.listen_error = "not listening: answers.json has errors (above); fix it and restart"
        self._guarded("drawing the header and welcome screen", self.update_chrome)()
        if self.forward_to:
            self.notify(f"forwarding every accepted webhook to {self.forward_to}; its answer goes back to the sender", timeout=6)
        if self.receiver is not None and self.tunnel.kind != "none":
            self._open_tunnel()
        # The watcher first: what it takes as known at its start, the history reads after.
        self._start_store_watch()
        if self.load_history:
            self._main.load_history()
        else:
            self._main.history_done = True
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
        return self.listening or f"http://{self.options.host}:{self.options.port}"

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

    def _main_shown(self) -> bool:
        """The main screen's widgets are there to draw on: not before on_mount pushed it, nor
        once the app shuts down (a late timer or tunnel callback)."""
        return bool(self.screen_stack) and self._main.is_mounted

    def update_chrome(self) -> None:
        """The header, the problems, the welcome screen and the table's counts."""
        if not self._main_shown():
            return
        self._update_header()
        problems = self.problems()
        hint = (
            f"{self.key_for('reload-flows', 'r')} reloads flows after a fix · {self.key_for('help', '?')} help lists every problem"
            if self.flows.errors
            else ""
        )
        self._main.query_one(ProblemsBar).show(problems, hint)
        self._main.update_lower()
        self._main.update_counts()

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
        if not self._main_shown():
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
        elif not self.options.serve and self.receiver is None:
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
                flows=self.flows.loaded,
                flow_errors=bad_files,
                store=self.store_label,
                captures=self._main.total if self._main.history_done or self._main.total else None,
                selfcheck=selfcheck,
                selfcheck_ok=ok,
                forward_to=self.forward_to,
                rerun_offer=compare.offer_text(self),
            )
        )

    def trigger_urls(self, base: str | None = None) -> list[TriggerUrl]:
        """The URL to paste into each trigger's sender, on `base` (default: where we listen)."""
        return trigger_urls(self.flows, _AtBase(self.pipeline, base or self.local_base), self.tenant)

    def key_for(self, action_id: str, default: str, screen: Screen | None = None) -> str:
        """The key bound to `action_id` now (after any keymap), as the footer shows it."""
        screen = screen or (self._main if self.screen_stack else None)
        for active in screen.active_bindings.values() if screen is not None else ():
            if active.binding.id == action_id:
                return self.get_key_display(active.binding)
        return default

    def public_base_note(self) -> str | None:
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

    def tunnel_note(self) -> str | None:
        status = self.tunnel.status
        panel = self.key_for("tunnel", "t")
        if status.state == "starting":
            return f"{self._starting()} — the public URLs appear here once it is up."
        if status.state == "failed":
            return f"Tunnel failed: {status.reason} — press {panel} for the fix. Webhooks still reach {self.local_base}."
        return None

    # Live captures: the pipeline calls these on the event loop, the store watcher for the
    # captures other processes write; the main screen's table takes them.

    def _capture_updated(self, capture: Capture) -> None:
        self._capture_arrived(capture, first=False)

    def _capture_arrived(self, capture: Capture, first: bool = True) -> None:
        """A capture stored (`first`) or updated (a trace that ended after the answer)."""
        if self._quitting:
            return
        if first and capture.id is not None and self.watching_store:
            self._watch_seen.append(capture.id)
        self._main.capture_arrived(capture, first)

    def schedule_header(self) -> None:
        """The capture count in the header: redrawn at most every HEADER_INTERVAL. Under load
        the main screen's next take redraws it with the table (`header_if_due`), in one frame;
        the timer stands in when no take comes."""
        if self._header_due:
            return
        self._header_due = True
        wait = max(0.0, HEADER_INTERVAL - (time.monotonic() - self._header_at))
        self.set_timer(wait + TAKE_SPARE, self._guarded("updating the header", self.header_if_due))

    def header_if_due(self) -> None:
        if self._header_due and time.monotonic() - self._header_at >= HEADER_INTERVAL:
            self._header_due = False
            self._header_at = time.monotonic()
            self._update_header()

    # Captures other processes write: the store watcher (store/watch.py) looks at the store's
    # data version every WATCH_INTERVAL (a worker's report makes it look at once) and hands
    # what it finds to _capture_arrived, like the pipeline does with this process's captures.

    def _start_store_watch(self) -> None:
        if str(self.store.path) == ":memory:" or self.watching_store:
            return
        self.watching_store = True
        self.run_worker(self._watch_store(self._open_watcher()), group="store-watch", name="watching the store", exit_on_error=False)

    async def _watch_store(self, watcher: StoreWatcher | None) -> None:
        busy = False
        try:
            while not self._quitting:
                if watcher is None:
                    watcher = await asyncio.to_thread(self._open_watcher)
                    if watcher is None:
                        await asyncio.sleep(WATCH_RETRY_SECONDS)
                        continue
                self.store_watcher = watcher
                try:
                    await asyncio.wait_for(self._watch_nudge.wait(), WATCH_INTERVAL_BUSY if busy else WATCH_INTERVAL)
                except TimeoutError:
                    pass
                self._watch_nudge.clear()
                if self._quitting:
                    break
                seen, self._watch_seen = self._watch_seen, []
                busy = bool(seen)  # our own captures came in since the last look
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
                        # The thread may still read: the watcher closes its connection
                        # when that poll ends (StoreWatcher.close).
                        watcher.close()
                        watcher = self.store_watcher = None
                        raise
                except (sqlite3.Error, StoreError) as exc:
                    self.log.warning(f"store watcher: {exc}; opening it again")
                    if watcher is not None:
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

    # Flows and answers.json: reloaded on a key (r) or when the session sees them change

    def action_reload_flows(self) -> None:
        self._reload_flows(force=True)

    def reload_flows_now(self) -> None:
        """Synchronous reload for the debugger's restart (already on a worker thread's behalf)."""
        if self.flows.changed():
            self.flows.reload()
            self.update_chrome()

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
            f"flows reloaded: {self.flows.loaded} loaded" + (f", {errors} error(s)" if errors else ""),
            severity="warning" if errors else "information",
            timeout=3,
        )
        self.rerun_offer = True
        self.update_chrome()

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
        self.update_chrome()

    def _answers_failed(self, path: Path, problems: list[str]) -> None:
        """answers.json changed into something that does not load: the last good configuration
        stays, and the problems show until the file is fixed."""
        self.answers_problems = [*problems, f"{path}: keeping the previous configuration until the file is fixed"]
        shown = problems[:WARNING_LINES] + ([f"… and {len(problems) - WARNING_LINES} more"] if len(problems) > WARNING_LINES else [])
        self.notify(
            "\n".join([f"{path} has errors; keeping the previous configuration until it is fixed:", *shown]), severity="error", timeout=12
        )
        self.update_chrome()

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
        for spec in [*getattr(screen, "ACTIONS", ()), *GLOBAL_ACTIONS]:
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
        entries: list[tuple[str, str, Callable[[], object]]] = []
        own = list(getattr(screen, "ACTIONS", ()))
        for spec in own + [a for a in GLOBAL_ACTIONS if a not in own]:
            target: Any = screen if spec in own else self
            entries.append((spec.label, f"{self._key_of(screen, spec)} · {spec.help}", partial(self._run_palette, spec.action, target)))
        if screen is self._main:
            for choice in sample_choices():
                entries.append(
                    (f"Send sample {choice.label}", choice.description, partial(self._main.send_sample, choice.name, form=choice.form))
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
        note = public_base_url_note(self.config.public_base_url, public) if public else self.public_base_note()
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
        self.update_chrome()
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
        """Stop the server, the tunnel and the flow runs, then flush the store. A caller that
        comes while that runs (ctrl+q, then the terminal hanging up: launch.TerminalDriver)
        waits for the same stop to end, so none of them lets the app exit before the store
        is finished."""
        if self._stopping is None:
            self._quitting = True
            self._main.stop_searching()
            for listeners, listener in (
                (self.pipeline.listeners, self._capture_arrived),
                (self.pipeline.update_listeners, self._capture_updated),
            ):
                if listener in listeners:
                    listeners.remove(listener)
            self._stopping = asyncio.ensure_future(self._stop_server())
        await asyncio.shield(self._stopping)

    async def _stop_server(self) -> None:
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
