"""Issue #21: a flow cannot make a huge trace, fan out without bound, or load without bound.
Each limit ends the run (or refuses the file) with a message naming it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from inspector.config import Config
from inspector.flow import Engine, FlowSet
from inspector.flow.engine import MAX_ASYNC_RUNS, MAX_TRACE_CHARS
from inspector.flow.loader import MAX_FLOW_BYTES, load_file
from inspector.model import Headers, Request
from inspector.pipeline import Pipeline
from inspector.store import Store

MIB = 1 << 20


def flows(tmp_path: Path, **files: str) -> FlowSet:
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    return FlowSet.load(d)


def handle(tmp_path: Path, fs: FlowSet, event_type: str, body: bytes = b"{}"):
    pipeline = Pipeline(Config(ack_timeout_seconds=30), Store(tmp_path / "s.sqlite3"), engine=Engine(fs))
    request = Request(
        "POST", f"/events/webhook/demo/{event_type}", "", Headers((("Content-Type", "application/json"),)), body, "t", time.time()
    )

    async def go():
        capture = await pipeline.handle(request, wait=True)
        await pipeline.drain(30)
        return capture

    return asyncio.run(go())


def trace_chars(capture) -> int:
    return len(json.dumps([r.to_json() for r in capture.runs], ensure_ascii=False))


BIG_OUTPUT_LOOP = """
name: big
nodes:
  - id: grow
    type: script
    config:
      script: |
        let s = "x";
        for i in 0..17 { s += s; }
        s + (state.n ?? 0)
    next: grow
triggers:
  - type: event
    event_type: big
"""


def test_a_loop_of_big_outputs_stops_at_the_trace_size_limit(tmp_path):
    # Each step returns 128 Ki characters: 1,000 steps would record 128 MiB (before).
    fs = flows(tmp_path, big=BIG_OUTPUT_LOOP)
    capture = handle(tmp_path, fs, "big")
    (run,) = [r.to_json() for r in capture.runs]
    assert run["status"] == "limit"
    assert "trace size limit" in run["error"]["message"] and "MAX_TRACE_CHARS" in run["error"]["message"]
    assert run["steps"][-1]["status"] == "limit" and run["steps"][-1]["output"] is None
    assert len(run["steps"]) < 200
    assert trace_chars(capture) <= MAX_TRACE_CHARS + MIB
    response = json.loads(capture.response.body)
    assert capture.response.status == 500 and "trace size limit" in response["error"]


def test_one_huge_output_is_not_recorded(tmp_path):
    # 1,024 references to one 64 KiB string: cheap to hold, 64 MiB of trace text.
    fs = flows(
        tmp_path,
        wide="""
        name: wide
        nodes:
          - id: wide
            type: script
            config:
              script: |
                let s = "x";
                for i in 0..16 { s += s; }
                let a = [s];
                for i in 0..10 { a += a; }
                a
        triggers:
          - type: event
            event_type: wide
        """,
    )
    tracemalloc.start()
    try:
        capture = handle(tmp_path, fs, "wide")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (run,) = [r.to_json() for r in capture.runs]
    assert run["status"] == "limit" and "trace size limit" in run["error"]["message"]
    assert peak < 40 * MIB  # before: the 64 MiB trace was encoded and stored
    assert trace_chars(capture) < MIB


def test_an_answer_bigger_than_the_trace_budget_is_refused(tmp_path):
    fs = flows(
        tmp_path,
        answer="""
        name: answer
        nodes:
          - id: make
            type: script
            config:
              script: |
                let s = "x";
                for i in 0..16 { s += s; }
                state.big = [s];
                for i in 0..9 { state.big += state.big; }
                1
            next: respond
          - id: respond
            type: http_response
            config:
              body: "{{ state.big }}"
        triggers:
          - type: event
            event_type: answer
        """,
    )
    capture = handle(tmp_path, fs, "answer")
    (run,) = [r.to_json() for r in capture.runs]
    assert run["status"] == "limit" and run["error"]["node"] == "respond"
    assert "the response body" in run["error"]["message"] and "trace size limit" in run["error"]["message"]
    assert capture.response.status == 500 and len(capture.response.body) < 10_000


def test_a_small_flow_is_unaffected_by_the_trace_budget(tmp_path):
    fs = flows(
        tmp_path,
        small="""
        name: small
        nodes:
          - id: a
            type: script
            config:
              script: event.payload
            next: b
          - id: b
            type: http_response
            config:
              body: "{{ nodes.a }}"
        triggers:
          - type: event
            event_type: small
        """,
    )
    payload = {"items": [{"id": i, "text": "y" * 100} for i in range(3000)]}  # ~400 KiB
    capture = handle(tmp_path, fs, "small", json.dumps(payload).encode())
    (run,) = [r.to_json() for r in capture.runs]
    assert run["status"] == "ok" and run["steps"][0]["output"] == payload
    assert capture.response.status == 200 and json.loads(capture.response.body) == payload


SELF_QUEUEING = """
name: again
nodes:
  - id: again
    type: async
    config:
      flow: again
    next: again
triggers:
  - type: event
    event_type: again
"""


def test_an_async_node_that_queues_itself_in_a_loop_is_capped(tmp_path):
    # Before: 1,000 children per run, each queueing 1,000 more, to depth 8. Run in a
    # subprocess so that the old behaviour fails by timeout instead of hanging the suite.
    d = tmp_path / "flows"
    d.mkdir()
    (d / "again.ygtc").write_text(SELF_QUEUEING)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "run",
            "--flows",
            str(d),
            "--store",
            str(tmp_path / "s.sqlite3"),
            "--event-type",
            "again",
            "--body",
            "{}",
            "--no-verify",
            "--json",
        ],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr.decode()
    runs = json.loads(done.stdout)["runs"]
    assert len(runs) == MAX_ASYNC_RUNS + 1  # the children share the request's budget
    limited = [r for r in runs if r["status"] == "limit"]
    assert limited and all("async run limit" in r["error"]["message"] for r in limited)
    assert "MAX_ASYNC_RUNS" in limited[0]["error"]["message"]
    first = runs[0]
    assert first["parent_id"] is None and len(first["steps"]) == MAX_ASYNC_RUNS + 1


def test_async_depth_still_applies_within_the_cap(tmp_path):
    fs = flows(
        tmp_path,
        chain="""
        name: chain
        nodes:
          - id: call
            type: async
            config:
              flow: chain
        triggers:
          - type: event
            event_type: chain
        """,
    )
    capture = handle(tmp_path, fs, "chain")
    assert len(capture.runs) == 9
    assert "async depth limit" in capture.runs[-1].to_json()["error"]["message"]


def chain_flow(count: int, block_scalars: bool) -> str:
    lines = ["name: long", "nodes:"]
    for i in range(count):
        lines += [f"  - id: n{i}", "    type: script", "    config:"]
        if block_scalars:
            lines += ["      script: |", f"        {i}"]
        else:
            lines += [f'      script: "{i}"']
        if i + 1 < count:
            lines.append(f"    next: n{i + 1}")
    lines += ["triggers:", "  - type: event", "    event_type: long"]
    return "\n".join(lines) + "\n"


def test_a_10000_node_chain_loads_and_stops_at_the_step_limit(tmp_path):
    text = chain_flow(10_000, block_scalars=True)
    assert len(text.encode()) < MAX_FLOW_BYTES
    d = tmp_path / "flows"
    d.mkdir()
    (d / "long.ygtc").write_text(text)
    started = time.perf_counter()
    fs = FlowSet.load(d)
    loaded_in = time.perf_counter() - started
    assert not fs.errors and len(fs.flows[0].nodes) == 10_000
    # Before, each block scalar split the whole file again: minutes for this file.
    assert loaded_in < 30
    capture = handle(tmp_path, fs, "long")
    (run,) = [r.to_json() for r in capture.runs]
    assert run["status"] == "limit" and len(run["path"]) == 1000
    assert "step limit" in run["error"]["message"]


def test_a_flow_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.ygtc"
    with path.open("w") as handle_:
        handle_.write("name: huge\nnodes:\n  - id: a\n    type: script\n    config:\n      script: |\n")
        line = "        // " + "x" * 1013 + "\n"
        for _ in range(10 * 1024):
            handle_.write(line)
    assert path.stat().st_size > 10 * MIB
    flow, problems = load_file(path, "flows/huge.ygtc")
    assert flow is None
    (problem,) = problems
    assert str(problem).startswith("flows/huge.ygtc:1:1: too large:")
    assert "MAX_FLOW_BYTES" in problem.message


BILLION_LAUGHS = """
name: lol
nodes:
  - id: a
    type: http_response
    config:
      body:
        l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        l1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]
        l2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]
        l3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]
        l4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]
        l5: &l5 [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]
        l6: &l6 [*l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5]
        l7: &l7 [*l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6]
        l8: &l8 [*l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7]
"""


def test_an_alias_bomb_is_refused_with_its_position(tmp_path):
    # Before, validation walked the 387 million nodes the aliases stand for: it never ended.
    # A subprocess keeps the suite bounded either way.
    d = tmp_path / "flows"
    d.mkdir()
    (d / "lol.ygtc").write_text(BILLION_LAUGHS.lstrip("\n"))
    (d / "ok.ygtc").write_text("name: ok\nnodes:\n  - id: a\n    type: script\n    config:\n      script: 1\n")
    done = subprocess.run([sys.executable, "-m", "inspector", "check", "--flows", str(d)], cwd=tmp_path, capture_output=True, timeout=60)
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 1, out
    bomb = [line for line in out.splitlines() if "MAX_EXPANDED_NODES" in line]
    assert bomb, out
    assert "lol.ygtc:" in bomb[0] and "alias" in bomb[0]
    position = bomb[0].split("lol.ygtc:", 1)[1].split(":")[:2]
    assert [int(x) for x in position] == [12, 13]  # the l5 list: 597,871 nodes, the first past the limit


def test_a_few_aliases_still_work(tmp_path):
    fs = flows(
        tmp_path,
        alias="""
        name: alias
        nodes:
          - id: a
            type: http_response
            config:
              headers: &h {X-One: "1"}
              body: {copy: *h, again: *h}
        triggers:
          - type: event
            event_type: alias
        """,
    )
    assert not fs.errors
    capture = handle(tmp_path, fs, "alias")
    assert json.loads(capture.response.body) == {"copy": {"X-One": "1"}, "again": {"X-One": "1"}}


@pytest.mark.parametrize("source", ["[1, 2", "nodes:\n  - id: a\n\ttype: script\n"])
def test_yaml_errors_keep_their_wording_with_the_fast_parser(tmp_path, source):
    path = tmp_path / "bad.ygtc"
    path.write_text(source)
    flow, problems = load_file(path, "bad.ygtc")
    assert flow is None and "YAML syntax error" in problems[0].message


def test_a_request_stops_once_its_flows_spent_their_time_budget(tmp_path):
    # Every step is a legal script (~100,000 operations), and 1,000 of them a legal run:
    # without a budget per request this run held its worker for a minute or more.
    from inspector.flow.engine import Answer, RequestLimits

    fs = flows(
        tmp_path,
        slow="""
        name: slow
        nodes:
          - id: spin
            type: script
            config:
              script: "let i = 0; while i < 20000 { i += 1; } i"
            next: spin
        """,
    )
    flow = fs.flows[0]
    answer = Answer(lambda response, where: False, limits=RequestLimits(max_seconds=0.2))
    event = {"headers": {}, "payload": None}
    started = time.perf_counter()
    run = Engine(fs).run_flow(flow, "spin", event, None, 1, None, None, None, 0, answer, [])
    assert time.perf_counter() - started < 10
    assert run.status == "limit" and "time limit" in run.error.message
    assert "MAX_REQUEST_SECONDS" in run.error.message
    assert 1 <= len(run.steps) < 1000
