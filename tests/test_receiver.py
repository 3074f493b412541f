"""The receiver against a real aiohttp server on port 0 and a real SQLite store."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json

import aiohttp
import pytest

from inspector.config import parse_config
from inspector.pipeline import Pipeline, match_route
from inspector.receiver import PortInUse, Receiver
from inspector.store import Store

SECRET = "example-github-secret-change-me"


def make_config(**root):
    root.setdefault("signatures", {"github": {"header": "X-Hub-Signature-256", "algorithm": "sha256", "secret": SECRET}})
    return parse_config(json.dumps({"events-webhook": root}), "answers.json", {})


class Server:
    def __init__(self, tmp_path, **root):
        self.store_path = tmp_path / "captures.sqlite3"
        self.store = Store(self.store_path)
        self.pipeline = Pipeline(make_config(**root), self.store, clock=lambda: 1_700_000_000.0)
        self.receiver = Receiver(self.pipeline, "127.0.0.1", 0)

    async def __aenter__(self):
        await self.receiver.start()
        self.session = aiohttp.ClientSession(auto_decompress=False)
        return self

    async def __aexit__(self, *exc):
        await self.session.close()
        await self.receiver.stop()
        self.store.close()

    def url(self, path):
        return self.receiver.url + path

    async def post(self, path, body=b"", headers=None, method="POST"):
        async with self.session.request(method, self.url(path), data=body, headers=headers or {}) as resp:
            raw = await resp.read()
            return resp.status, raw, resp.headers

    def reread(self, cid):
        other = Store(self.store_path)  # a second connection, as `show` would open
        try:
            return other.get(cid)
        finally:
            other.close()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


async def test_valid_request_is_captured_before_the_answer(tmp_path):
    async with Server(tmp_path) as s:
        body = b'{"zen": "Keep it logically awesome."}'
        status, raw, headers = await s.post(
            "/events/webhook/demo/github", body, {"X-Hub-Signature-256": sign(body), "X-GitHub-Event": "ping"}
        )
        data = json.loads(raw)
        assert status == 200 and data["status"] == "accepted"
        assert data["warning"] == "no flow is triggered by event type github"
        cid = data["id"]
        assert headers["X-Inspector-Capture"] == str(cid)
        c = s.reread(cid)
        assert c.request.body == body and c.signature.status == "valid"
        assert (c.tenant, c.event_type, c.origin) == ("demo", "github", "live")
        assert c.response.status == 200
        names = [n for n, _ in c.request.headers]
        assert "X-Hub-Signature-256" in names and "X-GitHub-Event" in names


async def test_tampered_body_gets_401_with_reason_and_hint(tmp_path):
    async with Server(tmp_path) as s:
        body = b'{"a": 1}'
        status, raw, _ = await s.post("/events/webhook/demo/github", body + b"!", {"X-Hub-Signature-256": sign(body)})
        data = json.loads(raw)
        assert status == 401 and data["error"] == "signature invalid" and data["reason"]
        c = s.reread(data["id"])
        assert c.signature.status == "invalid" and c.signature.hints


async def test_enforce_false_lets_failures_through(tmp_path):
    async with Server(tmp_path, enforce=False) as s:
        status, raw, _ = await s.post("/events/webhook/demo/github", b"x", {"X-Hub-Signature-256": "sha256=00"})
        assert status == 200
        assert s.reread(json.loads(raw)["id"]).signature.status == "invalid"


async def test_unknown_path_is_404_with_hint_and_captured(tmp_path):
    async with Server(tmp_path) as s:
        status, raw, _ = await s.post("/webhook/demo", b"hello")
        data = json.loads(raw)
        assert status == 404 and "/events/webhook/{tenant}/{event_type}" in data["hint"]
        c = s.reread(data["id"])
        assert c.tenant is None and c.event_type is None and c.request.body == b"hello"


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/events/webhook/demo/order.created", ("demo", "order.created")),
        ("/events/webhook/de%6Do/order.created", ("demo", "order.created")),
        ("/events/webhook/demo/order.created/", ("demo", "order.created")),
        ("/events/webhook/demo/a%2Fb", None),
        ("/events/webhook/../x", None),
        ("/events/webhook/demo/..", None),
        ("/events/webhook/demo", None),
        ("/events/webhook/demo/x/y", None),
        ("/events/webhook/dem o/x", None),
        ("/events/webhook/%ff/x", None),
        ("/v1/events/ingress/github/acme", ("acme", "github")),
        ("/v1/events/ingress/github/acme/team1", ("acme", "github")),
        ("/v1/events/ingress/github/acme/team1/push", ("acme", "push")),
        ("/v1/events/ingress/github", None),
    ],
)
def test_route_shapes(path, expected):
    route = match_route(path)
    assert (route and (route.tenant, route.event_type)) == expected or (route is None and expected is None)


async def test_dots_and_escapes_reach_the_server_unchanged(tmp_path):
    async with Server(tmp_path) as s:
        for path, status in [("/events/webhook/de%6Do/x", 200), ("/events/webhook/demo/..", 404), ("/events/webhook/demo/a%2Fb", 404)]:
            reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
            writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            head = await reader.read()
            writer.close()
            assert head.startswith(f"HTTP/1.1 {status}".encode()), (path, head[:40])
        stored = [c.request.path for c in s.store.iter_newest()]
        assert "/events/webhook/demo/a%2Fb" in stored and "/events/webhook/de%6Do/x" in stored


async def test_body_over_limit_is_413_truncated_and_captured(tmp_path):
    async with Server(tmp_path, max_body_bytes=100_000) as s:
        body = bytes(range(256)) * 1000  # 256,000 bytes
        status, raw, _ = await s.post("/events/webhook/demo/orders", body)
        data = json.loads(raw)
        assert status == 413 and "max_body_bytes" in data["error"]
        c = s.reread(data["id"])
        assert c.request.truncated and c.request.body == body[: 64 * 1024] and c.request.body_size == len(body)


async def test_disabled_provider_is_503_and_captured(tmp_path):
    async with Server(tmp_path, enabled=False) as s:
        status, raw, _ = await s.post("/events/webhook/demo/orders", b"{}")
        assert status == 503 and json.loads(raw)["error"] == "events-webhook provider is disabled"
        assert s.store.count() == 1


@pytest.mark.parametrize(
    "body, headers",
    [
        (b"", {}),
        (b"\xff\xfe\x00binary\x00", {"Content-Type": "application/octet-stream"}),
        (gzip.compress(b'{"a": 1}'), {"Content-Encoding": "gzip", "Content-Type": "application/json"}),
        (b"not json {", {"Content-Type": "application/json"}),
        ("caf\u00e9 \u2603".encode(), {"Content-Type": "text/plain; charset=utf-8"}),
    ],
)
async def test_bodies_are_stored_byte_exact(tmp_path, body, headers):
    async with Server(tmp_path) as s:
        status, raw, _ = await s.post("/events/webhook/demo/orders", body, headers)
        assert status == 200
        assert s.reread(json.loads(raw)["id"]).request.body == body


async def test_headers_keep_order_case_duplicates_and_odd_bytes(tmp_path):
    async with Server(tmp_path) as s:
        long_value = "v" * 30_000
        raw_request = (
            b"POST /events/webhook/demo/orders?b=2&a=1 HTTP/1.1\r\nHost: x\r\n"
            b"X-Zeta: 1\r\nx-alpha: 2\r\nX-Dup: one\r\nX-Dup: two\r\nX-Latin: caf\xe9\r\n"
            b"X-Long: " + long_value.encode() + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
        writer.write(raw_request)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200")
        c = next(s.store.iter_newest())
        names = [n for n, _ in c.request.headers]
        assert names[:6] == ["Host", "X-Zeta", "x-alpha", "X-Dup", "X-Dup", "X-Latin"]
        assert c.request.headers.get("x-dup") == "one, two"
        assert c.request.headers.get("X-Latin").encode("utf-8", "surrogateescape") == b"caf\xe9"
        assert c.request.headers.get("X-Long") == long_value
        assert c.request.query == "b=2&a=1"


async def test_any_method(tmp_path):
    async with Server(tmp_path) as s:
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
            status, _, _ = await s.post("/events/webhook/demo/orders", b"", method=method)
            assert status == 200, method
        assert [c.request.method for c in s.store.iter_newest()][::-1] == ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]


async def test_replay_header_links_and_is_not_stored(tmp_path):
    async with Server(tmp_path) as s:
        _, raw, _ = await s.post("/events/webhook/demo/orders", b"{}")
        first = json.loads(raw)["id"]
        _, raw, _ = await s.post("/events/webhook/demo/orders", b"{}", {"X-Inspector-Replay-Of": str(first)})
        c = s.reread(json.loads(raw)["id"])
        assert c.replay_of == first and c.origin == "replay"
        assert "X-Inspector-Replay-Of" not in c.request.headers


async def test_port_in_use(tmp_path):
    async with Server(tmp_path) as s:
        other = Receiver(s.pipeline, "127.0.0.1", s.receiver.port)
        with pytest.raises(PortInUse) as exc:
            await other.start()
        assert f"port {s.receiver.port}" in str(exc.value) and "--port" in str(exc.value)


async def test_concurrent_requests_are_all_stored(tmp_path):
    async with Server(tmp_path) as s:
        results = await asyncio.gather(*(s.post("/events/webhook/demo/orders", f'{{"n": {i}}}'.encode()) for i in range(200)))
        assert all(status == 200 for status, _, _ in results)
        ids = {json.loads(raw)["id"] for _, raw, _ in results}
        assert len(ids) == 200 and s.store.count() == 200


async def test_drain_gives_a_run_that_ignores_the_stop_its_deadline_once():
    """A flow run stuck in a thread: drain waits `timeout`, tells it to stop, waits 5 s more,
    and returns; it must not wait for it a third time (a TUI worker would be killed first)."""
    pipeline = Pipeline(make_config())
    stuck = asyncio.get_running_loop().create_future()
    pipeline._pending.add(stuck)
    started = asyncio.get_running_loop().time()
    assert await pipeline.drain(timeout=0.1) == 1
    assert asyncio.get_running_loop().time() - started < 5.5
    stuck.cancel()


def test_servers_run_on_uvloop_where_installed_and_on_asyncio_when_asked(monkeypatch):
    from inspector.receiver import LOOP_ENV, run_server

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    uvloop = pytest.importorskip("uvloop")
    assert run_server(loop_module()) == uvloop.Loop.__module__
    monkeypatch.setenv(LOOP_ENV, "asyncio")
    assert run_server(loop_module()).startswith("asyncio")


ECHO_FLOWS = {
    "json": """
        name: echo_json
        nodes:
          - id: reply
            type: http_response
            config:
              headers:
                X-Echo: "{{ headers['x-thing'] }}"
              body:
                got: "thing {{ headers['x-thing'] }}"
        triggers:
          - type: event
            event_type: "echo.json"
        """,
    "text": """
        name: echo_text
        nodes:
          - id: reply
            type: http_response
            config:
              body: "thing {{ headers['x-thing'] }}"
        triggers:
          - type: event
            event_type: "echo.text"
        """,
    "header": """
        name: echo_header
        nodes:
          - id: reply
            type: http_response
            config:
              headers:
                X-Echo: "{{ event.payload.value }}"
              body: "ok"
        triggers:
          - type: event
            event_type: "echo.header"
        """,
}


async def _raw_post(url: str, path: str, head: bytes, body: bytes) -> tuple[int, bytes, bytes]:
    """Send bytes aiohttp's client would refuse (non-UTF-8 header values); (status, head, body)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST "
        + path.encode()
        + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + head
        + b"\r\n"
        + body
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head_out, _, body_out = raw.partition(b"\r\n\r\n")
    return int(head_out[9:12]), head_out, body_out


@pytest.fixture
def echo_server(tmp_path):
    import textwrap

    from inspector.flow import Engine, FlowSet

    folder = tmp_path / "flows"
    folder.mkdir()
    for name, text in ECHO_FLOWS.items():
        (folder / f"{name}.ygtc").write_text(textwrap.dedent(text).lstrip("\n"))
    flows = FlowSet.load(folder)
    assert not flows.errors, flows.errors
    server = Server(tmp_path)
    server.pipeline.engine = Engine(flows)
    return server


async def test_a_flow_answer_made_from_non_utf8_header_bytes_is_sent_and_the_request_kept(echo_server):
    """A header value with a byte that is not UTF-8 reaches the flow as a surrogate escape.
    Echoed in the answer it must not fail the request (it used to: a 503, and the capture
    was lost). JSON and header values get U+FFFD; a text body gets the original byte back."""
    async with echo_server as s:
        status, head, body = await _raw_post(s.receiver.url, "/events/webhook/demo/echo.json", b"X-Thing: caf\xff\r\n", b"{}")
        assert status == 200, body
        assert json.loads(body) == {"got": "thing caf\ufffd"}
        assert "X-Echo: caf\ufffd".encode() in head
        cid = int(next(line for line in head.split(b"\r\n") if line.startswith(b"X-Inspector-Capture:")).split(b":")[1])
        kept = s.reread(cid)
        assert kept.request.headers.get("X-Thing") == "caf\udcff" and kept.response.status == 200
        assert kept.runs[0].to_json()["status"] == "ok"

        status, head, body = await _raw_post(s.receiver.url, "/events/webhook/demo/echo.text", b"X-Thing: caf\xff\r\n", b"{}")
        assert status == 200 and body == b"thing caf\xff"


@pytest.mark.parametrize(
    "payload, says",
    [
        ({"value": "a\r\nSet-Cookie: x=1"}, "'X-Echo'"),
        ({"value": "a\nSet-Cookie: x=1"}, "header injection"),
        ({"value": "nul\u0000"}, "'X-Echo'"),
    ],
)
async def test_a_flow_answer_with_a_header_http_cannot_carry_fails_the_node_clearly(echo_server, payload, says):
    """A line break in a rendered header value (header injection) or a name that is not an
    HTTP token: the node fails with a message naming the header; the sender gets the flow
    error (500), and the capture is kept."""
    async with echo_server as s:
        status, raw, headers = await s.post(
            "/events/webhook/demo/echo.header", json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        assert status == 500, raw
        data = json.loads(raw)
        assert data["node"] == "reply" and says in data["message"], data
        assert "Set-Cookie" not in headers
        kept = s.reread(data["id"])
        assert kept.response.status == 500 and kept.runs[0].to_json()["status"] == "error"


@pytest.mark.parametrize(
    "headers, says",
    [
        ('"Bad Name": "x"', "'Bad Name' is not an HTTP token"),
        ('"X-Colon:": "x"', "'X-Colon:' is not an HTTP token"),
        ('X-Split: "a\\r\\nX-Other: b"', "header injection"),
        ('"{{ event.payload.name }}": "x"', "is not an HTTP token"),
    ],
)
def test_a_response_header_http_cannot_carry_is_a_load_error_with_its_position(tmp_path, headers, says):
    from inspector.flow import FlowSet

    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "bad.ygtc").write_text(
        "name: bad\nnodes:\n  - id: reply\n    type: http_response\n    config:\n      headers:\n"
        f"        {headers}\n      body: ok\n"
        "triggers:\n  - type: event\n    event_type: x\n"
    )
    errors = [str(e) for e in FlowSet.load(folder).errors]
    assert len(errors) == 1 and says in errors[0] and "bad.ygtc:" in errors[0], errors


@pytest.mark.parametrize("path", ["/events/webhook/demo/echo.json", "/events/webhook/demo/no.flow"])
async def test_a_failure_while_deciding_the_answer_keeps_the_request(echo_server, monkeypatch, path):
    """Whatever goes wrong while the answer is made (a bug of ours), the request is stored
    with a 500 that says so, instead of a 503 and nothing kept."""
    import inspector.pipeline as pipeline_module

    def broken(*args, **kwargs):
        raise RuntimeError("planted failure")

    monkeypatch.setattr(pipeline_module, "response_from_flow", broken)
    monkeypatch.setattr(pipeline_module.Pipeline, "_accepted", lambda self, route: broken)
    async with echo_server as s:
        status, raw, headers = await s.post(path, b'{"a": 1}', {"Content-Type": "application/json", "X-Thing": "t"})
        assert status == 500, raw
        data = json.loads(raw)
        assert "planted failure" in data["detail"] and data["id"] == int(headers["X-Inspector-Capture"])
        kept = s.reread(data["id"])
        assert kept.request.body == b'{"a": 1}' and kept.response.status == 500
        assert any("planted failure" in note for note in kept.notes)
        await s.pipeline.drain(2)
        assert s.pipeline._pending == set()  # no flow rerun in a worker
