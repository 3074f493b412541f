"""`rerun` over a large history: 10,000 real captures (the bundled samples, answered by the
shipped flows through the real pipeline and store, then repeated) read from the store and
rerun through the same flows. Target: under 10 s for 10,000 (issue #19).

    python -m bench.rerun [--captures 10000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.config import load_config  # noqa: E402
from inspector.flow import Engine, FlowSet  # noqa: E402
from inspector.pipeline import Pipeline  # noqa: E402
from inspector.rerun import Rerunner, summarize  # noqa: E402
from inspector.samples import SAMPLES, build  # noqa: E402
from inspector.store import Store  # noqa: E402

TARGET_SECONDS = 10.0  # for 10,000 captures


def fill(path: Path, n: int) -> None:
    """Each sample once through the pipeline into the store (the answers and traces the
    shipped flows give), then copies of those captures up to `n`, in group commits."""
    config = load_config(ROOT / "answers.example.json", env={})
    store = Store(path, max_captures=n + 100)

    async def record() -> None:
        pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(ROOT / "flows")))
        for name in sorted(SAMPLES):
            request, _ = build(name, config, signed_url_base=pipeline.base_url)
            await pipeline.handle(request, "sample", now=request.received_at, wait=True)
        await pipeline.drain(5)
        originals = [store.get(cid) for cid in store.ids()]
        made = len(originals)
        while made < n:
            batch = []
            for c in originals[: n - made]:
                batch.append(store.insert_grouped(c.with_(id=None))[1])
            made += len(batch)
            await asyncio.gather(*batch)

    asyncio.run(record())
    store.close()


def run(n: int = 10_000) -> dict:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "captures.sqlite3"
        fill(path, n)
        config = load_config(ROOT / "answers.example.json", env={})
        t = time.perf_counter()
        cpu = time.process_time()
        store = Store(path, readonly=True)
        captures = list(islice(store.iter_arrived(), n))
        read_s = time.perf_counter() - t
        results = Rerunner(config, FlowSet.load(ROOT / "flows")).rerun(captures)
        total_s = time.perf_counter() - t
        cpu_s = time.process_time() - cpu
        store.close()
    summary = summarize(results)
    return {
        "captures": len(results),
        "seconds": round(total_s, 2),
        "cpu_seconds": round(cpu_s, 2),  # this process's CPU: what a busy machine does not inflate
        "read_seconds": round(read_s, 2),
        "per_second": round(len(results) / total_s) if total_s else None,
        "summary": summary.to_json(),
        "target_seconds_per_10k": TARGET_SECONDS,
        "ok": total_s * 10_000 / max(1, len(results)) < TARGET_SECONDS,
    }


def row(r: dict) -> dict:
    """The line `python -m bench` prints."""
    return {
        "name": f"rerun: {r['captures']:,} captures through the shipped flows",
        "value": f"{r['seconds']} s ({r['cpu_seconds']} s CPU), {r['per_second']:,}/s",
        "target": "< 10 s per 10k",
        "ok": r["ok"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--captures", type=int, default=10_000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    r = run(args.captures)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(
            f"rerun {r['captures']:,} captures: {r['seconds']} s, {r['cpu_seconds']} s CPU ({r['per_second']:,}/s;"
            f" reading {r['read_seconds']} s); {r['summary']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
