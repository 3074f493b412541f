"""`webhook-inspector` / `python -m inspector`: parse the command line and hand over to the
command's module in inspector/cli/."""

from __future__ import annotations

import os
import sqlite3
import sys

from .cli import COMMANDS, build_parser
from .cli.common import UsageError
from .cli.options import COMMON_DEFAULTS, UsageProblem
from .cli.output import OutputFailed, err
from .cli.usage import parse, usage_text

__all__ = ["COMMON_DEFAULTS", "build_parser", "main"]


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
        err(f"error: the capture store cannot be used ({exc}); pass --store PATH to use another file, or move a damaged one away")
        return 2
    except OutputFailed as exc:
        _reader_gone(stderr=False)
        err(f"error: cannot write the output: {exc}")
        return 2
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            import traceback

            traceback.print_exc()
        what = " ".join(str(exc).split())
        what = what if len(what) <= 300 else what[:299] + "…"
        try:
            err(f"error: internal error: {type(exc).__name__}: {what} (please report it; run with {DEBUG_ENV}=1 for the traceback)")
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
        return COMMANDS[command].handle(args)
    except UsageError as exc:
        parser.exit(2, f"webhook-inspector {command}: error: {exc}\n")


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
