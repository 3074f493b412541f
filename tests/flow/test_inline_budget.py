"""The inline budget counts the CPU time the flows use, not time the OS gave to others; the engine
remembers which flows an event type triggers until the flows reload."""

from __future__ import annotations

import time

import pytest

from inspector.flow import Answer, Engine, FlowSet
from inspector.flow.engine import Budget, OverBudget
from inspector.model import Capture, Headers, Request, SignatureResult
from tests.conftest import ROOT


def github_push() -> tuple[Engine, Capture]:
    engine = Engine(FlowSet.load(ROOT / "flows"))
    headers = Headers((("Content-Type", "application/json"), ("X-GitHub-Event", "push")))
    request = Request("POST", "/events/webhook/demo/github", "", headers, b'{"commits": [1, 2]}', "t", time.time())
    return engine, Capture(1, request, "demo", "github", SignatureResult("unsigned"))


def test_a_wall_clock_past_the_deadline_alone_does_not_send_the_flows_to_a_worker():
    engine, capture = github_push()
    budget = Budget()
    budget.deadline -= 1.0  # as if the process had been off the CPU for a second
    _event, runs, _pending = engine.run_triggered(capture, Answer(lambda response, where: True), budget=budget)
    assert [r.status for r in runs] == ["ok"]


def test_cpu_time_past_the_deadline_does():
    engine, capture = github_push()
    budget = Budget()
    budget.deadline -= 1.0
    budget.cpu_deadline -= 1.0
    with pytest.raises(OverBudget):
        engine.run_triggered(capture, Answer(lambda response, where: True), budget=budget)


def test_a_budget_reads_the_cpu_clock_once_a_millisecond_and_is_never_stricter(monkeypatch):
    # Reading the thread's CPU time is a system call: it was made for every request.
    from inspector.flow import engine as engine_module

    reads = []

    def cpu() -> float:
        reads.append(1)
        return time.thread_time()

    monkeypatch.setattr(engine_module, "_cpu", cpu)
    monkeypatch.setattr(engine_module, "_cpu_anchor", (float("-inf"), 0.0, None))
    made = 0
    started = time.perf_counter()
    while made < 200 or time.perf_counter() - started < 0.003:
        before = time.thread_time()
        budget = Budget(seconds=0.003)
        after = time.thread_time()
        # Its start is an upper bound of the CPU time at its making, and off by at most the
        # anchor's age: never stricter than 3 ms, never lenient by more than 1 ms.
        assert before - 1e-6 <= budget.cpu_deadline - 0.003 <= after + engine_module.CPU_ANCHOR_SECONDS + 1e-6
        made += 1
    elapsed = time.perf_counter() - started
    assert 1 <= len(reads) <= elapsed / engine_module.CPU_ANCHOR_SECONDS + 2 and len(reads) < made


def test_triggered_flows_follow_a_reload(tmp_path):
    """The engine remembers which flows an event type triggers, until the flows reload."""
    flows = tmp_path / "flows"
    flows.mkdir()
    one = "name: {name}\nnodes:\n  - id: a\n    type: script\n    config:\n      script: '1'\ntriggers:\n  - type: event\n    event_type: {event}\n"
    (flows / "a.ygtc").write_text(one.format(name="a", event="x.*"))
    fs = FlowSet.load(flows)
    engine = Engine(fs)
    assert [f.name for f, _ in engine.triggered("x.y")] == ["a"] and engine.triggered("z") == []
    assert engine.triggered("x.y") is engine.triggered("x.y")
    (flows / "b.ygtc").write_text(one.format(name="b", event="z"))
    fs.reload()
    assert [f.name for f, _ in engine.triggered("z")] == ["b"] and [f.name for f, _ in engine.triggered("x.y")] == ["a"]
    for i in range(3000):  # any number of event types: it keeps a bounded number
        engine.triggered(f"x.{i}")
    assert engine._triggered is not None and len(engine._triggered[3]) <= 1024
