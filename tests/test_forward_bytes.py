"""Replay and --forward-to send the captured header bytes exactly, keep our capture header
first and only, refuse to forward to themselves, and never let a stuck target hold others."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest
from aiohttp import web

from inspector.config import parse_config
from inspector.model import Headers, Request
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver, listening_socket
from inspector.replay import deliver
from inspector.store import Store


def raw_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class RawTarget:
    """A bare socket server: keeps the exact bytes of each request head and answers with
    `answer` (or never, while `hang` is set and the request asks for it)."""

    def __init__(self, answer: bytes = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Back: \xfe\r\n\r\nok"):
        self.answer = answer
        self.heads: list[bytes] = []
        self.release = asyncio.Event()

    async def handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if b"X-Hang: 1" in head:
                await self.release.wait()
            writer.write(self.answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc):
        self.release.set()
        self.server.close()


async def test_deliver_sends_header_bytes_that_are_not_utf8():
    async with RawTarget() as target:
        req = Request("POST", "/hook", "a=1", Headers([("X-Raw", raw_text(b"caf\xe9\xff")), ("X-Ok", "é")]), b"\x00body")
        d = await deliver(req, target.url + "/hook?a=1")
        assert d.error is None and d.response.status == 201 and d.response.body == b"ok"
        assert d.response.headers.get("X-Back") == raw_text(b"\xfe")
        head = target.heads[0]
        assert head.startswith(b"POST /hook?a=1 HTTP/1.1\r\n")
        assert b"\r\nX-Raw: caf\xe9\xff\r\n" in head and "\r\nX-Ok: é\r\n".encode() in head
        assert b"\r\nContent-Length: 5\r\n" in head


async def test_deliver_exact_bytes_reach_our_own_receiver(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    pipeline = Pipeline(parse_config('{"events-webhook": {}}', "a.json", {}), store)
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    try:
        req = Request("POST", "/events/webhook/demo/x", "", Headers([("X-Raw", raw_text(b"\xff\x80 z"))]), b"{}")
        d = await deliver(req, receiver.url + "/events/webhook/demo/x")
        assert d.response.status == 200 and d.capture_id is not None
        got = store.get(d.capture_id)
        assert got.request.headers.get("X-Raw").encode("utf-8", "surrogateescape") == b"\xff\x80 z"
    finally:
        await receiver.stop()
        await pipeline.close()
        store.close()


async def test_deliver_plain_exchange_failures_are_sentences():
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        d = await deliver(
            Request("POST", "/", "", Headers([("X-Raw", raw_text(b"\xff"))]), b"x"), f"http://127.0.0.1:{held.getsockname()[1]}/"
        )
    assert d.response is None and "cannot connect" in d.error
    async with RawTarget(answer=b"garbage\r\n\r\n") as target:
        d = await deliver(Request("POST", "/", "", Headers([("X-Raw", raw_text(b"\xff"))]), b"x"), target.url)
        assert d.response is None and "not valid HTTP" in d.error
    async with RawTarget() as target:
        req = Request("POST", "/", "", Headers([("X-Raw", raw_text(b"\xff")), ("X-Hang", "1")]), b"x")
        d = await deliver(req, target.url, timeout=0.3)
        assert d.response is None and "did not answer within 0.3 s" in d.error


class Serving:
    """A receiver and its pipeline on a store in `tmp_path`; the pipeline's policy (forward
    target, timeouts) is given here, as a server gives it. Pass `sock` (see `bound`) to
    forward to an address known before the start."""

    def __init__(self, tmp_path, forward_to=None, *, sock=None, **policy):
        self.store = Store(tmp_path / "s.sqlite3")
        self.pipeline = Pipeline(parse_config('{"events-webhook": {}}', "a.json", {}), self.store, forward_to=forward_to, **policy)
        self.receiver = Receiver(self.pipeline, "127.0.0.1", 0)
        self.sock = sock

    async def __aenter__(self):
        await self.receiver.start(self.sock)
        return self

    async def __aexit__(self, *exc):
        await self.receiver.stop()
        await self.pipeline.drain(5)
        await self.pipeline.close()
        self.store.close()


def bound() -> tuple[socket.socket, str]:
    """A listening socket on a free local port and its URL, for a receiver to start on."""
    sock = listening_socket("127.0.0.1", 0)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def raw_post(url: str, path: str, headers: bytes, body: bytes = b"{}") -> tuple[bytes, bytes]:
    """Send bytes aiohttp's client could not; (answer head, answer body)."""
    u = aiohttp.client.URL(url)
    reader, writer = await asyncio.open_connection(u.host, u.port)
    writer.write(
        b"POST "
        + path.encode()
        + b" HTTP/1.1\r\nHost: x\r\n"
        + headers
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


async def test_forward_keeps_header_bytes_that_are_not_utf8(tmp_path):
    async with RawTarget() as target, Serving(tmp_path, forward_to=target.url + "/app") as s:
        head, body = await raw_post(s.receiver.url, "/events/webhook/demo/x", b"X-Raw: caf\xe9\xff\r\n")
        assert head.startswith(b"HTTP/1.1 201") and body == b"ok"
        assert b"\r\nX-Raw: caf\xe9\xff\r\n" in target.heads[0]


async def test_forward_answer_carries_our_capture_id_once(tmp_path):
    async def target(request: web.BaseRequest):
        return web.Response(status=200, body=b"{}", headers={"X-Inspector-Capture": "999", "Content-Type": "application/json"})

    runner = web.ServerRunner(web.Server(target))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        async with Serving(tmp_path, forward_to=url) as s:
            async with aiohttp.ClientSession() as session:
                async with session.post(s.receiver.url + "/events/webhook/demo/x", data=b"{}") as resp:
                    ours = resp.headers.getall("X-Inspector-Capture")
                    theirs = resp.headers.getall("X-Inspector-Forward-Target-Capture", [])
            assert len(ours) == 1 and s.store.get(int(ours[0])) is not None and ours != ["999"]
            assert theirs == ["999"]
    finally:
        await runner.cleanup()


async def test_a_target_that_never_answers_holds_no_other_forward(tmp_path):
    async with RawTarget() as target, Serving(tmp_path, forward_to=target.url, forward_timeout=1.0, forward_pool_size=2) as s:
        async with aiohttp.ClientSession() as session:

            async def post(hang: bool):
                async with session.post(
                    s.receiver.url + "/events/webhook/demo/x", data=b"{}", headers={"X-Hang": "1"} if hang else {}
                ) as resp:
                    return resp.status, await resp.read()

            stuck = [asyncio.ensure_future(post(True)) for _ in range(2)]
            while len(target.heads) < 2:  # both pooled connections now wait on the target
                await asyncio.sleep(0.01)
            # A forward that finds the pool taken waits no longer than its timeout.
            status, body = await asyncio.wait_for(post(False), 5)
            assert status == 201 or (status == 502 and b"did not answer within 1 s" in body)
            assert [st for st, _ in await asyncio.gather(*stuck)] == [502, 502]
            # The stuck connections are gone with their timeout: the pool serves again.
            assert (await asyncio.wait_for(post(False), 5))[0] == 201


@pytest.mark.parametrize(
    "forward_to, host, port, public, loops",
    [
        ("http://127.0.0.1:8080/app", "127.0.0.1", 8080, (), True),
        ("http://localhost:8080", "127.0.0.1", 8080, (), True),
        ("http://[::1]:8080/x", "127.0.0.1", 8080, (), True),
        ("http://LOCALHOST.:8080", "0.0.0.0", 8080, (), True),
        ("http://127.0.0.2:8080", "::", 8080, (), True),
        ("http://0.0.0.0:8080", "127.0.0.1", 8080, (), True),
        ("http://192.168.1.5:8080", "192.168.1.5", 8080, (), True),
        ("https://abc.ngrok.app/events", "127.0.0.1", 8080, ("https://ABC.ngrok.app",), True),
        ("http://tunnel.example:80/x", "127.0.0.1", 8080, (None, "http://tunnel.example"), True),
        ("http://127.0.0.1:3000", "127.0.0.1", 8080, (), False),
        ("http://localhost:8080", "192.168.1.5", 8080, (), False),
        ("https://abc.ngrok.app", "127.0.0.1", 8080, ("https://other.ngrok.app",), False),
        ("http://app.internal:8080", "127.0.0.1", 8080, (), False),
    ],
)
def test_forward_loop_is_recognised(forward_to, host, port, public, loops):
    from inspector.replay import forward_loop

    reason = forward_loop(forward_to, host, port, public)
    assert (reason is not None) == loops, reason
    if loops:
        assert "forwarded to itself" in reason


def test_serve_refuses_to_forward_to_itself(tmp_path):
    import socket
    import subprocess
    import sys

    from tests.conftest import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for target in (f"http://localhost:{port}/hook", "https://me.example.app/x"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspector",
                "--answers",
                str(ROOT / "answers.example.json"),
                "--store",
                str(tmp_path / "s.sqlite3"),
                "serve",
                "--port",
                str(port),
                "--public-url",
                "https://me.example.app",
                "--forward-to",
                target,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2, done.stderr
        assert f"error: --forward-to {target}: " in done.stderr and "forwarded to itself" in done.stderr
        assert "Traceback" not in done.stderr


async def test_a_forward_that_comes_back_is_not_sent_again(tmp_path):
    sock, url = bound()
    # The pipeline itself makes no start-up check (serve does): the mark tells.
    async with Serving(tmp_path, forward_to=url + "/events/webhook/demo/again", sock=sock) as s:
        assert s.receiver.url == url
        async with aiohttp.ClientSession() as session:
            async with session.post(s.receiver.url + "/events/webhook/demo/x", data=b"{}") as resp:
                assert resp.status == 508
                data = await resp.json()
        assert data["error"] == "forward loop" and "leads back to this inspector" in data["reason"]
        assert s.store.count() == 2  # the sender's request and its one echo, no more


async def test_tui_launch_shows_a_forward_loop(tmp_path, monkeypatch):
    from inspector.__main__ import COMMON_DEFAULTS
    from inspector.tui.launch import build_app

    monkeypatch.chdir(tmp_path)
    args = type("Args", (), dict(COMMON_DEFAULTS))()
    args.answers, args.store, args.port, args.tunnel = None, str(tmp_path / "s.sqlite3"), 8123, "none"
    args.forward_to = "http://localhost:8123/hook"
    app, store = build_app(args)
    try:
        assert app.pipeline.forward_to is None
        assert any("--forward-to http://localhost:8123/hook: " in p and "not forwarding" in p for p in app.startup_problems)
    finally:
        store.close()


def test_cli_replay_sends_the_captured_bytes(tmp_path):
    """`replay ID --to URL` of a capture whose header was not UTF-8: the byte arrives as is,
    and the stored outbound request keeps it."""
    from inspector.model import Capture, SignatureResult
    from tests.conftest import OneShotServer, run_cli

    db = tmp_path / "s.sqlite3"
    store = Store(db)
    store.insert(
        Capture(
            None,
            Request(
                "POST",
                "/events/webhook/demo/x",
                "",
                Headers([("X-Raw", raw_text(b"caf\xe9\xff")), ("Content-Type", "text/plain")]),
                b"hi",
                "1.2.3.4",
                1_700_000_000.0,
            ),
            "demo",
            "x",
            SignatureResult("unsigned"),
        )
    )
    store.close()
    (tmp_path / "answers.json").write_text('{"events-webhook": {}}')
    with OneShotServer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", until=b"\r\n\r\nhi") as target:
        r = run_cli(
            "--answers", str(tmp_path / "answers.json"), "--store", str(db), "replay", "1", "--to", target.url, "--json", cwd=tmp_path
        )
    got = target.got
    assert r.returncode == 0, r.stderr
    assert b"\r\nX-Raw: caf\xe9\xff\r\n" in bytes(got)
    answer = json.loads(r.stdout)
    assert answer["answers"][0]["status"] == 200
    store = Store(db)
    try:
        sent = store.get(answer["captures"][0])
        assert sent.request.headers.get("X-Raw").encode("utf-8", "surrogateescape") == b"caf\xe9\xff"
    finally:
        store.close()


async def test_plain_exchange_refuses_control_characters_as_aiohttp_does():
    async with RawTarget() as target:
        for value in ("a\r\nX-Injected: 1", "a\x01b"):
            req = Request("POST", "/", "", Headers([("X-Raw", raw_text(b"\xff")), ("X-Bad", value)]), b"x")
            d = await deliver(req, target.url)
            assert d.response is None and "'X-Bad' holds a control character" in d.error
        assert target.heads == []  # nothing was sent


async def test_forward_to_the_tunnel_url_once_it_is_up_is_refused(tmp_path):
    """The tunnel's URL is known only after the start-up check: each forward compares."""
    async with RawTarget() as target, Serving(tmp_path, forward_to=target.url + "/events/webhook/demo/x") as s:
        s.pipeline.public_url = target.url  # as the tunnel reports it once it is up
        async with aiohttp.ClientSession() as session:
            async with session.post(s.receiver.url + "/events/webhook/demo/x", data=b"{}") as resp:
                assert resp.status == 508
                assert "leads back to this inspector" in (await resp.json())["reason"]
        assert target.heads == []
        c = s.store.get(1)
        assert c.notes[-1].startswith("not forwarded: --forward-to ")


async def test_two_inspectors_forwarding_to_each_other_stop_after_one_round(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (sock_a, url_a), (sock_b, url_b) = bound(), bound()
    async with (
        Serving(tmp_path / "a", forward_to=url_b + "/events/webhook/demo/x", sock=sock_a) as a,
        Serving(tmp_path / "b", forward_to=url_a + "/events/webhook/demo/x", sock=sock_b) as b,
    ):
        async with aiohttp.ClientSession() as session:
            async with session.post(a.receiver.url + "/events/webhook/demo/x", data=b"{}") as resp:
                assert resp.status == 508
        # sender → A → B → A (its own mark: 508, not forwarded again)
        assert (a.store.count(), b.store.count()) == (2, 1)


async def test_a_forwarded_answer_header_that_is_not_utf8_is_sent_and_stored_alike(tmp_path):
    """aiohttp's server cannot write a raw \\xfe in a header; it dropped the value, so the
    sender saw `X-Back: ` while the capture recorded \\xfe. Now both hold U+FFFD."""
    async with RawTarget() as target, Serving(tmp_path, forward_to=target.url + "/app") as s:
        head, body = await raw_post(s.receiver.url, "/events/webhook/demo/x", b"")
        assert head.startswith(b"HTTP/1.1 201") and body == b"ok"
        assert b"\r\nX-Back: \xef\xbf\xbd\r\n" in head + b"\r\n"
        cid = int(head.split(b"X-Inspector-Capture: ")[1].split(b"\r\n")[0])
        assert s.store.get(cid).response.headers.get("X-Back") == "\ufffd"
