"""The command line's grammar shared by every command: the argument types (ports, counts, paths,
tenants, times), the parser class whose errors are one or two lines, and the options accepted
before or after any command (SPEC §10)."""

from __future__ import annotations

import argparse
import difflib
import math
import re
from collections.abc import Callable
from typing import Any, NoReturn

from .common import UsageError, check_http_url

# What a command module's add_parser is given: add(name, help) makes the command's parser,
# with the common options, and returns it for the command's own options.
AddCommand = Callable[[str, str], argparse.ArgumentParser]

COMMON_DEFAULTS = {
    "answers": None,
    "flows": "flows",
    "store": ".inspector/captures.sqlite3",
    "host": "127.0.0.1",
    "port": 8080,
    "tunnel": "auto",
    "public_url": None,
    "ngrok_path": None,
    "tenant": "demo",
    "reveal": False,
    "max_captures": 100_000,
}


def _whole(text: str) -> int:
    # int() also takes other scripts' digits ("٨٠"), '_' separators and spaces: not what a
    # person means by a port or a count, so only ASCII digits (and a sign) count. The length
    # cap keeps int() from its own refusal past 4300 digits.
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
        raise ValueError(text)
    return int(text)


def _port(text: str) -> int:
    try:
        value = _whole(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0–65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0–65535)")
    return value


def positive(text: str) -> int:
    try:
        value = _whole(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _store_path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the store path is empty; give a file, e.g. --store .inspector/captures.sqlite3")
    return text


def _path(text: str) -> str:
    # An empty path would silently mean the current folder.
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty; give a file or folder, or leave the option out for the default")
    return text


# Retention hands SQLite the newest id minus N, which must fit its 64-bit integers; a billion
# captures is more than any disk holds anyway.
MAX_CAPTURES = 1_000_000_000


def _max_captures(text: str) -> int:
    value = positive(text)
    if value > MAX_CAPTURES:
        raise argparse.ArgumentTypeError(f"{value}: keep at most {MAX_CAPTURES:,} captures")
    return value


_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


def _tenant(text: str) -> str:
    # The route's rule for a {tenant} segment (SPEC §4), so every shown URL is one the server
    # answers; only dots would be a `.`/`..` segment, which clients resolve away.
    if not _SEGMENT.fullmatch(text) or not text.strip("."):
        raise argparse.ArgumentTypeError(f"{text!r} is not a tenant: use letters, digits, '.', '_' and '-' only (e.g. demo)")
    return text


def _host(text: str) -> str:
    if not text.strip() or any(c.isspace() or not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a host: give an address or name, e.g. 127.0.0.1 or 0.0.0.0")
    return text


def _public_url(text: str) -> str:
    from ..tunnel import public_url_problem

    problem = public_url_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem.removeprefix("--public-url "))
    return text


LATEST_NOW = 253402300799.0  # 9999-12-31T23:59:59Z: later times have no ISO 8601 form signatures use


def _unix_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a unix time in seconds (e.g. 1700000000)") from None
    if not math.isfinite(value) or not 0 <= value <= LATEST_NOW:
        raise argparse.ArgumentTypeError(f"{text!r} is not a unix time: give seconds from 0 to {LATEST_NOW:.0f} (e.g. 1700000000)")
    return value


def _forward_url(text: str) -> str:
    try:
        return check_http_url("--forward-to", text) or text
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--forward-to ")) from None


MAX_TIMES = 1000  # a typo of a few extra digits must not send for hours
MAX_TIMEOUT = 3600.0


def times(text: str) -> int:
    value = positive(text)
    if value > MAX_TIMES:
        raise argparse.ArgumentTypeError(f"{value} times: use 1 to {MAX_TIMES}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. 10)") from None
    if not 0 < value <= MAX_TIMEOUT:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{text!r} seconds: give more than 0 and at most {MAX_TIMEOUT:.0f} (e.g. 10)")
    return value


def _workers(text: str) -> int:
    if text == "auto":
        from ..workers import cpu_count

        return cpu_count()
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (a whole number, or 'auto')") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{value} processes: use 1 to 64, or 'auto' (one per CPU)")
    return value


class UsageProblem(Exception):
    """An argparse error, carried out of parsing so that it is told with the whole command
    line in view (a typo before the command explains an error argparse reports after it)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser
        self.message = message


class Parser(argparse.ArgumentParser):
    """argparse with usage errors of one or two lines: the full usage block buried the one
    line that said what was wrong."""

    def error(self, message: str) -> NoReturn:
        raise UsageProblem(self, message)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is None or value in action.choices:
            return
        choices = [str(c) for c in action.choices]
        close = difflib.get_close_matches(str(value), choices, n=1)
        if action.dest == "command":
            hint = f" (did you mean {close[0]!r}?)" if close else f"; commands: {', '.join(choices)}"
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise argparse.ArgumentError(action, f"invalid choice {value!r}{hint}; choose from {', '.join(choices)}")


def common_options() -> Parser:
    """Options accepted before or after the sub-command (SPEC §10). Defaults are applied after
    parsing, so a value given in either place is never overwritten by the other's default."""
    p = Parser(add_help=False)
    s = argparse.SUPPRESS
    g = p.add_argument_group("common options")
    g.add_argument(
        "--answers",
        metavar="FILE",
        type=_path,
        default=s,
        help="answers.json to use (default: ./answers.json, else ./answers.example.json)",
    )
    g.add_argument("--flows", metavar="DIR", type=_path, default=s, help="folder of .ygtc flows (default: ./flows)")
    g.add_argument("--store", metavar="PATH", type=_store_path, default=s, help="capture store (default: .inspector/captures.sqlite3)")
    g.add_argument("--host", type=_host, default=s, help="address to listen on (default: 127.0.0.1)")
    g.add_argument("--port", type=_port, default=s, help="port to listen on (default: 8080; 0 picks a free one)")
    g.add_argument("--tunnel", choices=("auto", "ngrok", "none"), default=s, help="public tunnel (default: auto)")
    g.add_argument("--public-url", metavar="URL", type=_public_url, default=s, help="public URL of a tunnel you run yourself")
    g.add_argument("--ngrok-path", metavar="PATH", type=_path, default=s, help="ngrok binary (also NGROK_PATH)")
    g.add_argument("--tenant", type=_tenant, default=s, help="tenant used in shown URLs (default: demo)")
    g.add_argument("--reveal", action="store_true", default=s, help="show secret-bearing headers unmasked")
    g.add_argument("--max-captures", type=_max_captures, default=s, metavar="N", help="keep the newest N captures (default: 100000)")
    return p


def headers_and_body(p: argparse.ArgumentParser) -> None:
    p.add_argument("--event-type", required=True, metavar="T", help="the event_type segment of the URL")
    p.add_argument("--method", default="POST", metavar="M", help="HTTP method (default: POST)")
    p.add_argument(
        "-H", "--header", action="append", default=[], metavar="'Name: value'", dest="headers", help="a request header (repeatable)"
    )
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", metavar="F", help="read the body's exact bytes from F ('-' for stdin)")
    body.add_argument("--body", metavar="S", help="the body as text (UTF-8)")
    p.add_argument("--now", type=_unix_time, metavar="UNIX", help="the current time in unix seconds (for old signed examples)")
    p.add_argument("--json", action="store_true", help="print one JSON document")


def workers_option(p: argparse.ArgumentParser) -> None:
    # Suppressed default, like --forward-to: `--workers 2 tui` keeps its value. main() fills in 1.
    p.add_argument(
        "--workers",
        type=_workers,
        default=argparse.SUPPRESS,
        metavar="N",
        help="processes that answer webhooks on the port (default 1; 'auto': one per CPU)",
    )


def forward_to(p: argparse.ArgumentParser) -> None:
    # Suppressed default: given before the sub-command (`--forward-to URL serve`), it is not
    # reset by the sub-command's own default. main() fills in None.
    p.add_argument(
        "--forward-to",
        metavar="URL",
        type=_forward_url,
        default=argparse.SUPPRESS,
        help="also send each accepted webhook to URL and answer the sender with its response (serve and the TUI)",
    )
