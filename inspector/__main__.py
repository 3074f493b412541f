"""`webhook-inspector` / `python -m inspector`: parse the command line and hand over to cli.py."""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re
import sqlite3
import sys

from . import cli

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


def _positive(text: str) -> int:
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
    value = _positive(text)
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
    from .tunnel import public_url_problem

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
        return cli.check_http_url("--forward-to", text) or text
    except cli.UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--forward-to ")) from None


MAX_TIMES = 1000  # a typo of a few extra digits must not send for hours
MAX_TIMEOUT = 3600.0


def _times(text: str) -> int:
    value = _positive(text)
    if value > MAX_TIMES:
        raise argparse.ArgumentTypeError(f"{value} times: use 1 to {MAX_TIMES}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. 10)") from None
    if not 0 < value <= MAX_TIMEOUT:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{text!r} seconds: give more than 0 and at most {MAX_TIMEOUT:.0f} (e.g. 10)")
    return value


def _workers(text: str) -> int:
    if text == "auto":
        from .workers import cpu_count

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

    def error(self, message: str):  # type: ignore[override]
        raise UsageProblem(self, message)

    def _check_value(self, action: argparse.Action, value) -> None:
        if action.choices is None or value in action.choices:
            return
        choices = [str(c) for c in action.choices]
        close = difflib.get_close_matches(str(value), choices, n=1)
        if action.dest == "command":
            hint = f" (did you mean {close[0]!r}?)" if close else f"; commands: {', '.join(choices)}"
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise argparse.ArgumentError(action, f"invalid choice {value!r}{hint}; choose from {', '.join(choices)}")


def common_options() -> argparse.ArgumentParser:
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


def _headers_and_body(p: argparse.ArgumentParser) -> None:
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


def _workers_option(p: argparse.ArgumentParser) -> None:
    # Suppressed default, like --forward-to: `--workers 2 tui` keeps its value. main() fills in 1.
    p.add_argument(
        "--workers",
        type=_workers,
        default=argparse.SUPPRESS,
        metavar="N",
        help="processes that answer webhooks on the port (default 1; 'auto': one per CPU)",
    )


def _forward_to(p: argparse.ArgumentParser) -> None:
    # Suppressed default: given before the sub-command (`--forward-to URL serve`), it is not
    # reset by the sub-command's own default. main() fills in None.
    p.add_argument(
        "--forward-to",
        metavar="URL",
        type=_forward_url,
        default=argparse.SUPPRESS,
        help="also send each accepted webhook to URL and answer the sender with its response (serve and the TUI)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = Parser(
        prog="webhook-inspector",
        description="Receive, verify, trace and replay webhooks. With no command, opens the inspector TUI.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    _forward_to(parser)  # no command: the TUI
    _workers_option(parser)
    p = add("tui", "open the terminal inspector (the default)")
    _forward_to(p)
    _workers_option(p)
    p = add("serve", "run the webhook server without the TUI, one line per request")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    _workers_option(p)
    # Set by `serve --workers` (and the TUI's) for the processes it starts: inherited socket
    # and channel fds, and whether captures are reported over the channel instead of printed.
    p.add_argument("--worker-socket", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--worker-channel", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--worker-report", action="store_true", help=argparse.SUPPRESS)
    _forward_to(p)
    add("check", "validate answers.json and the flows; print each trigger's webhook URL")
    p = add("verify", "check a request's signature as the server would, without a server")
    _headers_and_body(p)
    p.add_argument("--url", metavar="URL", help="the URL the sender called (for URL-signing schemes)")
    p = add("run", "run a request through signatures and flows without HTTP; print the trace")
    _headers_and_body(p)
    p.add_argument("--no-verify", action="store_true", help="skip the signature check")
    p = add("send", "send a built-in sample event, signed as answers.json says, to the running inspector")
    p.add_argument("sample", nargs="?", metavar="SAMPLE", help="e.g. github.push (omit to list them)")
    p.add_argument("--to", metavar="URL", help="base URL to send to (default: http://HOST:PORT)")
    p.add_argument(
        "--form",
        action="store_true",
        help="send it form-encoded (application/x-www-form-urlencoded, the JSON in a `payload` field), as GitHub's form setting does",
    )
    p = add("list", "list captured requests, newest first")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.add_argument("--limit", type=_positive, default=50, metavar="N", help="at most N captures (default: 50)")
    p.add_argument("--filter", metavar="EXPR", default="", help="e.g. 'sig:invalid type:order.* -status:2xx'")
    p = add("show", "everything about one capture")
    p.add_argument("id", metavar="ID", help="capture id (from list)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p = add("replay", "resend a capture — as captured, re-signed or edited — to the inspector or --to URL")
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--to",
        metavar="URL",
        help="another target's base URL (the capture's path is appended); its answer is stored as a capture of origin replay",
    )
    p.add_argument("--resign", action="store_true", help="fresh timestamp and signature for the scheme that applies")
    p.add_argument("--times", type=_times, default=1, metavar="N", help=f"send N times, up to {MAX_TIMES} (idempotency tests)")
    p.add_argument("--timeout", type=_seconds, default=10.0, metavar="S", help="seconds to wait for an answer (default 10)")
    p.add_argument("--method", metavar="M", help="edit: another method")
    p.add_argument("--path", metavar="PATH", help="edit: another path (and query)")
    p.add_argument(
        "-H", "--header", action="append", default=[], dest="headers", metavar="'Name: value'", help="edit: set a header (repeatable)"
    )
    p.add_argument("--remove-header", action="append", default=[], metavar="NAME", help="edit: drop a header (repeatable)")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="S", help="edit: another body (text)")
    body.add_argument("--body-file", metavar="F", help="edit: another body from a file ('-' for stdin)")
    p.add_argument("--json", action="store_true")
    p = add("export", "write captures as curl, HTTPie, HAR 1.2 or JSON")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--format", choices=("curl", "httpie", "har", "json"), default="curl")
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--to", metavar="URL", help="base URL the commands target (default http://HOST:PORT)")
    p = add("import", "import a HAR file or the ngrok agent's /api/requests/http JSON as captures")
    p.add_argument("file", metavar="FILE")
    add("init", "write answers.json (fresh secrets) and starter flows/ into this folder")
    return parser


# What argparse itself takes for a negative number rather than an option.
_NEGATIVE = re.compile(r"^-\d+$|^-\d*\.\d+$")


def _commands(root: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in root._actions:
        if action.dest == "command" and isinstance(action.choices, dict):
            return action.choices
    return {}


def _option(parser: argparse.ArgumentParser, name: str) -> tuple[argparse.Action | None, bool] | None:
    """The action `name` selects in `parser` as argparse would read it (unique prefixes of
    long options, a value glued to a short one), and whether its value is glued on; None
    when unknown. An ambiguous prefix is left for argparse to report: (None, True)."""
    table = parser._option_string_actions
    if name in table:
        return table[name], False
    if name.startswith("--"):
        found = {id(a): a for o, a in table.items() if o.startswith(name)}
        if len(found) == 1:
            return next(iter(found.values())), False
        return (None, True) if found else None
    if len(name) > 2 and name[:2] in table:
        return table[name[:2]], True
    return None


def _scan(root: argparse.ArgumentParser, argv: list[str]) -> tuple[str | None, str | None, list[str]]:
    """Walk the command line as argparse would: the first option that the parser in effect
    (the command's, once it is named) does not know, the command, and what follows."""
    commands = _commands(root)
    parser, command = root, None
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            break
        if token.startswith("-") and token != "-" and not _NEGATIVE.match(token):
            name, eq, _value = token.partition("=")
            found = _option(parser, name)
            if found is None:
                return name, command, argv[i:]
            action, glued = found
            if action is not None and action.nargs is None and not eq and not glued:
                i += 1  # its value, whatever it looks like
        elif command is None:
            if token not in commands:
                break  # argparse's own error (unknown command) is the one to tell
            parser, command = commands[token], token
    return None, command, []


def _spellings(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings]


def _unknown_option(root: argparse.ArgumentParser, name: str, command: str | None, rest: list[str]) -> tuple[str, str | None]:
    """What to say about an option nobody knows, and which command's help to point at."""
    commands = _commands(root)
    if command is None:
        # Before the command only the common options are read; the command's own options
        # are reported unknown there, which reads as a lie unless the fix is named.
        later = next((t for t in rest if t in commands), None)
        if later is not None and _option(commands[later], name) is not None:
            return f"{name} is an option of {later}: give it after the command (webhook-inspector {later} {name} …)", later
        spellings = _spellings(root) + (_spellings(commands[later]) if later else [])
        command = later
    else:
        spellings = _spellings(commands[command])
    # Compared without the dashes, which every option shares and which would make any two
    # short names look alike.
    bare = {o.lstrip("-"): o for o in spellings}
    close = difflib.get_close_matches(name.lstrip("-"), list(bare), n=1)
    return f"unrecognized option {name}" + (f" (did you mean {bare[close[0]]}?)" if close else ""), command


def usage_text(root: argparse.ArgumentParser, argv: list[str], problem: UsageProblem) -> str:
    """Two lines: what is wrong, and where the help for it is."""
    commands = _commands(root)
    unknown, command, rest = _scan(root, argv)
    message = problem.message
    if problem.parser is not root:
        command = next((n for n, p in commands.items() if p is problem.parser), command)
    if unknown is not None:
        # An unknown option is the cause of most other errors argparse reports (a required
        # option "missing" because it was misspelt, a value read as the command).
        message, command = _unknown_option(root, unknown, command, rest)
    prog = root.prog + (f" {command}" if command else "")
    # The message can quote what was typed: an ESC there must not reach the terminal.
    return f"{prog}: error: {cli.cell(message)}\nsee {prog} --help\n"


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    args, extras = parser.parse_known_args(argv)
    if extras:
        raise UsageProblem(parser, f"unexpected argument {extras[0]!r}")
    return args


DEBUG_ENV = "WEBHOOK_INSPECTOR_DEBUG"
INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h)


def main(argv: list[str] | None = None) -> int:
    """The command line, with a last net under it: whatever escapes a command becomes one
    line on stderr (the traceback only with WEBHOOK_INSPECTOR_DEBUG=1), never locals."""
    # Text our own writers did not prepare (argparse's help, with its dashes) must not fail
    # on an ASCII or C locale's stdout: characters it lacks become backslash escapes.
    try:
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        pass  # no stdout, or one that is not a text file
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except sqlite3.DatabaseError as exc:
        # A store damaged on disk, or locked or changed under us, while a command used it.
        cli.err(f"error: the capture store cannot be used ({exc}); pass --store PATH to use another file, or move a damaged one away")
        return 2
    except cli.OutputFailed as exc:
        _reader_gone(stderr=False)
        cli.err(f"error: cannot write the output: {exc}")
        return 2
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            import traceback

            traceback.print_exc()
        what = " ".join(str(exc).split())
        what = what if len(what) <= 300 else what[:299] + "…"
        try:
            cli.err(f"error: internal error: {type(exc).__name__}: {what} (please report it; run with {DEBUG_ENV}=1 for the traceback)")
        except (OSError, ValueError):
            pass
        return INTERNAL_ERROR


def _reader_gone(stderr: bool = True) -> int:
    """The reader of stdout went away (`| head`), or it cannot be written: nothing more to
    say there, and no second error when Python flushes stdout at exit ("Exception ignored …")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr) if stderr else (sys.stdout,):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # a replaced stream (tests) has no descriptor to redirect
    os.close(devnull)
    return 0


def _main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parse(parser, argv)
        command = args.command or "tui"
        for option, dest in (("--workers", "workers"), ("--forward-to", "forward_to")):
            if hasattr(args, dest) and command not in ("serve", "tui"):
                raise UsageProblem(parser, f"{option} applies to serve and the TUI, not to {command}")
    except UsageProblem as problem:
        parser.exit(2, usage_text(parser, argv, problem))
    args.flows_explicit = hasattr(args, "flows")
    # send, replay and export look for a running server only when no address was given.
    args.address_explicit = hasattr(args, "host") or hasattr(args, "port")
    for key, value in COMMON_DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    if not hasattr(args, "workers"):
        args.workers = 1
    if not hasattr(args, "forward_to"):
        args.forward_to = None
    try:
        return cli.COMMANDS[command](args)
    except cli.UsageError as exc:
        parser.exit(2, f"webhook-inspector {command}: error: {exc}\n")


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
