"""`serve` and `check` with a tunnel, as a user runs them: a real subprocess, pyngrok, the fake
agent, and requests through the public URL (SPEC §8, §10)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.harness import ServeProcess, inspector_argv

from .conftest import FAKE_NGROK, free_port


def cli_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NGROK_", "FAKE_NGROK_", "PYNGROK_"))}
    env.update(
        HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"), FAKE_NGROK_CALLS=str(tmp_path / "calls.txt")
    )
    env.update(extra)
    return env


class Serve(ServeProcess):
    """`webhook-inspector serve` in a subprocess, in the environment cli_env makes."""

    def __init__(self, tmp_path, *args, **env):
        super().__init__(tmp_path, tmp_path / "captures.sqlite3", *args, env=cli_env(tmp_path, **env))


def post(url, body=b"{}", method="POST"):
    req = urllib.request.Request(url, data=body if method == "POST" else None, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def fake_pid(tmp_path) -> int:
    lines = (tmp_path / "calls.txt").read_text().splitlines()
    return int(next(ln for ln in lines if ln.startswith("PID ")).split()[1])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie still answers kill(0); its state says it is done
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("workers", ["1", "3"])  # with 3, the self-check usually lands on a worker
def test_serve_with_ngrok_prints_the_public_url_and_a_passing_self_check(tmp_path, workers):
    s = Serve(tmp_path, "--tunnel", "ngrok", "--ngrok-path", FAKE_NGROK, "--workers", workers, NGROK_AUTHTOKEN="fake-token")
    listening = s.next_line()
    assert listening.startswith("listening on http://127.0.0.1:")
    public = s.next_line()
    assert public.startswith("public url: http://127.0.0.1:")
    url = public.split(": ", 1)[1]
    check = s.next_line()
    assert check.startswith("self-check: ok (") and check.endswith(" ms)")

    # Through the public URL, a webhook runs its flow, which answers.
    status, body = post(url + "/events/webhook/demo/order.created", b'{"id": 7}')
    assert (status, body) == (200, {"success": True})
    assert s.next_line().startswith("[200] POST /events/webhook/demo/order.created  sig=unsigned  flows=1")
    # A self-check path with a nonce not in flight is an ordinary captured 404.
    status, body = post(url + "/__inspector/selfcheck/guessed", method="GET")
    assert status == 404 and "id" in body
    assert s.next_line().startswith("[404] GET /__inspector/selfcheck/guessed")

    pid = fake_pid(tmp_path)
    code, stderr = s.stop()
    assert code == 0
    assert f"  handle_webhook ← event order.created: {url}/events/webhook/demo/order.created" in stderr
    assert f"note: answers.json's public_base_url (https://your-domain.ngrok-free.app) is a placeholder; senders must call {url}" in stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid), "the ngrok agent outlived serve"


def test_serve_with_a_refused_authtoken_says_why_and_keeps_serving_locally(tmp_path):
    s = Serve(tmp_path, "--tunnel", "ngrok", "--ngrok-path", FAKE_NGROK, FAKE_NGROK_MODE="auth-fail", NGROK_AUTHTOKEN="bad-token")
    local = s.next_line().split("listening on ", 1)[1]
    failed = s.next_line()
    assert failed.startswith("tunnel: FAILED — ngrok refused the authtoken (ERR_NGROK_105: The authtoken you specified")
    status, _ = post(local + "/events/webhook/demo/order.created")
    assert status == 200
    assert s.next_line().startswith("[200] POST /events/webhook/demo/order.created")
    code, stderr = s.stop()
    assert code == 0
    assert "  fix: copy your authtoken from https://dashboard.ngrok.com/get-started/your-authtoken" in stderr
    assert f"  webhooks still reach {local} (local only)" in stderr
    assert "ERROR:" not in stderr and "Traceback" not in stderr  # ngrok's own error box stays out of the way


def test_serve_when_ngrok_dies_mid_session(tmp_path):
    s = Serve(
        tmp_path, "--tunnel", "ngrok", "--ngrok-path", FAKE_NGROK, FAKE_NGROK_MODE="die-after-requests:1", NGROK_AUTHTOKEN="fake-token"
    )
    s.next_line()
    assert s.next_line().startswith("public url: ")
    failed = "tunnel: FAILED — ngrok exited mid-session (exit code 1): heartbeat timeout, terminating session"
    line = s.next_line()
    if line.startswith("self-check: ok"):  # the agent dies right after forwarding it; which line wins may vary
        line = s.next_line()
    assert line == failed
    code, stderr = s.stop()
    assert code == 0 and "  fix: start the tunnel again" in stderr


def test_serve_with_a_public_url_that_reaches_it(tmp_path):
    port = free_port()
    s = Serve(tmp_path, "--port", str(port), "--public-url", f"http://127.0.0.1:{port}/")
    assert s.next_line() == f"listening on http://127.0.0.1:{port}"
    assert s.next_line() == f"public url: http://127.0.0.1:{port}"
    assert s.next_line().startswith("self-check: ok (")
    code, stderr = s.stop()
    assert code == 0


def test_serve_with_a_public_url_that_is_not_a_url(tmp_path):
    # Issue #21: a --public-url that is no URL is a usage error before anything starts.
    s = Serve(tmp_path, "--public-url", "abc.trycloudflare.com")
    assert s.proc.wait(timeout=30) == 2
    assert (
        "argument --public-url: 'abc.trycloudflare.com' is not a URL: it must start with https:// or http:// and name a host"
        in s.proc.stderr.read()
    )
    assert not (tmp_path / "captures.sqlite3").exists()


def test_serve_json_lines(tmp_path):
    s = Serve(tmp_path, "--json", "--tunnel", "ngrok", "--ngrok-path", FAKE_NGROK, NGROK_AUTHTOKEN="fake-token")
    assert "listening" in json.loads(s.next_line())
    public = json.loads(s.next_line())
    check = json.loads(s.next_line())["self_check"]
    assert check["ok"] is True and check["public_url"] == public["public_url"] and isinstance(check["ms"], int)
    assert s.stop()[0] == 0


def test_serve_auto_without_a_token_is_local_only_and_says_how_to_get_a_url(tmp_path):
    s = Serve(tmp_path)  # --tunnel auto, HOME without an ngrok config, no NGROK_AUTHTOKEN
    local = s.next_line().split("listening on ", 1)[1]
    assert post(local + "/events/webhook/demo/order.created")[0] == 200
    assert s.next_line().startswith("[200] POST")
    code, stderr = s.stop()
    assert code == 0
    assert "note: no tunnel: no ngrok authtoken found (NGROK_AUTHTOKEN, " in stderr
    assert not (tmp_path / "calls.txt").exists()  # ngrok never started


def test_serve_tunnel_ngrok_without_a_token_says_so_first_and_how_to_set_one(tmp_path):
    # No agent anywhere either: the first words must be about the authtoken, not a download.
    s = Serve(tmp_path, "--tunnel", "ngrok", PATH=str(tmp_path / "empty-bin"), PYNGROK_NGROK_PATH=str(tmp_path / "no" / "ngrok"))
    local = s.next_line().split("listening on ", 1)[1]
    failed = s.next_line()
    assert failed.startswith("tunnel: FAILED — no ngrok authtoken is configured (looked at NGROK_AUTHTOKEN, "), failed
    assert post(local + "/events/webhook/demo/order.created")[0] == 200
    code, stderr = s.stop()
    assert code == 0
    fix = next(line for line in stderr.splitlines() if line.startswith("  fix: "))
    assert "https://dashboard.ngrok.com/get-started/your-authtoken" in fix
    assert "`ngrok config add-authtoken TOKEN`" in fix and "`export NGROK_AUTHTOKEN=TOKEN`" in fix
    assert "download" not in failed + stderr and "--version" not in stderr
    assert not (tmp_path / "no").exists() and not (tmp_path / "calls.txt").exists()  # nothing fetched, nothing run


def test_check_with_a_public_url_that_is_not_a_url_is_a_usage_error(tmp_path):
    r = run_check(tmp_path, "--public-url", "not a url")
    assert r.returncode == 2 and "argument --public-url: 'not a url' is not a URL" in r.stderr


def run_check(tmp_path, *args):
    cmd = inspector_argv("check", *args)
    return subprocess.run(cmd, cwd=tmp_path, env=cli_env(tmp_path), capture_output=True, text=True, timeout=60)


def test_check_prints_the_urls_to_paste(tmp_path):
    r = run_check(tmp_path, "--public-url", "https://abc.trycloudflare.com/")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "public url: https://abc.trycloudflare.com (--public-url)" in r.stdout.splitlines()
    assert "  handle_webhook ← event order.created: https://abc.trycloudflare.com/events/webhook/demo/order.created" in r.stdout
    assert (
        "note: answers.json's public_base_url (https://your-domain.ngrok-free.app) is a placeholder; senders must call https://abc.trycloudflare.com"
        in r.stderr
    )

    r = run_check(tmp_path)
    assert (
        "public url: none yet — public_base_url in answers.json (https://your-domain.ngrok-free.app) is a placeholder; the URLs below are local"
        in r.stdout
    )
    assert "  handle_webhook ← event order.created: http://127.0.0.1:8080/events/webhook/demo/order.created" in r.stdout

    r = run_check(tmp_path, "--tunnel", "ngrok")
    assert "public url: assigned by ngrok when `serve` or the TUI starts the tunnel" in r.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (("--tunnel", "ngrok", "--public-url", "https://x.example"), "public url: --tunnel ngrok and --public-url both given"),
    ],
)
def test_check_rejects_contradictory_or_broken_tunnel_options(tmp_path, args, expected):
    r = run_check(tmp_path, *args)
    assert r.returncode == 1
    assert any(line.startswith(expected) for line in r.stdout.splitlines()), r.stdout
    assert "  fix: " in r.stderr
