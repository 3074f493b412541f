"""The TUI under load: a 100,000-capture store — time to the first painted table, time to
apply a filter, peak memory — and sustained ingest with the TUI live (headless) against a
bare aiohttp handler, both given the same load.

    python -m bench.tui [--captures 100000] [--seconds 5] [--json]

Targets (issue 5): first paint ≤ 2 s, filter ≤ 200 ms, peak memory ≤ 300 MB, ingest ratio ≥ 0.3;
(issue 17) TUI live / serve ≥ 0.9.
Each measurement of the large store runs in a fresh process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILTERS = ("sig:invalid", "type:stripe", "-status:2xx method:POST", "flow:github")
TEXT_SEARCH = "octo-org"


def _templates():
    """Realistic captures from the real pipeline: every sample, a bad signature, a 404."""
    from inspector import samples
    from inspector.config import load_config
    from inspector.flow import Engine, FlowSet
    from inspector.model import Headers, Request
    from inspector.pipeline import Pipeline

    config = load_config(ROOT / "answers.example.json")
    flows = FlowSet.load(ROOT / "flows")
    now = time.time()

    async def make():
        pipeline = Pipeline(config, None, engine=Engine(flows))
        out = []
        for name in samples.SAMPLES:
            request, _ = samples.build(name, config, signed_url_base="http://127.0.0.1:8080", now=now, mark=False)
            out.append(await pipeline.handle(request, now=now, wait=True))
        request, _ = samples.build("github.push", config, signed_url_base="http://127.0.0.1:8080", now=now, mark=False)
        out.append(await pipeline.handle(replace(request, body=request.body + b" "), now=now, wait=True))
        out.append(
            await pipeline.handle(
                Request("GET", "/favicon.ico", "", Headers([("User-Agent", "curl/8.5.0")]), b"", "127.0.0.1", now), wait=True
            )
        )
        return out

    return asyncio.run(make())


def build_store(path: Path, count: int) -> float:
    """Fill a store with `count` captures (grouped commits); returns seconds taken."""
    from inspector.store import Store

    templates = _templates()
    started = time.perf_counter()
    store = Store(path, max_captures=max(count, 100_000))

    async def fill():
        base = time.time() - count
        for i in range(count):
            c = templates[i % len(templates)]
            store.insert_grouped(c.with_(id=None, request=replace(c.request, received_at=base + i)))
            if i % 5000 == 4999:
                store.flush()
        store.flush()

    asyncio.run(fill())
    store.close()
    return time.perf_counter() - started


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _measure_large(store_path: str) -> dict:
    """In this (fresh) process: open the TUI on the store, headless at 100×30."""
    from inspector.config import load_config
    from inspector.flow import FlowSet
    from inspector.store import Store
    from inspector.tui.app import InspectorApp, TuiOptions

    rss_before = _rss_mb()
    t0 = time.perf_counter()
    store = Store(store_path, max_captures=10**7)
    app = InspectorApp(
        load_config(ROOT / "answers.example.json"), FlowSet.load(ROOT / "flows"), store, TuiOptions(serve=False, watch_flows=False, tz=UTC)
    )
    out: dict = {}
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.table
        while table.first_paint is None:
            await asyncio.sleep(0.002)
        out["first_paint_s"] = round(table.first_paint - t0, 3)
        # Responsiveness while history loads: how late does a 10 ms timer fire on the UI loop?
        lags = []
        while not app.main.history_done:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t - 0.01)
        out["history_load_s"] = round(time.perf_counter() - t0, 3)
        out["captures"] = len(table.rows)
        out["ui_lag_while_loading_ms_p50"] = round(sorted(lags)[len(lags) // 2] * 1000, 1) if lags else 0.0
        out["ui_lag_while_loading_ms_max"] = round(max(lags) * 1000, 1) if lags else 0.0
        await pilot.pause()
        timings = {}

        async def painted(since: float) -> float:
            while table.painted_at <= since:
                await asyncio.sleep(0.001)
            return round((table.painted_at - since) * 1000, 1)

        for text in FILTERS + ("",):
            await pilot.pause(0.2)
            t = time.perf_counter()
            app.main.set_filter(text)
            computed = round((time.perf_counter() - t) * 1000, 1)
            timings[text or "(clear)"] = {"ms": await painted(t), "computed_ms": computed, "shown": len(table.view)}
        out["filters"] = timings
        # A text search reads bodies from the store in a thread; the table fills as it goes.
        t = time.perf_counter()
        app.main.set_filter(TEXT_SEARCH)
        while app.main.searching:
            await asyncio.sleep(0.01)
        out["text_search"] = {"query": TEXT_SEARCH, "s": round(time.perf_counter() - t, 2), "shown": len(table.view)}
        # Scroll to the top and back: paging through 100,000 rows.
        await pilot.pause(0.2)
        t = time.perf_counter()
        table.action_first()
        out["home_ms"] = await painted(t)
        await app.shutdown()
        app.exit(0)
    store.close()
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    out["rss_at_start_mb"] = round(rss_before, 1)
    return out


async def _serve_headless(store_path: str, port: int, workers: int = 1) -> None:
    """The TUI, live and headless, with its receiver (and `workers - 1` worker processes);
    prints `listening on URL` once every process answers."""
    from argparse import Namespace

    from inspector.cli.serve import worker_argv
    from inspector.config import load_config
    from inspector.flow import FlowSet
    from inspector.store import SERVER_STOCK, Store
    from inspector.tui.app import InspectorApp, TuiOptions, TuiParts

    store = Store(store_path, quiet_stock=SERVER_STOCK if workers <= 1 else 0)
    options = Namespace(
        answers=str(ROOT / "answers.example.json"),
        flows=str(ROOT / "flows"),
        store=store_path,
        host="127.0.0.1",
        tenant="demo",
        max_captures=100_000,
        public_url=None,
        reveal=False,
        forward_to=None,
    )
    app = InspectorApp(
        load_config(ROOT / "answers.example.json"),
        FlowSet.load(ROOT / "flows"),
        store,
        TuiOptions(port=port, watch_flows=False, workers=workers),
        TuiParts(worker_command=lambda p: worker_argv(options, p, report=True)),
    )

    async def announce() -> None:
        while app.listening is None:
            if app.listen_error:
                print(f"error: {app.listen_error}", file=sys.__stdout__, flush=True)
                return
            await asyncio.sleep(0.01)
        while workers > 1 and (app.process_pool is None or not app.process_pool.all_ready.is_set()):
            await asyncio.sleep(0.01)
        print(f"listening on {app.listening}", file=sys.__stdout__, flush=True)

    task = asyncio.get_running_loop().create_task(announce())
    await app.run_async(headless=True, size=(100, 30))
    task.cancel()


async def _keypress_under_load(store_path: str, seconds: float, concurrency: int) -> dict:
    """The TUI live under the ingest load (from another process): how long a key press takes
    to show on screen. `?` opens the help screen, escape closes it; each is timed until the
    screen has changed."""
    from inspector.config import load_config
    from inspector.flow import FlowSet
    from inspector.store import Store
    from inspector.tui.app import InspectorApp, TuiOptions

    store = Store(store_path)
    app = InspectorApp(
        load_config(ROOT / "answers.example.json"), FlowSet.load(ROOT / "flows"), store, TuiOptions(port=0, watch_flows=False)
    )
    latencies: list[float] = []
    async with app.run_test(size=(100, 30)):
        while app.listening is None and not app.listen_error:
            await asyncio.sleep(0.01)
        port = int(str(app.listening).rsplit(":", 1)[1])
        load = subprocess.Popen(
            [
                sys.executable,
                "-c",
                (
                    f"import asyncio, sys; sys.path.insert(0, {str(ROOT)!r})\n"
                    "from bench.load import encode_request, run_load\n"
                    "from bench.ingest import BODY, PATH, headers\n"
                    f"p = encode_request('127.0.0.1', {port}, PATH, BODY, headers())\n"
                    f"asyncio.run(run_load('127.0.0.1', {port}, p, concurrency={concurrency}, seconds={seconds:f}))\n"
                ),
            ],
            cwd=ROOT,
        )
        await asyncio.sleep(0.5)
        deadline = time.perf_counter() + seconds - 1.0
        while time.perf_counter() < deadline:
            for key, opened in (("question_mark", True), ("escape", False)):
                t0 = time.perf_counter()
                app.simulate_key(key)
                while (type(app.screen).__name__ == "HelpScreen") != opened and time.perf_counter() - t0 < 5:
                    await asyncio.sleep(0.002)
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.2)
        await asyncio.to_thread(load.wait, seconds + 30)  # never block the app's loop
    store.close()
    latencies.sort()
    return {
        "presses": len(latencies),
        "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.tui", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"bench child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_ingest(seconds: float, concurrency: int, rounds: int = 3) -> dict:
    """bare aiohttp, the TUI live (headless, alone and with --workers 2) and `serve` without
    UI, side by side and measured in turns (`rounds` times `seconds / rounds` each, every
    other round in the opposite order), as bench/ingest.py does: TUI live / serve is the
    median of the rounds' ratios, each from two measurements taken one after the other."""
    from bench import ingest

    use_wrk = shutil.which("wrk") is not None
    work = Path(tempfile.mkdtemp(prefix="inspector-bench-tui-"))
    commands = {
        "bare": [sys.executable, str(ROOT / "bench" / "bare_server.py")],
        "tui_workers": [sys.executable, "-m", "bench.tui", "--serve-headless", str(work / "workers.sqlite3"), "--workers", "2"],
        "tui": [sys.executable, "-m", "bench.tui", "--serve-headless", str(work / "captures.sqlite3")],
        # The same pipeline without any UI: what the TUI's share of the cost is measured against.
        "serve": [
            sys.executable,
            "-m",
            "inspector",
            "--answers",
            str(ROOT / "answers.example.json"),
            "--flows",
            str(ROOT / "flows"),
            "--store",
            str(work / "serve.sqlite3"),
            "--tunnel",
            "none",
            "serve",
            "--port",
            "0",
        ],
    }
    procs: dict[str, tuple[subprocess.Popen, int]] = {}
    rounds_of: dict[str, list[dict]] = {name: [] for name in commands}
    try:
        for name, cmd in commands.items():
            proc, port = ingest.start(cmd, ROOT)
            procs[name] = (proc, port)
            threading.Thread(target=lambda p=proc: [None for _ in p.stdout], daemon=True).start()
        time.sleep(0.3)
        for _proc, port in procs.values():
            ingest.measure(port, 1.0, concurrency, None, use_wrk)  # warm-up
        each = max(1.0, seconds / rounds)
        for turn in range(rounds):
            for name, (proc, port) in list(procs.items())[:: 1 if turn % 2 == 0 else -1]:
                cpu_before = ingest.cpu_seconds(proc.pid)
                got = ingest.measure(port, each, concurrency, None, use_wrk)
                cpu_after = ingest.cpu_seconds(proc.pid)
                served = got.get("requests") or got["rps"] * each
                if cpu_before is not None and cpu_after is not None and served:
                    got["cpu_us"] = (cpu_after - cpu_before) / served * 1e6  # the server's, per request
                rounds_of[name].append(got)
    finally:
        for proc, _port in procs.values():
            proc.terminate()
        for proc, _port in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2] if values else 0.0

    rps = {name: median([r["rps"] for r in got]) for name, got in rounds_of.items()}
    vs_serve = [t["rps"] / s["rps"] for t, s in zip(rounds_of["tui"], rounds_of["serve"], strict=True) if s["rps"]]
    # The same from CPU time per request (serve's / the TUI's), steadier on a shared machine.
    cpu = [
        s["cpu_us"] / t["cpu_us"] for t, s in zip(rounds_of["tui"], rounds_of["serve"], strict=True) if t.get("cpu_us") and s.get("cpu_us")
    ]
    tui = sorted(rounds_of["tui"], key=lambda r: r["rps"])[len(rounds_of["tui"]) // 2]
    bare = rps["bare"]
    return {
        "load": "wrk" if use_wrk else "closed-loop python client",
        "concurrency": concurrency,
        "seconds": seconds,
        "rounds": rounds,
        "bare_rps": round(bare, 1),
        "tui_rps": round(rps["tui"], 1),
        "serve_rps": round(rps["serve"], 1),
        "ratio": round(rps["tui"] / bare, 3) if bare else None,
        "serve_ratio": round(rps["serve"] / bare, 3) if bare else None,
        "tui_vs_serve": round(median(vs_serve), 3) if vs_serve else None,
        "tui_vs_serve_rounds": [round(r, 3) for r in vs_serve],
        "tui_vs_serve_cpu": round(median(cpu), 3) if cpu else None,
        "tui_vs_serve_cpu_rounds": [round(r, 3) for r in cpu],
        "tui_cpu_us": round(median([r["cpu_us"] for r in rounds_of["tui"] if r.get("cpu_us")]), 1),
        "serve_cpu_us": round(median([r["cpu_us"] for r in rounds_of["serve"] if r.get("cpu_us")]), 1),
        "tui_p50_ms": round(tui["p50_ms"], 2),
        "tui_p99_ms": round(tui["p99_ms"], 2),
        "tui_statuses": tui.get("statuses"),
        "tui_workers_rps": round(rps["tui_workers"], 1),
        "tui_workers_ratio": round(rps["tui_workers"] / bare, 3) if bare else None,
    }


def run_all(quick: bool = False, captures: int | None = None, seconds: float | None = None) -> dict:
    count = captures or (20_000 if quick else 100_000)
    seconds = seconds or (2.0 if quick else 5.0)
    work = Path(tempfile.mkdtemp(prefix="inspector-bench-tui-"))
    try:
        store = work / "captures.sqlite3"
        built = build_store(store, count)
        large = _child(["--measure-large", str(store)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    large["store_build_s"] = round(built, 1)
    ing = measure_ingest(seconds * 2, 32, rounds=3 if quick else 5)
    keywork = Path(tempfile.mkdtemp(prefix="inspector-bench-keys-"))
    try:
        keys = _child(["--keypress-under-load", str(keywork / "captures.sqlite3"), "--seconds", str(max(seconds, 4.0))])
    finally:
        shutil.rmtree(keywork, ignore_errors=True)
    worst = max(v["ms"] for k, v in large["filters"].items() if k != "(clear)")
    rows = [
        {
            "name": f"tui: first painted table ({count:,} captures)",
            "value": f"{large['first_paint_s']} s",
            "target": "≤ 2 s",
            "ok": large["first_paint_s"] <= 2,
        },
        {
            "name": "tui: whole history loaded (in a thread)",
            "value": f"{large['history_load_s']} s, UI lag p50 {large['ui_lag_while_loading_ms_p50']} ms",
            "target": "",
            "ok": None,
        },
        {"name": "tui: apply a filter (slowest of 4)", "value": f"{worst} ms", "target": "≤ 200 ms", "ok": worst <= 200},
        {"name": "tui: text search through the store", "value": f"{large['text_search']['s']} s", "target": "", "ok": None},
        {"name": "tui: peak memory (RSS)", "value": f"{large['peak_rss_mb']} MB", "target": "≤ 300 MB", "ok": large["peak_rss_mb"] <= 300},
        {
            "name": "tui: ingest, TUI live / bare aiohttp (req/s)",
            "value": f"{ing['tui_rps']:.0f} / {ing['bare_rps']:.0f} = {ing['ratio']}",
            "target": "≥ 0.3",
            "ok": (ing["ratio"] or 0) >= 0.3,
        },
        {
            "name": "tui: ingest, TUI --workers 2 / bare aiohttp",
            "value": f"{ing['tui_workers_rps']:.0f} / {ing['bare_rps']:.0f} = {ing['tui_workers_ratio']}",
            "target": "≥ 0.3",
            "ok": (ing["tui_workers_ratio"] or 0) >= 0.3,
        },
        {
            "name": "tui: key press shown on screen during the load",
            "value": f"p50 {keys['p50_ms']} ms, max {keys['max_ms']} ms ({keys['presses']} presses)",
            "target": "≤ 100 ms",
            "ok": keys["max_ms"] is not None and keys["max_ms"] <= 100,
        },
        {
            "name": "tui: ingest, TUI live / serve (median of rounds in turns)",
            "value": f"{ing['tui_rps']:.0f} / {ing['serve_rps']:.0f}; {ing['tui_vs_serve']} {ing['tui_vs_serve_rounds']}",
            "target": "≥ 0.9",
            "ok": (ing["tui_vs_serve"] or 0) >= 0.9,
        },
        {
            "name": "tui: TUI live / serve by CPU per request (serve µs / TUI µs)",
            "value": f"{ing['serve_cpu_us']:.0f} / {ing['tui_cpu_us']:.0f}; {ing['tui_vs_serve_cpu']} {ing['tui_vs_serve_cpu_rounds']}",
            "target": "",
            "ok": None,
        },
    ]
    return {"large": large, "ingest": ing, "keys": keys, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--captures", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--json", action="store_true")
    p.add_argument("--measure-large", metavar="STORE", help=argparse.SUPPRESS)
    p.add_argument("--serve-headless", metavar="STORE", help=argparse.SUPPRESS)
    p.add_argument("--keypress-under-load", metavar="STORE", help=argparse.SUPPRESS)
    p.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.keypress_under_load:
        print(json.dumps(asyncio.run(_keypress_under_load(args.keypress_under_load, args.seconds, 32))))
        return 0
    if args.measure_large:
        print(json.dumps(asyncio.run(_measure_large(args.measure_large))))
        return 0
    if args.serve_headless:
        from inspector.receiver import run_server  # the loop the TUI runs on (launch.run_tui)

        run_server(_serve_headless(args.serve_headless, 0, args.workers))
        return 0
    result = run_all(captures=args.captures, seconds=args.seconds)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["rows"]:
        mark = "" if row["ok"] is None else ("ok" if row["ok"] else "MISSED")
        print(f"{row['name']:<52} {row['value']:<36} {row['target']:<9} {mark}")
    large = result["large"]
    print("  filters: " + ", ".join(f"{k!r} {v['ms']} ms ({v['shown']:,} rows)" for k, v in large["filters"].items()))
    print(
        f"  store built in {large['store_build_s']} s; RSS at start {large['rss_at_start_mb']} MB; jump to the oldest row {large['home_ms']} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
