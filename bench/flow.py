"""Flow engine throughput: in-process runs of a 4-node flow (branch → script → http_response →
script) through the whole pipeline, against the same pipeline with no flow triggered; and the
CPU time of the shipped GitHub flow (flows/github.ygtc) on the ingest bench's signed push, the
flow work `serve` does on every request of bench.ingest (event scope and triggered runs).

    python -m bench.flow [--runs 3000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.config import Config  # noqa: E402
from inspector.flow import Answer, Engine, FlowSet  # noqa: E402
from inspector.model import Capture, Headers, Request, SignatureResult  # noqa: E402
from inspector.pipeline import Pipeline  # noqa: E402

FLOW = """
name: four
nodes:
  - id: check
    type: branch
    config:
      conditions:
        - expression: "headers['x-github-event'] == 'push'"
          next: count
      default: count
  - id: count
    type: script
    config:
      script: |
        let commits = event.payload.commits;
        format!("Received {} commits", commits.len())
    next: respond
  - id: respond
    type: http_response
    config:
      status: 200
      body:
        ok: true
        result: "{{prev}}"
    next: after
  - id: after
    type: script
    config:
      script: |
        state.done = true;
        nodes.count.len()
triggers:
  - event_type: github
"""
BODY = json.dumps({"ref": "refs/heads/main", "commits": [{"id": f"{i:040x}", "message": f"commit {i}"} for i in range(20)]}).encode()


def request(event_type: str) -> Request:
    headers = Headers([("Content-Type", "application/json"), ("X-GitHub-Event", "push")])
    return Request("POST", f"/events/webhook/demo/{event_type}", "", headers, BODY, "bench", time.time())


def run(runs: int = 3000) -> dict:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "four.ygtc").write_text(textwrap.dedent(FLOW))
        flows = FlowSet.load(d)
        assert not flows.problems, flows.problems
        engine = Engine(flows)

        # 1. The engine alone: scope building and four nodes.
        capture = Capture(1, request("github"), "demo", "github", SignatureResult("unsigned"))
        t = time.perf_counter()
        for _ in range(runs):
            engine.run_all(capture, Answer(lambda r, w: True))
        engine_rps = runs / (time.perf_counter() - t)

        # 2. The pipeline (no store) with the flow, and 3. without any flow triggered.
        async def pipeline_rate(event_type: str) -> float:
            pipe = Pipeline(Config(), None, engine=engine)
            await pipe.handle(request(event_type), wait=True)
            t = time.perf_counter()
            for _ in range(runs):
                await pipe.handle(request(event_type), wait=True)
            return runs / (time.perf_counter() - t)

        with_flow = asyncio.run(pipeline_rate("github"))
        without = asyncio.run(pipeline_rate("nothing"))
    return {
        "github_flow_us": round(github_flow_us(), 1),
        "engine_runs_per_s": round(engine_rps),
        "pipeline_with_flow_per_s": round(with_flow),
        "pipeline_without_flow_per_s": round(without),
        "flow_cost_ratio": round(with_flow / without, 3),
    }


def github_flow_us(repeats: int = 7, number: int = 2000) -> float:
    """µs of CPU (best of `repeats`) for `Engine.run_triggered` with an inline `Budget`, as the
    pipeline runs it, on the ingest bench's push and the shipped flows."""
    from bench.ingest import BODY as PUSH
    from bench.ingest import PATH, headers
    from inspector.flow.engine import Budget

    engine = Engine(FlowSet.load(ROOT / "flows"))
    triggered = engine.triggered("github")
    req = Request("POST", PATH, "", Headers([("Host", "127.0.0.1"), *headers().items()]), PUSH, "127.0.0.1", time.time())
    capture = Capture(1, req, "demo", "github", SignatureResult("valid", "github"))
    best = float("inf")
    for _ in range(repeats):
        t = time.thread_time()
        for _ in range(number):
            engine.run_triggered(capture, Answer(lambda r, w: True), budget=Budget(), triggered=triggered)
        best = min(best, time.thread_time() - t)
    return best / number * 1e6


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = run(args.runs)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"shipped GitHub flow on the ingest push: {result['github_flow_us']} µs CPU per request (target ≤ 30)")
        print(f"flow engine ({args.runs} runs of a 4-node flow, 20-commit GitHub push)")
        print(f"  engine alone:              {result['engine_runs_per_s']:>8} runs/s   (target ≥ 5,000)")
        print(f"  pipeline with the flow:    {result['pipeline_with_flow_per_s']:>8} req/s")
        print(f"  pipeline, no flow:         {result['pipeline_without_flow_per_s']:>8} req/s")
        print(f"  ratio with/without:        {result['flow_cost_ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
