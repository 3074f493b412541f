"""Usage errors (issue 18 item 7): the error and where the help is, with a did-you-mean for
a misspelt command or option; never argparse's whole usage block."""

from __future__ import annotations

import pytest

from inspector import __main__ as entry
from tests.conftest import run_cli


def test_mistyped_command_and_option_get_a_did_you_mean(tmp_path):
    r = run_cli("lsit", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        "webhook-inspector: error: unknown command 'lsit' (did you mean 'list'?)",
        "see webhook-inspector --help",
    ]
    r = run_cli("list", "--limt", "5", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.decode().splitlines() == [
        "webhook-inspector list: error: unrecognized option --limt (did you mean --limit?)",
        "see webhook-inspector list --help",
    ]
    assert r.stdout == b""
    assert list(tmp_path.iterdir()) == []


USAGE_ERRORS = [
    # unknown command
    (["lsit"], None, "unknown command 'lsit' (did you mean 'list'?)"),
    (
        ["frobnicate"],
        None,
        "unknown command 'frobnicate'; commands: tui, serve, check, verify, run, send, list, show, replay, rerun, diff, export, import, init",
    ),
    # unknown option, after the command, with or without a value, glued with '='
    (["list", "--limt", "5"], "list", "unrecognized option --limt (did you mean --limit?)"),
    (["list", "--limt=5"], "list", "unrecognized option --limt (did you mean --limit?)"),
    (["export", "--formt", "json", "1"], "export", "unrecognized option --formt (did you mean --format?)"),
    (["list", "-x"], "list", "unrecognized option -x"),
    (["list", "--x\x1b[2J"], "list", "unrecognized option --x\\x1b[2J"),  # typed ESC never reaches the terminal
    # a misspelt required option is the cause, not the "missing" one argparse would name
    (["run", "--evnt-type", "x", "--body", "{}"], "run", "unrecognized option --evnt-type (did you mean --event-type?)"),
    # options before the command (SPEC §10 allows the common ones there)
    (["--bogus"], None, "unrecognized option --bogus"),
    (["--limt", "5", "list"], "list", "unrecognized option --limt (did you mean --limit?)"),
    (["--limit", "5", "list"], "list", "--limit is an option of list: give it after the command (webhook-inspector list --limit …)"),
    (
        ["--tunnel", "ngrk", "list"],
        "list",
        "argument --tunnel: invalid choice 'ngrk' (did you mean 'ngrok'?); choose from auto, ngrok, none",
    ),
    (["list", "--tunnel", "foo"], "list", "argument --tunnel: invalid choice 'foo'; choose from auto, ngrok, none"),
    (["--workers", "2", "list"], "list", "--workers applies to serve and the TUI, not to list"),
    # missing argument, missing value, invalid choice, invalid int, extra argument, exclusive options
    (["show"], "show", "the following arguments are required: ID"),
    (["run", "--event-type", "x"], "run", "one of the arguments --body-file --body is required"),
    (["list", "--limit"], "list", "argument --limit: expected one argument"),
    (["list", "--limit", "x"], "list", "argument --limit: 'x' is not a whole number"),
    (
        ["export", "1", "--format", "jsn"],
        "export",
        "argument --format: invalid choice 'jsn' (did you mean 'json'?); choose from curl, httpie, har, json, fixtures, bundle",
    ),
    (["show", "1", "2"], "show", "unexpected argument '2'"),
    (["list", "extra"], "list", "unexpected argument 'extra'"),
    (
        ["verify", "--event-type", "a", "--body", "x", "--body-file", "y"],
        "verify",
        "argument --body-file: not allowed with argument --body",
    ),
]


@pytest.mark.parametrize("argv, command, message", USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_every_usage_error_is_two_lines_naming_the_command(argv, command, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        entry.main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    prog = "webhook-inspector" + (f" {command}" if command else "")
    assert captured.err.splitlines() == [f"{prog}: error: {message}", f"see {prog} --help"]
    assert captured.out == ""


def test_help_is_still_the_whole_usage(tmp_path):
    r = run_cli("list", "--help", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout.decode().startswith("usage: webhook-inspector list ") and "--limit N" in r.stdout.decode()
