"""`Program.silent`: a program that cannot log, whose `evaluate` then tells all that `run`
would (a flow's script step takes that shorter way). Each script here is run both ways, with
the default limits and with small ones, on scopes it succeeds and fails on."""

from __future__ import annotations

import copy

import pytest

from inspector.script import Limits, ScriptError, compile

SCRIPTS = [
    'let commits = event.payload.commits ?? [];\nformat!("Received {} commits", commits.len())',
    "event.payload.n + 1",
    "let x = event.payload; x.name.to_upper()",
    "event.payload.missing.deeper",
    'format!("{} and {:?}", event.payload.name, event.payload.list)',
    "event.payload.list.len() > 2",
    'print("hello"); 1',
    "debug(event.payload); event.payload.n",
    "let n = 0; for i in event.payload.list { n += 1; } n",
    "state.count = (state.count ?? 0) + 1; state.count",
    "fn twice(x) { x * 2 } twice(event.payload.n)",
    'print("before"); event.payload.missing.deeper',
    'let s = ""; for i in 0..100 { s += "x"; } s.len()',
]

SCOPES = [
    {"event": {"payload": {"commits": [1, 2], "n": 41, "name": "mona", "list": [1, "a", {"b": 2}]}}, "state": {}},
    {"event": {"payload": {"n": "not a number", "name": 7, "list": []}}, "state": {"count": 3}},
    {"event": {"payload": None}, "state": {}},
]

LIMITS = [None, Limits(max_operations=40)]


def _outcome(call, *args):
    try:
        return ("value", call(*args))
    except ScriptError as exc:
        return ("error", exc.message, exc.line, exc.column, list(exc.logs))


@pytest.mark.parametrize("source", SCRIPTS)
def test_a_silent_program_evaluates_to_what_it_runs_to_and_never_logs(source):
    program = compile(source)
    if "print" in source or "debug" in source:
        assert not program.silent
    for scope in SCOPES:
        for limits in LIMITS:
            for _ in range(3):  # the first runs and those after (limits remembered)
                ran = _outcome(lambda s, lim: tuple(program.run(s, lim)), _fresh(scope), limits)
                if not program.silent:
                    continue
                evaluated = _outcome(program.evaluate, _fresh(scope), limits)
                if ran[0] == "value":
                    assert ran[1][1] == [] and evaluated == ("value", ran[1][0])
                else:
                    assert ran[-1] == [] and evaluated == ran


def test_the_bench_script_is_silent_and_a_printing_one_is_not():
    assert compile(SCRIPTS[0]).silent and compile("event.payload.n + 1").silent
    assert not compile("print(1); 1").silent and not compile("debug(1)").silent


def _fresh(scope):
    return copy.deepcopy(scope)
