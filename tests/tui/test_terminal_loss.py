"""The TUI stops cleanly when its terminal goes away (a killed tmux session, a closed terminal
window, a dropped ssh connection), as ctrl+q stops it: server and tunnel stopped, the store
finished, the running-server record removed, exit 0, within seconds.

It was seen still running, orphaned, at full CPU after `tmux kill-session` (`make run`: make
owned the terminal session, so only make was sent SIGHUP; the TUI's input thread then read
end-of-file from the dead terminal in a tight loop). When the TUI itself owned the session,
the kernel's SIGHUP killed it on the spot, skipping the clean stop.

Each test runs the real TUI (`python -m inspector`, no command) on a real pseudo-terminal that
is its controlling terminal, sends it a webhook over HTTP, then closes the terminal's master
side, which is what a terminal emulator or tmux does when it goes away."""

from __future__ import annotations

import asyncio
import http.client
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from inspector.discovery import ServerRecord, running_server
from inspector.store import Store
from tests.harness import inspector_argv

from .conftest import make_app

needs_pty = pytest.mark.skipif(not hasattr(os, "openpty") or importlib.util.find_spec("termios") is None, reason="needs a pty")

START_TIMEOUT = 60.0  # a cold start of the TUI on a loaded 2-core machine takes a few seconds
EXIT_TIMEOUT = 20.0  # a clean quit takes a second or two; spinning forever is the failure
LOOPS = ["asyncio", pytest.param("uvloop", marks=pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="no uvloop"))]

# Makes the pty the controlling terminal of the new session (subprocess cannot), then runs the
# TUI as the session leader ("leader": `python -m inspector` typed into tmux) or as the child
# of a leader that outlives a hangup ("child": `make run` in tmux — make gets the SIGHUP,
# waits for its child, and the child sees only the dead terminal).
LAUNCH = textwrap.dedent(
    """
    import fcntl, os, signal, subprocess, sys, termios
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    if sys.argv[1] == "leader":
        os.execv(sys.argv[2], sys.argv[2:])
    signal.signal(signal.SIGHUP, lambda *_: None)  # a handler, not SIG_IGN: the child must not inherit it
    sys.exit(subprocess.call(sys.argv[2:]))
    """
)


class Terminal:
    """The TUI on a pty of its own. What it draws is read as it comes (a full pty would stall
    its writer and then its event loop) into `screen`, until `hang_up` closes the master."""

    def __init__(self, tmp_path: Path, loop: str, place: str):
        import fcntl
        import struct
        import termios

        self.store = tmp_path / "captures.sqlite3"
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL") and k not in ("COLUMNS", "LINES")}
        env.update(TERM="xterm-256color", WEBHOOK_INSPECTOR_LOOP=loop)  # anything but "asyncio" is uvloop
        argv = inspector_argv("--tunnel", "none", "--port", "0", store=self.store)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, place, *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=tmp_path,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        self.master: int | None = master
        self.screen = bytearray()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        import select

        assert self.master is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the TUI quit and the slave side closed
                    return
                if not data:
                    return
                self.screen += data

    def read_to_the_end(self) -> None:
        """Once the TUI has exited: all it wrote (the reader stops when the slave side closes)."""
        self._reader.join(EXIT_TIMEOUT)

    def hang_up(self) -> None:
        """Close the terminal, as tmux does for a killed session."""
        self._stop.set()
        self._reader.join()
        assert self.master is not None
        os.close(self.master)
        self.master = None

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the launcher's group: the TUI too
            self.process.wait()
        if self.master is not None:
            self.hang_up()


def wait_for(condition: Callable[[], object], timeout: float, what: str, term: Terminal) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if term.process.poll() is not None:
            raise AssertionError(f"the TUI exited ({term.process.returncode}) before {what}; it drew {bytes(term.screen[-2000:])!r}")
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout:g} s; the TUI drew {bytes(term.screen[-2000:])!r}")


def start(tmp_path: Path, loop: str, place: str) -> tuple[Terminal, str]:
    """The TUI listening and drawn: its URL in the running-server record and on its screen."""
    term = Terminal(tmp_path, loop, place)
    record = wait_for(lambda: running_server(term.store), START_TIMEOUT, "running-server record", term)
    assert isinstance(record, ServerRecord)
    url = record.local_url
    port = str(urlsplit(url).port).encode()
    wait_for(lambda: port in term.screen, START_TIMEOUT, "screen showing the port", term)
    return term, url


def send_webhook(url: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/events/webhook/demo/terminal-loss",
            body=b'{"seen": "before the hangup"}',
            headers={"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def assert_stopped_cleanly(term: Terminal) -> None:
    """Exited 0 within EXIT_TIMEOUT, having removed its record (the server session's clean
    stop does) and kept the capture it answered."""
    try:
        code = term.process.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the TUI still runs {EXIT_TIMEOUT:g} s after its terminal went away") from None
    assert code == 0, f"the TUI ended with {code} (a negative number is the signal that killed it), not a clean quit"
    left = sorted(p.name for p in term.store.parent.glob(term.store.name + ".server-*.json"))
    assert left == [], f"running-server record left behind: the server session was not stopped ({left})"
    store = Store(term.store)
    try:
        captures = [store.get(i) for i in store.ids()]
    finally:
        store.close()
    assert [c.request.path for c in captures if c is not None] == ["/events/webhook/demo/terminal-loss"]


@needs_pty
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("place", ["leader", "child"])
def test_the_tui_quits_cleanly_when_its_terminal_goes_away(tmp_path, loop, place):
    term, url = start(tmp_path, loop, place)
    try:
        send_webhook(url)  # answered: committed to the store before the answer went out
        term.hang_up()
        assert_stopped_cleanly(term)
    finally:
        term.close()


@needs_pty
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_stop_signal_quits_cleanly_and_gives_the_terminal_back(tmp_path, loop, sig):
    # `kill -HUP` or plain `kill` with the terminal still there: the same clean quit, and the
    # terminal is left as it was found (the alternate screen is left, the cursor shown again).
    # SIGTERM's default action killed the TUI on the spot, leaving the terminal in raw mode
    # on the alternate screen.
    term, url = start(tmp_path, loop, "leader")
    try:
        send_webhook(url)
        os.kill(term.process.pid, sig)
        assert_stopped_cleanly(term)
        term.read_to_the_end()
        assert b"\x1b[?1049l" in term.screen and b"\x1b[?25h" in term.screen
    finally:
        term.close()


async def test_a_quit_that_comes_while_one_runs_waits_for_its_stop(workdir):
    # ctrl+q, then the terminal hangs up while the server is still stopping: the second quit
    # must not exit (and let the store close) before the first quit's stop has ended.
    app = make_app(workdir)
    async with app.run_test():
        entered, release, stops = asyncio.Event(), asyncio.Event(), []
        real_stop = app.session.stop

        async def slow_stop(**kwargs):
            entered.set()
            await release.wait()
            await real_stop(**kwargs)
            stops.append("stopped")

        app.session.stop = slow_stop
        first = asyncio.ensure_future(app.shutdown())
        second = asyncio.ensure_future(app.shutdown())
        await entered.wait()
        assert not second.done(), "the second shutdown returned while the first was still stopping the server"
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second), EXIT_TIMEOUT)
        assert stops == ["stopped"]
