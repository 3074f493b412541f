"""`python -m bench` (or `make bench`): every benchmark, one table with each figure's target.

python -m bench [--quick] [--json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _row(name: str, value, target: str, ok: bool | None) -> dict:
    return {"name": name, "value": value, "target": target, "ok": ok}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter runs (noisier figures)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    seconds = 2.0 if args.quick else 5.0
    rows: list[dict] = []
    raw: dict = {}

    from bench import flow, history, ingest, rerun, script

    r = ingest.run(seconds * 2, 32, None, rounds=5)
    raw["ingest"] = r
    if r.get("serve_floor_ratio") is not None:
        rows.append(
            _row(
                "ingest: serve / floor (req/s, median of 5 rounds in turns)",
                f"{r['serve_rps']:.0f} / {r['floor_rps']:.0f}; {r['serve_floor_ratio']} {r['serve_floor_rounds']}",
                "≥ 0.6",
                r["serve_floor_ratio"] >= 0.6,
            )
        )
    if r.get("serve_floor_cpu_ratio") is not None:
        rows.append(
            _row(
                "ingest: serve / floor by CPU per request (floor µs / serve µs)",
                f"{r['floor_cpu_us']:.0f} / {r['serve_cpu_us']:.0f}; {r['serve_floor_cpu_ratio']} {r['serve_floor_cpu_rounds']}",
                "",
                None,
            )
        )
    rows.append(
        _row(
            "ingest: serve / bare aiohttp (req/s)", f"{r['serve_rps']:.0f} / {r['bare_rps']:.0f} = {r['ratio']}", "≥ 0.5", r["ratio"] >= 0.5
        )
    )
    if r.get("workers"):
        rows.append(
            _row(
                f"ingest: serve --workers {r['workers']} / bare aiohttp",
                f"{r['serve_workers_rps']:.0f} / {r['bare_rps']:.0f} = {r['serve_workers_ratio']}",
                "≥ 0.5",
                r["serve_workers_ratio"] >= 0.5,
            )
        )
    if r.get("floor_rps"):
        rows.append(
            _row(
                "ingest: floor / bare (aiohttp + HMAC + JSON + SQLite commit, no inspector code)",
                f"{r['floor_rps']:.0f} / {r['bare_rps']:.0f} = {r['floor_ratio']}",
                "",
                None,
            )
        )
    if r.get("serve_cpu_us") is not None and r.get("bare_cpu_us") is not None:
        cpu = f"serve {r['serve_cpu_us']:.0f} µs, bare {r['bare_cpu_us']:.0f} µs, load client {r['client_cpu_us']:.0f} µs"
        if r.get("floor_cpu_us") is not None:
            cpu += f", floor {r['floor_cpu_us']:.0f} µs"
        rows.append(_row("ingest: CPU per request (from /proc)", cpu, "", None))
    r = ingest.run(seconds * 2, 32, 1000.0, workers=0, floor=False)
    raw["ingest_1000rps"] = r
    rows.append(_row("ingest at 1,000 req/s offered: serve p99", f"{r['serve_p99_ms']} ms", "≤ 5 ms", r["serve_p99_ms"] <= 5))

    s = script.run(0.5 if args.quick else 1.0)
    raw["script"] = s
    for row in s:
        ratio = row.get("evaluate_ratio", row["ratio"]) if row["kind"] == "expression" else row["ratio"]
        rows.append(_row(f"script {row['kind']}: {row['name']}", f"{ratio}x native", f"≤ {row['target']}x", ratio <= row["target"]))

    f = flow.run(1000 if args.quick else 3000) if hasattr(flow, "run") else None
    if f:
        raw["flow"] = f
        rows.append(_row("flow engine: 4-node runs/s", f"{f['engine_runs_per_s']:,}", "≥ 5,000", f["engine_runs_per_s"] >= 5000))

    h = history.run(20_000 if args.quick else 100_000)
    raw["history"] = h
    rows.append(
        _row(
            f"history: insert ({h['captures']:,} captures)",
            f"{h['insert_per_s_batched']:,}/s grouped, {h['insert_per_s_one_commit_each']:,}/s one commit each",
            "",
            None,
        )
    )
    rows.append(
        _row(
            "history: store size per capture vs raw bytes",
            f"{h['store_bytes_per_capture']:,} / {h['raw_bytes_per_capture']:,} = {h['size_ratio']}",
            "",
            None,
        )
    )

    rows.append(rerun.row(rerun.run(2_000 if args.quick else 10_000)))

    try:
        tui = importlib.import_module("bench.tui")
    except ImportError:
        tui = None
    if tui is not None and hasattr(tui, "run_all"):
        t = tui.run_all(quick=args.quick)
        raw["tui"] = t
        rows.extend(t.get("rows", []))

    if args.json:
        print(json.dumps({"rows": rows, "raw": raw}, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        print(f"{'benchmark':<{width}}  {'measured':<44}  {'target':<8}  ok")
        for r in rows:
            mark = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
            print(f"{r['name']:<{width}}  {str(r['value']):<44}  {r['target']:<8}  {mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
