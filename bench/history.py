"""A large history: 100,000 captures — insert rate, size on disk per capture against the raw
request bytes, and how long `list --filter` takes to find the newest matches.

    python -m bench.history [--captures 100000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inspector.filters import parse_filter  # noqa: E402
from inspector.model import Capture, Headers, Request, Response, SignatureResult  # noqa: E402
from inspector.store import Store  # noqa: E402


def make_capture(i: int, now: float) -> Capture:
    event = ("github", "stripe", "order.created", "shopify")[i % 4]
    body = json.dumps({"n": i, "ref": "refs/heads/main", "commits": [{"id": f"{i:040x}", "message": "m" * (i % 50)}]}).encode()
    headers = Headers(
        [
            ("Host", "abc.ngrok-free.app"),
            ("User-Agent", "GitHub-Hookshot/7f3c2a1"),
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", "sha256=" + "ab" * 32),
            ("Content-Length", str(len(body))),
        ]
    )
    req = Request("POST", f"/events/webhook/demo/{event}", "", headers, body, "127.0.0.1", now + i * 0.001)
    sig = SignatureResult("valid" if i % 7 else "invalid", event, "sha256", "X-Hub-Signature-256", "ok")
    runs = ({"id": 1, "flow": event, "status": "ok", "path": ["check_event", "handle_push", "ok"], "steps": []},)
    return Capture(
        None,
        req,
        "demo",
        event,
        sig,
        Response(200 if i % 7 else 401, Headers([("Content-Type", "application/json")]), b'{"ok": true}', 1.2),
        runs,
    )


def raw_size(c: Capture) -> int:
    req = c.request
    head = f"{req.method} {req.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in req.headers) + "\r\n"
    return len(head.encode()) + len(req.body)


def run(n: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "captures.sqlite3"
        store = Store(path, max_captures=n + 1)
        now = time.time()
        raw = 0
        batch = 500

        async def fill() -> None:
            # The server's path: group commits, 500 requests ready in one loop pass.
            nonlocal raw
            for start in range(0, n, batch):
                committed = []
                for i in range(start, min(n, start + batch)):
                    c = make_capture(i, now)
                    raw += raw_size(c)
                    committed.append(store.insert_grouped(c)[1])
                await asyncio.gather(*committed)

        t = time.perf_counter()
        asyncio.run(fill())
        insert_s = time.perf_counter() - t
        # One transaction per capture, as a quiet server commits them.
        t = time.perf_counter()
        for i in range(2000):
            store.insert(make_capture(n + i, now))
        single_rate = 2000 / (time.perf_counter() - t)
        store.close()
        size = path.stat().st_size + (Path(str(path) + "-wal").stat().st_size if Path(str(path) + "-wal").exists() else 0)
        store = Store(path)
        timings = {}
        for expr in ("sig:invalid", "type:stripe status:4xx", "needle-that-is-not-there"):
            keep = parse_filter(expr)
            t = time.perf_counter()
            found = 0
            for c in store.iter_newest():
                if keep(c):
                    found += 1
                    if found >= 50:
                        break
            timings[expr] = round((time.perf_counter() - t) * 1000, 1)
        store.close()
    return {
        "captures": n,
        "insert_per_s_batched": round(n / insert_s),
        "insert_per_s_one_commit_each": round(single_rate),
        "store_bytes_per_capture": round(size / (n + 2000)),
        "raw_bytes_per_capture": round(raw / n),
        "size_ratio": round(size / (n + 2000) / (raw / n), 2),
        "list_filter_ms": timings,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--captures", type=int, default=100_000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    r = run(args.captures)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"history ({r['captures']:,} captures)")
    print(f"  insert, grouped commits:   {r['insert_per_s_batched']:>9,} captures/s")
    print(f"  insert, a commit each:     {r['insert_per_s_one_commit_each']:>9,} captures/s")
    print(
        f"  on disk per capture:       {r['store_bytes_per_capture']:>9,} bytes (raw request {r['raw_bytes_per_capture']:,} bytes, ratio {r['size_ratio']})"
    )
    for expr, ms in r["list_filter_ms"].items():
        print(f"  list --filter {expr!r:<32} {ms:>7} ms (newest 50 matches)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
