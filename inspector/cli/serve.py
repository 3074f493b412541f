"""serve: the webhook server without the TUI, one line per request (SPEC §10)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .common import (
    make_tunnel,
    open_config,
    open_flows,
    open_store,
)
from .options import AddCommand, forward_to, workers_option
from .output import err, out

if TYPE_CHECKING:
    import asyncio

    from ..config import Config
    from ..flow import FlowSet
    from ..model import Capture
    from ..pipeline import Pipeline
    from ..receiver import Receiver
    from ..store import Store
    from ..tunnel import TunnelStatus

NAME = "serve"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "run the webhook server without the TUI, one line per request")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    workers_option(p)
    # Set by `serve --workers` (and the TUI's) for the processes it starts: inherited socket
    # and channel fds, and whether captures are reported over the channel instead of printed.
    p.add_argument("--worker-socket", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--worker-channel", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--worker-report", action="store_true", help=argparse.SUPPRESS)
    forward_to(p)
    return p


def handle(args: argparse.Namespace) -> int:
    config = open_config(args, quiet=getattr(args, "worker_socket", None) is not None)
    if config is None:
        return 2
    store = open_store(args, server=True)
    if store is None:
        return 2
    from ..receiver import run_server

    try:
        return run_server(_serve(args, config, store))
    finally:
        store.close()


class LineBuffer:
    """stdout lines written together, at most EVERY seconds after the first of them: under
    load, one write for hundreds of requests instead of a write (and a wake-up of the writer
    thread, which then contends with the event loop for the GIL) per loop pass. A person
    watching sees a line 50 ms later at most. Each write holds whole lines and at most
    PIPE_BUF bytes (unless one line is longer), so `serve --workers` processes sharing stdout
    never cut into each other's lines.

    The writes happen on a thread of their own: a reader that stops reading (a paused
    `| less`, Ctrl-S in a terminal) fills the pipe, and a write on the event loop would then
    stop every webhook. Past BACKLOG bytes waiting, lines are dropped and counted instead. A
    reader that goes away (`| head -1`) is told about once; serving goes on."""

    CHUNK = 4096  # POSIX PIPE_BUF on Linux: a write this small to a pipe is atomic
    BACKLOG = 1 << 20
    EVERY = 0.05  # seconds from a line to its write, at most

    def __init__(self, loop: asyncio.AbstractEventLoop):
        import queue
        import threading

        self.loop = loop
        self.lines: list[str] = []
        self.gone = False  # stdout cannot be written: lines are dropped
        self.dropped = 0  # lines dropped while stdout was not being read
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._waiting = 0  # bytes queued and not yet written
        self._drained = threading.Event()
        self._drained.set()
        self._thread: threading.Thread | None = None
        self._due: asyncio.TimerHandle | None = None

    def __call__(self, text: str) -> None:
        if self.gone:
            return
        if self._due is None:
            self._due = self.loop.call_later(self.EVERY, self.flush)
        self.lines.append(text)

    def flush(self, wait: float = 0.0) -> None:
        """Hand the lines to the writer; with `wait`, until they are written (at most that
        many seconds), for a line that must come before what others print (`listening on`)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        if not self.lines or self.gone:
            self.lines = []
            return
        lines, self.lines = self.lines, []
        data = ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")
        stream = sys.stdout
        try:
            stream.flush()  # what `out` wrote before goes first
        except (OSError, ValueError, AttributeError) as exc:  # closed, or no stdout at all
            self._lost(exc)
            return
        raw = getattr(stream, "buffer", None)
        try:
            fd = stream.fileno() if raw is not None else None
        except (OSError, ValueError, AttributeError):
            fd = None
        if fd is None:  # a replaced stdout (tests): written here and now
            try:
                if raw is None:
                    stream.write(data.decode("utf-8"))
                    stream.flush()
                else:
                    self._write(raw.write, data)
                    raw.flush()
            except (OSError, ValueError) as exc:
                self._lost(exc)
            return
        with self._lock:
            if self._waiting + len(data) > self.BACKLOG:
                self.dropped += len(lines)
                return
            self._waiting += len(data)
            self._drained.clear()
        if self._thread is None:
            import threading

            self._thread = threading.Thread(target=self._write_lines, args=(fd,), name="stdout", daemon=True)
            self._thread.start()
        self._queue.put(data)
        if wait:
            self._drained.wait(wait)

    def close(self, timeout: float = 2.0) -> None:
        """Write what is left (waiting at most `timeout` for a slow reader); stop the thread."""
        self.flush()
        self._drained.wait(timeout)
        if self._thread is not None:
            self._queue.put(None)

    def _write_lines(self, fd: int) -> None:
        import select

        def write(view: memoryview) -> int:
            while True:
                try:
                    return os.write(fd, view)
                except BlockingIOError:  # a terminal another program set non-blocking
                    select.select([], [fd], [])

        while True:
            data = self._queue.get()
            if data is None:
                return
            try:
                if not self.gone:
                    self._write(write, data)
            except OSError as exc:
                self._lost(exc)
            finally:
                with self._lock:
                    self._waiting -= len(data)
                    dropped, self.dropped = (self.dropped, 0) if self._waiting == 0 else (0, self.dropped)
                    if self._waiting == 0:
                        self._drained.set()
            if dropped and not self.gone:
                err(
                    f"note: {dropped} request line(s) were not printed: stdout was not being read "
                    "(the requests are captured; `webhook-inspector list` shows them)"
                )

    def _write(self, write: Callable[[memoryview], int | None], data: bytes) -> None:
        start, size = 0, len(data)
        while start < size:
            end = start + self.CHUNK
            if end < size:
                cut = data.rfind(b"\n", start, end)
                end = cut + 1 if cut >= start else data.find(b"\n", end) + 1 or size
            else:
                end = size
            view = memoryview(data)[start:end]
            while view:
                written = write(view)
                view = view[len(view) if written is None else written :]
            start = end

    def _lost(self, exc: BaseException) -> None:
        # The server's job is capturing, and the captures are in the store: a reader that
        # went away is told about once, and serving goes on.
        if self.gone:
            return
        self.gone = True
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is closed"
        err(
            f"note: stdout cannot be written ({why}); request lines are no longer printed, "
            "but every request is still captured (`webhook-inspector list` shows them)"
        )
        stream = sys.stdout
        try:
            # Later writes (and Python's flush at exit) must not fail on the dead pipe.
            # Only when fd 1 is that pipe: with no stdout at all, fd 1 may be anything.
            if stream is not None and stream.fileno() == 1:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.close(null)
        except (OSError, ValueError, AttributeError):
            pass
        sys.stdout = open(os.devnull, "w")


def rejection(c: Capture) -> str | None:
    """Why HTTP's parser refused the request, for a capture of one; else None."""
    if not c.notes:  # the usual capture (`serve --json` asks of every one): no import to run
        return None
    from ..pipeline import REJECTED_NOTE

    for note in c.notes:
        if note.startswith(REJECTED_NOTE):
            return note[len(REJECTED_NOTE) :]
    return None


def summary_line(c: Capture) -> str:
    """`[202] POST /events/webhook/demo/github  sig=valid  flows=1  3.1ms`

    Made for every request `serve` answers, so the common one (answered, live, no notes) is
    one f-string: no imports, no list of parts, no join."""
    response = c.response
    request = c.request
    target = request.target
    if len(target) > 100:
        target = target[:99] + "…"
    if response is None:
        status: object = "---"
        took = 0.0
    else:
        status = response.status
        took = response.duration_ms if response.duration_ms is not None else 0.0
    line = f"[{status}] {request.method} {target}  sig={c.signature.status}  flows={len(c.runs)}  {took:.1f}ms"
    if c.origin != "live":
        line += f"  origin={c.origin}" + (f" replay_of={c.replay_of}" if c.replay_of else "")
    if not c.notes:
        return line
    reason = rejection(c)
    if reason is not None:  # `[400] rejected before routing: <reason>  POST /path`
        from ..pipeline import REJECTED_NOTE
        from ..receiver import shown

        what = f"  {shown(request.method, 32)} {shown(target, 100)}" if request.method else ""
        return f"[{status}] {REJECTED_NOTE}{reason}{what}"
    broken = broken_flow_positions(c)
    if broken:
        line += "  flow failed to load: " + ", ".join(broken)
    return line


def broken_flow_positions(c: Capture) -> list[str]:
    """`file:line:col` of each flow file that failed to load and may be meant for this request."""
    from ..flow.model import BROKEN_FLOW_NOTE

    out = []
    for note in c.notes:
        if note.startswith(BROKEN_FLOW_NOTE):
            found = re.match(r"(.+?:\d+:\d+): ", note[len(BROKEN_FLOW_NOTE) :])
            if found:
                out.append(found.group(1))
    return out


def _print_captures(args: argparse.Namespace, pipeline: Pipeline, lines: LineBuffer) -> None:
    if args.json:

        def json_line(c: Capture) -> str:
            data = dict(c.summary_json(), duration_ms=c.response.duration_ms if c.response else None)
            reason = rejection(c)
            if reason is not None:
                data["rejected"] = reason
            return json.dumps(data)

        pipeline.listeners.append(lambda c: lines(json_line(c)))
    else:
        pipeline.listeners.append(lambda c: lines(summary_line(c)))


def _stop_on_signals(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
) -> None:
    for sig in signals:
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass


def stop_signals() -> tuple[signal.Signals, ...]:
    """What stops `serve`: Ctrl-C, `kill`, and the terminal hanging up (closed, or an ssh
    session gone), which reaches the whole process group at once. A hangup set to be ignored
    when serve started (`nohup`) stays ignored."""
    hangup = signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN
    return (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) if hangup else (signal.SIGINT, signal.SIGTERM)


def _ignore_signals(loop: asyncio.AbstractEventLoop, signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)) -> None:
    """Once wound down, the process only exits: a late stop signal (a worker gets one from
    the parent and maybe one from `kill`) is ignored, instead of landing while the loop closes
    its wake-up pipe ("Exception ignored ... signal wakeup fd")."""
    for sig in signals:
        try:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)
        except (NotImplementedError, RuntimeError, ValueError, OSError):
            pass


def worker_argv(args: argparse.Namespace, port: int, *, report: bool = False) -> Callable[[int, int], list[str]]:
    """The command line of a `serve --workers` process, from this command line's options
    (see server.worker_argv)."""
    from ..server import ServeOptions
    from ..server import worker_argv as argv_for

    return argv_for(ServeOptions.from_args(args), port, report=report)


async def _serve_worker(args: argparse.Namespace, config: Config, store: Store) -> int:
    """One of `serve --workers`' processes: answer on the inherited socket, print request
    lines, follow the parent (see workers.py)."""
    import asyncio

    from .. import heap
    from ..pipeline import DRAIN_SECONDS, DRAIN_SECONDS_TUI
    from ..server import ServeOptions, ServerSession
    from ..workers import Channel, follow_parent, inherited_socket
    from .serve_lines import ServeLines

    flows, engine = open_flows(args, quiet=True)
    session = ServerSession(config, flows, store, ServeOptions.from_args(args), events=ServeLines(), engine=engine, record=False)
    await session.listen_inherited(inherited_socket(args.worker_socket))
    channel = await Channel.open(inherited_socket(args.worker_channel))
    heap.settle()
    loop = asyncio.get_running_loop()
    lines = LineBuffer(loop)
    report = bool(getattr(args, "worker_report", False))
    if not report:
        _print_captures(args, session.pipeline, lines)
    stop = asyncio.Event()
    _stop_on_signals(loop, stop, (signal.SIGTERM,))
    # Ctrl-C and a terminal's hangup reach the whole process group; the parent stops its
    # workers itself (SIGTERM, or the channel closing when it is gone), and a worker gone
    # first would look to it like a crash to recover from, and lose what it had in flight.
    for sig in (signal.SIGINT, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, lambda: None)
        except (NotImplementedError, RuntimeError):
            pass
    follower = asyncio.create_task(follow_parent(channel, session.receiver, session.pipeline, session.reload, stop, report=report))
    try:
        await stop.wait()
    finally:
        follower.cancel()
        try:
            await session.stop(drain=DRAIN_SECONDS_TUI if report else DRAIN_SECONDS)
        finally:
            lines.close()
            channel.close()
            _ignore_signals(loop, (signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
    return 0


async def _serve(args: argparse.Namespace, config: Config, store: Store) -> int:
    import asyncio

    from .. import heap
    from ..server import ServeOptions, ServerSession
    from .serve_lines import ServeLines

    if getattr(args, "worker_socket", None) is not None and getattr(args, "worker_channel", None) is not None:
        return await _serve_worker(args, config, store)
    flows, engine = open_flows(args)
    if args.forward_to and not args.forward_to.startswith(("http://", "https://")):
        err(f"error: --forward-to {args.forward_to!r} is not an http:// or https:// URL")
        return 2
    events = ServeLines()
    session = ServerSession(config, flows, store, ServeOptions.from_args(args), events=events, engine=engine)
    pipeline = session.pipeline
    if args.forward_to:
        err(f"forwarding every accepted webhook to {args.forward_to}; its answer goes back to the sender")
    # Signals count from before the record is written: a stop at any moment from here winds
    # everything down and removes it.
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = stop_signals()
    _stop_on_signals(loop, stop, signals)
    problem = await session.listen()
    if problem is not None:
        err(f"error: {problem}")
        return 2
    receiver = session.receiver
    loop_reason = session.forward_problem()
    if loop_reason:
        err(f"error: --forward-to {args.forward_to}: {loop_reason}; forward to the app that should answer instead")
        await session.stop()
        return 2

    # Everything loaded so far lives as long as the server: keep the cyclic collector from
    # walking it again and again (its full passes are what a p99 sees).
    heap.settle()
    lines = LineBuffer(loop)
    # Through the line buffer, which survives a stdout that is closed or goes away.
    if args.json:
        lines(json.dumps({"listening": receiver.url}))
    else:
        lines(f"listening on {receiver.url}")
    lines.flush(wait=5.0)  # the first line: before the tunnel's, which `out` writes
    _print_webhook_urls(args, config, flows, pipeline)
    _print_captures(args, pipeline, lines)
    try:
        if await session.start_workers():
            processes = session.options.workers
            if await session.workers_ready(stop=stop):
                err(f"workers: {processes} processes answer on port {receiver.port}")
            elif not stop.is_set():
                err(f"warning: only {session.processes_answering} of {processes} processes are answering yet")
        session.watch()
        tunnel = make_tunnel(args)
        if tunnel.kind == "none":
            if args.tunnel == "auto":
                err(f"note: {tunnel.status.reason}" + (f"; {tunnel.status.fix}" if tunnel.status.fix else ""))
        else:
            events.printer = TunnelPrinter(args, config, flows, pipeline, receiver)
            session.follow(tunnel)
            session.start_tunnel()
        await stop.wait()
    finally:
        try:
            await session.stop()
        finally:
            lines.close()
            _ignore_signals(loop, signals)
    err("stopped")
    return 0


def _print_webhook_urls(args: argparse.Namespace, config: Config, flows: FlowSet, pipeline: Pipeline) -> None:
    """Where senders reach us, on stderr. A placeholder public_base_url (what `init` writes)
    is said to be one, with the local URL of every trigger instead; the tunnel's URLs follow
    once it is up."""
    from ..starter import how_to_set_public_url, is_placeholder_url
    from ..tunnel import trigger_urls

    configured = config.public_base_url
    if args.public_url or not is_placeholder_url(configured):
        if not args.json:
            err(f"webhook URL: {pipeline.webhook_url(args.tenant, '{event_type}')}")
            # Greentic-shaped flows answer on the v1 ingress route instead: one URL each
            for t in trigger_urls(flows, pipeline, args.tenant):
                if t.trigger_type == "ingress":
                    err(f"  {t.flow} ← {t.trigger_type} {t.event_type}: {t.url}")
        return
    err(
        f"note: public_base_url in answers.json ({(configured or '').rstrip('/')}) is a placeholder, not a URL senders can reach: {how_to_set_public_url(pipeline.local_base)}"
    )
    if args.json:
        return
    err(f"webhook URL (local): {pipeline.webhook_url(args.tenant, '{event_type}', pipeline.local_base)}")
    for t in trigger_urls(flows, pipeline, args.tenant, base=pipeline.local_base):
        err(f"  {t.flow} ← {t.trigger_type} {t.event_type}: {t.url}")


class TunnelPrinter:
    """Turns tunnel status changes into `serve`'s lines: `public url: URL`, the URL to paste
    per trigger, `self-check: …`, and failures with their fix (SPEC §10)."""

    def __init__(self, args: argparse.Namespace, config: Config, flows: FlowSet, pipeline: Pipeline, receiver: Receiver):
        from ..tunnel import TunnelStatus

        self.args, self.config, self.flows, self.pipeline, self.receiver = args, config, flows, pipeline, receiver
        self.prev = TunnelStatus("none")

    def __call__(self, status: TunnelStatus) -> None:
        from ..tunnel import public_base_url_note, trigger_urls

        prev, self.prev = self.prev, status
        json_mode = self.args.json
        if status.state == "starting" and status.detail and status.detail != prev.detail:
            err(f"tunnel: {status.detail}")
        if status.state == "up" and (prev.state != "up" or prev.public_url != status.public_url):
            out(json.dumps({"public_url": status.public_url}) if json_mode else f"public url: {status.public_url}")
            for t in trigger_urls(self.flows, self.pipeline, self.args.tenant):
                err(f"  {t.flow} ← {t.trigger_type} {t.event_type}: {t.url}")
            note = public_base_url_note(self.config.public_base_url, status.public_url)
            if note:
                err(f"note: {note}")
        elif status.state == "up" and status.detail and status.detail != prev.detail:
            err(f"tunnel: {status.detail}")
        if status.selfcheck is not None and status.selfcheck is not prev.selfcheck:
            result = status.selfcheck
            out(json.dumps({"self_check": result.to_json()}) if json_mode else result.line())
            if not result.ok and result.fix:
                err(f"  fix: {result.fix}")
        if status.state == "failed" and prev.state != "failed":
            out(json.dumps({"tunnel": status.to_json()}) if json_mode else f"tunnel: FAILED — {status.reason}")
            if status.fix:
                err(f"  fix: {status.fix}")
            err(f"  webhooks still reach {self.receiver.url} (local only)")
