"""Build the TUI from the command line's options and run it (`webhook-inspector`, `… tui`).

Problems that would stop `serve` (an invalid answers.json, a store that cannot be opened, a
bad keymap, a --forward-to that is not a URL) are handed to the app, which shows them instead
of a traceback. The tunnel is chosen as `serve` chooses it; the app starts it once it listens.

When the terminal goes away (a killed tmux session, a closed window, a dropped ssh connection)
the app quits as ctrl+q quits it (TerminalDriver, below), instead of being killed half-way or
running on, orphaned, at full CPU."""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from ..config import ConfigError, find_answers, load_config
from ..flow import FlowSet
from ..server import ServeOptions, worker_argv
from ..store import SERVER_STOCK, Store, StoreError
from ..tunnel import tunnel_from_options

if TYPE_CHECKING:
    from .app import InspectorApp


def load_keymap(path: Path) -> tuple[dict[str, str], str | None]:
    if not path.is_file():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, f'{path}: not a keymap ({exc}); expected {{"binding-id": "key"}}'
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return {}, f'{path}: expected an object of binding id → key, e.g. {{"send-sample": "ctrl+s"}}'
    return data, None


def build_app(args: Any) -> tuple[InspectorApp, Store]:
    from .app import InspectorApp, TuiOptions, TuiParts

    problems: list[str] = []
    notices: list[str] = []
    answers = find_answers(args.answers)
    try:
        config = load_config(answers)
    except ConfigError as exc:
        config = None
        problems += [str(p) for p in exc.problems]
    if config is not None:
        notices += [f"answers.json: {w}" for w in config.warnings]
        problems += [f"{e} — requests using this entry get status `error`" for e in config.entry_errors]
    try:
        # A lone server keeps ids in stock; one that shares the store with its --workers
        # reserves each id when it comes, so quiet traffic stays in arrival order.
        stock = SERVER_STOCK if (getattr(args, "workers", 1) or 1) <= 1 else 0
        store = Store(args.store, max_captures=args.max_captures, quiet_stock=stock)
        label = str(args.store)
    except StoreError as exc:
        problems.append(f"{exc} — captures are kept in memory until you quit")
        store = Store(":memory:", max_captures=args.max_captures)
        label = "memory only"
    keymap_file = Path(args.store).parent / "keymap.json"
    keymap, keymap_problem = load_keymap(keymap_file)
    if keymap_problem:
        problems.append(keymap_problem)
    flows = FlowSet.load(args.flows)
    forward_to = getattr(args, "forward_to", None)
    if forward_to and not forward_to.startswith(("http://", "https://")):
        problems.append(f"--forward-to {forward_to!r} is not an http:// or https:// URL; not forwarding")
        forward_to = None
    if forward_to:
        from ..replay import forward_loop

        loop_reason = forward_loop(forward_to, args.host, args.port, (args.public_url, config.public_base_url if config else None))
        if loop_reason:
            problems.append(f"--forward-to {forward_to}: {loop_reason}; not forwarding")
            forward_to = None
    tunnel = tunnel_from_options(args.tunnel, args.public_url, args.ngrok_path)
    app = InspectorApp(
        config,
        flows,
        store,
        TuiOptions(
            answers=answers,
            problems=tuple(problems),
            host=args.host,
            port=args.port,
            tenant=args.tenant,
            reveal=args.reveal,
            keymap=keymap,
            keymap_file=str(keymap_file),
            store_label=label,
            notices=tuple(notices),
            forward_to=forward_to,
            workers=getattr(args, "workers", 1) or 1,
        ),
        TuiParts(
            tunnel=tunnel,
            ngrok_tunnel=lambda: tunnel_from_options("ngrok", None, args.ngrok_path),
            worker_command=lambda port: worker_argv(ServeOptions.from_args(args), port, report=True),
        ),
    )
    return app, store


# A write to a terminal that is gone fails with EIO (hung up), ENXIO or EPIPE.
_GONE_ERRNOS = {errno.EIO, errno.ENXIO, errno.EPIPE}


class _TerminalOutput:
    """The file Textual's writer thread writes the screen to. A write the terminal refuses
    because it is gone calls `gone` and drops what follows, instead of raising: the exception
    would end the writer thread, its queue would fill, and the next frame would block the
    event loop (and the server with it) for good."""

    def __init__(self, file: TextIO, gone: Callable[[], None]):
        self.file = file
        self.gone = gone
        self.dead = False

    def _failed(self, exc: OSError) -> None:
        if exc.errno not in _GONE_ERRNOS:
            raise exc
        self.dead = True
        self.gone()

    def write(self, text: str) -> None:
        if not self.dead:
            try:
                self.file.write(text)
            except OSError as exc:
                self._failed(exc)

    def flush(self) -> None:
        if not self.dead:
            try:
                self.file.flush()
            except OSError as exc:
                self._failed(exc)

    def fileno(self) -> int:
        return self.file.fileno()


if sys.platform != "win32":
    from textual.drivers.linux_driver import LinuxDriver

    class TerminalDriver(LinuxDriver):
        """Textual's Linux/macOS driver, which does not notice its terminal going away: its
        input thread reads end-of-file from the hung-up tty in a loop (one core at 100%, for
        ever, when the TUI is not the one sent SIGHUP: `make run` in tmux, where make owns the
        session), the kernel's SIGHUP kills the process before the store and the server are
        stopped, and the SIGCONT that comes with it starts a second input thread.

        Here the terminal going away asks the app to quit as ctrl+q does (the server and the
        tunnel stopped, the store finished, exit 0), from whichever sign comes first: SIGHUP,
        the tty reporting a hangup (POLLHUP, watched by a thread blocked in poll), or a write
        to it failing. The input thread is stopped and output is dropped from then on. A plain
        `kill` (SIGTERM) quits the same way, the terminal still there and given back."""

        def __init__(self, app: Any, **kwargs: Any):
            super().__init__(app, **kwargs)
            if self._file is not None:  # sys.__stderr__, which the writer thread writes to
                self._file = cast(Any, _TerminalOutput(self._file, self._output_gone))
            self._gone = False  # the terminal hung up: no input, no output
            self._quitting = False  # the app was asked to quit
            self._suspended = False  # by ctrl+z or App.suspend(), until resumed
            self._watching = False

        def start_application_mode(self) -> None:
            super().start_application_mode()  # type: ignore[no-untyped-call]
            if self._watching:
                return
            self._watching = True
            # SIGTERM (a plain `kill`) too: its default action ended the process on the spot,
            # the server unstopped and the terminal left raw on the alternate screen.
            for sig in (signal.SIGHUP, signal.SIGTERM):
                try:
                    self._loop.add_signal_handler(sig, self._ask_to_quit)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass  # no signal handlers on this loop: the tty's hangup is still watched
            if self.input_tty:
                threading.Thread(target=self._watch_hangup, name="terminal-hangup", daemon=True).start()

        def _watch_hangup(self) -> None:
            # No events asked for: poll still reports POLLHUP/POLLERR, which a tty gives only
            # once it has hung up (keys do not wake it). POLLNVAL (macOS cannot poll a tty)
            # leaves it to SIGHUP and the output's errors.
            poller = select.poll()
            poller.register(self.fileno, 0)
            try:
                events = poller.poll()
            except OSError:
                return
            if any(mask & (select.POLLHUP | select.POLLERR) for _fd, mask in events):
                self._from_thread(self._terminal_gone)

        def _output_gone(self) -> None:  # on the writer thread
            self._from_thread(self._terminal_gone)

        def _from_thread(self, callback: Callable[[], None]) -> None:
            try:
                self._loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop is closed: the app has ended already
                pass

        def _terminal_gone(self) -> None:
            if not self._gone:
                self._gone = True
                self.disable_input()  # its thread would read end-of-file until the exit
            self._ask_to_quit()

        def _ask_to_quit(self) -> None:
            """Quit as ctrl+q does; through the app's message queue, so a quit already under
            way finishes first (its second run only exits)."""
            if not self._quitting:
                self._quitting = True
                self._app.call_later(self._app.action_quit)

        def write(self, data: str) -> None:
            if not self._gone:
                super().write(data)

        def suspend_application_mode(self) -> None:
            self._suspended = True
            super().suspend_application_mode()

        def resume_application_mode(self) -> None:
            # Textual resumes on every SIGCONT, and the kernel sends one with the SIGHUP of a
            # hangup: that started a second input thread on the dead tty. Resume only what was
            # suspended, and only on a terminal that is still there.
            if not self._suspended:
                return
            self._suspended = False
            if self._gone or (self.input_tty and not os.isatty(self.fileno)):
                self._loop.call_soon_threadsafe(self._terminal_gone)  # from a signal handler
                return
            super().resume_application_mode()


def run_tui(args: Any) -> int:
    app, store = build_app(args)
    if sys.platform != "win32" and app.driver_class is LinuxDriver:  # not when TEXTUAL_DRIVER chose one
        app.driver_class = TerminalDriver
    from ..receiver import run_server

    try:
        # On the loop serve runs on (uvloop where installed; WEBHOOK_INSPECTOR_LOOP=asyncio
        # for the standard one): measured in turns, 22-26 us less CPU per live capture than
        # asyncio's loop, the TUI's whole overhead over serve being about that size.
        run_server(app.run_async())
    finally:
        store.close()
    code = app.return_code
    return 0 if code is None else code
