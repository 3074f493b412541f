"""Every mode of `Pipeline.handle` (an answer without flows, flows inline, flows in a worker,
forward) leaves by one path: the capture is stored with its answer before anyone hears of
it, the listeners hear once, and runs that go on after the answer are recorded once."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import textwrap
import time
from pathlib import Path

from aiohttp import web

from inspector.config import Config
from inspector.flow import Engine, FlowSet
from inspector.model import Headers, Request
from inspector.pipeline import INLINE_COMPRESSED_MAX, Pipeline
from inspector.routes import CAPTURE_HEADER
from inspector.store import Store

FLOWS = {
    "answer": """
        name: answer
        nodes:
          - id: reply
            type: http_response
            config:
              status: 201
              body: {"ok": true}
        triggers:
          - type: event
            event_type: answer
        """,
    "children": """
        name: children
        nodes:
          - id: later
            type: async
            config:
              flow: leaf
            next: reply
          - id: reply
            type: http_response
            config:
              status: 202
        triggers:
          - type: event
            event_type: children
        """,
    "leaf": """
        name: leaf
        nodes:
          - id: done
            type: script
            config:
              script: |
                1
        """,
    "slow": """
        name: slow
        nodes:
          - id: count
            type: script
            config:
              script: |
                let n = 0;
                for i in 0..30000 { n += 1; }
                n
            next: reply
          - id: reply
            type: http_response
            config:
              status: 203
        triggers:
          - type: event
            event_type: slow
        """,
}


def fanout_flow(children: int) -> str:
    """`children` async nodes in a row, then more script work than the inline budget allows."""
    lines = ["name: fanout", "nodes:"]
    for i in range(children):
        lines += [f"  - id: q{i}", "    type: async", "    config:", "      flow: leaf", f"    next: q{i + 1}"]
    lines += [
        f"  - id: q{children}",
        "    type: script",
        "    config:",
        "      script: |",
        "        let n = 0;",
        "        for i in 0..30000 { n += 1; }",
        "        n",
        "triggers:",
        "  - type: event",
        "    event_type: fanout",
    ]
    return "\n".join(lines) + "\n"


def flow_set(tmp_path: Path) -> FlowSet:
    d = tmp_path / "flows"
    d.mkdir(exist_ok=True)
    for name, text in FLOWS.items():
        (d / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    (d / "fanout.ygtc").write_text(fanout_flow(60))
    return FlowSet.load(d)


def request(event_type: str, body: bytes = b"{}", headers: tuple = ()) -> Request:
    hdrs = Headers((("Content-Type", "application/json"),) + headers)
    return Request("POST", f"/events/webhook/demo/{event_type}", "", hdrs, body, "t", time.time())


class Heard:
    """What the listeners heard, and whether each capture's row held its answer by then."""

    def __init__(self, pipeline: Pipeline, store: Store):
        self.answered: list[int] = []
        self.updated: list[int] = []
        self.committed: list[bool] = []

        def answered(capture):
            self.answered.append(capture.id)
            # Another connection sees only what is committed.
            with sqlite3.connect(store.path) as db:
                row = db.execute("SELECT response_status FROM captures WHERE id=?", (capture.id,)).fetchone()
            self.committed.append(row is not None and row[0] == capture.response.status)

        pipeline.listeners.append(answered)
        pipeline.update_listeners.append(lambda capture: self.updated.append(capture.id))


async def through(tmp_path: Path, req: Request, **policy):
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(Config(ack_timeout_seconds=30), store, engine=Engine(flow_set(tmp_path)), **policy)
    heard = Heard(pipeline, store)
    try:
        capture = await pipeline.handle(req, wait=True)
        await pipeline.drain(30)
        return capture, heard, store.get(capture.id)
    finally:
        await pipeline.close()
        store.close()


async def test_each_mode_stores_before_it_tells_and_tells_once(tmp_path):
    big = gzip.compress(json.dumps({"pad": [str(i) for i in range(2000)]}).encode())
    assert len(big) > INLINE_COMPRESSED_MAX
    cases = [
        # (request, status, runs after, recorded later)
        (request("nothing"), 200, 0, False),  # no flow
        (Request("POST", "/nowhere", "", Headers(()), b"", "t", time.time()), 404, 0, False),
        (request("answer"), 201, 1, False),  # inline
        (request("children"), 202, 2, True),  # inline, an async child after the answer
        (request("slow"), 203, 1, True),  # over the inline budget: a worker answers
        (request("answer", big, (("Content-Encoding", "gzip"),)), 201, 1, True),  # a worker answers
    ]
    for i, (req, status, runs, later) in enumerate(cases):
        d = tmp_path / str(i)
        d.mkdir()
        capture, heard, row = await through(d, req)
        assert capture.response.status == status == row.response.status, (i, capture.response)
        assert capture.response.headers.get(CAPTURE_HEADER) == str(capture.id)
        assert heard.answered == [capture.id] and heard.committed == [True], i
        assert heard.updated == ([capture.id] if later else []), i
        assert len(capture.runs) == len(row.runs) == runs, (i, capture.runs)
        assert all(r.status == "ok" for r in row.runs), (i, row.runs)


async def test_reject_stores_before_it_tells(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(Config(), store)
    heard = Heard(pipeline, store)
    try:
        capture = await pipeline.reject(Request("GET", "/", "", Headers(()), b"", "t", time.time()), "bad header")
    finally:
        await pipeline.close()
        store.close()
    assert capture.response.status == 400 and heard.answered == [capture.id] and heard.committed == [True]


class Target:
    """A forward target on a free port that answers 299."""

    async def __aenter__(self):
        async def answer(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(status=299, text="from the target")

        server = web.Server(answer)
        self.runner = web.ServerRunner(server)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/app"
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


async def test_forward_mode_takes_the_same_path(tmp_path):
    async with Target() as target:
        for i, (event_type, runs, later) in enumerate([("nothing", 0, False), ("answer", 1, False), ("children", 2, True)]):
            d = tmp_path / str(i)
            d.mkdir()
            capture, heard, row = await through(d, request(event_type), forward_to=target.url)
            assert capture.response.status == row.response.status == 299 and row.response.body == b"from the target"
            assert row.notes[-1].startswith(f"forwarded to {target.url}: 299")
            assert heard.answered == [capture.id] and heard.committed == [True], i
            assert heard.updated == ([capture.id] if later else []), i
            assert len(row.runs) == runs and all(r.status == "ok" for r in row.runs), (i, row.runs)


async def test_a_forwarded_request_over_the_inline_budget_reruns_with_the_whole_request_budget(tmp_path):
    """The inline attempt queued 60 async runs before it outgrew its budget. The rerun in a
    worker used the attempt's spent budget, so it could queue only 40 more and ended with
    `async run limit`; it starts afresh, as the rerun without forwarding does."""
    async with Target() as target:
        for i, policy in enumerate([{}, {"forward_to": target.url}]):
            d = tmp_path / str(i)
            d.mkdir()
            capture, heard, row = await through(d, request("fanout"), **policy)
            assert heard.updated == [capture.id], i
            assert len(row.runs) == 61, (i, [r.status for r in row.runs])
            assert [r.status for r in row.runs] == ["ok"] * 61, (i, row.runs[0].error)


def test_listeners_hear_each_capture_once_under_concurrency(tmp_path):
    """Many requests at once in every mode: one answer notice per capture, one update per
    capture with later runs."""

    async def go():
        store = Store(tmp_path / "s.sqlite3")
        pipeline = Pipeline(Config(ack_timeout_seconds=30), store, engine=Engine(flow_set(tmp_path)))
        heard = Heard(pipeline, store)
        try:
            kinds = ["nothing", "answer", "children", "slow"] * 5
            captures = await asyncio.gather(*(pipeline.handle(request(k)) for k in kinds))
            await pipeline.drain(30)
        finally:
            await pipeline.close()
            store.close()
        return kinds, captures, heard

    kinds, captures, heard = asyncio.run(go())
    assert sorted(heard.answered) == sorted(c.id for c in captures) and all(heard.committed)
    later = sorted(c.id for k, c in zip(kinds, captures, strict=True) if k in ("children", "slow"))
    assert sorted(heard.updated) == later
