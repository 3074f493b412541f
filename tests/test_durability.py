"""kill -9 and SIGTERM in the middle of a load: nothing acknowledged is ever lost (SPEC §7)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import aiohttp
import pytest

from inspector.discovery import recorded_servers
from inspector.store import Store
from tests.harness import ServeProcess


def start_serve(tmp_path, store, workers=1):
    """serve with `workers` processes, once every one answers: the process and its URL."""
    serve = ServeProcess(tmp_path, store, "--tunnel", "none", "--workers", str(workers))
    line = serve.next_line()
    assert line.startswith("listening on "), line
    if workers > 1:
        serve.wait_for_workers()
    return serve.proc, line.split()[-1]


async def load(url: str, total: int, concurrency: int, path_for, on_answer, stop_after: int | None = None, stop=None):
    """Send `total` requests with unique bodies; record (id, body, status) for each answer."""
    answered = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int):
            nonlocal answered
            body = json.dumps({"n": i, "pad": "x" * (i % 97)}).encode() + bytes([i % 256])
            try:
                async with session.post(
                    url + path_for(i), data=body, headers={"Content-Type": "application/json"}, timeout=aiohttp.ClientTimeout(total=20)
                ) as resp:
                    await resp.read()
                    on_answer(i, body, resp.status, resp.headers.get("X-Inspector-Capture"))
                    answered += 1
                    if stop_after is not None and answered == stop_after and stop:
                        stop()
            except (TimeoutError, aiohttp.ClientError):
                pass  # not acknowledged: allowed to be lost

        queue = list(range(total))

        async def worker():
            while queue:
                await one(queue.pop(0))

        await asyncio.gather(*(worker() for _ in range(concurrency)))


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_mid_load_loses_nothing_acknowledged(tmp_path, workers):
    store_path = tmp_path / "captures.sqlite3"
    proc, url = start_serve(tmp_path, store_path, workers)
    acked: dict[int, bytes] = {}

    def on_answer(i, body, status, cid):
        if status < 500 and cid:
            acked[int(cid)] = body

    asyncio.run(
        load(
            url,
            3000,
            50,
            lambda i: "/events/webhook/demo/order.created" if i % 3 else "/events/webhook/demo/github",
            on_answer,
            stop_after=1200,
            stop=lambda: os.killpg(proc.pid, signal.SIGKILL),
        )
    )  # every process
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 1200

    store = Store(store_path)  # opens cleanly after the crash
    try:
        missing = [cid for cid in acked if store.get(cid) is None]
        assert missing == []
        wrong = [cid for cid, body in acked.items() if store.get(cid).request.body != body]
        assert wrong == []
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        last = max(store.ids())
    finally:
        store.close()

    # Restarted on the same store it goes on numbering after what survived.
    proc, url = start_serve(tmp_path, store_path)
    try:
        got = []
        asyncio.run(load(url, 5, 2, lambda i: "/events/webhook/demo/x", lambda i, b, s, cid: got.append(int(cid))))
        assert len(got) == 5 and min(got) > last
    finally:
        proc.terminate()
        proc.wait(10)


def stop_mid_load(tmp_path, workers: int, stop, total: int, stop_after: int) -> None:
    """Load serve with async flows, `stop(pid)` it after `stop_after` answers: it exits 0,
    leaves no process and no server record, and every acknowledged capture is stored with
    its exact body and its runs ok or interrupted."""
    store_path = tmp_path / "captures.sqlite3"
    proc, url = start_serve(tmp_path, store_path, workers)
    acked: dict[int, bytes] = {}

    def on_answer(i, body, status, cid):
        if cid:
            acked[int(cid)] = body

    path = "/events/webhook/demo/report.generate"
    asyncio.run(load(url, total, 40, lambda i: path, on_answer, stop_after=stop_after, stop=lambda: stop(proc.pid)))
    proc.wait(30)
    assert proc.returncode == 0
    assert no_process_left(proc.pid)
    assert recorded_servers(store_path) == []
    store = Store(store_path)
    try:
        assert len(acked) >= stop_after
        for cid, body in acked.items():
            capture = store.get(cid)
            assert capture is not None and capture.request.body == body
            statuses = [r.status for r in capture.runs]
            assert statuses and all(s in ("ok", "interrupted") for s in statuses), (cid, statuses)
            assert [r.flow for r in capture.runs] == ["ack_then_process", "process_webhook_data"]
    finally:
        store.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_mid_load_answers_or_refuses_and_finishes_async_runs(tmp_path, workers):
    stop_mid_load(tmp_path, workers, lambda pid: os.kill(pid, signal.SIGTERM), 1500, 500)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_terminal_hangup_mid_load_winds_serve_down_like_sigterm(tmp_path, workers):
    """The terminal closing (or an ssh session dropping) sends SIGHUP to serve's whole process
    group: serve winds down (answers what it has, finishes async runs, removes its record)
    and its workers leave the stopping to it instead of dying with what they had in flight."""
    stop_mid_load(tmp_path, workers, lambda pid: os.killpg(pid, signal.SIGHUP), 800, 300)


def test_serve_started_under_nohup_keeps_running_after_a_hangup(tmp_path):
    serve = ServeProcess(
        tmp_path,
        tmp_path / "captures.sqlite3",
        "--tunnel",
        "none",
        "--workers",
        "2",
        preexec=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    url = serve.next_line().split()[-1]
    serve.wait_for_workers()
    try:
        os.killpg(serve.proc.pid, signal.SIGHUP)
        got: list[int] = []
        asyncio.run(load(url, 20, 5, lambda i: "/events/webhook/demo/x", lambda i, b, s, cid: got.append(s)))
        assert got == [200] * 20 and serve.proc.poll() is None
        code, _ = serve.stop(signal.SIGTERM)
        assert code == 0
        assert no_process_left(serve.proc.pid)
    finally:
        serve.kill()


def no_process_left(group: int, within: float = 10.0) -> bool:
    """True when no process of the session `serve` started is alive (workers included)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_workers_stop_by_themselves_when_serve_is_killed(tmp_path):
    store_path = tmp_path / "captures.sqlite3"
    proc, url = start_serve(tmp_path, store_path, workers=3)
    got = []
    asyncio.run(load(url, 30, 10, lambda i: "/events/webhook/demo/x", lambda i, b, s, cid: got.append(int(cid))))
    os.kill(proc.pid, signal.SIGKILL)  # only the parent: its workers see the channel close
    proc.wait(10)
    assert no_process_left(proc.pid), "a worker outlived the serve that started it"
    store = Store(store_path)
    try:
        assert sorted(got) == sorted(c for c in store.ids() if c in set(got)) and len(got) == 30
    finally:
        store.close()


def compressed_bomb(size: int, fill: bytes = b"a", chunk: int = 1 << 24) -> bytes:
    """gzip of `size` bytes of `fill` (a multiple of `chunk`), fast: one chunk compressed with
    a full flush is byte-aligned and self-contained, so it is repeated."""
    import struct
    import zlib

    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = deflater.compress(fill * chunk) + deflater.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // chunk):
        crc = zlib.crc32(fill * chunk, crc)
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + segment * (size // chunk) + b"\x03\x00" + struct.pack("<II", crc, size & 0xFFFFFFFF)
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_under_hostile_load_loses_nothing_acknowledged(tmp_path, workers):
    """Gzip bombs, JSON 1,000 levels deep, bodies over max_body_bytes and ordinary senders at
    once, then kill -9: every request answered with a capture id (2xx, 4xx, or the 500 of a
    flow that failed) is in the store with its exact bytes (the first 64 KiB and the
    truncated flag for a 413)."""
    store_path = tmp_path / "captures.sqlite3"
    bomb = compressed_bomb(512 << 20)  # 512 MiB of text in ~0.5 MiB: the flow sees 16 MiB of it
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    oversized = b'{"pad": "' + b"o" * (2 << 20) + b'"}'  # over the example's 1 MiB max_body_bytes
    kinds = ["normal"] * 14 + ["bomb", "deep", "deep", "oversized", "github", "unrouted"]
    proc, url = start_serve(tmp_path, store_path, workers)
    acked: dict[int, tuple[str, bytes]] = {}
    answered = 0
    killed: list[bool] = []
    statuses: dict[int, int] = {}

    async def run() -> None:
        nonlocal answered
        queue = list(range(400))
        connector = aiohttp.TCPConnector(limit=24)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

            async def one(i: int) -> None:
                nonlocal answered
                kind = kinds[i % len(kinds)]
                headers = {"Content-Type": "application/json"}
                path = "/events/webhook/demo/order.created"
                body = json.dumps({"n": i}).encode() + bytes([i % 256])
                if kind == "bomb":
                    body, headers = bomb, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
                elif kind == "deep":
                    body = deep
                elif kind == "oversized":
                    body = oversized
                elif kind == "github":
                    path = "/events/webhook/demo/github"  # unsigned: 401, still captured
                elif kind == "unrouted":
                    path = "/nowhere"
                try:
                    async with session.post(url + path, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=20)) as resp:
                        await resp.read()
                        cid = resp.headers.get("X-Inspector-Capture")
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                        if cid:  # 2xx, 4xx, or a flow's 500: each names a stored capture
                            acked[int(cid)] = (kind, body)
                        answered += 1
                        # Kill once 200 are answered and every kind has been acknowledged at
                        # least once: a gzip bomb takes far longer than an ordinary request,
                        # and on a loaded machine the first 200 answers may hold none yet.
                        if not killed and answered >= 200 and {k for k, _ in acked.values()} >= set(kinds):
                            killed.append(True)
                            os.killpg(proc.pid, signal.SIGKILL)  # every process
                except (TimeoutError, aiohttp.ClientError):
                    pass  # not acknowledged: allowed to be lost

            async def worker() -> None:
                while queue:
                    await one(queue.pop(0))

            await asyncio.gather(*(worker() for _ in range(24)))

    asyncio.run(run())
    if not killed:  # some kind never acknowledged: kill anyway, the assertions below say which
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 150, statuses
    seen = {kind for kind, _ in acked.values()}
    assert {"normal", "bomb", "deep", "oversized", "github", "unrouted"} <= seen, (seen, statuses)

    store = Store(store_path)  # opens cleanly after the crash
    try:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        missing = [cid for cid in acked if store.get(cid) is None]
        assert missing == [], (missing, statuses)
        for cid, (kind, body) in acked.items():
            kept = store.get(cid)
            if kind == "oversized":
                assert kept.request.truncated and kept.request.body == body[: 64 * 1024] and kept.response.status == 413
            else:
                assert kept.request.body == body, (cid, kind)
    finally:
        store.close()
