"""Ingest throughput: a bare aiohttp handler vs `webhook-inspector serve` (signatures, flows, store),
as one process (the default) and as `serve --workers 2` (one process per core here).

The servers run as subprocesses and get the same load (same signed GitHub body, same
concurrency) from a load process, in turns (3 rounds each); the figure that matters is the
ratio serve / bare of the medians.

A third server, the floor (bench/floor_server.py), does only what no capturing server can
skip: check the HMAC, parse the JSON, commit a row with the request before answering. Its
ratio is the ceiling for serve's on this stack and this machine.

    python -m bench.ingest [--seconds 9] [--concurrency 32] [--rate R] [--workers 2] [--no-floor] [--rounds 3]
                           [--baseline OTHER_CHECKOUT] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "example-github-secret-change-me"
BODY = json.dumps(
    {
        "ref": "refs/heads/main",
        "repository": {"full_name": "octo/hello", "id": 1296269},
        "pusher": {"name": "octocat"},
        "commits": [{"id": f"{i:040x}", "message": f"commit {i}", "author": {"name": "Mona"}} for i in range(20)],
    }
).encode()
PATH = "/events/webhook/demo/github"


def headers() -> dict[str, str]:
    sig = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={sig}"}


def start(cmd: list[str], cwd: Path, ready: str | None = None) -> tuple[subprocess.Popen, int]:
    """Start a server; its port from its `listening on` line (and, with `ready`, once a
    stderr line contains it: `serve --workers` says when every process answers)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE if ready else subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on"):
        proc.kill()
        raise SystemExit(f"server did not start: {' '.join(cmd)}: {line!r}")
    if ready:
        while ready not in (said := proc.stderr.readline()):
            if not said:
                raise SystemExit(f"server stopped before it was ready: {' '.join(cmd)}")
        import threading

        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    return proc, int(line.rsplit(":", 1)[1])


def _load_process(port: int, seconds: float, concurrency: int, rate: float | None, queue) -> None:
    import resource

    sys.path.insert(0, str(ROOT))
    from bench.load import encode_request, run_load

    payload = encode_request("127.0.0.1", port, PATH, BODY, headers())
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(run_load("127.0.0.1", port, payload, concurrency=concurrency, seconds=seconds, rate=rate))
    after = resource.getrusage(resource.RUSAGE_SELF)
    queue.put(
        {
            "rps": result.rps,
            "p50_ms": result.percentile(50),
            "p99_ms": result.percentile(99),
            "requests": result.requests,
            "errors": result.errors,
            "statuses": result.statuses,
            "client_cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        }
    )


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process and its children so far, from /proc (Linux);
    None elsewhere."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def wrk(port: int, seconds: float, concurrency: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(BODY.decode())}\n")
        for k, v in headers().items():
            f.write(f'wrk.headers["{k}"] = "{v}"\n')
        script = f.name
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", script, f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True,
        text=True,
    ).stdout
    rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))

    def pct(label: str) -> float:
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == label:
                v = parts[1]
                for unit, mul in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
                    if v.endswith(unit):
                        return float(v[: -len(unit)]) * mul
        return 0.0

    return {"rps": rps, "p50_ms": pct("50%"), "p99_ms": pct("99%"), "requests": None, "errors": 0, "statuses": {}}


def measure(port: int, seconds: float, concurrency: int, rate: float | None, use_wrk: bool) -> dict:
    if use_wrk and rate is None:
        return wrk(port, seconds, concurrency)
    queue = multiprocessing.get_context("spawn").Queue()
    proc = multiprocessing.get_context("spawn").Process(target=_load_process, args=(port, seconds, concurrency, rate, queue))
    proc.start()
    result = queue.get(timeout=seconds + 60)
    proc.join()
    return result


def run(
    seconds: float,
    concurrency: int,
    rate: float | None,
    rounds: int = 3,
    workers: int = 2,
    floor: bool = True,
    baseline: Path | None = None,
) -> dict:
    """The servers run side by side (idle while another is measured) and are measured in
    turns, `rounds` times `seconds / rounds` each: a slow spell of a shared machine then hits
    all of them, and each figure is the median of its rounds. `serve` is one process (the
    default); `serve_workers` is `serve --workers N` (0: not measured); `floor` is
    bench/floor_server.py, the least a signature-checking, storing server does here.
    `baseline`: another checkout of the project (e.g. `git worktree add /tmp/before HEAD~1`),
    whose `serve` is measured in the same turns as `serve_baseline`, for before/after figures
    that a slow spell of the machine cannot tell apart."""
    use_wrk = shutil.which("wrk") is not None
    work = Path(tempfile.mkdtemp(prefix="inspector-bench-"))
    procs: dict[str, tuple[subprocess.Popen, int]] = {}

    def serve(store: str, *extra: str, root: Path = ROOT) -> list[str]:
        return [
            sys.executable,
            "-m",
            "inspector",
            "--answers",
            str(root / "answers.example.json"),
            "--flows",
            str(root / "flows"),
            "--store",
            str(work / store),
            "--tunnel",
            "none",
            "serve",
            "--port",
            "0",
            *extra,
        ]

    commands = {"bare": [sys.executable, str(ROOT / "bench" / "bare_server.py")], "serve": serve("one.sqlite3")}
    if floor:
        commands["floor"] = [sys.executable, str(ROOT / "bench" / "floor_server.py"), str(work / "floor.sqlite3")]
    if workers > 1:
        commands["serve_workers"] = serve("workers.sqlite3", "--workers", str(workers))
    if baseline is not None:
        commands["serve_baseline"] = serve("baseline.sqlite3", root=baseline)
    rounds_of: dict[str, list[dict]] = {name: [] for name in commands}
    try:
        for name, cmd in commands.items():
            cwd = work if name in ("bare", "floor") else baseline if name == "serve_baseline" else ROOT
            proc, port = start(cmd, cwd, "processes answer" if name == "serve_workers" else None)
            procs[name] = (proc, port)
            if name not in ("bare", "floor"):
                # serve prints a line per request; drain them so the pipe never blocks it.
                import threading

                threading.Thread(target=lambda p=proc: [None for _ in p.stdout], daemon=True).start()
        time.sleep(0.3)
        for _proc, port in procs.values():
            measure(port, 1.0, concurrency, rate, use_wrk)  # warm-up
        each = max(1.0, seconds / rounds)
        for turn in range(rounds):
            # Every other round in the opposite order: whoever goes first has no edge.
            for name, (proc, port) in list(procs.items())[:: 1 if turn % 2 == 0 else -1]:
                cpu_before = cpu_seconds(proc.pid)
                got = measure(port, each, concurrency, rate, use_wrk)
                cpu_after = cpu_seconds(proc.pid)
                served = got.get("requests") or got["rps"] * each
                if cpu_before is not None and cpu_after is not None and served:
                    got["cpu_us"] = (cpu_after - cpu_before) / served * 1e6  # the server's, per request
                if got.get("client_cpu_s") is not None and served:
                    got["client_cpu_us"] = got["client_cpu_s"] / served * 1e6
                rounds_of[name].append(got)
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)

    def median(name: str) -> dict:
        got = sorted(rounds_of[name], key=lambda r: r["rps"])
        mid = dict(got[len(got) // 2])
        mid["p50_ms"] = sorted(r["p50_ms"] for r in got)[len(got) // 2]
        mid["p99_ms"] = sorted(r["p99_ms"] for r in got)[len(got) // 2]
        mid["statuses"] = {k: sum(r["statuses"].get(k, 0) for r in got) for k in {k for r in got for k in r["statuses"]}}
        mid["errors"] = sum(r["errors"] for r in got)
        for key in ("cpu_us", "client_cpu_us"):
            values = sorted(r[key] for r in got if r.get(key) is not None)
            mid[key] = round(values[len(values) // 2], 1) if values else None
        return mid

    bare = median("bare")
    result = {
        "load": "wrk" if use_wrk and rate is None else ("open-loop" if rate else "closed-loop") + " python client",
        "concurrency": concurrency,
        "seconds": seconds,
        "rate": rate,
        "rounds": rounds,
        "workers": workers if workers > 1 else None,
        "bare_rounds_rps": [round(r["rps"]) for r in rounds_of["bare"]],
        "bare_rps": round(bare["rps"], 1),
        "bare_p50_ms": round(bare["p50_ms"], 3),
        "bare_p99_ms": round(bare["p99_ms"], 3),
        "bare_cpu_us": bare["cpu_us"],
        "client_cpu_us": bare["client_cpu_us"],
    }
    for name in commands:
        if name == "bare":
            continue
        m = median(name)
        result.update(
            {
                f"{name}_rounds_rps": [round(r["rps"]) for r in rounds_of[name]],
                f"{name}_rps": round(m["rps"], 1),
                f"{name}_ratio": round(m["rps"] / bare["rps"], 3) if bare["rps"] else None,
                f"{name}_p50_ms": round(m["p50_ms"], 3),
                f"{name}_p99_ms": round(m["p99_ms"], 3),
                f"{name}_statuses": m["statuses"],
                f"{name}_errors": m["errors"],
                f"{name}_cpu_us": m["cpu_us"],
            }
        )
    result["ratio"] = result["serve_ratio"]
    if "floor" in commands:
        # serve / floor per round: the two are measured one right after the other, so a slow
        # spell of the machine hits both; the figure is the median of those ratios.
        pairs = [s["rps"] / f["rps"] for s, f in zip(rounds_of["serve"], rounds_of["floor"], strict=True) if f["rps"]]
        result["serve_floor_rounds"] = [round(r, 3) for r in pairs]
        result["serve_floor_ratio"] = round(sorted(pairs)[len(pairs) // 2], 3) if pairs else None
        # The same ratio from CPU time per request (floor's / serve's): on a machine others are
        # using it moves far less than req/s, since neither server gets a whole core then.
        cpu = [
            f["cpu_us"] / s["cpu_us"]
            for s, f in zip(rounds_of["serve"], rounds_of["floor"], strict=True)
            if s.get("cpu_us") and f.get("cpu_us")
        ]
        result["serve_floor_cpu_rounds"] = [round(r, 3) for r in cpu]
        result["serve_floor_cpu_ratio"] = round(sorted(cpu)[len(cpu) // 2], 3) if cpu else None
        if baseline is not None:
            cpu = [
                f["cpu_us"] / s["cpu_us"]
                for s, f in zip(rounds_of["serve_baseline"], rounds_of["floor"], strict=True)
                if s.get("cpu_us") and f.get("cpu_us")
            ]
            result["serve_baseline_floor_cpu_ratio"] = round(sorted(cpu)[len(cpu) // 2], 3) if cpu else None
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=9.0, help="per server, split into the rounds")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rate", type=float, default=None, help="open loop at this many req/s (default: closed loop)")
    p.add_argument("--workers", type=int, default=2, help="also measure serve --workers N (default 2; 0 or 1: skip)")
    p.add_argument("--no-floor", action="store_true", help="do not measure bench/floor_server.py")
    p.add_argument("--rounds", type=int, default=3, help="rounds taken in turn (default 3)")
    p.add_argument("--baseline", type=Path, default=None, help="also measure serve from this other checkout, in the same turns")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "inspector").is_dir():
        p.error(f"--baseline {args.baseline}: no inspector/ package there (a checkout of this project, e.g. from git worktree add)")
    r = run(
        args.seconds, args.concurrency, args.rate, rounds=args.rounds, workers=args.workers, floor=not args.no_floor, baseline=args.baseline
    )
    if args.json:
        print(json.dumps(r))
        return 0
    print(
        f"ingest ({r['load']}, concurrency {r['concurrency']}, {r['seconds']:g} s per server in {r['rounds']} rounds taken in turn; medians)"
    )
    print(f"  {'':20}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ratio':>8}   rounds req/s")
    rows = [("bare aiohttp", "bare"), ("serve", "serve")]
    if r["workers"]:
        rows.append((f"serve --workers {r['workers']}", "serve_workers"))
    if "serve_baseline_rps" in r:
        rows.append(("serve (--baseline)", "serve_baseline"))
    if "floor_rps" in r:
        rows.append(("floor (see below)", "floor"))
    for label, key in rows:
        ratio = "" if key == "bare" else f"{r[key + '_ratio']:.3f}"
        print(
            f"  {label:20}{r[key + '_rps']:>10.0f}{r[key + '_p50_ms']:>10.2f}{r[key + '_p99_ms']:>10.2f}{ratio:>8}   {r[key + '_rounds_rps']}"
        )
    if r["bare_cpu_us"] is not None:
        cpu = [f"bare {r['bare_cpu_us']:.0f}", f"serve {r['serve_cpu_us']:.0f}"]
        if r["workers"]:
            cpu.append(f"serve --workers {r['workers']} {r['serve_workers_cpu_us']:.0f}")
        if "serve_baseline_rps" in r:
            cpu.append(f"serve --baseline {r['serve_baseline_cpu_us']:.0f}")
        if "floor_rps" in r:
            cpu.append(f"floor {r['floor_cpu_us']:.0f}")
        print(f"  CPU per request (µs): {', '.join(cpu)}; load client {r['client_cpu_us']:.0f}")
    if r.get("serve_floor_ratio") is not None:
        print(f"  serve / floor: {r['serve_floor_ratio']:.3f} (median of the rounds' ratios {r['serve_floor_rounds']}; target ≥ 0.6)")
        if r.get("serve_floor_cpu_ratio") is not None:
            print(f"  serve / floor by CPU per request: {r['serve_floor_cpu_ratio']:.3f} {r['serve_floor_cpu_rounds']}")
        if r.get("serve_baseline_floor_cpu_ratio") is not None:
            print(f"  serve --baseline / floor by CPU per request: {r['serve_baseline_floor_cpu_ratio']:.3f}")
    if "floor_rps" in r:
        print(
            "  floor: aiohttp + HMAC check + JSON parse + SQLite row committed before the answer, no inspector code"
            " (bench/floor_server.py); serve cannot beat it"
        )
    print(f"  serve statuses: {r['serve_statuses']}" + (f"; with workers: {r['serve_workers_statuses']}" if r["workers"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
