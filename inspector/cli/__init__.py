"""The command line (SPEC §10): one module per command, each with its parser next to its handler.

A command module has `NAME`, `add_parser(add)`, which makes the command's parser with
`add(NAME, help)` and adds its own options, and `handle(args) -> int`, the exit code. Shared
parts: `options` (argument types, the common options), `common` (opening answers.json, the flows
and the store; reading request arguments), `output` (stdout and stderr), `usage` (usage errors).
A module imports only what its parser needs at the top; what its handler needs is imported in it,
since every command's parser is built on each start."""

from __future__ import annotations

import argparse

from . import check, diff, export, imports, init, listing, replay, rerun, run, send, serve, show, tui, verify
from .options import Parser, common_options, forward_to, workers_option

# In the order `--help` lists them.
COMMANDS = {m.NAME: m for m in (tui, serve, check, verify, run, send, listing, show, replay, rerun, diff, export, imports, init)}


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

    forward_to(parser)  # no command: the TUI
    workers_option(parser)
    for command in COMMANDS.values():
        command.add_parser(add)
    return parser
