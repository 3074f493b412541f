"""`serve` as a real process against what a hostile or careless world does to it: malformed
HTTP, a slowloris flood under a low open-file limit, a reader of its output that goes away,
files rewritten under load."""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inspector.store import Store
from tests.conftest import ROOT, run_cli

LIMIT = 10.0  # seconds any single wait may take


def serve(tmp_path: Path, *extra: str, preexec_fn=None, stdout=subprocess.PIPE, answers: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector",
            "--answers",
            str(answers or ROOT / "answers.example.json"),
            "--store",
            str(tmp_path / "s.sqlite3"),
            "--tunnel",
            "none",
            "serve",
            *extra,
        ],
        cwd=tmp_path,
        stdout=stdout,
        stderr=subprocess.PIPE,
        preexec_fn=preexec_fn,
        bufsize=0,  # unbuffered, so that select() on stdout tells whether a line is there
    )


def first_line(proc: subprocess.Popen) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], LIMIT)
    assert ready, "serve printed nothing"
    line = proc.stdout.readline().decode().strip()
    assert line.startswith("listening on http://127.0.0.1:"), line
    return line


def port_of(line: str) -> int:
    return int(line.rsplit(":", 1)[1])


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    return (out or b"").decode(errors="replace"), err.decode(errors="replace")


def post(port: int, path: str, body: bytes = b"{}") -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=LIMIT) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def raw_exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=LIMIT) as s:
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


def listed(tmp_path: Path) -> list[dict]:
    r = run_cli("--store", str(tmp_path / "s.sqlite3"), "list", "--json", "--limit", "1000", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_refused_http_is_a_serve_line_not_a_traceback_and_never_echoes_header_bytes(tmp_path):
    proc = serve(tmp_path, "--port", "0")
    try:
        port = port_of(first_line(proc))
        secret = b"Authorization: Bearer sekrit\x01token"
        answer = raw_exchange(port, b"POST /events/webhook/demo/x HTTP/1.1\r\nHost: x\r\n" + secret + b"\r\nContent-Length: 2\r\n\r\n{}")
        assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:60]
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(130))
        raw_exchange(port, b"POST /events/webhook/demo/y HTTP/1.1\r\nHost: x\r\n" + many + b"Content-Length: 0\r\n\r\n")
        lines = []
        while len(lines) < 2:
            ready, _, _ = select.select([proc.stdout], [], [], LIMIT)
            assert ready, f"no request line came; so far {lines}"
            lines.append(proc.stdout.readline().decode().rstrip("\n"))
    finally:
        out, err = stop(proc)
    assert lines[0].startswith("[400] rejected before routing: header 'Authorization' has a control character"), lines
    assert lines[0].endswith("POST /events/webhook/demo/x")
    assert lines[1].startswith("[400] rejected before routing: more than 128 headers"), lines
    assert "Traceback" not in err and "Error handling request" not in err, err
    assert "sekrit" not in err + out + "\n".join(lines)
    rows = listed(tmp_path)
    assert [r["response_status"] for r in rows] == [400, 400] and all(r["tenant"] is None for r in rows)


def test_serve_json_says_why_a_request_was_refused(tmp_path):
    proc = serve(tmp_path, "--port", "0", "--json")
    try:
        ready, _, _ = select.select([proc.stdout], [], [], LIMIT)
        assert ready
        port = int(json.loads(proc.stdout.readline())["listening"].rsplit(":", 1)[1])
        raw_exchange(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        ready, _, _ = select.select([proc.stdout], [], [], LIMIT)
        assert ready
        line = json.loads(proc.stdout.readline())
    finally:
        stop(proc)
    assert line["response_status"] == 400 and line["tenant"] is None
    assert line["rejected"].startswith("TLS (https://) traffic on this plain-HTTP port")


def test_serve_keeps_capturing_when_the_reader_of_its_output_goes_away(tmp_path):
    # `serve | head -1`: head reads the first line and exits. The server is there to capture
    # webhooks, and they go to the store; printing them is a view. So: one note on stderr,
    # then no more lines, and every request is still answered and captured.
    proc = serve(tmp_path, "--port", "0")
    try:
        port = port_of(first_line(proc))
        proc.stdout.close()
        statuses = [post(port, f"/events/webhook/demo/after.{i}") for i in range(5)]
    finally:
        _, err = stop(proc)
    assert statuses == [200] * 5
    assert proc.returncode == 0
    assert err.count("note: stdout cannot be written") == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert len(listed(tmp_path)) == 5


def test_serve_with_no_stdout_at_all_still_serves(tmp_path):
    # `serve >&-`: Python starts with sys.stdout None. The port is chosen here, since the
    # first line has nowhere to go.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = serve(tmp_path, "--port", str(port), preexec_fn=lambda: os.close(1), stdout=None)
    try:
        deadline = time.monotonic() + LIMIT
        while True:
            try:
                status = post(port, "/events/webhook/demo/x")
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve never answered"
                time.sleep(0.1)
        assert status == 200 and post(port, "/events/webhook/demo/y") == 200
    finally:
        _, err = stop(proc)
    assert proc.returncode == 0, err
    assert err.count("note: stdout cannot be written") == 1, err
    assert "Traceback" not in err, err


def _lower_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_a_slowloris_flood_under_ulimit_1024_does_not_keep_a_webhook_waiting(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 1300  # this process holds the 1,100 attacking sockets
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the open-file limit ({hard}) is too low for 1,100 client sockets")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    proc = serve(tmp_path, "--port", "0", preexec_fn=_lower_fd_limit)
    attackers: list[socket.socket] = []
    try:
        port = port_of(first_line(proc))
        # 1,100 connections in batches a server can accept as they come (a burst only
        # fills the kernel's queue), each sending the start of a request and then, a byte
        # at a time, never finishing it.
        poller = select.poll()  # select() stops at descriptor 1023
        for _batch in range(11):
            fresh = []
            for _ in range(100):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                poller.register(s, select.POLLOUT)
                fresh.append(s)
            attackers += fresh
            ready: set[int] = set()
            deadline = time.monotonic() + LIMIT
            while len(ready) < len(fresh) and time.monotonic() < deadline:
                ready.update(fd for fd, _ in poller.poll(100))
            for s in fresh:
                poller.unregister(s)
                try:
                    s.send(b"POST /events/webhook/demo/x HTTP/1.1\r\nX-A: ")
                except OSError:
                    pass
            time.sleep(0.05)
        for s in attackers:
            try:
                s.send(b"a")
            except OSError:
                pass
        started = time.monotonic()
        status = post(port, "/events/webhook/demo/legit")
        took = time.monotonic() - started
        assert status == 200
        # A second. Here up to three, for a machine shared with other work.
        assert took < 3.0, f"the webhook waited {took:.2f} s"
        assert proc.poll() is None
    finally:
        for s in attackers:
            s.close()
        _, err = stop(proc)
    assert "Traceback" not in err, err[-3000:]
    assert "closing the one that waited longest" in err


def test_thousands_of_idle_keep_alive_connections_under_ulimit_1024_do_not_keep_a_webhook_waiting(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2300  # this process holds the 2,000 idle connections
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the open-file limit ({hard}) is too low for 2,000 client sockets")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    proc = serve(tmp_path, "--port", "0", preexec_fn=_lower_fd_limit)
    idle: list[socket.socket] = []
    answered = 0
    try:
        port = port_of(first_line(proc))
        request = b"POST /events/webhook/demo/keepalive HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
        for _batch in range(20):  # 2,000 senders, each sends one webhook and keeps the connection
            fresh = []
            for _ in range(100):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fresh.append(s)
            poller = select.poll()  # select() stops at descriptor 1023
            for s in fresh:
                poller.register(s, select.POLLOUT)
            pending = {s.fileno(): s for s in fresh}
            deadline = time.monotonic() + LIMIT
            while pending and time.monotonic() < deadline:
                for fd, _ in poller.poll(100):
                    if fd in pending:
                        sock = pending.pop(fd)
                        poller.modify(sock, select.POLLIN)
                        try:
                            sock.send(request)
                        except OSError:
                            pass
            waiting = {s.fileno(): s for s in fresh}
            while waiting and time.monotonic() < deadline:
                for fd, _ in poller.poll(100):
                    sock = waiting.pop(fd, None)
                    if sock is not None:
                        try:
                            answered += sock.recv(65536).startswith(b"HTTP/1.1 200")
                        except OSError:
                            pass
            idle += fresh
        started = time.monotonic()
        status = post(port, "/events/webhook/demo/legit")
        took = time.monotonic() - started
        assert status == 200
        assert took < 3.0, f"the webhook waited {took:.2f} s"  # a second; three on a shared machine
        assert proc.poll() is None
    finally:
        for s in idle:
            s.close()
        _, err = stop(proc)
    assert answered >= 1900, answered  # the keep-alive senders were served before going idle
    assert "Traceback" not in err, err[-3000:]


@pytest.mark.parametrize("workers", [1, 2])
def test_answers_and_flows_rewritten_under_load_every_request_is_answered(tmp_path, workers):
    answers = tmp_path / "answers.json"
    answers.write_text('{"events-webhook": {}}')
    flows = tmp_path / "flows"
    flows.mkdir()
    flow = "name: f{n}\nnodes:\n  - id: r\n    type: http_response\n    config: {{status: 200, body: {{n: {n}}}}}\ntriggers:\n  - event_type: load\n"
    (flows / "f.ygtc").write_text(flow.format(n=0))
    proc = serve(tmp_path, "--port", "0", "--flows", str(flows), "--workers", str(workers), answers=answers)
    done = threading.Event()
    rewrites = 0

    def rewrite() -> None:
        nonlocal rewrites
        while not done.is_set():
            rewrites += 1
            # Written in place, so the watcher also sees half-written files.
            (flows / "f.ygtc").write_text(flow.format(n=rewrites))
            answers.write_text(f'{{"events-webhook": {{"max_body_bytes": {100000 + rewrites}}}}}')
            time.sleep(0.05)

    writer = threading.Thread(target=rewrite)
    said: list[bytes] = []
    listener = threading.Thread(target=lambda: said.extend(iter(proc.stderr.readline, b"")), daemon=True)
    listener.start()
    try:
        port = port_of(first_line(proc))
        # Read what it prints, so that only the reloads are under test here.
        threading.Thread(target=lambda: all(iter(lambda: proc.stdout.read(65536), b"")), daemon=True).start()
        writer.start()
        statuses = []
        # Requests stream until the watcher has reloaded a few times (with --workers it
        # starts once they are ready).
        deadline = time.monotonic() + 2 * LIMIT
        while b"".join(said).count(b"reloaded") < 4 and time.monotonic() < deadline:
            statuses.append(post(port, "/events/webhook/demo/load"))
    finally:
        done.set()
        if writer.is_alive():
            writer.join()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        listener.join(LIMIT)  # it ends at the end of stderr
        err = b"".join(said).decode(errors="replace")
    assert statuses and set(statuses) == {200}, statuses
    assert err.count("reloaded") >= 4, err  # the watcher saw the changes
    assert "Traceback" not in err, err[-3000:]
    store = Store(tmp_path / "s.sqlite3")
    try:
        assert store.count() == len(statuses)
    finally:
        store.close()


def test_a_reader_that_stops_reading_does_not_stop_the_server(tmp_path):
    # `serve | less`, paused; Ctrl-S in a terminal: the pipe fills (64 KiB on Linux, some
    # 450 of these lines). Webhooks must still be answered, and the lines come out once the
    # reader reads again.
    import http.client

    proc = serve(tmp_path, "--port", "0")
    path = "/events/webhook/demo/" + "x" * 70
    try:
        port = port_of(first_line(proc))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT)
        statuses = []
        for _ in range(800):
            conn.request("POST", path, body=b"{}")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        conn.close()
    finally:
        out, err = stop(proc)
    assert statuses == [200] * 800
    assert out.count(path) == 800, err
    assert "Traceback" not in err, err


async def test_the_watcher_survives_running_out_of_file_descriptors_says_so_once_and_catches_up(tmp_path, monkeypatch, capsys):
    import asyncio
    import errno
    import types

    from inspector import server
    from inspector.cli import serve_lines
    from inspector.config import Config, ConfigError

    emfile = OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    class Flows:
        failures, reloads = 5, 0
        directory = None
        flows, errors, problems = [], [], []

        def changed(self):
            if self.failures:
                self.failures -= 1
                raise emfile
            return self.reloads == 0

        def reload(self):
            self.reloads += 1

    reads = {"n": 0}

    def load_config(path):
        reads["n"] += 1
        if reads["n"] <= 3:  # as config.load_config reports an unreadable file
            try:
                raise emfile
            except OSError:
                raise ConfigError(["cannot read: Too many open files"]) from None
        return Config()

    monkeypatch.setattr(server, "load_config", load_config)
    monkeypatch.setattr(serve_lines, "report_flows", lambda flows: None)
    answers = tmp_path / "answers.json"
    answers.write_text("{}")
    pipeline = types.SimpleNamespace(config=None)
    flows = Flows()

    def apply(config):
        pipeline.config = config

    task = asyncio.ensure_future(server.watch_files(flows, answers, apply, serve_lines.ServeLines(), every=0.01))
    try:
        await asyncio.sleep(0.05)
        answers.write_text('{"events-webhook": {}}')  # changed while reading it fails
        deadline = time.monotonic() + LIMIT
        while (flows.reloads == 0 or pipeline.config is None) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    err = capsys.readouterr().err
    assert flows.reloads == 1 and isinstance(pipeline.config, Config), err
    assert err.count("could not check flows and answers.json for changes (Too many open files)") == 1, err
    assert "watched again" in err and "keeping the previous configuration" not in err, err


def test_lines_for_a_reader_that_does_not_read_are_dropped_past_the_backlog_and_counted(monkeypatch, capsys):
    import asyncio
    import io

    from inspector.cli.serve import LineBuffer

    read_end, write_end = os.pipe()
    stdout = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(LineBuffer, "BACKLOG", 256 * 1024)
    loop = asyncio.new_event_loop()
    try:
        lines = LineBuffer(loop)
        line = "[200] POST /events/webhook/demo/" + "x" * 60
        started = time.monotonic()
        for _ in range(20):  # 20 loop passes of 500 lines: some 930 KiB for a 64 KiB pipe
            for _ in range(500):
                lines(line)
            lines.flush()
        assert time.monotonic() - started < LIMIT  # never waited for the reader
        assert lines.dropped > 0
        got, said = b"", ""
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline and "were not printed" not in said:  # the reader reads again
            ready, _, _ = select.select([read_end], [], [], 0.1)
            if ready:
                got += os.read(read_end, 1 << 20)
            said += capsys.readouterr().err
        while select.select([read_end], [], [], 0.1)[0]:  # what was written before the note
            got += os.read(read_end, 1 << 20)
        lines.close()
    finally:
        loop.close()
        os.close(read_end)
    text = got.decode()
    assert text.endswith("\n") and set(text.splitlines()) == {line}  # whole lines only
    assert 0 < len(text.splitlines()) < 10_000
    assert (
        f"note: {lines_dropped(said)} request line(s) were not printed" in said and lines_dropped(said) + len(text.splitlines()) == 10_000
    )


def lines_dropped(said: str) -> int:
    return int(said.split("note: ", 1)[1].split(" ", 1)[0])


def test_a_non_blocking_stdout_that_fills_is_waited_for_not_given_up(monkeypatch, capsys):
    import asyncio
    import fcntl
    import io

    from inspector.cli.serve import LineBuffer

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8"))
    loop = asyncio.new_event_loop()
    try:
        lines = LineBuffer(loop)
        for _ in range(3000):  # some 200 KiB: more than the pipe holds at once
            lines("x" * 70)
        lines.flush()
        got = b""
        deadline = time.monotonic() + LIMIT
        while len(got) < 3000 * 71 and time.monotonic() < deadline:
            if select.select([read_end], [], [], 0.1)[0]:
                got += os.read(read_end, 1 << 20)
        lines.close()
    finally:
        loop.close()
        os.close(read_end)
    assert got == (b"x" * 70 + b"\n") * 3000
    assert "cannot be written" not in capsys.readouterr().err
