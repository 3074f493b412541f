"""`serve --workers N`: N processes answer webhooks on one port and write one store.

The first process (the parent) binds the port, runs the tunnel, watches the files and prints
what `serve` prints; it also answers requests. It starts N-1 worker processes that inherit
the listening socket, so the kernel hands each new connection to whichever process accepts
first. Every process runs the whole pipeline (signatures, flows, group commits to the same
WAL store; see store.py for how ids are shared) and prints its own request lines, one write
per batch of whole lines so lines never interleave.

A control channel (a socket pair, JSON lines) links the parent to each worker:
  parent → worker  {"public_url": URL|null}     the tunnel's live URL (URL-signing schemes)
                   {"selfcheck": NONCE, "on": B} a self-check nonce in flight, or done
                   {"reload": "flows"|"answers"} the parent saw a file change
  worker → parent  {"ready": PID}               serving
                   {"selfcheck_arrived": NONCE} the self-check request reached this worker
                   {"capture": ID, "update": B}  a capture stored (or updated), for
                                                 a parent that shows them (the TUI)
For the TUI the workers print nothing (the screen is the TUI's): captures go over the
channel and the parent reads them from the store; their stderr lines become notices.
A worker stops (finishing what is in flight) on SIGTERM or when the channel closes, so it
never outlives a parent that was killed. A worker that dies is replaced.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

RESTARTS_PER_MINUTE = 5
RELAYED_CHARS = 2000  # of one line of a worker's stderr


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_env() -> dict[str, str]:
    """The environment of a worker process: this one's, with the directory this package was
    imported from first on PYTHONPATH, so `python -P -m inspector` runs this very code."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = root if not path else root + os.pathsep + path
    return env


class Channel:
    """One end of a control channel: JSON lines in both directions."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        return cls(reader, writer)

    def send(self, message: dict[str, Any]) -> None:
        if self.writer.is_closing():
            return
        try:
            self.writer.write(json.dumps(message).encode() + b"\n")
        except (ConnectionError, RuntimeError):
            pass

    async def messages(self):
        """Yield each message until the other end closes; malformed lines are skipped."""
        while True:
            try:
                line = await self.reader.readline()
            except (ConnectionError, asyncio.LimitOverrunError, ValueError):
                return
            if not line:
                return
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                yield message

    def close(self) -> None:
        try:
            self.writer.close()
        except (ConnectionError, RuntimeError):
            pass


class SharedNonces(dict):
    """The parent's table of self-check nonces in flight (tunnel.check_public_url fills it):
    adding or removing one tells every worker, and a worker that saw one arrive marks it."""

    def __init__(self, pool: WorkerPool):
        super().__init__()
        self.pool = pool

    def __setitem__(self, nonce: str, arrived: bool) -> None:
        new = nonce not in self
        super().__setitem__(nonce, arrived)
        if new:
            self.pool.broadcast({"selfcheck": nonce, "on": True})

    def pop(self, nonce: str, *default: Any) -> Any:
        value = super().pop(nonce, *default)
        self.pool.broadcast({"selfcheck": nonce, "on": False})
        return value

    def arrived(self, nonce: str) -> None:
        if nonce in self:
            dict.__setitem__(self, nonce, True)


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process, channel: Channel, listener: socket.socket):
        self.process, self.channel, self.listener = process, channel, listener
        self.ready = False


class WorkerPool:
    """The parent's side: starts, feeds, replaces and stops the worker processes."""

    def __init__(
        self,
        command: Callable[[int, int], list[str]],
        listeners: list[socket.socket],
        warn: Callable[[str], None] = lambda text: None,
        on_capture: Callable[[int, bool], None] | None = None,
        env: dict[str, str] | None = None,
    ):
        """`on_capture(id, update)`: the workers report their captures instead of printing
        them, and their stderr comes to `warn` line by line."""
        self.command = command  # (socket fd, channel fd) → argv of a worker
        self.env = env
        self.on_capture = on_capture
        self.listeners = listeners  # one per worker, all on the port (SO_REUSEPORT)
        self.count = len(listeners)
        self.warn = warn
        self.workers: list[_Worker] = []
        self.nonces = SharedNonces(self)
        self.state: dict[str, Any] = {}  # the last public_url, replayed to a replacement
        self._stopping = False
        self._tasks: set[asyncio.Task] = set()
        self._restarts: list[float] = []
        self.all_ready = asyncio.Event()

    async def start(self) -> None:
        for listener in self.listeners:
            await self._spawn(listener)
        if not self.workers:
            self.all_ready.set()

    async def _spawn(self, listener: socket.socket) -> None:
        ours, theirs = socket.socketpair()
        fds = (listener.fileno(), theirs.fileno())
        try:
            quiet = self.on_capture is not None
            process = await asyncio.create_subprocess_exec(
                *self.command(*fds),
                pass_fds=fds,
                stdin=asyncio.subprocess.DEVNULL,
                env=self.env,
                stdout=asyncio.subprocess.DEVNULL if quiet else None,
                stderr=asyncio.subprocess.PIPE if quiet else None,
            )
        except OSError as exc:
            ours.close()
            self._retire(listener)
            self.warn(f"warning: could not start a worker process: {exc}")
            return
        finally:
            theirs.close()
        channel = None if self._stopping else await Channel.open(ours)
        if channel is None or self._stopping:  # stop() began while this one started: it missed it
            if channel is not None:
                channel.close()
            else:
                ours.close()
            process.terminate()
            await process.wait()
            return
        worker = _Worker(process, channel, listener)
        self.workers.append(worker)
        if "public_url" in self.state:
            worker.channel.send({"public_url": self.state["public_url"]})
        for nonce in self.nonces:
            worker.channel.send({"selfcheck": nonce, "on": True})
        self._track(self._listen(worker))
        self._track(self._watch(worker))
        if process.stderr is not None:
            self._track(self._relay(process.stderr))

    async def _relay(self, stream: asyncio.StreamReader) -> None:
        """A worker's stderr, line by line, to `warn`; a line longer than the stream's
        limit comes in pieces. Reading never stops before the worker closes it: a full pipe
        would block the worker."""
        while True:
            try:
                line = await stream.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                line = exc.partial
                if not line:
                    return
            except asyncio.LimitOverrunError as exc:
                line = await stream.read(exc.consumed)
            except (ConnectionError, ValueError):
                return
            text = line.decode("utf-8", "replace").rstrip()
            if len(text) > RELAYED_CHARS:
                text = f"{text[:RELAYED_CHARS]}… ({len(text) - RELAYED_CHARS} more characters)"
            if text:
                self.warn(text)

    def _track(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self, worker: _Worker) -> None:
        async for message in worker.channel.messages():
            if "ready" in message:
                worker.ready = True
                self._check_ready()
            elif isinstance(message.get("selfcheck_arrived"), str):
                self.nonces.arrived(message["selfcheck_arrived"])
            elif type(message.get("capture")) is int and self.on_capture is not None:
                try:
                    self.on_capture(message["capture"], bool(message.get("update")))
                except Exception as exc:  # the parent's display must not stop the channel
                    self.warn(f"warning: could not show capture {message['capture']}: {exc}")

    async def _watch(self, worker: _Worker) -> None:
        code = await worker.process.wait()
        worker.channel.close()
        if worker in self.workers:
            self.workers.remove(worker)
        if self._stopping:
            return
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < 60] + [now]
        if len(self._restarts) > RESTARTS_PER_MINUTE:
            # Its socket leaves the port's group, so no connection waits for a process.
            self._retire(worker.listener)
            self.warn(
                f"warning: worker process {worker.process.pid} exited (code {code}); "
                f"workers died {len(self._restarts)} times in a minute, not starting another "
                f"({len(self.workers) + 1} process(es) still serve)"
            )
            return
        # Connections the kernel gave its socket meanwhile wait in its queue for the next one.
        self.warn(f"warning: worker process {worker.process.pid} exited (code {code}); starting another")
        await self._spawn(worker.listener)

    def _retire(self, listener: socket.socket) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)
            self.count = len(self.listeners)
        listener.close()
        self._check_ready()  # the ones left may be all there will be

    def _check_ready(self) -> None:
        if all(w.ready for w in self.workers) and len(self.workers) >= self.count:
            self.all_ready.set()

    def broadcast(self, message: dict[str, Any]) -> None:
        if "public_url" in message:
            self.state["public_url"] = message["public_url"]
        for worker in list(self.workers):
            worker.channel.send(message)

    async def stop(self, grace: float = 20.0) -> None:
        """Ask every worker to finish what it has in flight and exit; kill it after `grace`."""
        self._stopping = True
        workers = list(self.workers)
        for worker in workers:
            try:
                worker.process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        waits = [asyncio.ensure_future(w.process.wait()) for w in workers]
        if waits:
            _done, late = await asyncio.wait(waits, timeout=grace)
            for worker in workers:
                if worker.process.returncode is None:
                    try:
                        worker.process.kill()
                    except ProcessLookupError:
                        pass
            if late:
                await asyncio.wait(late, timeout=5)
        for worker in workers:
            worker.channel.close()
        for task in list(self._tasks):
            task.cancel()
        for listener in self.listeners:
            listener.close()


class ReportingNonces(dict):
    """A worker's table of self-check nonces: an arrival is reported to the parent."""

    def __init__(self, channel: Channel):
        super().__init__()
        self.channel = channel

    def __setitem__(self, nonce: str, arrived: bool) -> None:
        super().__setitem__(nonce, arrived)
        if arrived:
            self.channel.send({"selfcheck_arrived": nonce})


async def follow_parent(
    channel: Channel, receiver: Any, pipeline: Any, reload: Callable[[str], Any], stop: asyncio.Event, *, report: bool = False
) -> None:
    """A worker's side of the channel: apply what the parent says; stop when it goes away.
    With `report`, tell the parent about every capture stored or updated."""
    nonces = ReportingNonces(channel)
    receiver.selfcheck_nonces = nonces
    if report:
        pipeline.listeners.append(lambda c: channel.send({"capture": c.id}))
        pipeline.update_listeners.append(lambda c: channel.send({"capture": c.id, "update": True}))
    channel.send({"ready": os.getpid()})
    try:
        async for message in channel.messages():
            if "public_url" in message:
                url = message["public_url"]
                pipeline.public_url = url if isinstance(url, str) and url else None
            elif isinstance(message.get("selfcheck"), str):
                if message.get("on"):
                    dict.__setitem__(nonces, message["selfcheck"], False)
                else:
                    nonces.pop(message["selfcheck"], None)
            elif message.get("reload") in ("flows", "answers"):
                try:
                    await reload(message["reload"])
                except Exception as exc:  # keep serving with what was loaded
                    print(f"warning: worker {os.getpid()}: could not reload {message['reload']}: {exc}", file=sys.stderr, flush=True)
    finally:
        stop.set()


def inherited_socket(fd: int) -> socket.socket:
    return socket.socket(fileno=fd)
