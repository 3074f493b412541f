"""Resend, forward, export and import against real servers and a real store (SPEC §9)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time

import aiohttp
import pytest
from aiohttp import web

from inspector.config import load_config, parse_config
from inspector.export import ImportFailed, export, read_import, to_curl
from inspector.flow import Engine, FlowSet
from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.replay import Edits, ReplayError, deliver, prepare, target_url
from inspector.signatures import Masker
from inspector.store import Store
from tests.conftest import ROOT, run_cli

STRIPE_SECRET = "whsec_example_stripe_secret_change_me"


def refused_url(held: socket.socket) -> str:
    """A URL nothing answers at: the port is bound (so no one else takes it) but not listening.
    A fixed port such as 1 is not safe: any process on the machine may listen there."""
    held.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{held.getsockname()[1]}"


def example_config():
    return load_config(ROOT / "answers.example.json", env={})


class Echo:
    """An outside target that records what it got and answers 201 with a JSON body."""

    def __init__(self, status=201, delay=0.0):
        self.status, self.delay = status, delay
        self.got: list[tuple[str, str, list, bytes]] = []

    async def handle(self, request: web.BaseRequest):
        body = await request.read()
        self.got.append((request.method, request.raw_path, [(k.decode(), v.decode("latin-1")) for k, v in request.raw_headers], body))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"echo": len(body)}, status=self.status, headers={"X-Target": "yes"})

    async def __aenter__(self):
        self.runner = web.ServerRunner(web.Server(self.handle, auto_decompress=False))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


def stripe_capture(now=1_700_000_000.0, body=b'{"type": "payment_intent.succeeded"}'):
    sig = hmac.new(STRIPE_SECRET.encode(), f"{int(now)}.".encode() + body, hashlib.sha256).hexdigest()
    headers = Headers(
        [
            ("Host", "x"),
            ("Content-Type", "application/json"),
            ("Stripe-Signature", f"t={int(now)},v1={sig}"),
            ("Content-Length", str(len(body))),
            ("Connection", "keep-alive"),
        ]
    )
    return Capture(
        7,
        Request("POST", "/events/webhook/demo/stripe", "a=1", headers, body, "1.2.3.4", now),
        "demo",
        "stripe",
        SignatureResult("valid", "stripe"),
    )


def test_prepare_as_captured_drops_hop_by_hop_and_host():
    req, note = prepare(stripe_capture(), example_config(), signed_url_base="http://x")
    assert note is None
    assert [k for k, _ in req.headers] == ["Content-Type", "Stripe-Signature"]
    assert req.body == stripe_capture().request.body and req.query == "a=1"


def test_resign_gives_a_fresh_valid_stripe_signature():
    cfg = example_config()
    old = stripe_capture()
    req, note = prepare(old, cfg, resign=True, signed_url_base="http://x", now=1_800_000_000)
    assert "stripe" in note
    assert req.headers.get("Stripe-Signature").startswith("t=1800000000,")
    p = Pipeline(cfg, None)
    assert p.verify(req, "stripe", now=1_800_000_010).status == "valid"
    assert p.verify(old.request, "stripe", now=1_800_000_010).status == "expired"


def test_edits_then_resign():
    cfg = example_config()
    edits = Edits(
        method="put",
        path="/events/webhook/demo/stripe?b=2",
        set_headers=(("X-New", "1"),),
        remove_headers=("Content-Type",),
        body=b'{"edited": true}',
    )
    req, _ = prepare(stripe_capture(), cfg, resign=True, edits=edits, signed_url_base="http://x", now=1_800_000_000)
    assert (req.method, req.path, req.query, req.body) == ("PUT", "/events/webhook/demo/stripe", "b=2", b'{"edited": true}')
    assert "Content-Type" not in req.headers and req.headers.get("X-New") == "1"
    assert Pipeline(cfg, None).verify(req, "stripe", now=1_800_000_000).status == "valid"


def test_cannot_resign_public_key_or_unsigned_or_truncated():
    cfg = parse_config(
        json.dumps(
            {"events-webhook": {"signatures": {"discord": {"algorithm": "discord", "secret": "ab" * 32, "header": "X-Signature-Ed25519"}}}}
        ),
        "a.json",
        {},
    )
    cap = Capture(
        1,
        Request("POST", "/events/webhook/demo/discord", "", Headers([("X-Signature-Ed25519", "00")]), b"{}"),
        "demo",
        "discord",
        SignatureResult("invalid"),
    )
    with pytest.raises(ReplayError, match="public-key"):
        prepare(cap, cfg, resign=True, signed_url_base="http://x")
    with pytest.raises(ReplayError, match="nothing to re-sign"):
        prepare(
            cap.with_(event_type="other", request=Request("POST", "/events/webhook/demo/other", "", Headers(), b"")),
            parse_config('{"events-webhook": {}}', "a", {}),
            resign=True,
            signed_url_base="http://x",
        )
    big = cap.with_(request=Request("POST", "/x", "", Headers(), b"x" * 10, truncated=True, size=100))
    with pytest.raises(ReplayError, match="cannot be resent exactly"):
        prepare(big, cfg, signed_url_base="http://x")


async def test_deliver_to_a_target_and_failures():
    async with Echo() as echo:
        req = Request("POST", "/hook", "q=1", Headers([("X-A", "1"), ("Content-Type", "application/octet-stream")]), b"\x00\xffbin")
        d = await deliver(req, target_url(echo.url, req))
        assert d.response.status == 201 and json.loads(d.response.body) == {"echo": 5} and d.error is None
        method, path, headers, body = echo.got[0]
        assert (method, path, body) == ("POST", "/hook?q=1", b"\x00\xffbin")
        names = [k for k, _ in headers]
        assert "User-Agent" not in names and "Accept" not in names  # only what was captured
    with socket.socket() as held:
        d = await deliver(req, refused_url(held) + "/hook")
    assert d.response is None and "cannot connect" in d.error
    async with Echo(delay=2) as slow:
        d = await deliver(req, slow.url + "/hook", timeout=0.2)
        assert d.response is None and "did not answer within 0.2 s" in d.error


async def test_deliver_to_a_server_answering_garbage():
    async def garbage(reader, writer):
        await reader.read(100)
        writer.write(b"this is not http\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    d = await deliver(Request("POST", "/", "", Headers(), b"x"), f"http://127.0.0.1:{port}/")
    server.close()
    assert d.response is None and d.error


class Serving:
    def __init__(self, tmp_path, forward_to=None):
        self.store = Store(tmp_path / "s.sqlite3")
        self.pipeline = Pipeline(example_config(), self.store, engine=Engine(FlowSet.load(ROOT / "flows")), forward_to=forward_to)
        self.receiver = Receiver(self.pipeline, "127.0.0.1", 0)

    async def __aenter__(self):
        await self.receiver.start()
        return self

    async def __aexit__(self, *exc):
        await self.receiver.stop()
        await self.pipeline.drain(5)
        await self.pipeline.close()


async def test_forward_mode_answers_with_the_target(tmp_path):
    async with Echo(status=299) as echo, Serving(tmp_path, forward_to=echo.url + "/app/hook") as s:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                s.receiver.url + "/events/webhook/demo/order.created?x=1",
                data=b'{"message": "hi"}',
                headers={"Content-Type": "application/json"},
            ) as resp:
                assert resp.status == 299 and await resp.json() == {"echo": 17} and resp.headers["X-Target"] == "yes"
                cid = int(resp.headers["X-Inspector-Capture"])
        assert echo.got[0][1] == "/app/hook?x=1"
        await s.pipeline.drain(5)
        c = s.store.get(cid)
        assert c.response.status == 299 and "forwarded to" in c.notes[0]
        run = c.runs[0].to_json()
        assert run["flow"] == "handle_webhook" and run["steps"][-1]["status"] == "unused"


async def test_forward_target_down_is_a_clear_502(tmp_path):
    held = socket.socket()
    down = refused_url(held) + "/hook"
    async with Serving(tmp_path, forward_to=down) as s:
        async with aiohttp.ClientSession() as session:
            async with session.post(s.receiver.url + "/events/webhook/demo/x", data=b"{}") as resp:
                assert resp.status == 502
                data = await resp.json()
        assert data["target"] == down and "cannot connect" in data["reason"]
        assert s.store.count() == 1
    held.close()


async def test_forward_skips_failed_signatures(tmp_path):
    async with Echo() as echo, Serving(tmp_path, forward_to=echo.url) as s:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                s.receiver.url + "/events/webhook/demo/github", data=b"{}", headers={"X-Hub-Signature-256": "sha256=00"}
            ) as resp:
                assert resp.status == 401
        assert echo.got == []


def test_curl_export_reproduces_exact_bytes(tmp_path):
    async def go():
        async with Echo() as echo:
            for body in (b'{"a": "it\'s \\u00e9 caf\xc3\xa9"}\n', b"\x00\x01\xff binary", b""):
                cap = Capture(
                    1,
                    Request("POST", "/p", "q=%20x", Headers([("X-One", "va'l\"ue"), ("Content-Type", "application/json")]), body),
                    None,
                    None,
                    SignatureResult("unsigned"),
                )
                cmd = to_curl(cap, echo.url)
                proc = await asyncio.create_subprocess_shell(cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                await proc.communicate()
                method, path, headers, got = echo.got[-1]
                assert got == body and path == "/p?q=%20x" and method == "POST"
                assert ("X-One", "va'l\"ue") in headers
                assert not any(k.lower() in ("user-agent", "accept") for k, _ in headers)

    asyncio.run(go())


def test_exports_mask_secrets_unless_revealed():
    cap = Capture(
        3,
        Request(
            "POST",
            "/events/webhook/demo/gl",
            "",
            Headers([("X-Gitlab-Token", "glpat-secret-token-123456"), ("Authorization", "Bearer abcdefghijklmnopqrstu")]),
            b"{}",
            None,
            1.0,
        ),
        "demo",
        "gl",
        SignatureResult("valid"),
        Response(200, Headers([("Content-Type", "application/json")]), b"{}", 1.5),
    )
    for fmt in ("curl", "httpie", "har", "json"):
        text = export([cap], fmt, "http://h:1", Masker(None))
        assert "glpat-secret-token-123456" not in text and "abcdefghijklmnopqrstu" not in text, fmt
        assert "glpa…(25 chars)" in text
        revealed = export([cap], fmt, "http://h:1", Masker(None, reveal=True))
        assert "glpat-secret-token-123456" in revealed


def test_har_round_trip_with_binary_body():
    body = bytes(range(256))
    cap = Capture(
        3,
        Request(
            "POST", "/events/webhook/demo/x", "a=1", Headers([("Content-Type", "application/octet-stream")]), body, None, 1_700_000_000.0
        ),
        "demo",
        "x",
        SignatureResult("unsigned"),
        Response(202, Headers([("Content-Type", "application/json")]), b'{"ok": 1}', 2.0),
    )
    har = json.loads(export([cap, cap], "har", "http://h:1", None))
    assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == 2
    kind, items = read_import(json.dumps(har).encode(), 0)
    assert kind == "har"
    req, resp = items[0]
    assert req.body == body and req.path == "/events/webhook/demo/x" and req.query == "a=1"
    assert resp.status == 202 and resp.body == b'{"ok": 1}' and req.received_at == 1_700_000_000.0


def test_import_ngrok_request_log():
    raw = b"POST /events/webhook/demo/stripe?x=1 HTTP/1.1\r\nHost: abc.ngrok.app\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    resp = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
    data = {
        "uri": "/api/requests/http",
        "requests": [
            {
                "id": "airt_1",
                "remote_addr": "203.0.113.9",
                "start": "2024-05-01T10:00:00.123456789Z",
                "duration": 5_000_000,
                "request": {"method": "POST", "uri": "/events/webhook/demo/stripe?x=1", "raw": base64.b64encode(raw).decode()},
                "response": {"status_code": 200, "raw": base64.b64encode(resp).decode()},
            }
        ],
    }
    kind, [(req, response)] = read_import(json.dumps(data).encode(), 0)
    assert kind == "ngrok" and req.body == b"{}" and req.query == "x=1" and req.headers.get("host") == "abc.ngrok.app"
    assert response.status == 200 and response.body == b'{"ok":true}' and response.duration_ms == 5.0


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"not json", "not JSON"),
        (b"[]", "neither a HAR"),
        (b'{"log": {}}', "not a HAR file"),
        (b'{"log": {"entries": [{"request": {"method": "POST"}}]}}', "needs a method and a url"),
        (
            b'{"log": {"entries": [{"request": {"method": "POST", "url": "/x", "postData": {"text": "%%", "encoding": "base64"}}}]}}',
            "not base64",
        ),
        (b'{"requests": [{"request": {"raw": "***"}}]}', "not base64"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_imports_say_why(raw, message):
    with pytest.raises(ImportFailed, match=message):
        read_import(raw, 0)


def test_cli_replay_export_import(tmp_path):
    """serve → send → replay (to the inspector, re-signed, edited, to an outside target) → export → import."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector",
            "--answers",
            str(ROOT / "answers.example.json"),
            "--flows",
            str(ROOT / "flows"),
            "serve",
            "--port",
            "0",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = proc.stdout.readline().strip().rsplit(":", 1)[1]
        common = ["--answers", str(ROOT / "answers.example.json"), "--port", port]
        assert run_cli(*common, "send", "stripe.payment_intent.succeeded", cwd=tmp_path).returncode == 0
        r = run_cli(*common, "replay", "1", "--json", cwd=tmp_path)
        data = json.loads(r.stdout)
        assert r.returncode == 0 and data["answers"][0]["status"] == 200 and data["captures"] == [2]
        r = run_cli(*common, "replay", "1", "--resign", "--times", "2", "--json", cwd=tmp_path)
        assert json.loads(r.stdout)["captures"] == [3, 4] and "re-signed" in json.loads(r.stdout)["signing"]
        r = run_cli(*common, "replay", "1", "-H", "X-Debug: 1", "--body", '{"type": "x"}', "--json", cwd=tmp_path)
        assert json.loads(r.stdout)["answers"][0]["status"] == 401  # edited without re-signing
        r = run_cli(*common, "replay", "1", "-H", "no colon", cwd=tmp_path)
        assert r.returncode == 2 and b"no colon" in r.stderr
        r = run_cli(*common, "replay", "99", cwd=tmp_path)
        assert r.returncode == 1 and b"no capture 99" in r.stderr
        with socket.socket() as held:
            r = run_cli(*common, "replay", "1", "--to", refused_url(held), "--timeout", "2", cwd=tmp_path)
        assert r.returncode == 1 and b"cannot connect" in r.stdout
        time.sleep(0.3)
        listed = json.loads(run_cli(*common, "list", "--json", cwd=tmp_path).stdout)
        by_id = {c["id"]: c for c in listed}
        assert by_id[2]["replay_of"] == 1 and by_id[2]["origin"] == "replay" and by_id[2]["signature_status"] == "valid"
        assert by_id[3]["signature_status"] == "valid"
        outside = max(by_id)
        assert by_id[outside]["origin"] == "replay" and by_id[outside]["replay_of"] == 1 and by_id[outside]["response_status"] is None
        shown = json.loads(run_cli(*common, "show", str(outside), "--json", cwd=tmp_path).stdout)
        assert any("cannot connect" in n for n in shown["notes"])
        har = tmp_path / "out.har"
        assert run_cli(*common, "export", "1", "2", "--format", "har", "--output", str(har), cwd=tmp_path).returncode == 0
        r = run_cli(*common, "import", str(har), cwd=tmp_path)
        assert r.returncode == 0 and b"imported 2 request(s)" in r.stdout
        curl = run_cli(*common, "export", "1", "--format", "curl", cwd=tmp_path).stdout.decode()
        assert curl.startswith("curl -sS -X POST 'http://127.0.0.1:") and "Stripe-Signature" in curl
        bad = tmp_path / "bad.json"
        bad.write_text("{}")
        r = run_cli(*common, "import", str(bad), cwd=tmp_path)
        assert r.returncode == 1 and b"neither a HAR" in r.stderr
    finally:
        proc.terminate()
        proc.wait(10)
