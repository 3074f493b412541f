"""Flow runs through the real pipeline: SPEC §4 rules 2–4 and the §6 trace."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time

from inspector.config import Config
from inspector.flow import Engine, FlowSet
from inspector.model import Headers, Request
from inspector.pipeline import Pipeline
from inspector.store import Store

RUN_FIELDS = {"id", "flow", "file", "trigger", "parent_id", "via_node", "status", "started_at", "duration_us", "path", "steps"}
STEP_FIELDS = {"node", "type", "status", "started_at", "duration_us", "output", "next", "decision", "error", "logs"}


def flows(tmp_path, **files):
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    return FlowSet.load(d)


def pipeline(tmp_path, fs, ack=5.0, store=True):
    cfg = Config(ack_timeout_seconds=ack)
    st = Store(tmp_path / "s.sqlite3") if store else None
    return Pipeline(cfg, st, engine=Engine(fs))


def request(event_type, body=b"{}", headers=(("Content-Type", "application/json"),)):
    return Request("POST", f"/events/webhook/demo/{event_type}", "", Headers(headers), body, "t", time.time())


def handle(p, req, wait=True):
    async def go():
        capture = await p.handle(req, wait=wait)
        await p.drain(5)
        return capture

    return asyncio.run(go())


SCRIPT_THEN_RESPOND = """
name: order
nodes:
  - id: process
    type: script
    config:
      script: |
        print("total " + event.payload.total.to_string());
        state.seen = true;
        event.payload.total * 2
    next: respond
  - id: respond
    type: http_response
    config:
      status: 201
      headers:
        X-Total: "{{prev}}"
      body:
        doubled: "{{prev}}"
        note: "total was {{ event.payload.total }}"
triggers:
  - type: event
    event_type: "order.*"
"""


def test_first_http_response_answers_and_the_trace_is_complete(tmp_path):
    p = pipeline(tmp_path, flows(tmp_path, a=SCRIPT_THEN_RESPOND))
    c = handle(p, request("order.created", b'{"total": 21}'))
    assert c.response.status == 201
    assert json.loads(c.response.body) == {"doubled": 42, "note": "total was 21"}
    assert c.response.headers.get("X-Total") == "42"
    [run] = [r.to_json() for r in c.runs]
    assert RUN_FIELDS <= set(run) and run["status"] == "ok" and run["path"] == ["process", "respond"]
    assert run["trigger"] == "event:order.*" and run["parent_id"] is None
    assert all(STEP_FIELDS <= set(s) for s in run["steps"])
    assert run["steps"][0]["logs"] == ["total 21"] and run["steps"][0]["output"] == 42
    stored = p.store.get(c.id)
    assert stored.runs[0].to_json()["path"] == ["process", "respond"] and stored.response.status == 201


def test_several_flows_in_file_order_later_responses_unused(tmp_path):
    fs = flows(
        tmp_path,
        a=SCRIPT_THEN_RESPOND,
        b="""
        name: second
        nodes:
          - id: reply
            type: http_response
            config: {status: 299}
        triggers:
          - event_type: "*"
          - event_type: "order.created"
        """,
    )
    c = handle(pipeline(tmp_path, fs), request("order.created", b'{"total": 1}'))
    assert [r["flow"] for r in [r.to_json() for r in c.runs]] == ["order", "second"]  # once each, in file order
    assert c.response.status == 201
    assert c.runs[1].to_json()["steps"][0]["status"] == "unused" and c.runs[1].to_json()["steps"][0]["output"]["answered"] is False


def test_branch_decisions_default_and_no_match(tmp_path):
    fs = flows(
        tmp_path,
        g="""
        name: g
        nodes:
          - id: check
            type: branch
            config:
              conditions:
                - expression: "headers['X-GitHub-Event'] == 'push'"
                  next: push
                - expression: "payload.action == 'opened'"
                  to: opened
              default: other
          - id: push
            type: script
            config: {script: '"push"'}
          - id: opened
            type: script
            config: {script: '"opened"'}
          - id: other
            type: script
            config: {script: '"other"'}
        triggers:
          - event_type: github
        """,
    )
    p = pipeline(tmp_path, fs)
    c = handle(p, request("github", b'{"action": "opened"}', (("X-GitHub-Event", "pull_request"), ("Content-Type", "application/json"))))
    run = c.runs[0].to_json()
    assert run["path"] == ["check", "opened"]
    assert run["steps"][0]["decision"] == [
        {"expression": "headers['X-GitHub-Event'] == 'push'", "value": False, "next": "push"},
        {"expression": "payload.action == 'opened'", "value": True, "next": "opened"},
    ]
    c = handle(p, request("github", b"{}", (("X-GitHub-Event", "issues"),)))
    assert c.runs[0].to_json()["path"] == ["check", "other"]
    assert c.runs[0].to_json()["steps"][0]["output"] == {"matched": None, "next": "other"}
    assert c.response.status == 200 and json.loads(c.response.body)["status"] == "accepted"  # rule 5


def test_run_error_before_answer_gives_500_naming_flow_node_and_position(tmp_path):
    fs = flows(
        tmp_path,
        bad="""
        name: bad
        nodes:
          - id: boom
            type: script
            config:
              script: |
                let commits = event.payload.commits;
                comits.len()
        triggers:
          - event_type: x
        """,
    )
    c = handle(pipeline(tmp_path, fs), request("x", b'{"commits": []}'))
    assert c.response.status == 500
    body = json.loads(c.response.body)
    assert body["flow"] == "bad" and body["node"] == "boom"
    assert "comits" in body["message"] and "did you mean" in body["message"]
    assert body["at"].endswith("bad.ygtc:8:9")
    step = c.runs[0].to_json()["steps"][0]
    assert step["status"] == "error" and step["error"]["line"] == 8 and step["error"]["column"] == 9


def test_non_bool_condition_is_an_error(tmp_path):
    fs = flows(
        tmp_path,
        b="""
        nodes:
          - id: check
            type: branch
            config:
              conditions:
                - expression: "payload.count"
                  next: check
        triggers:
          - event_type: x
        """,
    )
    c = handle(pipeline(tmp_path, fs), request("x", b'{"count": 3}'))
    run = c.runs[0].to_json()
    assert run["status"] == "error" and "i64" in run["error"]["message"] and "true or false" in run["error"]["message"]
    assert run["steps"][0]["decision"][0]["error"]


def test_cycle_hits_the_step_limit(tmp_path):
    fs = flows(
        tmp_path,
        c="""
        nodes:
          - id: a
            type: script
            config: {script: '1'}
            next: b
          - id: b
            type: script
            config: {script: '2'}
            next: a
        triggers:
          - event_type: x
        """,
    )
    c = handle(pipeline(tmp_path, fs), request("x"))
    assert c.runs[0].to_json()["status"] == "limit" and len(c.runs[0].to_json()["steps"]) == 1000
    assert c.response.status == 500


def test_endless_script_is_an_error_not_a_hang(tmp_path):
    fs = flows(
        tmp_path,
        c="""
        nodes:
          - id: spin
            type: script
            config: {script: 'loop { }'}
        triggers:
          - event_type: x
        """,
    )
    started = time.perf_counter()
    c = handle(pipeline(tmp_path, fs, ack=30), request("x"))
    assert "operation limit" in c.runs[0].to_json()["error"]["message"]
    assert time.perf_counter() - started < 20


def test_ack_deadline_gives_202_and_the_run_continues(tmp_path):
    fs = flows(
        tmp_path,
        slow="""
        nodes:
          - id: slow
            type: script
            config:
              script: |
                let n = 0;
                while n < 100000 { n += 1; }
                n
            next: late
          - id: late
            type: http_response
            config: {status: 200}
        triggers:
          - event_type: x
        """,
    )
    p = pipeline(tmp_path, fs, ack=0.01)
    c = handle(p, request("x"), wait=True)
    assert c.response.status == 202 and json.loads(c.response.body)["status"] == "accepted"
    assert c.runs[0].to_json()["status"] == "ok" and c.runs[0].to_json()["steps"][1]["status"] == "unused"


def test_async_children_run_after_the_answer_with_state_copied(tmp_path):
    fs = flows(
        tmp_path,
        a="""
        name: parent
        nodes:
          - id: remember
            type: script
            config: {script: 'state.from = "parent"; 1'}
            next: ack
          - id: ack
            type: http_response
            config: {status: 202, body: {message: Processing}}
            next: later
          - id: later
            type: async
            config:
              flow: child
              payload: "{{ #{items: event.payload.items, n: 2} }}"
        triggers:
          - event_type: job
        """,
        b="""
        name: child
        nodes:
          - id: work
            type: script
            config:
              script: |
                state.child = true;
                format!("{} from {} with {} items", event.event_type, state.from, payload.items.len())
        """,
    )
    c = handle(pipeline(tmp_path, fs), request("job", b'{"items": [1, 2, 3]}'))
    assert c.response.status == 202
    parent, child = [r.to_json() for r in c.runs]
    assert child["parent_id"] == parent["id"] and child["via_node"] == "later"
    assert child["steps"][0]["output"] == "job from parent with 3 items"
    assert parent["state"] == {"from": "parent"}  # the child's writes stay in the child


def test_async_recursion_stops_at_depth_8(tmp_path):
    fs = flows(
        tmp_path,
        a="""
        name: again
        nodes:
          - id: recurse
            type: async
            config: {flow: again}
        triggers:
          - event_type: x
        """,
    )
    c = handle(pipeline(tmp_path, fs), request("x"))
    assert len(c.runs) == 9
    assert c.runs[-1].to_json()["status"] == "error" and "async depth limit" in c.runs[-1].to_json()["error"]["message"]


def test_failed_signature_records_skipped_runs(tmp_path):
    from inspector.config import parse_config

    cfg = parse_config(
        json.dumps({"events-webhook": {"signatures": {"x": {"algorithm": "sha256", "secret": "s" * 20, "header": "X-Sig"}}}}), "a.json", {}
    )
    p = Pipeline(cfg, None, engine=Engine(flows(tmp_path, a=SCRIPT_THEN_RESPOND.replace("order.*", "x"))))
    c = handle(p, request("x", b'{"total": 1}'))
    assert c.response.status == 401
    assert [r["status"] for r in [r.to_json() for r in c.runs]] == ["skipped"]


def test_payload_forms(tmp_path):
    fs = flows(
        tmp_path,
        a="""
        nodes:
          - id: t
            type: script
            config: {script: 'type_of(payload) + ":" + payload.to_string()'}
        triggers:
          - event_type: x
        """,
    )
    p = pipeline(tmp_path, fs, store=False)

    def out(body, ctype):
        return handle(p, request("x", body, (("Content-Type", ctype),) if ctype else ())).runs[0].to_json()["steps"][0]["output"]

    assert out(b'{"a": 1}', "application/json") == 'map:{"a":1}'
    assert out(b"a=1&b=two", "application/x-www-form-urlencoded") == 'map:{"a":"1","b":"two"}'
    assert out(b"hello", "text/plain") == "string:hello"
    assert out(b"", None) == "():"
    c = handle(p, request("x", b"{broken", (("Content-Type", "application/json"),)))
    assert c.runs[0].to_json()["steps"][0]["output"] == "string:{broken" and c.runs[0].to_json()["warnings"]
