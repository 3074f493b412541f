"""The receiver writes the usual answer itself (receiver.answer_bytes) instead of through
aiohttp's web.Response: the bytes on the wire, and whether the connection stays open, must be
exactly what web.Response gives for any answer and request, with the few it leaves to
web.Response (HEAD, statuses without a body, headers aiohttp sets, characters it refuses)
going there. A real server on port 0, asked twice per example: once as shipped, once with the
shortcut turned off."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from types import SimpleNamespace

import pytest
from aiohttp import web_protocol
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector import receiver as receiver_module
from inspector.model import Capture, Headers, Response, SignatureResult


class _Pipeline:
    """Answers every request with `self.answer`, as the pipeline would after storing it."""

    def __init__(self) -> None:
        self.config = SimpleNamespace(max_body_bytes=1 << 20)
        self.clock = lambda: 1_700_000_000.0
        self.local_base = None
        self.answer = Response(200)
        self.bodies: list[bytes] = []
        self.delay = 0.0

    async def handle(self, request, notes=()):
        self.bodies.append(request.body)
        if self.delay:
            await asyncio.sleep(self.delay)
        return Capture(None, request, None, None, SignatureResult("unsigned"), response=self.answer)


@pytest.fixture(scope="module")
def server():
    pipeline = _Pipeline()
    receiver = receiver_module.Receiver(pipeline, "127.0.0.1", 0)  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(receiver.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    yield pipeline, receiver.port
    asyncio.run_coroutine_threadsafe(receiver.stop(0.5), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


_DATE = re.compile(rb"\r\nDate: [^\r]*\r\n")


def _exchange(port: int, data: bytes) -> bytes:
    """Everything the server sends back until it closes the connection (or goes quiet)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.settimeout(2)
        got = b""
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except (TimeoutError, ConnectionResetError):
            got += b"<no close>"
    return _DATE.sub(b"\r\nDate: <date>\r\n", got)


def _both(port: int, data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    fast = _exchange(port, data)
    with monkeypatch.context() as patch:
        patch.setattr(receiver_module, "answer_bytes", lambda request, response: None)
        slow = _exchange(port, data)
    return fast, slow


def _request(method: str, version: str, connection: str | None, body: bytes) -> bytes:
    head = f"{method} /events/webhook/demo/x?a=1 {version}\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    if connection is not None:
        head += f"Connection: {connection}\r\n"
    # A second request behind the first: answered only when the first left the connection open.
    return head.encode() + b"\r\n" + body + b"GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


_NAMES = st.sampled_from(
    [
        "Content-Type",
        "content-type",
        "X-Inspector-Capture",
        "X-Thing",
        "X-Other",
        "Content-Length",
        "content-length",
        "Date",
        "SERVER",
        "Connection",
        "Transfer-Encoding",
        "ſerver",  # multidict may take this for Server
        "\u212aeep-Alive",  # KELVIN SIGN
        "Naïve",
        "Set-Cookie",
    ]
)
_VALUES = st.one_of(
    st.sampled_from(["application/json", "text/plain; charset=utf-8", "1", "", "close", "keep-alive", "chunked", "x\ty"]),
    st.sampled_from(["a\nb", "a\rb", "a\r\nb", "\x00", "\x7f", "\udc80", "\ud800", "é", "\u2028"]),
    st.text(max_size=12),  # control characters, surrogates, non-ASCII
)
_STATUSES = st.one_of(st.sampled_from([200, 201, 202, 204, 299, 304, 400, 404, 413, 500, 503, 100, 199, 600, 999]), st.integers(100, 999))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=_STATUSES,
    headers=st.lists(st.tuples(_NAMES, _VALUES), max_size=4),
    body=st.one_of(st.just(b""), st.binary(max_size=64), st.binary(min_size=2040, max_size=2100)),
    method=st.sampled_from(["POST", "GET", "PUT", "HEAD", "DELETE"]),
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
    connection=st.sampled_from([None, "close", "keep-alive", "Keep-Alive"]),
)
def test_the_written_answer_is_byte_for_byte_web_response(server, monkeypatch, status, headers, body, method, version, connection):
    pipeline, port = server
    pipeline.answer = Response(status, Headers(headers), body)
    fast, slow = _both(port, _request(method, version, connection, b"{}"), monkeypatch)
    assert fast == slow


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Content-Type", "application/json")],
        [("X-Thing", "a\nb")],
        [("X-Thing", "a\rb")],
        [("X-Thing", "a\r\nInjected: yes")],
        [("X-Thing", "\x00")],
        [("X-Thing", "\x7f")],
        [("X-Thing", "tab\tok")],
        [("X-Thing", "\udcff")],  # a byte that was not UTF-8, kept as a surrogate escape
        [("X-Thing", "é \u2028 \U0001f600")],
        [("X\nThing", "v")],
        [("Naïve", "v")],
        [("content-length", "3")],
        [("DATE", "yesterday")],
        [("server", "mine")],
        [("Connection", "close")],
        [("connection", "keep-alive")],
        [("Transfer-Encoding", "chunked")],
        [("X-A", "1"), ("x-a", "2"), ("X-A", "3")],
    ],
)
@pytest.mark.parametrize("body", [b"", b"{}", b"x" * 3000], ids=["empty", "small", "large"])
@pytest.mark.parametrize("status", [200, 204, 299, 304, 404, 599])
def test_answers_aiohttp_treats_specially_are_unchanged(server, monkeypatch, headers, body, status):
    pipeline, port = server
    pipeline.answer = Response(status, Headers(headers), body)
    for method, version in (("POST", "HTTP/1.1"), ("HEAD", "HTTP/1.1"), ("POST", "HTTP/1.0")):
        fast, slow = _both(port, _request(method, version, None, b"{}"), monkeypatch)
        assert fast == slow


def test_the_usual_answer_takes_the_shortcut_and_keeps_the_connection(server, monkeypatch):
    pipeline, port = server
    pipeline.answer = Response(202, Headers([("Content-Type", "application/json"), ("X-Inspector-Capture", "7")]), b'{"ok": true}')
    calls = []
    real = receiver_module.answer_bytes

    def spy(request, response):
        calls.append(request.method)
        return real(request, response)

    monkeypatch.setattr(receiver_module, "answer_bytes", spy)
    got = _exchange(port, _request("POST", "HTTP/1.1", None, b"{}"))
    assert calls == ["POST", "GET"]
    first, _, rest = got.partition(b'{"ok": true}')
    assert first == (
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nX-Inspector-Capture: 7\r\nContent-Length: 12\r\n"
        b"Date: <date>\r\nServer: " + receiver_module.SERVER_SOFTWARE.encode() + b"\r\n\r\n"
    )
    assert rest.startswith(b"HTTP/1.1 202 Accepted\r\n") and b"Connection: close\r\n" in rest


def test_pipelined_requests_past_aiohttps_queue_are_all_answered_in_order(server):
    # More requests in one write than aiohttp queues: it pauses reading and the parser, and
    # resumes as the queue drains (receiver._Connection.resume_reading must pass that on).
    pipeline, port = server
    pipeline.answer = Response(200, Headers([("Content-Type", "text/plain")]), b"ok")
    pipeline.bodies.clear()
    count = 3 * web_protocol.MAX_MSG_QUEUE_SIZE + 5
    data = b"".join(b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%d" % (len(str(i)), i) for i in range(count))
    got = _exchange(port, data + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert got.count(b"HTTP/1.1 200 OK\r\n") == count + 1 and got.endswith(b"ok")
    assert pipeline.bodies[:count] == [str(i).encode() for i in range(count)]


@pytest.mark.parametrize("size", [200_000, 900_000])
def test_a_body_that_waits_in_the_buffer_past_its_limit_arrives_whole(server, size):
    # The second request's body arrives while the first is being answered: its stream fills
    # past aiohttp's buffer, reading pauses (flow control), and resumes as the body is read.
    pipeline, port = server
    pipeline.answer = Response(200, Headers(), b"")
    pipeline.bodies.clear()
    pipeline.delay = 0.3
    body = bytes(range(256)) * (size // 256)
    try:
        got = _exchange(
            port,
            b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
            b"PUT /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        )
    finally:
        pipeline.delay = 0.0
    assert got.count(b"HTTP/1.1 200 OK\r\n") == 2 and pipeline.bodies == [b"{}", body]
