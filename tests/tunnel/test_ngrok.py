"""NgrokTunnel: pyngrok 9 driving the fake agent for real — start, URLs, self-check through the
forwarder, stop, and every way it fails."""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest

from inspector.tunnel import _spawned, open_tunnel, pipeline_follower

from .conftest import FAKE_NGROK


class Recorder:
    """Every status a tunnel publishes, and the thread it was published on."""

    def __init__(self, tunnel):
        self.statuses = []
        self.threads = set()
        tunnel.subscribe(self)

    def __call__(self, status):
        self.statuses.append(status)
        self.threads.add(threading.get_ident())

    @property
    def states(self):
        out = []
        for s in self.statuses:
            if not out or out[-1] != s.state:
                out.append(s.state)
        return out


async def post(url, body=b"{}", headers=None):
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers or {"Content-Type": "application/json"}) as resp:
            return resp.status, await resp.read()


async def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def test_start_selfcheck_through_the_forwarder_and_stop(server, fake, make_ngrok):
    tunnel = make_ngrok()
    seen = Recorder(tunnel)
    tunnel.subscribe(pipeline_follower(server.pipeline))

    status = await open_tunnel(tunnel, server.receiver)

    assert status.state == "up" and status.public_url.startswith("http://127.0.0.1:")
    assert status.public_url != server.url  # the forwarder, not the server itself
    assert seen.states == ["starting", "up"]
    assert seen.threads == {threading.get_ident()}  # callbacks arrive on the loop's thread
    assert status.selfcheck.ok and status.selfcheck.line().startswith("self-check: ok (")
    assert server.pipeline.public_url == status.public_url
    assert server.pipeline.webhook_url("demo", "order.created") == f"{status.public_url}/events/webhook/demo/order.created"
    assert list(server.store.iter_newest()) == []  # the self-check is not captured

    # A webhook through the public URL is captured like any other, with ngrok's forwarding headers.
    code, body = await post(status.public_url + "/events/webhook/demo/order.created", b'{"id": 1}')
    assert code == 200
    capture = server.store.get(json.loads(body)["id"])
    assert capture.request.body == b'{"id": 1}' and capture.request.headers.get("X-Forwarded-For") == "127.0.0.1"

    proc = _spawned[FAKE_NGROK]
    stopped = await tunnel.stop()
    assert stopped.state == "stopped" and stopped.public_url is None
    assert server.pipeline.public_url is None
    assert proc.poll() is not None

    calls = fake.calls()
    start = calls[0].split()
    assert start[:5] == ["START", "start", "--none", "--log", "stdout"] and "--config" in start
    assert "GET /api/endpoints" in calls  # pyngrok's health probe
    assert "POST /api/endpoints" in calls
    assert calls[-1] == "DELETE /api/endpoints/webhook-inspector"


async def test_a_version_2_ngrok_config_uses_api_tunnels(server, fake, make_ngrok, tmp_path):
    config = tmp_path / "ngrok.yml"
    config.write_text('version: "2"\nauthtoken: fake-token\n')
    tunnel = make_ngrok(config_path=str(config))
    status = await open_tunnel(tunnel, server.receiver)
    assert status.state == "up" and status.selfcheck.ok
    await tunnel.stop()
    calls = fake.calls()
    assert "POST /api/tunnels" in calls and "POST /api/endpoints" not in calls
    assert calls[-1] == "DELETE /api/tunnels/webhook-inspector"


async def test_restart_after_stop_gets_a_new_url(server, fake, make_ngrok):
    tunnel = make_ngrok()
    first = (await tunnel.start(server.url)).public_url
    await tunnel.stop()
    second = await tunnel.start(server.url)
    assert second.state == "up" and second.public_url != first
    assert (await tunnel.self_check(server.receiver)).ok
    await tunnel.stop()


async def test_authtoken_refused_keeps_localhost_working(server, fake, make_ngrok):
    fake.mode("auth-fail")
    tunnel = make_ngrok(env={"PATH": "", "HOME": "/nonexistent", "NGROK_AUTHTOKEN": "not-a-real-token"})
    seen = Recorder(tunnel)
    status = await open_tunnel(tunnel, server.receiver)
    assert status.state == "failed" and seen.states == ["starting", "failed"]
    assert status.reason.startswith("ngrok refused the authtoken (ERR_NGROK_105: The authtoken you specified"), status.reason
    assert "https://dashboard.ngrok.com/get-started/your-authtoken" in status.fix and "NGROK_AUTHTOKEN" in status.fix
    assert "--authtoken not-a-real-token" in fake.calls()[0]
    assert "not-a-real-token" not in status.reason + status.fix  # ngrok's message repeats it; we do not
    code, _ = await post(server.url + "/events/webhook/demo/test")
    assert code == 200


async def test_no_authtoken_at_all_is_said_before_the_agent_runs(server, fake, make_ngrok, tmp_path):
    fake.mode("require-token")
    config = tmp_path / "no-token.yml"
    config.write_text('version: "3"\n')
    status = await make_ngrok(config_path=str(config)).start(server.url)
    assert status.state == "failed"
    assert status.reason == f"no ngrok authtoken is configured (looked at NGROK_AUTHTOKEN, {config})"
    assert status.fix == (
        "copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken, then "
        "`ngrok config add-authtoken TOKEN` (with the ngrok agent installed) or `export NGROK_AUTHTOKEN=TOKEN`, "
        "and start the tunnel again; or pass --public-url for a tunnel you run"
    )
    assert fake.calls() == []  # it could only have said ERR_NGROK_4018


async def test_authtoken_from_ngroks_own_config(server, fake, make_ngrok, tmp_path):
    fake.mode("require-token")
    config = tmp_path / "user-ngrok.yml"
    config.write_text('version: "3"\nagent:\n    authtoken: from-the-config-file\n')
    tunnel = make_ngrok(config_path=None, authtoken_paths=[str(config)])
    status = await tunnel.start(server.url)
    assert status.state == "up"
    start = fake.calls()[0]
    assert f"--config {config}" in start and "--authtoken" not in start  # ngrok reads it itself
    await tunnel.stop()


async def test_agent_refusing_the_tunnel_is_explained_and_not_left_running(server, fake, make_ngrok):
    fake.mode("refuse-endpoint")
    status = await make_ngrok().start(server.url)
    assert status.state == "failed"
    assert status.reason == "ngrok refused the tunnel: The endpoint 'https://inspector.ngrok.app' is already online (ERR_NGROK_334)"
    proc = _spawned[FAKE_NGROK]
    proc.wait(timeout=5)  # pyngrok would have left this agent running


async def test_agent_exiting_at_start(server, fake, make_ngrok):
    fake.mode("exit-at-start")
    status = await make_ngrok().start(server.url)
    assert status.state == "failed"
    assert status.reason.startswith("ngrok exited while starting (exit code 2)")
    assert "panic: runtime error" in status.reason  # its stderr, captured rather than spilled on the terminal
    assert "--version" in status.fix


async def test_offline_agent_reports_while_starting_then_fails(server, fake, make_ngrok):
    fake.mode("offline")
    tunnel = make_ngrok(startup_timeout=2.0)  # room for a slow machine to print the first error
    seen = Recorder(tunnel)
    status = await tunnel.start(server.url)
    assert status.state == "failed"
    assert status.reason.startswith("ngrok cannot reach its service — are you offline?")
    assert "no such host" in status.reason and "--public-url" in status.fix
    assert any(s.state == "starting" and (s.detail or "").startswith("ngrok reports: failed to dial") for s in seen.statuses)


async def test_silent_agent_is_killed_after_the_startup_timeout(server, fake, make_ngrok):
    fake.mode("hang")
    started = time.monotonic()
    status = await make_ngrok(startup_timeout=0.5).start(server.url)
    assert status.state == "failed" and status.reason == "ngrok did not start a session within 0.5 s"
    assert time.monotonic() - started < 5
    assert _spawned[FAKE_NGROK].poll() is not None


async def test_stop_while_starting_ends_at_once(server, fake, make_ngrok):
    fake.mode("hang")
    tunnel = make_ngrok(startup_timeout=30)
    starting = asyncio.create_task(tunnel.start(server.url))
    await wait_for(lambda: any(line.startswith("START") for line in fake.calls()))
    began = time.monotonic()
    status = await tunnel.stop()
    assert status.state == "stopped"
    assert (await asyncio.wait_for(starting, 5)).state == "stopped"
    assert time.monotonic() - began < 3
    assert _spawned[FAKE_NGROK].poll() is not None


async def test_agent_dying_mid_session(server, fake, make_ngrok):
    fake.mode("die-after-requests:1")
    tunnel = make_ngrok()
    seen = Recorder(tunnel)
    tunnel.subscribe(pipeline_follower(server.pipeline))
    status = await open_tunnel(tunnel, server.receiver)
    assert status.selfcheck is not None and status.selfcheck.ok  # the one request it forwards
    await wait_for(lambda: tunnel.status.state == "failed")
    failed = tunnel.status
    assert failed.reason == "ngrok exited mid-session (exit code 1): heartbeat timeout, terminating session"
    assert failed.fix.startswith("start the tunnel again")
    assert failed.public_url is None and server.pipeline.public_url is None
    assert seen.states == ["starting", "up", "failed"]
    code, _ = await post(server.url + "/events/webhook/demo/test")
    assert code == 200
    assert (await tunnel.stop()).state == "stopped"


async def test_self_check_after_death_or_before_start_says_why(server, fake, make_ngrok):
    tunnel = make_ngrok()
    result = await tunnel.self_check(server.receiver)
    assert not result.ok and result.reason == "no public URL to check: the tunnel is off"


# Finding and downloading the binary


def _fake_archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(FAKE_NGROK, arcname="ngrok")
        padding = os.urandom(400_000)  # as big as a few read chunks, so progress has steps
        info = tarfile.TarInfo("LICENSE.bin")
        info.size = len(padding)
        tar.addfile(info, io.BytesIO(padding))
    return buf.getvalue()


@pytest.fixture
def cdn():
    """A loopback stand-in for ngrok's CDN, serving a .tgz that holds the fake agent."""
    archive = _fake_archive()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(archive)))
            self.end_headers()
            for i in range(0, len(archive), 1024):  # small writes: several progress steps
                self.wfile.write(archive[i : i + 1024])

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/ngrok-v3-stable-linux-amd64.tgz"
    httpd.shutdown()


async def test_downloads_when_no_binary_is_found_and_shows_progress(server, fake, make_ngrok, cdn, tmp_path):
    default = tmp_path / "pyngrok-default" / "ngrok"
    tunnel = make_ngrok(ngrok_path=None, default_path=str(default), download_url=cdn)
    seen = Recorder(tunnel)
    status = await open_tunnel(tunnel, server.receiver)
    assert status.state == "up" and status.selfcheck.ok
    details = [s.detail for s in seen.statuses if s.state == "starting" and s.detail]
    assert details[0] == "downloading ngrok from " + cdn.split("/")[2]
    assert "downloading ngrok: 100%" in details and "installing ngrok" in details
    assert len([d for d in details if d.endswith("%")]) >= 3
    assert os.access(default, os.X_OK) and tunnel.binary.source == "downloaded"
    await tunnel.stop()


async def test_without_an_authtoken_nothing_is_downloaded_and_the_token_is_the_first_word(server, fake, make_ngrok, cdn, tmp_path):
    fake.mode("require-token")
    default = tmp_path / "pyngrok-default" / "ngrok"
    home = tmp_path / "home"
    tunnel = make_ngrok(
        ngrok_path=None,
        config_path=None,
        authtoken_paths=None,
        default_path=str(default),
        download_url=cdn,
        env={"PATH": str(tmp_path / "empty-bin"), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")},
    )
    seen = Recorder(tunnel)
    status = await tunnel.start(server.url)
    assert status.state == "failed"
    assert status.reason == (
        f"no ngrok authtoken is configured (looked at NGROK_AUTHTOKEN, {home / '.config' / 'ngrok' / 'ngrok.yml'}, "
        f"{home / '.ngrok2' / 'ngrok.yml'})"
    )
    assert "ngrok config add-authtoken TOKEN" in status.fix and "NGROK_AUTHTOKEN=TOKEN" in status.fix
    assert not any("download" in (s.detail or "") + (s.reason or "") for s in seen.statuses)
    assert not default.exists() and fake.calls() == []


def _pyngrok_console_script(path, ran):
    """What pip installs as `ngrok` with pyngrok; this one only notes that it was run."""
    import sys

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(ran)!r}, 'a').write('ran\\n')\nsys.exit(3)\n"
        "from pyngrok.ngrok import main\nif __name__ == '__main__':\n    sys.exit(main())\n"
    )
    path.chmod(0o755)


async def test_pyngroks_ngrok_command_on_path_is_never_run_as_the_agent(server, fake, make_ngrok, tmp_path):
    ran = tmp_path / "shim-ran"
    _pyngrok_console_script(tmp_path / "venv-bin" / "ngrok", ran)
    agent_bin = tmp_path / "agent-bin"
    agent_bin.mkdir()
    (agent_bin / "ngrok").symlink_to(FAKE_NGROK)
    # The shim first on PATH, the agent after it: the agent is used.
    env = {"PATH": f"{tmp_path / 'venv-bin'}:{agent_bin}", "HOME": str(tmp_path / "home")}
    tunnel = make_ngrok(ngrok_path=None, env=env)
    status = await tunnel.start(server.url)
    assert status.state == "up" and tunnel.binary.path == str(agent_bin / "ngrok") and tunnel.binary.source == "PATH"
    await tunnel.stop()
    # Only the shim: it is skipped, and the agent is looked for (here: a download that fails).
    tunnel = make_ngrok(ngrok_path=None, env={"PATH": str(tmp_path / "venv-bin"), "HOME": str(tmp_path / "home")})
    status = await tunnel.start(server.url)
    assert status.state == "failed" and status.reason.startswith("ngrok is not installed (looked at --ngrok-path, NGROK_PATH, PATH and ")
    assert "--version" not in status.reason + status.fix
    assert not ran.exists()


async def test_pyngroks_ngrok_command_named_as_the_agent_is_refused(server, fake, make_ngrok, tmp_path):
    ran = tmp_path / "shim-ran"
    shim = tmp_path / "venv-bin" / "ngrok"
    _pyngrok_console_script(shim, ran)
    status = await make_ngrok(ngrok_path=str(shim)).start(server.url)
    assert status.state == "failed"
    assert status.reason == f"--ngrok-path ({shim}) is pyngrok's `ngrok` command, not the ngrok agent"
    assert "https://ngrok.com/download" in status.fix and "--version" not in status.fix
    assert not ran.exists()


async def test_offline_without_a_binary(server, fake, make_ngrok, tmp_path):
    tunnel = make_ngrok(ngrok_path=None)  # nothing on PATH, nothing at the default path, CDN refused
    status = await tunnel.start(server.url)
    assert status.state == "failed"
    assert status.reason.startswith("ngrok is not installed (looked at --ngrok-path, NGROK_PATH, PATH and ")
    assert "could not be downloaded" in status.reason
    assert "https://ngrok.com/download" in status.fix and "--ngrok-path" in status.fix and "--public-url" in status.fix
    assert not (tmp_path / "pyngrok-default" / "ngrok").exists()


async def test_a_named_binary_that_is_missing_is_not_silently_replaced(server, fake, make_ngrok, tmp_path):
    status = await make_ngrok(ngrok_path=str(tmp_path / "nope" / "ngrok"), download_url="http://127.0.0.1:9/x").start(server.url)
    assert status.state == "failed"
    assert status.reason == f"the ngrok binary given by --ngrok-path ({tmp_path / 'nope' / 'ngrok'}) does not exist"
    assert fake.calls() == []
