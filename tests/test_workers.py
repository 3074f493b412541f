"""`serve --workers`: worker processes started by a real WorkerPool answer on their own
socket of the shared port, follow what the parent tells them (the tunnel's public URL for
URL-signing schemes, self-check nonces), report self-check arrivals, are replaced when they
die, and stop when asked."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import aiohttp
import pytest

from inspector.cli.serve import LineBuffer, worker_argv
from inspector.config import load_config
from inspector.model import Headers, Request
from inspector.receiver import PortInUse, listening_socket, shared_listening_sockets
from inspector.signatures.verify import sign_request
from inspector.workers import WorkerPool, worker_env
from tests.conftest import ROOT
from tests.harness import ServeProcess

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreading is Linux's")

PUBLIC = "https://hooks.example.test"
TWILIO_SECRET = "twilio-auth-token-for-tests"


def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps(
            {
                "events-webhook": {
                    "enabled": True,
                    "enforce": True,
                    "signatures": {"twilio": {"header": "X-Twilio-Signature", "algorithm": "twilio", "secret": TWILIO_SECRET}},
                }
            }
        )
    )
    return path


def args_for(tmp_path: Path, **extra) -> Namespace:
    values = dict(
        answers=str(answers(tmp_path)),
        flows=str(ROOT / "flows"),
        store=str(tmp_path / "c.sqlite3"),
        host="127.0.0.1",
        tenant="demo",
        max_captures=1000,
        public_url=None,
        json=True,
        reveal=False,
        forward_to=None,
    )
    values.update(extra)
    return Namespace(**values)


def twilio_request(tmp_path: Path, path: str, public: str) -> tuple[str, dict, bytes]:
    body = b"From=%2B15551234567&Body=hi"
    base = [("Content-Type", "application/x-www-form-urlencoded")]
    req = Request("POST", path, "", Headers(base + [("X-Twilio-Signature", "placeholder")]), body)
    signed, _entry = sign_request(load_config(answers(tmp_path)), req, "sms", public + path)
    return path, dict(base + list(signed)), body


async def wait_for(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_worker_follows_the_parent(tmp_path):
    args = args_for(tmp_path)
    (sock,) = shared_listening_sockets("127.0.0.1", 0, 1)
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    pool = WorkerPool(worker_argv(args, port), [sock], env=worker_env())
    await pool.start()
    try:
        await asyncio.wait_for(pool.all_ready.wait(), 20)
        async with aiohttp.ClientSession() as session:
            path, headers, body = twilio_request(tmp_path, "/events/webhook/demo/sms", PUBLIC)
            async with session.post(base + path, data=body, headers=headers) as resp:
                assert resp.status == 401  # the worker checks against its local URL so far
            pool.broadcast({"public_url": PUBLIC})
            await asyncio.sleep(0.2)
            async with session.post(base + path, data=body, headers=headers) as resp:
                assert resp.status == 200, await resp.text()

            # Self-check: only a nonce the parent has in flight is answered, and its arrival
            # comes back to the parent's table.
            async with session.get(base + "/__inspector/selfcheck/abc123") as resp:
                assert resp.status == 404
            pool.nonces["abc123"] = False
            await asyncio.sleep(0.2)
            async with session.get(base + "/__inspector/selfcheck/abc123") as resp:
                assert resp.status == 200 and (await resp.json())["nonce"] == "abc123"
            await wait_for(lambda: pool.nonces.get("abc123") is True)
            pool.nonces.pop("abc123", None)
            await asyncio.sleep(0.2)
            async with session.get(base + "/__inspector/selfcheck/abc123") as resp:
                assert resp.status == 404

            # A worker that dies is replaced on the same socket, and told the public URL again.
            first = pool.workers[0].process.pid
            os.kill(first, signal.SIGKILL)
            await wait_for(lambda: pool.workers and pool.workers[0].process.pid != first and pool.workers[0].ready, 20)
            async with session.post(base + path, data=body, headers=headers) as resp:
                assert resp.status == 200

            # The parent saw answers.json change: the worker reloads it (a new secret).
            changed = json.loads((tmp_path / "answers.json").read_text())
            changed["events-webhook"]["signatures"]["twilio"]["secret"] = "another-auth-token"
            (tmp_path / "answers.json").write_text(json.dumps(changed))
            pool.broadcast({"reload": "answers"})
            await asyncio.sleep(0.3)
            async with session.post(base + path, data=body, headers=headers) as resp:
                assert resp.status == 401
    finally:
        await pool.stop()
    assert all(w.process.returncode is not None for w in pool.workers)


def test_a_taken_port_is_refused_not_shared():
    taken = listening_socket("127.0.0.1", 0)
    try:
        with pytest.raises(PortInUse):
            shared_listening_sockets("127.0.0.1", taken.getsockname()[1], 2)
    finally:
        taken.close()


def test_lines_are_written_whole_and_small_enough_to_stay_whole(monkeypatch):
    writes: list[bytes] = []

    class Bytes:
        def write(self, data):
            writes.append(bytes(data))
            return len(data)

        def flush(self):
            pass

    class Out:
        buffer = Bytes()

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Out())
    loop = asyncio.new_event_loop()
    try:
        lines = LineBuffer(loop)
        texts = [f"line {i} " + "x" * (i * 37 % 900) for i in range(200)] + ["y" * 10_000, "surrogate \udcff end"]
        for t in texts:
            lines(t)
        lines.flush()
    finally:
        loop.close()
    assert b"".join(writes).decode().split("\n")[:-1] == [t.replace("\udcff", "\\udcff") for t in texts]
    for chunk in writes:
        assert chunk.endswith(b"\n")
        assert len(chunk) <= LineBuffer.CHUNK or chunk.count(b"\n") == 1


def test_serve_with_workers_answers_prints_and_stops(tmp_path):
    """As a user runs it: every request answered once, one whole line each, all stored."""
    store = tmp_path / "c.sqlite3"
    serve = ServeProcess(tmp_path, store, "--tunnel", "none", "--workers", "2", "--json")
    proc = serve.proc
    try:
        url = json.loads(serve.next_line())["listening"]
        serve.wait_for_workers()

        async def send() -> list[int]:
            ids = []
            # A new connection per request, so the kernel spreads them over both processes.
            timeout = aiohttp.ClientTimeout(total=30)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=20), timeout=timeout) as session:

                async def one(i):
                    async with session.post(f"{url}/events/webhook/demo/order.created", data=json.dumps({"n": i})) as resp:
                        assert resp.status == 200
                        ids.append(int(resp.headers["X-Inspector-Capture"]))

                await asyncio.gather(*(one(i) for i in range(300)))
            return ids

        ids = asyncio.run(send())
        assert len(set(ids)) == 300
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read()
        printed = [json.loads(line) for line in serve.rest()]  # every line whole JSON
        assert sorted(p["id"] for p in printed) == sorted(ids)
        from inspector.store import Store

        s = Store(store)
        try:
            assert sorted(json.loads(s.get(i).request.body)["n"] for i in ids) == list(range(300))
        finally:
            s.close()
    finally:
        serve.kill()


LOUD_CHILD = r"""
import sys, pathlib
sys.stderr.write("x" * 70000 + "\n"); sys.stderr.flush()  # e.g. an error quoting a long body
for i in range(3000):
    sys.stderr.write("warning: line %d %s\n" % (i, "y" * 60)); sys.stderr.flush()
pathlib.Path(sys.argv[1]).write_text("finished")
"""


async def test_a_long_stderr_line_does_not_stop_the_relay(tmp_path):
    """In the TUI a worker's stderr is a pipe the parent drains: a line longer than the
    stream's limit must not stop the draining, or the worker blocks on a full pipe."""
    marker = tmp_path / "done"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    warnings = []
    pool = WorkerPool(
        lambda s, c: [sys.executable, "-c", LOUD_CHILD, str(marker)], [listener], warn=warnings.append, on_capture=lambda i, u: None
    )
    await pool.start()
    try:
        await wait_for(marker.exists, 20)
        await wait_for(lambda: any(w.startswith("warning: line 2999 ") for w in warnings), 10)
    finally:
        await pool.stop(grace=1)
    assert warnings[0].startswith("x" * 2000) and "more characters" in warnings[0]
    assert all(len(w) < 2100 for w in warnings)
    lines = [w for w in warnings if w.startswith("warning: line ")]
    assert len(lines) == 3000 and lines[-1].startswith("warning: line 2999 ")


def test_workers_run_this_package_not_one_in_the_working_directory(tmp_path):
    """`python -m inspector` from a directory holding a user's own `inspector` package."""
    shadow = tmp_path / "inspector"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    (shadow / "__main__.py").write_text("import sys; print('the wrong package'); sys.exit(3)\n")
    before = dict(os.environ)
    argv = worker_argv(args_for(tmp_path), 9)(0, 1)
    assert dict(os.environ) == before  # the parent's environment is left alone
    probe = argv[: argv.index("-m")] + ["-c", "import inspector, sys; print(inspector.__file__)"]
    out = subprocess.run(probe, cwd=tmp_path, env=worker_env(), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve() == (ROOT / "inspector" / "__init__.py").resolve()


LATE_SIGNALS = r"""
import asyncio, os, signal, sys
from inspector.cli.serve import _ignore_signals, _stop_on_signals

async def main():
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    _stop_on_signals(loop, stop, (signal.SIGTERM,))
    os.kill(os.getpid(), signal.SIGTERM)  # the stop
    await stop.wait()
    _ignore_signals(loop, (signal.SIGTERM,))  # wound down
    os.kill(os.getpid(), signal.SIGTERM)  # a second one, e.g. from the parent
    await asyncio.sleep(0.05)

asyncio.run(main())
os.kill(os.getpid(), signal.SIGTERM)  # and one after the loop closed
print("exited normally")
"""


def test_a_stop_signal_after_winding_down_is_ignored(tmp_path):
    """A worker gets SIGTERM from the parent and maybe from `kill` too: one that lands while
    the process exits must neither kill it mid-close nor print a traceback."""
    out = subprocess.run([sys.executable, "-c", LATE_SIGNALS], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip() == "exited normally", out
    assert out.stderr == ""


async def test_a_worker_still_starting_when_stop_begins_is_stopped(monkeypatch):
    import inspector.workers as workers

    real_open = workers.Channel.open

    async def slow_open(sock):
        await asyncio.sleep(0.3)  # widen the window (one loop pass in real life)
        return await real_open(sock)

    monkeypatch.setattr(workers.Channel, "open", staticmethod(slow_open))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    pool = WorkerPool(lambda s, c: [sys.executable, "-c", "import time; time.sleep(30)"], [listener], on_capture=lambda i, u: None)
    starting = asyncio.ensure_future(pool.start())
    await asyncio.sleep(0.15)  # the process runs; _spawn waits in Channel.open
    await pool.stop(grace=1)
    await starting
    assert pool.workers == []
