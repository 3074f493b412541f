"""The server session that `serve` and the TUI share: listen, worker processes, tunnel and
self-check, the flows and answers.json watcher, the pipeline, the running-server record and the
wind-down. It knows no screen and prints nothing: what happens goes to a `SessionEvents`, which
`serve` turns into its lines and the TUI into its header and notifications.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config, ConfigError, find_answers, load_config
from .discovery import Recorder
from .pipeline import DRAIN_SECONDS, Pipeline

WORKERS_READY_SECONDS = 15.0


@dataclass(frozen=True)
class ServeOptions:
    """What a server session is asked to be; `from_args` reads the command line's options."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    tenant: str = "demo"
    public_url: str | None = None
    forward_to: str | None = None
    answers: Path | None = None  # the file in use (found as SPEC §2 says), or none
    flows: str = "flows"
    store: str = ".inspector/captures.sqlite3"
    max_captures: int = 100_000
    tunnel: str = "auto"
    ngrok_path: str | None = None
    json: bool = False
    reveal: bool = False

    @classmethod
    def from_args(cls, args: Any) -> ServeOptions:
        """The command line's options; what `args` lacks keeps its default."""
        d = cls()

        def get(name: str, default: Any) -> Any:
            value = getattr(args, name, default)
            return default if value is None and default is not None else value

        return cls(
            host=str(get("host", d.host)),
            port=int(get("port", d.port)),
            workers=get("workers", 1) or 1,
            tenant=str(get("tenant", d.tenant)),
            public_url=get("public_url", None),
            forward_to=get("forward_to", None),
            answers=find_answers(get("answers", None)),
            flows=str(get("flows", d.flows)),
            store=str(get("store", d.store)),
            max_captures=get("max_captures", d.max_captures),
            tunnel=get("tunnel", d.tunnel),
            ngrok_path=get("ngrok_path", None),
            json=bool(get("json", False)),
            reveal=bool(get("reveal", False)),
        )


def worker_argv(options: ServeOptions, port: int, *, report: bool = False) -> Callable[[int, int], list[str]]:
    """The command line of a `--workers` process: the parent's settings, quiet. With `report`
    (the TUI), it reports captures over its channel instead of printing them. Run it with
    `env=workers.worker_env()`."""
    base = [
        # -P: not the working directory first on sys.path, where a user's own `inspector`
        # package could be; worker_env puts this package there instead.
        sys.executable,
        "-P",
        "-m",
        "inspector",
        "serve",
        "--flows",
        str(options.flows),
        "--store",
        str(options.store),
        "--host",
        str(options.host),
        "--port",
        str(port),
        "--tunnel",
        "none",
        "--tenant",
        str(options.tenant),
        "--max-captures",
        str(options.max_captures),
    ]
    if options.answers is not None:
        base += ["--answers", str(Path(options.answers).resolve())]
    if options.public_url:
        base += ["--public-url", options.public_url]
    if options.json:
        base.append("--json")
    if options.reveal:
        base.append("--reveal")
    if options.forward_to:
        base += ["--forward-to", options.forward_to]
    if report:
        base.append("--worker-report")

    def argv(sock_fd: int, channel_fd: int) -> list[str]:
        return base + ["--worker-socket", str(sock_fd), "--worker-channel", str(channel_fd)]

    return argv


class SessionEvents:
    """What a session reports. Each face overrides what it shows; all are called on the
    session's event loop. Texts are sentences without a `warning:`/`error:` prefix unless said."""

    def listening(self, url: str) -> None:
        pass

    def warning(self, text: str) -> None:
        """Something the person running the server should know (no prefix)."""

    def worker_line(self, text: str) -> None:
        """A line from the worker pool or a worker's stderr, as written (prefix included)."""

    def worker_capture(self, capture_id: int, update: bool) -> None:
        """A worker stored (or updated) capture `capture_id` (only with `report_workers`)."""

    def tunnel_changed(self, status: Any) -> None:
        pass

    def flows_reloaded(self, flows: Any) -> None:
        pass

    def answers_reloaded(self, path: Path, config: Config) -> None:
        pass

    def answers_failed(self, path: Path, problems: list[str]) -> None:
        """answers.json changed into something invalid; the last good configuration stays."""

    def watch_trouble(self, why: str, every: float) -> None:
        pass

    def watch_recovered(self) -> None:
        pass

    def interrupted(self, left: int) -> None:
        """`left` flow runs did not finish while stopping and are recorded as interrupted."""


def make_pipeline(config: Config, store: Any, options: ServeOptions, *, engine: Any, clock: Callable[[], float] = time.time) -> Pipeline:
    """The one place a server's pipeline is built (serve, its workers, the TUI)."""
    pipeline = Pipeline(
        config,
        store,
        clock=clock,
        public_url=options.public_url,
        engine=engine,
        local_base=f"http://{options.host}:{options.port}",
        forward_to=options.forward_to or None,
    )
    return pipeline


async def watch_files(
    flows: Any,
    answers: Path | None,
    apply_config: Callable[[Config], None],
    events: SessionEvents,
    *,
    every: float = 1.0,
    on_reload: Callable[[dict[str, str]], None] | None = None,
) -> None:
    """Reload flows when a .ygtc file changes, and answers.json when it does (checked once a
    second; a stat per file). A broken answers.json is reported and the last good one kept.
    When watching itself fails (out of file descriptors, a folder gone unreadable), that is
    said once, serving goes on with what is loaded, and the check is tried again each time."""

    def stamp() -> tuple[int, int] | None:
        try:
            st = answers.stat() if answers else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size) if st else None

    seen = stamp()
    trouble: str | None = None  # the failure last reported
    while True:
        await asyncio.sleep(every)
        try:
            if await asyncio.to_thread(flows.changed):
                await asyncio.to_thread(flows.reload)
                events.flows_reloaded(flows)
                if on_reload is not None:
                    on_reload({"reload": "flows"})
            now = stamp()
            if answers is not None and now != seen:
                try:
                    config = load_config(answers)
                except ConfigError as exc:
                    cause = exc.__context__
                    if isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError):
                        raise cause from exc  # could not read it (EMFILE and the like): try again
                    seen = now
                    events.answers_failed(answers, [str(p) for p in exc.problems])
                else:
                    seen = now
                    apply_config(config)
                    events.answers_reloaded(answers, config)
                    if on_reload is not None:
                        on_reload({"reload": "answers"})
        except Exception as exc:  # never let the watcher take the server down
            why = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__
            if why != trouble:
                events.watch_trouble(why, every)
                trouble = why
            continue
        if trouble is not None:
            events.watch_recovered()
            trouble = None


class ServerSession:
    """One server: built idle; `listen()`, then `start_workers()`, `watch()`, `follow()` +
    `open_tunnel()`, and `stop()` at the end. `config` follows answers.json while watched."""

    def __init__(
        self,
        config: Config,
        flows: Any,
        store: Any,
        options: ServeOptions,
        *,
        events: SessionEvents | None = None,
        engine: Any = None,
        pipeline: Pipeline | None = None,
        clock: Callable[[], float] = time.time,
        receiver_factory: Callable[[Pipeline, str, int], Any] | None = None,
        worker_command: Callable[[int], Callable[[int, int], list[str]]] | None = None,
        report_workers: bool = False,
        record: bool = True,
    ):
        """`worker_command(port)`: the argv builder of `--workers` processes (default: this
        process's options, see `worker_argv`); `report_workers`: they report captures to
        `events.worker_capture` instead of printing them (the TUI); `record`: write the
        running-server record next to the store (discovery.py)."""
        from .flow import Engine

        self.config = config
        self.flows = flows
        self.store = store
        self.options = options
        self.events = events or SessionEvents()
        self.clock = clock
        self.engine = engine if engine is not None else Engine(flows, clock=clock)
        self.own_pipeline = pipeline is None
        self.pipeline = pipeline or make_pipeline(config, store, options, engine=self.engine, clock=clock)
        self.receiver_factory = receiver_factory
        self.report_workers = report_workers
        self.worker_command = worker_command or (lambda port: worker_argv(options, port, report=report_workers))
        self.receiver: Any = None
        self.pool: Any = None
        self.tunnel: Any = None
        self._unfollow: list[Callable[[], None]] = []
        self._tunnel_task: asyncio.Task[Any] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._sockets: list[Any] = []
        self._stopped = False
        in_memory = str(getattr(store, "path", ":memory:")) == ":memory:"
        self.recorder = (
            Recorder(options.store, tenant=options.tenant, warn=self.events.warning, clock=time.time) if record and not in_memory else None
        )

    # Listening

    @property
    def url(self) -> str | None:
        return self.receiver.url if self.receiver is not None else None

    async def listen(self) -> str | None:
        """Bind the port (and the shared sockets of `--workers`) and answer. None once
        listening; else why not, as one line (`cannot listen on …; check --host`)."""
        from .receiver import PortInUse, Receiver, can_share_port, shared_listening_sockets

        host, port = self.options.host, self.options.port
        receiver = (self.receiver_factory or Receiver)(self.pipeline, host, port)
        workers = self.options.workers
        if workers > 1 and not can_share_port():
            self.events.warning("--workers needs SO_REUSEPORT, which this system lacks; serving from one process")
            workers = 1
        sockets: list[Any] = []
        try:
            if workers > 1:
                sockets = shared_listening_sockets(host, port, workers)
            await receiver.start(sockets[0]) if sockets else await receiver.start()
        except PortInUse as exc:
            for sock in sockets:
                sock.close()
            return str(exc)
        except OSError as exc:
            for sock in sockets:
                sock.close()
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}; check --host"
        self.receiver = receiver
        self._sockets = sockets[1:]
        # WAL pages move to the database from a thread, not inside a commit on this loop.
        if hasattr(self.store, "start_checkpointer"):
            self.store.start_checkpointer()
        if self.recorder is not None:
            self.recorder.listening(receiver.url)
        self.events.listening(receiver.url)
        return None

    async def listen_inherited(self, sock: Any) -> None:
        """A `--workers` process: answer on the parent's socket. The parent checkpoints the
        store and keeps the record; this process only answers."""
        from .receiver import Receiver

        self.recorder = None
        if hasattr(self.store, "checkpoint_elsewhere"):
            self.store.checkpoint_elsewhere()
        self.receiver = (self.receiver_factory or Receiver)(self.pipeline, self.options.host, self.options.port)
        await self.receiver.start(sock)

    def forward_problem(self) -> str | None:
        """Why `--forward-to` would send requests back here (known once listening, since with
        --port 0 the port is known only then); None when it is fine."""
        if not self.options.forward_to or self.receiver is None:
            return None
        from .replay import forward_loop

        return forward_loop(
            self.options.forward_to, self.options.host, self.receiver.port, (self.options.public_url, self.config.public_base_url)
        )

    # Worker processes (workers.py)

    async def start_workers(self) -> bool:
        """Start the other `--workers` processes on the shared port; False when there are none."""
        if self.receiver is None or not self._sockets:
            return False
        from .workers import WorkerPool, worker_env

        sockets, self._sockets = self._sockets, []
        self.pool = WorkerPool(
            self.worker_command(self.receiver.port),
            sockets,
            warn=self.events.worker_line,
            on_capture=self.events.worker_capture if self.report_workers else None,
            env=worker_env(),
        )
        self.receiver.selfcheck_nonces = self.pool.nonces
        if self.tunnel is not None:
            self._unfollow.append(self.tunnel.subscribe(self._tell_workers))
        await self.pool.start()
        return True

    async def workers_ready(self, timeout: float = WORKERS_READY_SECONDS, stop: asyncio.Event | None = None) -> bool:
        """Wait until every worker answers (or `timeout`, or `stop`)."""
        if self.pool is None:
            return True
        waits = [asyncio.ensure_future(self.pool.all_ready.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        ready: bool = self.pool.all_ready.is_set()
        return ready

    @property
    def processes_answering(self) -> int:
        return 1 + (sum(w.ready for w in self.pool.workers) if self.pool is not None else 0)

    def _tell_workers(self, status: Any) -> None:
        if self.pool is not None:
            self.pool.broadcast({"public_url": status.public_url if status.state == "up" else None})

    # Watching flows and answers.json

    def watch(self, every: float = 1.0) -> None:
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(
                watch_files(self.flows, self.options.answers, self.apply_config, self.events, every=every, on_reload=self._broadcast)
            )

    def apply_config(self, config: Config) -> None:
        self.config = config
        self.pipeline.config = config

    def _broadcast(self, message: dict[str, str]) -> None:
        if self.pool is not None:
            self.pool.broadcast(message)

    async def reload(self, what: str) -> None:
        """Reload what the parent says changed (a `--workers` process); a broken answers.json
        keeps the previous configuration, as the parent does (and reports)."""
        if what == "flows":
            await asyncio.to_thread(self.flows.reload)
        elif self.options.answers is not None:
            try:
                self.apply_config(load_config(self.options.answers))
            except ConfigError:
                pass

    def reloaded_flows(self) -> None:
        """The face reloaded the flows itself (a key): tell the worker processes."""
        self._broadcast({"reload": "flows"})

    # The tunnel (SPEC §8)

    def follow(self, tunnel: Any) -> None:
        """Use `tunnel` from now on: the pipeline, the record and the workers follow its URL,
        and `events.tunnel_changed` hears every status."""
        from .tunnel import pipeline_follower

        for unsubscribe in self._unfollow:
            unsubscribe()
        self.tunnel = tunnel
        self._unfollow = [tunnel.subscribe(pipeline_follower(self.pipeline)), tunnel.subscribe(self._record_public_url)]
        if self.pool is not None:
            self._unfollow.append(tunnel.subscribe(self._tell_workers))
        self._unfollow.append(tunnel.subscribe(self.events.tunnel_changed))

    def _record_public_url(self, status: Any) -> None:
        if self.recorder is not None:
            self.recorder.public_url(status.public_url if status.state == "up" else None)

    async def open_tunnel(self, check: bool = True) -> Any:
        """Start the tunnel towards the receiver; once up, run the self-check (`check`)."""
        from .tunnel import open_tunnel

        return await open_tunnel(self.tunnel, self.receiver, check=check)

    def start_tunnel(self, check: bool = True) -> None:
        """Open the tunnel in the background: the server already answers locally."""
        self._tunnel_task = asyncio.ensure_future(self.open_tunnel(check=check))

    async def stop_tunnel(self) -> None:
        if self._tunnel_task is not None and not self._tunnel_task.done():
            self._tunnel_task.cancel()
        if self.tunnel is not None:
            await self.tunnel.stop()

    # Wind-down

    async def stop(
        self,
        *,
        drain: float = DRAIN_SECONDS,
        receiver_grace: float | None = None,
        worker_grace: float | None = None,
        tunnel_timeout: float | None = None,
    ) -> None:
        """Stop watching, stop the tunnel, the workers and the receiver, let flow runs finish
        (runs still going after `drain` seconds end as `interrupted`, told to
        `events.interrupted`), close the pipeline, remove the record. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._watcher is not None:
            self._watcher.cancel()
        for sock in self._sockets:
            sock.close()
        stopping = asyncio.ensure_future(self.pool.stop(**({"grace": worker_grace} if worker_grace else {}))) if self.pool else None
        try:
            if tunnel_timeout is None:
                await self.stop_tunnel()
            else:
                await asyncio.wait_for(self.stop_tunnel(), timeout=tunnel_timeout)
        except Exception:  # stopping must always go on; the tunnel reports its own failures
            pass
        try:
            if self.receiver is not None:
                await (self.receiver.stop() if receiver_grace is None else self.receiver.stop(grace=receiver_grace))
        finally:
            try:
                left = await self.pipeline.drain(timeout=drain)
                if left:
                    self.events.interrupted(left)
                if self.own_pipeline:
                    await self.pipeline.close()
            finally:
                if stopping is not None:
                    await stopping
                if self.recorder is not None:
                    self.recorder.remove()
