"""The command line as scripts use it (SPEC §10): subprocesses, exact JSON fields, exit codes."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import GITHUB_SECRET, ROOT, run_cli, write_answers

LIST_FIELDS = {
    "id",
    "received_at",
    "method",
    "path",
    "tenant",
    "event_type",
    "response_status",
    "signature_status",
    "flows",
    "replay_of",
    "origin",
}
SHOW_FIELDS = LIST_FIELDS | {"headers", "query", "body_base64", "body_text", "signature", "response", "runs"}


class Serve:
    """`webhook-inspector serve` as a real process on a free port."""

    def __init__(self, cwd: Path, *extra: str):
        self.cwd = cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "--answers", str(ROOT / "answers.example.json"), "serve", "--port", "0", *extra],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.first = self.proc.stdout.readline().strip()
        if "--json" in extra:
            self.url = json.loads(self.first)["listening"]
        else:
            assert self.first.startswith("listening on http://127.0.0.1:"), self.first
            self.url = self.first.split(" ")[-1]

    def post(self, path: str, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> tuple[str, str, int]:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=15)
        return out, err, self.proc.returncode


def github_sig(body: bytes) -> str:
    return "sha256=" + hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_serve_then_list_and_show(tmp_path):
    s = Serve(tmp_path)
    body = b'{"zen": "Design for failure."}'
    status, data = s.post(
        "/events/webhook/demo/github", body, {"X-Hub-Signature-256": github_sig(body), "Content-Type": "application/json"}
    )
    assert status == 200
    status, bad = s.post("/events/webhook/demo/github", body.replace(b"D", b"d"), {"X-Hub-Signature-256": github_sig(body)})
    assert status == 401 and bad["error"] == "signature invalid"
    out, err, code = s.stop()
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("[200] POST /events/webhook/demo/github  sig=valid  flows=0  ")
    assert lines[1].startswith("[401] POST /events/webhook/demo/github  sig=invalid")
    assert "answers: " in err

    listed = run_cli("list", "--json", cwd=tmp_path)
    assert listed.returncode == 0
    items = json.loads(listed.stdout)
    assert [i["id"] for i in items] == [bad["id"], data["id"]]
    assert all(set(i) == LIST_FIELDS for i in items)
    assert items[1]["signature_status"] == "valid" and items[0]["response_status"] == 401

    shown = run_cli("show", str(bad["id"]), "--json", cwd=tmp_path)
    detail = json.loads(shown.stdout)
    assert SHOW_FIELDS <= set(detail)
    assert detail["signature"]["status"] == "invalid" and detail["signature"]["hints"]
    assert detail["response"]["status"] == 401 and detail["response"]["body"]["error"] == "signature invalid"
    assert ["X-Hub-Signature-256", github_sig(body)] in detail["headers"]
    human = run_cli("show", str(bad["id"]), cwd=tmp_path)
    assert b"signature: invalid" in human.stdout and b"hint:" in human.stdout


def test_serve_json_lines(tmp_path):
    s = Serve(tmp_path, "--json")
    s.post("/events/webhook/demo/orders", b"{}")
    out, _, code = s.stop()
    assert code == 0
    [line] = out.splitlines()
    record = json.loads(line)
    assert LIST_FIELDS <= set(record) and record["response_status"] == 200


def test_list_filter_and_limit(tmp_path):
    s = Serve(tmp_path)
    for i in range(5):
        s.post(f"/events/webhook/demo/order.e{i}", b"{}")
    s.post("/nowhere", b"x")
    s.stop()
    got = json.loads(run_cli("list", "--json", "--filter", "status:404", cwd=tmp_path).stdout)
    assert [g["path"] for g in got] == ["/nowhere"]
    got = json.loads(run_cli("list", "--json", "--limit", "2", "--filter", "type:order.*", cwd=tmp_path).stdout)
    assert [g["event_type"] for g in got] == ["order.e4", "order.e3"]
    bad = run_cli("list", "--filter", "sig:maybe", cwd=tmp_path)
    assert bad.returncode == 2 and b"unknown status" in bad.stderr


def test_common_options_before_or_after_the_command(tmp_path):
    store = tmp_path / "x.sqlite3"
    for args in (["--store", str(store), "list", "--json"], ["list", "--store", str(store), "--json"]):
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == 0 and json.loads(r.stdout) == []
        assert f"no capture store at {store}".encode() in r.stderr
    assert not store.exists()  # a read command creates nothing; serve or the TUI does


def test_show_unknown_and_bad_ids(tmp_path):
    r = run_cli("show", "42", cwd=tmp_path)
    assert r.returncode == 1 and b"no capture 42" in r.stderr
    r = run_cli("show", "abc", cwd=tmp_path)
    assert r.returncode == 2 and b"not a capture id" in r.stderr


def test_port_in_use_exits_2(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    try:
        r = run_cli("serve", "--port", str(port), cwd=tmp_path)
    finally:
        sock.close()
    assert r.returncode == 2
    assert f"port {port}".encode() in r.stderr and b"--port" in r.stderr
    assert len(r.stderr.decode().strip().splitlines()[-1]) < 200


def test_bad_store_and_bad_answers_exit_2(tmp_path):
    (tmp_path / "junk").write_bytes(b"junk" * 1000)
    r = run_cli("--store", str(tmp_path / "junk"), "list", cwd=tmp_path)
    assert r.returncode == 2 and b"not a capture store" in r.stderr
    (tmp_path / "answers.json").write_text('{"events-webhook": {"enabled": "maybe"}}')
    r = run_cli("serve", "--port", "0", cwd=tmp_path)
    assert r.returncode == 2 and b"events-webhook.enabled" in r.stderr


def test_check(tmp_path):
    r = run_cli("--answers", str(ROOT / "answers.example.json"), "check", cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    # The example's public_base_url is a placeholder: never shown as the URL to paste.
    assert b"webhook URL: http://127.0.0.1:8080/events/webhook/demo/" in r.stdout
    assert b"(https://your-domain.ngrok-free.app) is a placeholder" in r.stdout
    assert b"your-domain.ngrok-free.app/events" not in r.stdout + r.stderr
    path = write_answers(tmp_path, {"signatures": {"gh": {"algorithm": "sha265", "secret": "x"}}, "colour": 1})
    r = run_cli("--answers", str(path), "check", cwd=tmp_path)
    assert r.returncode == 1
    assert f"{path}: events-webhook.signatures.gh.algorithm: unknown algorithm 'sha265'".encode() in r.stdout
    assert b"events-webhook.colour: unknown key" in r.stderr
    (tmp_path / "broken.json").write_text('{"events-webhook": {,}}')
    r = run_cli("--answers", str(tmp_path / "broken.json"), "check", cwd=tmp_path)
    assert r.returncode == 1 and f"{tmp_path / 'broken.json'}:1:21: invalid JSON".encode() in r.stdout


def test_verify(tmp_path):
    body = '{"action": "opened"}'
    sig = github_sig(body.encode())
    base = ["--answers", str(ROOT / "answers.example.json"), "verify", "--event-type", "github", "--body", body, "--json"]
    r = run_cli(*base, "-H", f"X-Hub-Signature-256: {sig}", cwd=tmp_path)
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert {"status", "scheme", "algorithm", "header", "reason", "hints"} <= set(data)
    assert (data["status"], data["scheme"]) == ("valid", "github")
    r = run_cli(*base, "-H", f"X-Hub-Signature-256: {sig[:-1]}0", cwd=tmp_path)
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "invalid"
    (tmp_path / "body.bin").write_bytes(body.encode())
    r = run_cli(
        "--answers",
        str(ROOT / "answers.example.json"),
        "verify",
        "--event-type",
        "github",
        "--body-file",
        str(tmp_path / "body.bin"),
        "-H",
        f"X-Hub-Signature-256: {sig}",
        cwd=tmp_path,
    )
    assert r.returncode == 0 and r.stdout.startswith(b"valid")
    r = run_cli(*base, "-H", "no colon here", cwd=tmp_path)
    assert r.returncode == 2 and b"no colon" in r.stderr
    r = run_cli("verify", "--event-type", "github", cwd=tmp_path)
    assert r.returncode == 2


def test_verify_stripe_with_fixed_clock(tmp_path):
    body = b'{"type": "payment_intent.succeeded"}'
    t = 1600000000
    mac = hmac.new(b"whsec_example_stripe_secret_change_me", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    args = [
        "--answers",
        str(ROOT / "answers.example.json"),
        "verify",
        "--event-type",
        "stripe",
        "--body",
        body.decode(),
        "-H",
        f"Stripe-Signature: t={t},v1={mac}",
        "--json",
    ]
    assert run_cli(*args, "--now", str(t + 10), cwd=tmp_path).returncode == 0
    r = run_cli(*args, "--now", str(t + 1000), cwd=tmp_path)
    assert r.returncode == 1 and json.loads(r.stdout)["status"] == "expired"


def test_init_writes_and_refuses_to_overwrite(tmp_path):
    r = run_cli("init", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    answers = json.loads((tmp_path / "answers.json").read_text())
    secrets = {k: v["secret"] for k, v in answers["events-webhook"]["signatures"].items()}
    example = json.loads((ROOT / "answers.example.json").read_text())["events-webhook"]["signatures"]
    assert set(secrets) == set(example)
    assert all(secrets[k] != example[k]["secret"] for k in secrets)
    assert sorted(p.name for p in (tmp_path / "flows").iterdir()) == sorted(p.name for p in (ROOT / "flows").glob("*.ygtc"))
    assert run_cli("check", cwd=tmp_path).returncode == 0
    before = (tmp_path / "answers.json").read_bytes()
    r = run_cli("init", cwd=tmp_path)
    assert r.returncode == 2 and b"never overwrites" in r.stderr
    assert (tmp_path / "answers.json").read_bytes() == before


def test_bundled_files_match_the_package_copies():
    assert (ROOT / "answers.example.json").read_text() == (ROOT / "inspector/starter/answers.example.json").read_text()
    for flow in (ROOT / "inspector/starter/flows").glob("*.ygtc"):
        assert (ROOT / "flows" / flow.name).read_text() == flow.read_text()


def test_python_m_and_help(tmp_path):
    r = run_cli("--help", cwd=tmp_path)
    assert r.returncode == 0 and b"serve" in r.stdout
    r = run_cli("frobnicate", cwd=tmp_path)
    assert r.returncode == 2


def test_serve_reloads_answers_and_flows_without_restart(tmp_path):
    import shutil

    answers = tmp_path / "answers.json"
    answers.write_text('{"events-webhook": {}}')
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(ROOT / "flows" / "on_webhook.ygtc", flows)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--answers", str(answers), "--flows", str(flows), "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = proc.stdout.readline().strip().split()[-1]

    def post(path):
        req = urllib.request.Request(url + path, data=b"{}", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read()
                return r.status, json.loads(body) if body else None
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        assert post("/events/webhook/demo/order.created") == (200, {"success": True})
        (flows / "broken.ygtc").write_text("nodes: [\n")
        (flows / "new.ygtc").write_text(
            "name: new\nnodes:\n  - id: r\n    type: http_response\n    config: {status: 207}\ntriggers:\n  - event_type: fresh\n"
        )
        answers.write_text('{"events-webhook": {"enabled": "maybe"}}')  # broken: the old one is kept
        deadline = time.time() + 10
        while post("/events/webhook/demo/fresh")[0] != 207 and time.time() < deadline:
            time.sleep(0.2)
        assert post("/events/webhook/demo/fresh")[0] == 207
        assert post("/events/webhook/demo/order.created")[0] == 200
        answers.write_text('{"events-webhook": {"enabled": false}}')
        while post("/events/webhook/demo/fresh")[0] != 503 and time.time() < deadline + 10:
            time.sleep(0.2)
        assert post("/events/webhook/demo/fresh")[0] == 503
    finally:
        proc.terminate()
        _, err = proc.communicate(10)
    assert "broken.ygtc:2:1: YAML syntax error" in err
    assert "events-webhook.enabled" in err and "keeping the previous configuration" in err
