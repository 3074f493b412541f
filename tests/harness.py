"""Harnesses the suites share: the inspector as a user runs it (`python -m inspector serve` in a
process of its own)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

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

    def __init__(self, tmp_path: Path, store: str | os.PathLike[str], *args: str, env: dict[str, str] | None = None) -> None:
        argv = inspector_argv("serve", *args, store=store)
        if "--port" not in args:
            argv += ["--port", "0"]
        self.proc = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
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
