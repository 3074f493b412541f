"""The TUI's net under every handler: an exception in our actions, message handlers, timer
callbacks or workers becomes an error notification naming what failed, and the app (and its
server) keeps running. (Rendering is guarded where data is drawn: the request table draws a
broken row as one, and our Statics take text, never markup — see widgets/plain.py.)

Textual exits the app on any exception that reaches it, and an exception that escapes a
message handler also ends the message loop of the widget that ran it, so the net has to be
inside the dispatch: `GuardedPump` wraps each handler that our classes define as Textual
looks it up, and `InspectorApp._dispatch_action` wraps every action.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from textual._callback import count_parameters
from textual.worker import Worker, WorkerState

from ..model import unicode_text

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger("inspector.tui")
# Never Python's last-resort handler: it writes to stderr, under the screen.
log.addHandler(logging.NullHandler())

_OURS = __name__.rsplit(".", 1)[0] + "."  # "inspector.tui."
MESSAGE_LIMIT = 300


def describe(exc: BaseException) -> str:
    """`UnicodeEncodeError: 'utf-8' codec can't …`, printable and short enough for a toast."""
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ fails still gets named
        text = ""
    text = unicode_text(text).replace("\r", " ").replace("\n", " ")
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def report(node: Any, what: str, exc: BaseException) -> None:
    """Tell the user `what` failed and why; never raises (it runs where raising would exit)."""
    log.error("%s failed", what, exc_info=exc)
    try:
        app = node.app
        app.log.error(f"{what} failed: {exc!r}")
        app.notify(f"{what} failed: {describe(exc)}", severity="error", timeout=10, markup=False)
    except Exception:  # no app (closing), or notify itself failed: the log above has it
        pass


def guard(node: Any, what: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` (sync or async), reporting instead of raising. Textual decides whether to
    pass the message by counting the handler's parameters: the wrapper carries the count."""
    wrapper = _guard(node, what, method)
    try:
        # an attribute Textual reads off the handler; functions' stubs declare no such attribute
        wrapper._param_count = count_parameters(method)  # type: ignore[attr-defined]
    except Exception:  # Textual counts them itself (through __wrapped__)
        pass
    return wrapper


def _guard(node: Any, what: str, method: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except Exception as exc:
                report(node, what, exc)
                return None

        return guarded_async

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except Exception as exc:
            report(node, what, exc)
            return None
        if inspect.isawaitable(result):  # a sync handler that returns a coroutine
            return _awaited(node, what, result)
        return result

    return guarded


async def _awaited(node: Any, what: str, awaitable: Any) -> Any:
    try:
        return await awaitable
    except Exception as exc:
        report(node, what, exc)
        return None


def guarded_callback(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For methods that timers, `call_later` and threads call: Textual treats their
    exceptions as fatal, we report them."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(method):

            @functools.wraps(method)
            async def run_async(self: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await method(self, *args, **kwargs)
                except Exception as exc:
                    report(self, what, exc)
                    return None

            return run_async

        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                report(self, what, exc)
                return None

        return run

    return decorate


class _InApp(Protocol):
    """What GuardedPump's own handlers need of the Textual class it is mixed into."""

    @property
    def app(self) -> App[Any]: ...


class GuardedPump:
    """Mixin for our App, screens and widgets: the message handlers they define (ours, not
    Textual's) report their exceptions instead of ending the app."""

    def _get_dispatch_methods(self, method_name: str, message: Any) -> Iterable[tuple[type, Callable[..., Any]]]:
        # super() is the Textual class this mixin is mixed into (MessagePump), which mypy cannot see
        for cls, method in super()._get_dispatch_methods(method_name, message):  # type: ignore[misc]
            if cls.__module__.startswith(_OURS):
                method = guard(self, f"{_event_words(method_name)} in {cls.__name__}", method)
            yield cls, method

    def on_worker_state_changed(self: _InApp, event: Worker.StateChanged) -> None:
        """Our workers run with exit_on_error=False: their failures are said here (the
        message goes to the node that started the worker only)."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None and not getattr(self.app, "_quitting", False):
            report(self, worker.name or worker.group or "a background task", worker.error)


def _event_words(method_name: str) -> str:
    """`on_option_list_option_selected` → `handling option list option selected`."""
    return "handling " + method_name.removeprefix("_").removeprefix("on_").replace("_", " ")
