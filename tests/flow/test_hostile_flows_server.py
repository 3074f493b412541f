"""Issue #21: hostile flows loaded next to good ones, triggered over real HTTP, do not keep
a legitimate webhook from its answer."""

from __future__ import annotations

import asyncio
import textwrap
import time

import aiohttp

from inspector.config import Config
from inspector.flow import Engine, FlowSet
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.store import Store

HOSTILE = {
    # ~500,000 operations per step, 1,000 steps: minutes of CPU within every per-script limit.
    "spin": """
        name: spin
        nodes:
          - id: spin
            type: script
            config:
              script: "let i = 0; while i < 100000 { i += 1; } i"
            next: spin
        triggers:
          - type: event
            event_type: spin
        """,
    "endless": """
        name: endless
        nodes:
          - id: loop
            type: script
            config:
              script: "loop {}"
        triggers:
          - type: event
            event_type: endless
        """,
    "bomb": """
        name: bomb
        nodes:
          - id: bomb
            type: script
            config:
              script: |
                let s = "x";
                for i in 0..16 { s += s; }
                let a = [s];
                for i in 0..16 { a += a; }
                to_json(#{a: a})
        triggers:
          - type: event
            event_type: bomb
        """,
    # Comparing 1 MiB strings 40,960 times: cheap in operations unless comparisons are
    # charged by size, so an attempt to run it inline held the event loop for seconds.
    "scan": """
        name: scan
        nodes:
          - id: scan
            type: script
            config:
              script: |
                let s = "x";
                for i in 0..19 { s += s; }
                let t = s.sub_string(1) + "y";
                let a = [s];
                for i in 0..12 { a += a; }
                [a.contains(t), a.contains(t), a.contains(t), a.contains(t), a.contains(t),
                 a.contains(t), a.contains(t), a.contains(t), a.contains(t), a.contains(t)]
        triggers:
          - type: event
            event_type: scan
        """,
    "fanout": """
        name: fanout
        nodes:
          - id: again
            type: async
            config:
              flow: fanout
            next: again
        triggers:
          - type: event
            event_type: fanout
        """,
    "trace": """
        name: trace
        nodes:
          - id: grow
            type: script
            config:
              script: |
                let s = "x";
                for i in 0..19 { s += s; }
                s
            next: grow
        triggers:
          - type: event
            event_type: trace
        """,
}

GOOD = """
    name: good
    nodes:
      - id: check
        type: branch
        config:
          conditions:
            - expression: "event.payload.type == 'order.created'"
              next: ack
      - id: ack
        type: http_response
        config:
          status: 200
          body: {"ok": true, "order": "{{ event.payload.id }}"}
    triggers:
      - type: event
        event_type: good
    """


async def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_legitimate_request_is_answered_within_a_second_next_to_hostile_flows(tmp_path):
    d = tmp_path / "flows"
    d.mkdir()
    for name, text in {**HOSTILE, "good": GOOD}.items():
        (d / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    fs = FlowSet.load(d)
    assert not fs.errors and len(fs.flows) == len(HOSTILE) + 1
    store = Store(tmp_path / "captures.sqlite3")
    pipeline = Pipeline(Config(), store, engine=Engine(fs))
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    session = aiohttp.ClientSession()

    async def hostile(event_type: str) -> None:
        async with session.post(f"{receiver.url}/events/webhook/demo/{event_type}", json={"n": 1}) as resp:
            await resp.read()

    tasks: list[asyncio.Future] = []
    sender = None

    async def barrage() -> None:
        # Hostile requests keep arriving while the good ones are sent.
        for _ in range(3):
            for name in HOSTILE:
                tasks.append(asyncio.ensure_future(hostile(name)))
            await asyncio.sleep(0.05)

    try:
        sender = asyncio.ensure_future(barrage())
        await _wait_for(lambda: len(tasks) >= len(HOSTILE))
        timings = []
        for i in range(6):
            started = time.perf_counter()
            async with session.post(f"{receiver.url}/events/webhook/demo/good", json={"type": "order.created", "id": f"o{i}"}) as resp:
                body = await resp.json()
                timings.append(time.perf_counter() - started)
            assert resp.status == 200 and body == {"ok": True, "order": f"o{i}"}
            await asyncio.sleep(0.03)
        await sender
        # Typically all under 0.4 s. The bound is loose, so that a loaded machine cannot fail
        # it: before the budgets these requests took 7 to 26 s, or could not connect at all.
        assert sorted(timings)[len(timings) // 2] < 1.0 and max(timings) < 5.0, timings
        assert pipeline._pending, "the hostile runs were meant to be still going"
    finally:
        for task in tasks + ([sender] if sender is not None else []):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        await pipeline.drain(0.1)  # the spinning runs end as `interrupted`
        await receiver.stop(grace=1)
        await pipeline.close()
        store.close()
