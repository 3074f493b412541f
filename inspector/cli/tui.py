"""tui: the terminal inspector (the default command)."""

from __future__ import annotations

import argparse

from .options import AddCommand, forward_to, workers_option
from .output import err

NAME = "tui"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "open the terminal inspector (the default)")
    forward_to(p)
    workers_option(p)
    return p


def handle(args: argparse.Namespace) -> int:
    # Imported here: the core never imports Textual (SPEC §1); only the TUI does.
    try:
        from ..tui import run_tui
    except ImportError as exc:
        err(f"error: the TUI cannot start ({exc}); `webhook-inspector serve` runs the server without it")
        return 2
    return run_tui(args)
