"""The running server is discoverable (issue #17 item 2): `serve --port 0` records where it
listens next to its store, and `send`, `replay` and `export` with no address find it there; a
record left by a killed process is stale; exports name the address a capture arrived on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.discovery import Recorder, ServerRecord, record_path, resolve_target, running_server
from inspector.export import arrival_base
from inspector.model import Capture, Headers, Request, SignatureResult
from tests.conftest import ROOT, run_cli

STORE = ".inspector/captures.sqlite3"
WAIT = 30.0


def wait_for(condition, timeout: float = WAIT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "answers.example.json", tmp_path / "answers.json")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    return tmp_path


def start_serve(cwd: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0", "--tunnel", "none", *extra],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return out, err


def test_send_replay_and_export_find_serve_on_port_0_with_no_flags(project):
    proc = start_serve(project)
    try:
        url = proc.stdout.readline().strip().removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":8080")
        record_file = record_path(project / STORE, proc.pid)
        wait_for(record_file.exists, what="the server's record")
        assert stat.S_IMODE(record_file.stat().st_mode) == 0o600
        record = json.loads(record_file.read_text())
        assert record["pid"] == proc.pid and record["local_url"] == url and record["public_url"] is None
        assert record["store"] == str((project / STORE).resolve()) and record["tenant"] == "demo"

        sent = run_cli("send", "github.ping", cwd=project)
        assert sent.returncode == 0, sent.stderr
        assert f"to {url}/events/webhook/demo/" in sent.stdout.decode()
        cid = sent.stdout.decode().split("capture ")[1].split(":")[0]

        replayed = run_cli("replay", cid, cwd=project)
        assert replayed.returncode == 0, replayed.stderr
        assert f"→ {url}/events/webhook/demo/" in replayed.stdout.decode()

        exported = run_cli("export", cid, "--format", "curl", cwd=project)
        assert exported.returncode == 0, exported.stderr
        assert f"{url}/events/webhook/demo/" in exported.stdout.decode()
    finally:
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert not record_file.exists(), "a clean stop removes the record"
    # After the stop, nothing is recorded: send says what it tried and how to point elsewhere.
    port = url.rsplit(":", 1)[1]
    failed = run_cli("send", "github.ping", "--port", port, cwd=project)
    assert failed.returncode == 2
    assert f"nothing listens at http://127.0.0.1:{port} (from --host/--port)" in failed.stderr.decode()
    assert "--to URL" in failed.stderr.decode()


def test_a_record_left_by_a_killed_server_is_stale(project):
    proc = start_serve(project)
    try:
        proc.stdout.readline()
        record_file = record_path(project / STORE, proc.pid)
        wait_for(record_file.exists, what="the server's record")
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert record_file.exists()  # killed: it could not clean up
    assert running_server(project / STORE) is None
    target = resolve_target(project / STORE, to=None, host="127.0.0.1", port=8080, explicit=False)
    assert target.how == "default" and target.base == "http://127.0.0.1:8080"
    assert target.described(STORE) == f"no running server recorded next to {STORE}"
    # The next server on the store clears it away.
    second = start_serve(project)
    try:
        second.stdout.readline()
        wait_for(record_path(project / STORE, second.pid).exists, what="the second server's record")
        assert not record_file.exists()
    finally:
        stop(second)


def _record(store: Path, pid: int, started_at: float, url: str, process_start: str | None) -> Path:
    path = record_path(store, pid)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ServerRecord(pid=pid, local_url=url, store=str(store), started_at=started_at, process_start=process_start).to_json()
    path.write_text(json.dumps(data))
    return path


def test_a_reused_pid_is_told_by_its_start_time_and_the_newest_live_server_wins(tmp_path):
    from inspector.discovery import process_start

    store = tmp_path / "s.sqlite3"
    mine = process_start(os.getpid())
    if mine is None:
        pytest.skip("no /proc here: liveness falls back to the port answering")
    _record(store, os.getpid(), 100.0, "http://127.0.0.1:1111", mine)
    assert running_server(store).local_url == "http://127.0.0.1:1111"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        wait_for(lambda: process_start(sleeper.pid), what="the sleeper's start time")
        newer = _record(store, sleeper.pid, 200.0, "http://127.0.0.1:2222", process_start(sleeper.pid))
        assert running_server(store).local_url == "http://127.0.0.1:2222"  # newest live one
        # Same pid, another process start: a pid reused after the server died.
        _record(store, sleeper.pid, 200.0, "http://127.0.0.1:2222", "1")
        assert running_server(store).local_url == "http://127.0.0.1:1111"
        newer.unlink()
    finally:
        sleeper.kill()
        sleeper.wait()
    # Files that are not records are ignored, not fatal.
    record_path(store, 42).write_text("{not json")
    (tmp_path / f"{store.name}.server-43.json").write_text(json.dumps({"pid": "x"}))
    assert running_server(store).local_url == "http://127.0.0.1:1111"


def test_the_recorder_rewrites_the_public_url_atomically_and_removes_its_record(tmp_path):
    store = tmp_path / "sub" / "s.sqlite3"
    store.parent.mkdir()
    recorder = Recorder(store, tenant="acme")
    recorder.listening("http://127.0.0.1:5000")
    recorder.public_url("https://abc.ngrok.app")
    data = json.loads(record_path(store).read_text())
    assert data["public_url"] == "https://abc.ngrok.app" and data["tenant"] == "acme" and data["pid"] == os.getpid()
    assert running_server(store).public_url == "https://abc.ngrok.app"
    assert [p.name for p in store.parent.iterdir()] == [record_path(store).name]  # no temporary file left
    recorder.remove()
    assert not record_path(store).exists() and running_server(store) is None


def test_a_record_that_cannot_be_written_is_a_warning_not_a_failure(tmp_path):
    warnings: list[str] = []
    recorder = Recorder(tmp_path / "missing-folder" / "s.sqlite3", warn=warnings.append)
    recorder.listening("http://127.0.0.1:5000")
    recorder.public_url("https://x.example")
    assert len(warnings) == 1 and "--to URL" in warnings[0] and "missing-folder" in warnings[0]


def _capture(request: Request) -> Capture:
    return Capture(id=None, request=request, tenant="demo", event_type="x", signature=SignatureResult("unsigned"), origin="import")


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("127.0.0.1:5555", "http://127.0.0.1:5555"),
        ("localhost:8099", "http://localhost:8099"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("localhost", "http://localhost"),
        ("abc.ngrok-free.app", None),  # came through a tunnel
        ("10.0.0.5:8080", None),
        ("127.0.0.1:99999", None),
        ("127.0.0.1:80/evil", None),
        ("127.0.0.1:80 x", None),
        ("", None),
    ],
)
def test_an_export_names_the_local_address_a_capture_arrived_on(host, base):
    assert arrival_base(_capture(Request("POST", "/events/webhook/demo/x", headers=Headers([("Host", host)])))) == base


def test_export_uses_the_arrival_address_unless_an_address_is_given(project):
    from inspector.store import Store

    store = Store(project / STORE)
    try:
        request = Request("POST", "/events/webhook/demo/t", headers=Headers([("Host", "127.0.0.1:4321")]), body=b"{}", received_at=1.0)
        cid = store.insert(_capture(request)).id
    finally:
        store.close()
    auto = run_cli("export", str(cid), cwd=project)
    assert auto.returncode == 0, auto.stderr
    assert "http://127.0.0.1:4321/events/webhook/demo/t" in auto.stdout.decode()
    given = run_cli("export", str(cid), "--port", "7000", cwd=project)
    assert "http://127.0.0.1:7000/events/webhook/demo/t" in given.stdout.decode()


def test_two_servers_on_one_store_each_keep_their_own_record_and_the_newest_live_one_wins(project):
    first = start_serve(project)
    second = None
    try:
        first_url = first.stdout.readline().strip().removeprefix("listening on ")
        wait_for(record_path(project / STORE, first.pid).exists, what="the first server's record")
        second = start_serve(project)
        second_url = second.stdout.readline().strip().removeprefix("listening on ")
        wait_for(record_path(project / STORE, second.pid).exists, what="the second server's record")
        assert running_server(project / STORE).local_url == second_url
        stop(second)
        assert not record_path(project / STORE, second.pid).exists()
        assert record_path(project / STORE, first.pid).exists()  # the other's record is left alone
        sent = run_cli("send", "github.ping", cwd=project)
        assert sent.returncode == 0, sent.stderr
        assert f"to {first_url}/" in sent.stdout.decode()
    finally:
        if second is not None and second.poll() is None:
            stop(second)
        stop(first)
    assert running_server(project / STORE) is None
