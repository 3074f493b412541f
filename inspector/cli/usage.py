"""Usage errors in two lines — what is wrong, and where its help is — told with the whole command
line in view: a misspelt option is named (with the closest spelling) instead of the error argparse
reports because of it, and a command's option given before the command is said to belong after it."""

from __future__ import annotations

import argparse
import difflib
import re

from .options import UsageProblem
from .output import cell

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
    return f"{prog}: error: {cell(message)}\nsee {prog} --help\n"


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    args, extras = parser.parse_known_args(argv)
    if extras:
        raise UsageProblem(parser, f"unexpected argument {extras[0]!r}")
    return args
