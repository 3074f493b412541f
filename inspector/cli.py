"""The sub-commands of SPEC §10: parse → call the core → print. No decisions live here."""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import heap
from .config import Config, ConfigError, find_answers, load_config
from .filters import FilterError, parse_filter
from .flow.runs import FlowRun, runs_from_json
from .model import Capture, Headers, Request, iso_time, json_text, unicode_text
from .pipeline import CAPTURE_HEADER, DRAIN_SECONDS, DRAIN_SECONDS_TUI, REJECTED_NOTE, Pipeline
from .server import SessionEvents
from .signatures import Masker
from .store import NoStore, Store, StoreError


class UsageError(Exception):
    """Bad arguments: printed as a usage error, exit 2."""


class OutputFailed(Exception):
    """stdout cannot be written (a full disk, /dev/full, an I/O error): one line, exit 2."""


def out(text: str = "") -> None:
    write_out(text + "\n")


def write_out(text: str, *, json_doc: bool = False) -> None:
    """Write to stdout whatever its encoding. Bytes that were not UTF-8 (surrogate escapes)
    and lone surrogates become U+FFFD, as in the TUI; characters an ASCII or C locale lacks
    become backslash escapes, or \\u escapes in a JSON document (`json_doc`), which keeps
    it the same document."""
    stream = sys.stdout
    if stream is None:  # started with stdout closed (`>&-`): as print() does, nothing to write
        return
    text = unicode_text(text)
    if not _stdout_is_utf8():
        if json_doc:
            text = ascii_json(text)
        else:
            encoding = stream.encoding or "ascii"
            text = text.encode(encoding, "backslashreplace").decode(encoding)
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise  # the reader went away: __main__ ends quietly
    except OSError as exc:
        raise OutputFailed(exc.strerror or str(exc)) from None


_NON_ASCII = re.compile("[^\x00-\x7f]")


def ascii_json(text: str) -> str:
    # Outside its strings JSON is ASCII, so every other character can become its escape.
    return _NON_ASCII.sub(lambda m: json.dumps(m.group())[1:-1], text)


def _stdout_is_utf8() -> bool:
    try:
        return codecs.lookup(sys.stdout.encoding or "ascii").name == "utf-8"
    except LookupError:
        return False


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


def err(text: str) -> None:
    if sys.stderr is not None:  # started with `2>&-`: print(file=None) would write to stdout
        print(text, file=sys.stderr, flush=True)


def dump(data: Any) -> str:
    """One JSON document for stdout: valid in any encoding, with U+FFFD for bytes that were not
    UTF-8 and for lone surrogates (strict JSON parsers reject them even as \\u escapes), and
    null for a number that is not finite (Python would write NaN or Infinity, which no JSON
    parser has to accept)."""
    text = unicode_text(json_text(data, ensure_ascii=False, indent=2))
    return text if _stdout_is_utf8() else ascii_json(text)


_CELL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Multi-line text (bodies, logs) keeps its line breaks and tabs.
_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\r(?!\n)")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape_control(match: re.Match) -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def cell(value: Any) -> str:
    """A value in one line of text output: `–` for none, control characters (and bidi
    overrides) escaped, so an imported method with CR/LF or a header with ESC can neither
    break a table's layout nor drive the terminal."""
    if value is None:
        return "–"
    return _CELL_CONTROL.sub(_escape_control, str(value))


def text_block(value: str) -> str:
    """Multi-line text for the terminal: as `cell`, but line breaks and tabs stay."""
    return _TEXT_CONTROL.sub(_escape_control, value)


# Shared set-up


def answers_path(args) -> Path | None:
    return find_answers(args.answers)


def open_config(args, *, quiet: bool = False) -> Config | None:
    """Load answers.json; print where it came from and its warnings on stderr. None on error."""
    path = answers_path(args)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err(f"error: {problem}")
        return None
    if not quiet:
        err(
            f"answers: {path}"
            if path
            else "answers: none found (./answers.json, ./answers.example.json); no signature is checked — run `webhook-inspector init` to create one"
        )
        for w in config.warnings:
            err(f"warning: {w}")
        for e in config.entry_errors:
            err(f"warning: {e} — requests using this entry get status `error`")
    return config


def open_flows(args, *, quiet: bool = False):
    """Load --flows; print load problems on stderr. Returns (FlowSet, Engine)."""
    from .flow import Engine, FlowSet

    flows = FlowSet.load(args.flows)
    if not quiet:
        report_flows(flows)
    return flows, Engine(flows)


def report_flows(flows) -> None:
    where = flows.directory
    if where is not None and not where.is_dir():
        err(f"flows: {where} is not a folder; no flow will run (pass --flows DIR, or `webhook-inspector init` for starter flows)")
        return
    bad = len({p.position.file for p in flows.errors})
    err(f"flows: {len(flows.flows)} loaded from {where}" + (f", {bad} file(s) with errors (skipped)" if bad else ""))
    for problem in flows.problems:
        err(f"{'error' if problem.severity == 'error' else 'warning'}: {problem.position}: {problem.message}")


class _NoCaptures:
    """What a read command sees where no store exists yet: nothing, and nothing created."""

    def get(self, capture_id: int) -> None:
        return None

    def iter_newest(self, *args: Any, **kw: Any):
        return iter(())

    iter_arrived = iter_newest

    def close(self) -> None:
        pass


def open_store(args, *, server: bool = False, readonly: bool = False) -> Store | None:
    """`server`: the store of a server process (serve, the TUI): ids kept in stock, unless
    it shares the store with its --workers processes (see store.BUSY_GROUP). `readonly`: for
    list, show and export, which must not create, migrate or touch the file (a mistyped
    --store, another program's database); a missing store reads as empty, with a note."""
    from .store import SERVER_STOCK

    alone = (getattr(args, "workers", 1) or 1) <= 1 and getattr(args, "worker_socket", None) is None
    try:
        if readonly:
            return Store(args.store, readonly=True)  # type: ignore[return-value]
        return Store(args.store, max_captures=args.max_captures, quiet_stock=SERVER_STOCK if server and alone else 0)
    except NoStore as exc:
        err(f"note: {exc}")
        return _NoCaptures()  # type: ignore[return-value]
    except StoreError as exc:
        err(f"error: {exc}")
        return None


def check_http_url(option: str, url: str | None) -> str | None:
    """`url` when it is an http(s) URL naming a host; else a usage error."""
    if url is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError as exc:
        raise UsageError(f"{option} {cell(url)!r} is not a URL ({exc}); e.g. {option} http://127.0.0.1:8080") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} {cell(url)!r} is not an http:// or https:// URL naming a host; e.g. {option} http://127.0.0.1:8080")
    return url


def parse_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise UsageError(f"header {text!r} has no colon; write it as 'Name: value'")
    if any(c in name for c in " \t\r\n"):
        raise UsageError(f"header name {name!r} contains white space; write it as 'Name: value'")
    return name.strip(), value.strip()


def read_body_arg(args) -> bytes:
    if args.body is not None:
        try:
            return args.body.encode("utf-8")
        except UnicodeEncodeError:
            pass
        # Bytes in argv that are not UTF-8 arrive as surrogate escapes: send the bytes given.
        try:
            return os.fsencode(args.body)
        except UnicodeEncodeError:
            raise UsageError("--body holds characters that cannot be sent as bytes; use --body-file F for exact bytes") from None
    if args.body_file == "-":
        if sys.stdin is None:
            raise UsageError("--body-file -: stdin is closed; pipe the body in, or give a file")
        return sys.stdin.buffer.read()
    try:
        return read_capped(args.body_file, MAX_BODY_FILE)
    except OSError as exc:
        raise UsageError(f"cannot read --body-file {args.body_file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"--body-file {args.body_file}: {exc}") from None


MAX_BODY_FILE = 64 << 20
MAX_IMPORT_FILE = 256 << 20


def read_capped(path: str, limit: int) -> bytes:
    """A file's bytes, refusing more than `limit`: a device such as /dev/zero, or a file given
    by mistake, must not fill the memory (ValueError)."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"more than {limit >> 20} MiB; is it the right file?")
    return data


def request_from_args(args, now: float) -> Request:
    headers = Headers(parse_header(h) for h in args.headers)
    method = args.method.upper()
    if not (method.isascii() and method.isalpha()):
        raise UsageError(f"--method {args.method!r} is not an HTTP method")
    for segment, name in ((args.tenant, "--tenant"), (args.event_type, "--event-type")):
        from .pipeline import _ok

        if not _ok(segment):
            raise UsageError(f"{name} {segment!r}: use letters, digits, '.', '_' and '-' only")
    path = f"/events/webhook/{args.tenant}/{args.event_type}"
    return Request(method, path, "", headers, read_body_arg(args), "cli", now)


def rejection(c: Capture) -> str | None:
    """Why HTTP's parser refused the request, for a capture of one; else None."""
    for note in c.notes:
        if note.startswith(REJECTED_NOTE):
            return note[len(REJECTED_NOTE) :]
    return None


def summary_line(c: Capture) -> str:
    """`[202] POST /events/webhook/demo/github  sig=valid  flows=1  3.1ms`"""
    status = c.response.status if c.response else "---"
    took = c.response.duration_ms if c.response and c.response.duration_ms is not None else 0.0
    target = c.request.target
    if len(target) > 100:
        target = target[:99] + "…"
    reason = rejection(c)
    if reason is not None:  # `[400] rejected before routing: <reason>  POST /path`
        from .receiver import shown

        what = f"  {shown(c.request.method, 32)} {shown(target, 100)}" if c.request.method else ""
        return f"[{status}] {REJECTED_NOTE}{reason}{what}"
    parts = [f"[{status}] {c.request.method} {target}", f"sig={c.signature.status}", f"flows={len(c.runs)}", f"{took:.1f}ms"]
    if c.origin != "live":
        parts.append(f"origin={c.origin}" + (f" replay_of={c.replay_of}" if c.replay_of else ""))
    broken = broken_flow_positions(c)
    if broken:
        parts.append("flow failed to load: " + ", ".join(broken))
    return "  ".join(parts)


def broken_flow_positions(c: Capture) -> list[str]:
    """`file:line:col` of each flow file that failed to load and may be meant for this request."""
    from .flow.model import BROKEN_FLOW_NOTE

    out = []
    for note in c.notes:
        if note.startswith(BROKEN_FLOW_NOTE):
            found = re.match(r"(.+?:\d+:\d+): ", note[len(BROKEN_FLOW_NOTE) :])
            if found:
                out.append(found.group(1))
    return out


# serve


def cmd_serve(args) -> int:
    config = open_config(args, quiet=getattr(args, "worker_socket", None) is not None)
    if config is None:
        return 2
    store = open_store(args, server=True)
    if store is None:
        return 2
    from .receiver import run_server

    try:
        return run_server(_serve(args, config, store))
    finally:
        store.close()


def _print_captures(args, pipeline: Pipeline, lines: LineBuffer) -> None:
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


def _stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, signals=(signal.SIGINT, signal.SIGTERM)) -> None:
    for sig in signals:
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass


def _ignore_signals(loop: asyncio.AbstractEventLoop, signals=(signal.SIGINT, signal.SIGTERM)) -> None:
    """Once wound down, the process only exits: a late stop signal (a worker gets one from
    the parent and maybe one from `kill`) is ignored, instead of landing while the loop closes
    its wake-up pipe ("Exception ignored ... signal wakeup fd")."""
    for sig in signals:
        try:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)
        except (NotImplementedError, RuntimeError, ValueError, OSError):
            pass


def worker_argv(args, port: int, *, report: bool = False) -> Callable[[int, int], list[str]]:
    """The command line of a `serve --workers` process, from this command line's options
    (see server.worker_argv)."""
    from .server import ServeOptions
    from .server import worker_argv as argv_for

    return argv_for(ServeOptions.from_args(args), port, report=report)


class ServeLines(SessionEvents):
    """`serve`'s face on the server session: what happens, as the lines SPEC §10 names
    (stderr for notes, warnings and reloads; stdout, through `TunnelPrinter`, for the tunnel)."""

    def __init__(self) -> None:
        self.printer: Callable[[Any], None] | None = None

    def warning(self, text: str) -> None:
        err(f"warning: {text}")

    def worker_line(self, text: str) -> None:
        err(text)

    def tunnel_changed(self, status: Any) -> None:
        if self.printer is not None:
            self.printer(status)

    def flows_reloaded(self, flows: Any) -> None:
        err("flows changed; reloaded")
        report_flows(flows)

    def answers_reloaded(self, path: Path, config: Config) -> None:
        err(f"answers: {path} changed; reloaded")
        for w in config.warnings:
            err(f"warning: {w}")

    def answers_failed(self, path: Path, problems: list[str]) -> None:
        for problem in problems:
            err(f"error: {problem}")
        err("answers: keeping the previous configuration until the file is fixed")

    def watch_trouble(self, why: str, every: float) -> None:
        err(
            f"warning: could not check flows and answers.json for changes ({why}); "
            f"serving goes on with what is loaded, and the check is retried every {every:g} s"
        )

    def watch_recovered(self) -> None:
        err("note: flows and answers.json are watched again")

    def interrupted(self, left: int) -> None:
        err(f"stopped: {left} flow run(s) did not finish in time and are recorded as interrupted")


async def _serve_worker(args, config: Config, store: Store) -> int:
    """One of `serve --workers`' processes: answer on the inherited socket, print request
    lines, follow the parent (see workers.py)."""
    from .server import ServeOptions, ServerSession
    from .workers import Channel, follow_parent, inherited_socket

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
    # Ctrl-C reaches the whole process group; the parent stops its workers itself (SIGTERM),
    # and a worker gone first would look to it like a crash to recover from.
    try:
        loop.add_signal_handler(signal.SIGINT, lambda: None)
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
            _ignore_signals(loop, (signal.SIGTERM,))
    return 0


async def _serve(args, config: Config, store: Store) -> int:
    from .server import ServeOptions, ServerSession

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
    _stop_on_signals(loop, stop)
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
            _ignore_signals(loop)
    err("stopped")
    return 0


def _print_webhook_urls(args, config: Config, flows, pipeline: Pipeline) -> None:
    """Where senders reach us, on stderr. A placeholder public_base_url (what `init` writes)
    is said to be one, with the local URL of every trigger instead; the tunnel's URLs follow
    once it is up."""
    from .starter import how_to_set_public_url, is_placeholder_url
    from .tunnel import trigger_urls

    configured = config.public_base_url
    if args.public_url or not is_placeholder_url(configured):
        if not args.json:
            err(f"webhook URL: {pipeline.webhook_url(args.tenant, '{event_type}')}")
        return
    err(
        f"note: public_base_url in answers.json ({configured.rstrip('/')}) is a placeholder, not a URL senders can reach: {how_to_set_public_url(pipeline.local_base)}"
    )
    if args.json:
        return
    err(f"webhook URL (local): {pipeline.webhook_url(args.tenant, '{event_type}', pipeline.local_base)}")
    for t in trigger_urls(flows, pipeline, args.tenant, base=pipeline.local_base):
        err(f"  {t.flow} ← {t.trigger_type} {t.event_type}: {t.url}")


# tunnel (SPEC §8)


def make_tunnel(args):
    from .tunnel import tunnel_from_options

    return tunnel_from_options(args.tunnel, args.public_url, args.ngrok_path)


class TunnelPrinter:
    """Turns tunnel status changes into `serve`'s lines: `public url: URL`, the URL to paste
    per trigger, `self-check: …`, and failures with their fix (SPEC §10)."""

    def __init__(self, args, config: Config, flows, pipeline: Pipeline, receiver):
        from .tunnel import TunnelStatus

        self.args, self.config, self.flows, self.pipeline, self.receiver = args, config, flows, pipeline, receiver
        self.prev = TunnelStatus("none")

    def __call__(self, status) -> None:
        from .tunnel import public_base_url_note, trigger_urls

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


def show_public_url(args, config: Config | None, pipeline: Pipeline) -> bool:
    """`check`'s line on where senders reach us (sets `pipeline.public_url` for the URLs that
    follow). True when the tunnel options themselves are wrong."""
    from .starter import how_to_set_public_url, is_placeholder_url
    from .tunnel import public_base_url_note

    tunnel = make_tunnel(args)
    status = tunnel.status
    configured = config.public_base_url.rstrip("/") if config and config.public_base_url else None
    if status.state == "failed":
        out(f"public url: {status.reason}")
        if status.fix:
            err(f"  fix: {status.fix}")
        return True
    if tunnel.kind == "public-url":
        pipeline.public_url = tunnel.url.strip().rstrip("/")
        out(f"public url: {pipeline.public_url} (--public-url)")
        note = public_base_url_note(configured, pipeline.public_url)
        if note:
            err(f"note: {note}")
    elif tunnel.kind == "ngrok":
        out(f"public url: assigned by ngrok when `serve` or the TUI starts the tunnel; until then the URLs below use {pipeline.base_url}")
    elif configured and is_placeholder_url(configured):
        # Pasting the placeholder into GitHub would send every delivery nowhere.
        out(f"public url: none yet — public_base_url in answers.json ({configured}) is a placeholder; the URLs below are local")
        err(f"note: {how_to_set_public_url(pipeline.local_base)}")
        pipeline.public_url = pipeline.local_base
    elif configured:
        out(f"public url: {configured} (public_base_url in answers.json)")
    else:
        out(f"public url: none — webhooks reach {pipeline.local_base} only")
        if status.fix:
            err(f"note: {status.fix}")
    return False


# check


def cmd_check(args) -> int:
    path = answers_path(args)
    failed = False
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            out(str(problem))
        config = None
        failed = True
    if config is not None:
        for problem in config.entry_errors:
            out(str(problem))
            failed = True
        for w in config.warnings:
            err(f"warning: {w}")
        if path is None:
            err("note: no answers.json found; nothing will be verified (run `webhook-inspector init`)")
    label = str(path) if path else "(none)"
    out(f"answers: {label}: {'invalid' if failed else 'ok'}")
    if config is not None:
        for entry in config.signatures:
            if not entry.problem:
                out(f"  signature `{entry.name}`: {entry.algorithm} in {entry.header or 'its default header'}")

    flows, _ = open_flows(args, quiet=True)
    for problem in flows.errors:
        out(str(problem))
    for problem in flows.warnings:
        err(str(problem))
    from .script import FLOW_SCOPE_NAMES

    for flow in flows.flows:
        for node in flow.nodes:
            for program in _programs(node):
                for warning in getattr(program, "warnings", lambda names: [])(FLOW_SCOPE_NAMES):
                    err(f"{warning}  (warning: node '{node.id}' fails here when it runs)")
    if flows.directory is not None and not flows.directory.is_dir():
        if getattr(args, "flows_explicit", True):
            out(f"{flows.directory}: not a folder; pass --flows DIR")
            failed = True
        else:
            err(f"note: no ./{flows.directory} folder, so no flow runs; `webhook-inspector init` writes starter flows")
    failed = failed or bool(flows.errors)
    bad_files = {p.position.file for p in flows.errors}
    out(f"flows: {len(flows.flows)} ok" + (f", {len(bad_files)} invalid" if bad_files else "") + f" ({flows.directory})")
    pipeline = Pipeline(config or Config(), None, local_base=f"http://{args.host}:{args.port}")
    failed = show_public_url(args, config, pipeline) or failed
    from .tunnel import trigger_urls

    urls = trigger_urls(flows, pipeline, args.tenant)
    for t in urls:
        out(f"  {t.flow} ← {t.trigger_type} {t.event_type}: {t.url}")
    if not urls:
        out(f"webhook URL: {pipeline.webhook_url(args.tenant, '{event_type}')}")
    return 1 if failed else 0


def _programs(node) -> list:
    from .flow.nodes import node_type_of

    return node_type_of(node.type).programs(node)


# verify


def cmd_verify(args) -> int:
    config = open_config(args, quiet=args.json)
    if config is None:
        return 2
    now = args.now if args.now is not None else time.time()
    request = request_from_args(args, now)
    pipeline = Pipeline(config, None, local_base=f"http://{args.host}:{args.port}", public_url=args.public_url)
    url = args.url or pipeline.signed_url(request)
    from .signatures import verify_request

    result = verify_request(config, request, args.event_type, url, now, local_url=f"http://{args.host}:{args.port}{request.target}")
    if args.json:
        out(dump(result.to_json()))
    else:
        out(f"{result.status}: {result.reason}")
        if result.scheme:
            out(f"  scheme {result.scheme} ({result.algorithm}), header {result.header}")
        if result.received is not None:
            out(f"  received: {result.received}")
        if result.expected is not None and result.status != "valid":
            out(f"  expected: {result.expected}")
        for hint in result.hints:
            out(f"  hint: {hint}")
    return 0 if result.status == "valid" else 1


# run


def cmd_run(args) -> int:
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    from .flow import Engine

    flows, _engine = open_flows(args, quiet=args.json)
    now = args.now if args.now is not None else time.time()
    request = request_from_args(args, now)
    pipeline = Pipeline(
        config,
        None,
        local_base=f"http://{args.host}:{args.port}",
        public_url=args.public_url,
        engine=Engine(flows, clock=lambda: now),
        clock=lambda: now,
        verify=not args.no_verify,
    )
    capture = asyncio.run(pipeline.handle(request, now=now, wait=True))
    response = capture.response
    redactor = Masker(config, reveal=args.reveal).for_capture(capture)
    runs = [run.redacted(redactor.value) for run in capture.runs]
    headers, body, raw = _unnumbered_answer(capture)
    data = {
        "event": {"tenant": capture.tenant, "event_type": capture.event_type, "method": request.method},
        "signature": capture.signature.to_json(),
        "response": {"status": response.status, "headers": [[n, redactor(n, v)] for n, v in headers], "body": redactor.value(body)}
        if response
        else None,
        "runs": [run.to_json() for run in runs],
    }
    ok = all(r.status == "ok" for r in capture.runs)
    # Exit 0 would tell a script the event was handled; nothing ran. The reason is the
    # answer's own warning, which also names a flow file that failed to load.
    idle = None
    if not capture.runs:
        said = body if isinstance(body, dict) else {}
        if isinstance(said.get("warning"), str):
            idle = said["warning"]
        elif isinstance(said.get("error"), str):  # e.g. the provider is disabled
            idle = f"no flow ran: {said['error']}"
        else:
            idle = f"no flow is triggered by event type {capture.event_type}"
    if args.json:
        out(dump(data))
    else:
        sig = capture.signature
        out(f"signature: {sig.status}" + (f" ({sig.scheme})" if sig.scheme else "") + (f" — {sig.reason}" if sig.status != "valid" else ""))
        for hint in sig.hints:
            out(f"  hint: {hint}")
        for run in runs:
            out(format_run(run))
        if response:
            text = redactor.text(raw.decode("utf-8", "replace"))
            out(f"response: {response.status} {text[:500]}")
    if idle is not None:
        err(f"error: {cell(idle)}")
        return 1
    return 0 if ok else 1


def _unnumbered_answer(capture: Capture) -> tuple[list[tuple[str, str]], Any, bytes]:
    """The answer `run` shows, as headers, body value and body bytes. `run` stores nothing,
    so the capture id the pipeline numbered it with (X-Inspector-Capture, the "id" of the
    inspector's own JSON answers) names no capture and is left out; an answer a flow wrote
    is shown exactly, an "id" of its own included."""
    response = capture.response
    if response is None:
        return [], None, b""
    headers = [(n, v) for n, v in response.headers if n.lower() != CAPTURE_HEADER.lower()]
    body = response.body_value()
    from_flow = any(run.answered for run in capture.runs)
    if from_flow or not isinstance(body, dict) or body.get("id") != capture.id:
        return headers, body, response.body
    body = {k: v for k, v in body.items() if k != "id"}
    return headers, body, json_text(body).encode()


def format_run(run: FlowRun) -> str:
    indent = "    " if run.parent_id else ""
    head = f"{indent}flow {cell(run.flow)} [{cell(run.status)}]"
    if run.parent_id:
        head += f" (async from run {cell(run.parent_id)} node {cell(run.via_node)})"
    took = run.duration_us
    lines = [head + (f"  {took / 1000:.2f} ms" if took is not None else "")]
    for step in run.steps:
        line = f"{indent}  {cell(step.node)} ({cell(step.type)}) {cell(step.status)}"
        if step.decision:
            conds = "; ".join(f"{cell(d.expression)} → {'error: ' + cell(d.error) if d.failed else cell(d.value)}" for d in step.decision)
            line += f"  [{conds}]"
        e = step.error
        if e:
            at = f"{cell(run.file)}:{cell(e.line)}:{cell(e.column)}: " if e.line else ""
            line += f"  ERROR {at}{cell(e.message)}"
        elif step.output is not None:
            text = json.dumps(step.output, ensure_ascii=False)
            line += f"  → {text if len(text) < 120 else text[:119] + '…'}"
        for log in step.logs:
            line += f"\n{indent}    log: {cell(log)}"
        lines.append(line)
    if run.error and not run.steps:
        lines.append(f"{indent}  ERROR {cell(run.error.message)}")
    return "\n".join(lines)


# send


def cmd_send(args) -> int:
    from . import samples

    if not args.sample:
        out("samples (webhook-inspector send NAME):")
        for s in samples.SAMPLES.values():
            out(f"  {s.name:<40} {s.description}" + ("  (also --form)" if s.form else ""))
        return 0
    try:
        sample = samples.get(args.sample)
    except samples.UnknownSample as exc:
        raise UsageError(str(exc)) from None
    form = getattr(args, "form", False)
    if form and not sample.form:
        raise UsageError(
            f"sample {sample.name} has no form-encoded version (its provider sends JSON only); "
            f"--form works with {', '.join(s.name for s in samples.SAMPLES.values() if s.form)}"
        )
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    check_http_url("--to", args.to)
    where = send_target(args)
    target = where.base
    signed_base = (args.public_url or _recorded_public_url(where) or config.public_base_url or target).rstrip("/")
    request, entry = samples.build(args.sample, config, tenant=args.tenant, signed_url_base=signed_base, form=form)
    status, headers, body, error = http_send(target + request.target, request, unreachable=_unreachable(args, where))
    if error:
        err(f"error: {error}")
        return 2
    how = f"signed with `{entry}`" if entry else "unsigned (no scheme in answers.json applies)"
    capture = headers.get("x-inspector-capture")
    out(f"sent {args.sample}{' form-encoded' if form else ''} to {target}{request.target} ({how})")
    out(f"← {status} {body.decode('utf-8', 'replace')[:1000]}")
    if capture:
        out(f"capture {capture}: webhook-inspector show {capture}")
    return 0 if 200 <= status < 300 else 1


def send_target(args):
    """Where send, replay and export go (a discovery.Target): --to, an explicit --host/--port,
    the newest running server recorded next to --store, or the default address."""
    from .discovery import resolve_target

    explicit = bool(getattr(args, "address_explicit", False))
    return resolve_target(args.store, to=args.to, host=args.host, port=args.port, explicit=explicit)


def _recorded_public_url(where) -> str | None:
    """The recorded server's live public URL: what URL-signing schemes are checked against there."""
    return where.record.public_url if where.record is not None else None


def _unreachable(args, where) -> str:
    """The error when nothing answers at `where`: what was tried, why there, how to point elsewhere."""
    return f"nothing listens at {where.base} ({where.described(args.store)}); {where.advice()}"


def http_send(
    url: str, request: Request, timeout: float = 30.0, *, unreachable: str | None = None
) -> tuple[int, dict[str, str], bytes, str | None]:
    """Send exact bytes, header names in their own case, with http.client (urllib would
    title-case them: X-GitHub-Event went out as X-Github-Event); (status, headers, body,
    error sentence). `unreachable`: the sentence when the connection is refused."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    skip = {"host", "content-length", "connection", "transfer-encoding"}
    connection = (http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection)(
        parts.hostname, parts.port, timeout=timeout
    )
    try:
        connection.putrequest(request.method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), skip_accept_encoding=True)
        for k, v in request.headers:
            if k.lower() not in skip:
                connection.putheader(k, v.encode("utf-8", "surrogateescape"))
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        resp = connection.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(), None
    except ConnectionRefusedError:
        return (
            0,
            {},
            b"",
            unreachable
            or f"nothing listens at {url.split('/events/')[0]}; start `webhook-inspector serve` (or the TUI) first, or pass --to URL",
        )
    except http.client.HTTPException as exc:
        return 0, {}, b"", f"{url} answered something that is not valid HTTP ({type(exc).__name__}: {exc})"
    except (TimeoutError, OSError) as exc:
        return 0, {}, b"", f"cannot reach {url}: {exc}"
    finally:
        connection.close()


# replay / export / import


def _edits(args):
    from .replay import Edits, ReplayError, parse_header_line

    try:
        headers = tuple(parse_header_line(h) for h in args.headers)
    except ReplayError as exc:
        raise UsageError(str(exc)) from None
    body = None
    if args.body is not None or args.body_file is not None:
        body = read_body_arg(args)
    return Edits(args.method, args.path, headers, tuple(args.remove_header), body)


def cmd_replay(args) -> int:
    from .replay import REPLAY_HEADER, ReplayError, deliver, prepare, replay_capture_record, target_url

    cid = parse_id(args.id)
    edits = _edits(args)
    check_http_url("--to", args.to)
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    # Only a replay --to stores what it sends; to the inspector, the inspector stores it.
    store = open_store(args, readonly=not args.to)
    if store is None:
        return 2
    try:
        original = store.get(cid)
        if original is None:
            err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
            return 1
        where = send_target(args)
        inspector = where.base
        base = (args.to or inspector).rstrip("/")
        signed_base = (
            base if args.to else (args.public_url or _recorded_public_url(where) or config.public_base_url or inspector).rstrip("/")
        )
        try:
            request, note = prepare(original, config, resign=args.resign, edits=None if edits.empty else edits, signed_url_base=signed_base)
        except ReplayError as exc:
            err(f"error: capture {cid}: {exc}")
            return 1
        url = target_url(base, request)
        extra = () if args.to else ((REPLAY_HEADER, str(cid)),)

        async def send_all():
            out = []
            for _ in range(args.times):
                out.append(await deliver(request, url, timeout=args.timeout, extra_headers=extra))
            return out

        deliveries = asyncio.run(send_all())
        ids: list[int | None] = []
        for d in deliveries:
            if args.to:
                record = replay_capture_record(original, d, d.sent_at)
                stored = store.insert(record)
                d.capture_id = stored.id
            ids.append(d.capture_id)
    finally:
        store.close()
    ok = all(d.response is not None and 200 <= d.response.status < 300 for d in deliveries)
    # A target's answer can echo what it was sent (the Authorization header) or set a cookie.
    shown = Masker(config, reveal=args.reveal).for_capture(original)
    if args.json:
        answers = []
        for d in deliveries:
            answer = d.to_json()
            if answer.get("headers") is not None:
                answer["headers"] = [[n, shown(n, v)] for n, v in answer["headers"]]
            answer["body"] = shown.value(answer.get("body"))
            answers.append(answer)
        out(dump({"replay_of": cid, "captures": ids, "answers": answers, "signing": note}))
    else:
        how = note or "as captured"
        for d in deliveries:
            if d.response is None:
                out(
                    f"replay of {cid} ({how}) → {url}: FAILED — {d.error}"
                    + (f" (recorded as capture {d.capture_id})" if d.capture_id else "")
                )
                if not args.to:
                    err(f"  tried {where.base}: {where.described(args.store)}; {where.advice()}")
            else:
                r = d.response
                body = shown.text(r.body.decode("utf-8", "replace"))
                out(
                    f"replay of {cid} ({how}) → {url}: {r.status} in {r.duration_ms} ms"
                    + (f" → capture {d.capture_id}" if d.capture_id else "")
                )
                if body:
                    out(f"  {body[:300]}")
    return 0 if ok else 1


def cmd_export(args) -> int:
    from .export import export, write_private

    ids = [parse_id(i) for i in args.ids]
    check_http_url("--to", args.to)
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        captures = []
        for cid in ids:
            c = store.get(cid)
            if c is None:
                err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
                return 1
            captures.append(c)
    finally:
        store.close()
    text = export(captures, args.format, export_base(args), _masker(args))
    if args.output:
        try:
            write_private(args.output, unicode_text(text))
        except OSError as exc:
            err(f"error: cannot write {args.output}: {exc.strerror or exc}")
            return 2
        err(f"wrote {len(captures)} capture(s) as {args.format} to {args.output}")
    else:
        write_out(text, json_doc=args.format in ("har", "json"))
    return 0


def export_base(args):
    """Where exported commands send: --to or an explicit --host/--port for all; else each
    capture's own local address (its Host header, when that names this machine), else the
    running server recorded next to the store, else the default address."""
    from .export import arrival_base

    where = send_target(args)
    if where.how in ("--to", "--host/--port"):
        return where.base

    def base(capture: Capture) -> str:
        return arrival_base(capture) or where.base

    return base


def cmd_import(args) -> int:
    from .export import ImportFailed, read_import

    try:
        raw = read_capped(args.file, MAX_IMPORT_FILE)
    except OSError as exc:
        err(f"error: cannot read {args.file}: {exc.strerror or exc}")
        return 2
    except ValueError as exc:
        err(f"error: {args.file}: {exc}")
        return 2
    try:
        kind, items = read_import(raw, time.time())
    except ImportFailed as exc:
        err(f"error: {args.file}: {exc}")
        return 1
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    store = open_store(args)
    if store is None:
        return 2
    pipeline = Pipeline(config, None, public_url=args.public_url)
    from .pipeline import match_route

    ids = []
    try:
        for request, response in items:
            route = match_route(request.path)
            sig = pipeline.verify(request, route.event_type if route else None, request.received_at)
            capture = Capture(
                None,
                request,
                route.tenant if route else None,
                route.event_type if route else None,
                sig,
                response,
                (),
                "import",
                None,
                (f"imported from {args.file} ({kind})",),
            )
            ids.append(store.insert(capture).id)
    finally:
        store.close()
    out(f"imported {len(ids)} request(s) from {args.file} ({kind})" + (f": captures {ids[0]}–{ids[-1]}" if ids else ""))
    return 0


# list / show


def _masker(args) -> Masker:
    try:
        config = load_config(answers_path(args))
    except ConfigError:
        config = None
    return Masker(config, reveal=args.reveal)


def cmd_list(args) -> int:
    try:
        keep = parse_filter(args.filter)
    except FilterError as exc:
        raise UsageError(f"--filter: {exc}") from None
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        found: list[Capture] = []
        for capture in store.iter_arrived():
            if keep(capture):
                found.append(capture)
                if len(found) >= args.limit:
                    break
    finally:
        store.close()
    if args.json:
        out(dump([c.summary_json() for c in found]))
        return 0
    if not found:
        out("no captures" + (f" match {args.filter!r}" if args.filter else " yet"))
        return 0
    rows = [
        (
            str(c.id),
            iso_time(c.request.received_at),
            cell(c.request.method),
            cell(c.response.status) if c.response else "-",
            cell(c.signature.status),
            cell(f"{c.tenant}/{c.event_type}") if c.event_type else "-",
            cell(c.request.target),
        )
        for c in found
    ]
    # Columns grow to their widest cell (an imported method, a time past year 9999), so
    # one odd capture never shifts the columns of its row.
    head = ("ID", "RECEIVED", "METHOD", "STATUS", "SIGNATURE", "EVENT", "PATH")
    least = (6, 23, 7, 6, 9, 28, 0)
    w = [max([n] + [len(r[i]) for r in rows]) for i, n in enumerate(least)]
    for r in [head, *rows]:
        out(f"{r[0]:>{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}} {r[3]:>{w[3]}}  {r[4]:<{w[4]}}  {r[5]:<{w[5]}}  {r[6]}")
    return 0


MAX_ID = 2**63 - 1  # SQLite's largest integer


def parse_id(text: str) -> int:
    text = text.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()):
        raise UsageError(f"{cell(text)!r} is not a capture id; ids are numbers, see `webhook-inspector list`")
    # Checked on the text: int() refuses more than 4300 digits, SQLite more than 63 bits.
    digits = text.lstrip("0") or "0"
    if len(digits) > 19 or int(digits) > MAX_ID:
        raise UsageError(
            f"capture id {digits[:30]}{'…' if len(digits) > 30 else ''} is out of range (ids go up to {MAX_ID}); see `webhook-inspector list`"
        )
    return int(digits)


def cmd_show(args) -> int:
    cid = parse_id(args.id)
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        capture = store.get(cid)
    finally:
        store.close()
    if capture is None:
        err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
        return 1
    # Flow outputs, logs and the answer can repeat a secret header's value (`print(headers)`).
    redactor = _masker(args).for_capture(capture)
    data = redactor.detail(capture.detail_json(redactor))
    if args.json:
        out(dump(data))
        return 0
    show_text(data)
    return 0


def _form_document(d: dict) -> Any:
    """The JSON a form-encoded body carries in its `payload` field (GitHub's form setting,
    Slack's interactivity), or None."""
    from urllib.parse import parse_qsl

    from .flow.engine import FORM_TYPE, form_json

    ctype = next((v for k, v in d["headers"] if k.lower() == "content-type"), "")
    if not d.get("body_text") or ctype.split(";")[0].strip().lower() != FORM_TYPE:
        return None
    return form_json(dict(parse_qsl(d["body_text"], keep_blank_values=True)))[0]


def show_text(d: dict) -> None:
    out(
        f"capture {d['id']}  {cell(d['received_at'])}  origin={cell(d['origin'])}"
        + (f"  replay of {cell(d['replay_of'])}" if d["replay_of"] else "")
    )
    query = f"?{d['query']}" if d["query"] else ""
    out(f"{cell(d['method'])} {cell(d['path'] + query)}  from {cell(d['client'])}")
    out(f"tenant={cell(d['tenant'])}  event_type={cell(d['event_type'])}")
    for note in d.get("notes") or []:
        out(f"note: {cell(note)}")
    out("")
    out("headers:")
    for name, value in d["headers"]:
        out(f"  {cell(name)}: {cell(value)}")
    out("")
    size = d["body_size"]
    from .flow.engine import FORM_JSON_NOTE

    document = _form_document(d)
    how = f", {FORM_JSON_NOTE}" if document is not None else ""
    out(f"body ({size} bytes{', truncated' if d['truncated'] else ''}{how}):")
    if d["body_text"] is not None:
        out(text_block(d["body_text"]) if d["body_text"] else "  (empty)")
    else:
        out(f"  (binary; base64) {d['body_base64'][:200]}")
    if document is not None:
        # The raw form is one long escaped line; what the sender meant, and what flows see as
        # event.payload, is the JSON inside it.
        out("payload (the JSON in form field `payload`, as flows see it in event.payload):")
        out(text_block(json.dumps(document, indent=2, ensure_ascii=False)))
    out("")
    sig = d["signature"]
    details = "".join(f"  {key}={cell(sig[key])}" for key in ("scheme", "algorithm", "header") if sig.get(key) is not None)
    out(f"signature: {cell(sig['status'])}{details}")
    if sig["reason"]:
        out(f"  {cell(sig['reason'])}")
    for hint in sig["hints"]:
        out(f"  hint: {cell(hint)}")
    resp = d["response"]
    if resp:
        out("")
        took = resp["duration_ms"]
        out(f"response: {cell(resp['status'])}" + (f"  ({took} ms)" if took is not None else ""))
        body = resp["body"]
        if body is not None:
            out("  " + (json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else text_block(body)))
    for run in runs_from_json(d["runs"]):
        if not run.shapeless:
            out("")
            out(format_run(run))


# init


def cmd_init(args) -> int:
    from .starter import write_starter

    try:
        written = write_starter(Path.cwd())
    except FileExistsError as exc:
        err(f"error: {exc}")
        return 2
    except OSError as exc:
        err(
            f"error: cannot write the starter files into {Path.cwd()} ({exc.strerror or exc}: {exc.filename}); run init in a folder you can write to"
        )
        return 2
    from .starter import HOW_TO_SET_PUBLIC_URL, STARTER_PUBLIC_BASE_URL, secret_notes, starter_answers

    for path in written:
        out(f"wrote {path}")
    # Who makes each secret differs by provider: pasting our generated Stripe secret into
    # Stripe is impossible, and keeping it means every real delivery fails as `invalid`.
    out('secrets, by who creates them (also in answers.json as each entry\'s "_secret"):')
    for line in secret_notes(starter_answers()):
        out(f"  {line}")
    out(
        f"public_base_url is a placeholder ({STARTER_PUBLIC_BASE_URL}), not a URL senders can reach: {HOW_TO_SET_PUBLIC_URL}; "
        "until then `check` and `serve` show the local URLs"
    )
    out(
        'next: move the secrets in answers.json to environment variables ("secret": "${GITHUB_WEBHOOK_SECRET}"), then run `webhook-inspector`'
    )
    return 0


def cmd_tui(args) -> int:
    # Imported here: the core never imports Textual (SPEC §1); only the TUI does.
    try:
        from .tui import run_tui
    except ImportError as exc:
        err(f"error: the TUI cannot start ({exc}); `webhook-inspector serve` runs the server without it")
        return 2
    return run_tui(args)


COMMANDS: dict[str, Callable[[Any], int]] = {
    "serve": cmd_serve,
    "check": cmd_check,
    "run": cmd_run,
    "send": cmd_send,
    "replay": cmd_replay,
    "export": cmd_export,
    "import": cmd_import,
    "verify": cmd_verify,
    "list": cmd_list,
    "show": cmd_show,
    "init": cmd_init,
    "tui": cmd_tui,
}
