"""Harnesses the suites share: the inspector as a user runs it (`python -m inspector serve` in a
process of its own) and as the tests drive it in process (a receiver, its pipeline and a real
store on port 0)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from inspector.config import Config
from inspector.flow import Engine, FlowSet
from inspector.model import Capture
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.store import Store
from tests.conftest import ROOT


def inspector_argv(*args: str, store: str | os.PathLike[str] | None = None) -> list[str]:
    """`python -m inspector` with the example answers and flows (and `store`), then `args`."""
    argv = [sys.executable, "-m", "inspector", "--answers", str(ROOT / "answers.example.json"), "--flows", str(ROOT / "flows")]
    if store is not None:
        argv += ["--store", str(store)]
    return [*argv, *args]


class ServeProcess:
    """`serve` in a subprocess and process group of its own, on port 0 unless `args` name one.
    Its stdout is read line by line in a thread as serve flushes it (a full pipe would stall
    serve); `next_line` waits for the next one."""

    def __init__(
        self,
        tmp_path: Path,
        store: str | os.PathLike[str],
        *args: str,
        env: dict[str, str] | None = None,
        preexec: Callable[[], object] | None = None,
    ) -> None:
        argv = inspector_argv("serve", *args, store=store)
        if "--port" not in args:
            argv += ["--port", "0"]
        self.proc = subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=preexec,  # e.g. what `nohup` does before it starts a command
        )
        self.stdout: list[str] = []  # the lines next_line has returned
        self._lines: queue.Queue[str | None] = queue.Queue()  # None: stdout closed
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_line(self, timeout: float = 15.0) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise AssertionError(f"no line from serve within {timeout}s; so far: {self.stdout}; stderr: {self.stderr()}") from None
        if line is None:
            self._lines.put(None)  # for the next call
            raise AssertionError(f"serve closed its stdout (exit {self.proc.wait(15)}); so far: {self.stdout}; stderr: {self.stderr()}")
        self.stdout.append(line)
        return line

    def rest(self, timeout: float = 30.0) -> list[str]:
        """Every line up to the end of stdout (serve has stopped or is stopping)."""
        out = []
        while (line := self._lines.get(timeout=timeout)) is not None:
            self.stdout.append(line)
            out.append(line)
        return out

    def wait_for_workers(self) -> None:
        """Until serve says every worker process answers (serve --workers N)."""
        assert self.proc.stderr is not None
        while "processes answer on port" not in (said := self.proc.stderr.readline()):
            assert said, f"serve exited before its workers were up; stdout: {self.stdout}"

    def stderr(self) -> str:
        """What serve wrote to stderr, once it has exited (reading before would block)."""
        if self.proc.poll() is None:
            return "(serve is still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> tuple[int, str]:
        """Send `sig`, wait for the exit (killing the group after `timeout`): (code, stderr)."""
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        return code, self.stderr()

    def kill(self) -> None:
        """Kill serve's whole process group (its workers too) if it still runs."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(15)


# A flow for requests to /events/webhook/<tenant>/echo: its script returns the payload, and
# it answers `status` from the payload (200 without one) with the payload's `value` in X-Echo.
ECHO_FLOW = """
name: echo
nodes:
  - id: look
    type: script
    config:
      script: |
        let data = event.payload;
        data
    next: reply
  - id: reply
    type: http_response
    config:
      status: "{{ event.payload?.status ?? 200 }}"
      headers:
        X-Echo: "{{ event.payload?.value ?? 'plain' }}"
      body:
        ok: true
triggers:
  - type: event
    event_type: "echo"
"""


def reread(store_path: Path, capture_id: int) -> Capture | None:
    """A capture as a second connection reads it, as `show` would."""
    other = Store(store_path)
    try:
        return other.get(capture_id)
    finally:
        other.close()


class LiveServer:
    """A receiver and its pipeline in this process, on port 0, storing into a real store in
    `tmp_path` (or `store`) and running `flows` ({name: .ygtc text}; the echo flow unless
    given); `post` sends through a client that leaves answers as they came (no decompression)."""

    def __init__(
        self, tmp_path: Path, flows: dict[str, str] | None = None, *, config: Config | None = None, store: Store | None = None
    ) -> None:
        folder = tmp_path / "flows"
        folder.mkdir(exist_ok=True)
        for name, text in (flows or {"echo": ECHO_FLOW}).items():
            (folder / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
        flow_set = FlowSet.load(folder)
        assert not flow_set.errors, flow_set.errors
        self.store_path = tmp_path / "captures.sqlite3"
        self.store = store or Store(self.store_path)
        self.pipeline = Pipeline(config or Config(), self.store, engine=Engine(flow_set))
        self.receiver = Receiver(self.pipeline, "127.0.0.1", 0)

    async def __aenter__(self) -> LiveServer:
        await self.receiver.start()
        self.session = aiohttp.ClientSession(auto_decompress=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        await self.receiver.stop()
        await self.pipeline.drain(5)
        await self.pipeline.close()
        self.store.close()

    async def post(self, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
        """(status, body bytes, headers) of the answer."""
        async with self.session.post(
            self.receiver.url + path, data=body, headers=headers or {}, timeout=aiohttp.ClientTimeout(total=15)
        ) as resp:
            return resp.status, await resp.read(), resp.headers

    def reread(self, capture_id: int | str) -> Capture | None:
        return reread(self.store_path, int(capture_id))
