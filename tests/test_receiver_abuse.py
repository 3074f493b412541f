"""The receiver against senders that misbehave: HTTP the parser refuses, slow and stalled
senders, floods of connections, uploads cut short, `Expect: 100-continue`. A real aiohttp
server on port 0 and a real SQLite store; raw sockets, because no HTTP client sends these."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from inspector.pipeline import REJECTED_NOTE
from inspector.receiver import Receiver
from tests.test_receiver import Server

LIMIT = 5.0  # seconds any single wait in these tests may take


async def exchange(port: int, raw: bytes, *, close_after: bool = False) -> bytes:
    """Send `raw`, read until the server closes (or LIMIT passes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    if close_after:
        writer.close()
        return b""
    try:
        return await asyncio.wait_for(reader.read(), LIMIT)
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    assert answer[:5] == b"HTTP/", answer[:80]
    return int(answer[9:12])


def json_of(answer: bytes) -> dict:
    return json.loads(answer.partition(b"\r\n\r\n")[2])


async def wait_for(condition, what: str):
    deadline = time.monotonic() + LIMIT
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def head(path: str = "/events/webhook/demo/x", *lines: bytes) -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode() + b"".join(line + b"\r\n" for line in lines)


REFUSED = {
    "non-ASCII path": (b"POST /events/webhook/d\xc3\xa9mo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", "request target"),
    "too many headers": (
        head("/events/webhook/demo/x", *(b"X-H%d: v" % i for i in range(130)), b"Content-Length: 2") + b"\r\n{}",
        "more than 128 headers",
    ),
    "control byte in a header value": (
        head("/events/webhook/demo/x", b"Authorization: Bearer sekrit\x01token", b"Content-Length: 2") + b"\r\n{}",
        "header 'Authorization' has a control character",
    ),
    "over-long request line": (b"POST /events/webhook/demo/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "request line is longer"),
    "over-long header": (
        head("/events/webhook/demo/x", b"X-Api-Key: " + b"k" * 70_000) + b"\r\n",
        "header 'X-Api-Key' is longer than 65536 bytes",
    ),
    "TLS on the plain port": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)), "TLS"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_http_the_parser_refuses_is_answered_400_captured_and_logged_quietly(tmp_path, caplog, case):
    raw, reason = REFUSED[case]
    caplog.set_level(logging.DEBUG)
    async with Server(tmp_path) as s:
        shown = []
        s.pipeline.listeners.append(shown.append)
        answer = await exchange(s.receiver.port, raw)
        assert status_of(answer) == 400
        data = json_of(answer)
        assert reason in data["reason"] and data["error"] == "malformed HTTP request"
        capture = s.reread(data["id"])
        assert capture.response.status == 400 and capture.origin == "live"
        assert capture.tenant is None and capture.event_type is None
        assert capture.notes[0].startswith(REJECTED_NOTE) and reason in capture.notes[0]
        assert [c.id for c in shown] == [capture.id]  # `serve` prints it, the TUI lists it
        assert s.receiver.rejected == 1
        # The server still serves.
        status, _, _ = await s.post("/events/webhook/demo/after", b"{}")
        assert status == 200
    # Nothing quoted the bytes or logged a traceback (aiohttp logs one per refused request).
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "sekrit" not in record.getMessage()


async def test_a_refused_request_keeps_its_line_headers_and_body_and_the_answer_quotes_no_value(tmp_path):
    raw = head("/events/webhook/demo/x?a=1", b"Authorization: Bearer sekrit\x01token", b"Content-Length: 7") + b'\r\n{"a":1}'
    async with Server(tmp_path) as s:
        data = json_of(await exchange(s.receiver.port, raw))
        c = s.reread(data["id"])
        assert (c.request.method, c.request.path, c.request.query) == ("POST", "/events/webhook/demo/x", "a=1")
        assert ("Authorization", "Bearer sekrit\x01token") in list(c.request.headers)  # stored as received
        assert c.request.body == b'{"a":1}'
        assert b"sekrit" not in json.dumps(data).encode()  # the answer names the header, not its value


async def test_an_over_long_head_keeps_its_first_64_kib_marked_truncated(tmp_path):
    raw, _ = REFUSED["over-long request line"]
    async with Server(tmp_path) as s:
        c = s.reread(json_of(await exchange(s.receiver.port, raw))["id"])
        assert c.request.truncated and c.request.body_size >= 65_536
        assert c.request.path.startswith("/events/webhook/demo/aaaa") and len(c.request.path) <= 65_536


async def test_a_sender_that_disconnects_mid_body_leaves_what_it_sent(tmp_path):
    async with Server(tmp_path) as s:
        shown = []
        s.pipeline.listeners.append(shown.append)
        raw = head("/events/webhook/demo/cut", b"Content-Length: 1000") + b"\r\n" + b"0123456789"
        await exchange(s.receiver.port, raw, close_after=True)
        await wait_for(lambda: shown, "the partial upload's capture")
        c = s.reread(shown[0].id)
        assert c.request.body == b"0123456789" and c.request.body_size == 10 and not c.request.truncated
        assert c.event_type == "cut"
        assert any("closed after 10 body bytes of 1000" in n for n in c.notes), c.notes


async def test_a_body_that_stalls_is_captured_as_far_as_it_came_and_the_connection_closed(tmp_path):
    s = Server(tmp_path)
    s.receiver = Receiver(s.pipeline, "127.0.0.1", 0, body_idle_timeout=0.3)
    async with s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
        writer.write(head("/events/webhook/demo/slow", b"Content-Length: 100") + b"\r\n" + b"abc")
        answer = await asyncio.wait_for(reader.read(), LIMIT)  # answered, then closed
        writer.close()
        c = s.reread(int(dict(line.split(": ", 1) for line in answer.decode().split("\r\n")[1:] if ": " in line)["X-Inspector-Capture"]))
        assert c.request.body == b"abc"
        assert any("sent nothing for 0.3 s after 3 body bytes of 100" in n for n in c.notes), c.notes


async def test_expect_100_continue_gets_the_go_ahead_before_the_body(tmp_path):
    async with Server(tmp_path) as s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
        writer.write(head("/events/webhook/demo/big", b"Expect: 100-continue", b"Content-Length: 5") + b"\r\n")
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIMIT)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hello")
        final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIMIT)
        assert final.startswith(b"HTTP/1.1 200")
        writer.close()


async def test_expect_100_continue_over_the_limit_is_refused_at_once_with_413_and_captured(tmp_path):
    async with Server(tmp_path, max_body_bytes=1000) as s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
        writer.write(head("/events/webhook/demo/big", b"Expect: 100-continue", b"Content-Length: 5000000") + b"\r\n")
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LIMIT)  # no body was sent
        assert answer.startswith(b"HTTP/1.1 413"), answer
        length = int(answer.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        data = json.loads(await asyncio.wait_for(reader.readexactly(length), LIMIT))
        writer.close()
        c = s.reread(data["id"])
        assert c.request.truncated and c.request.body == b"" and c.request.body_size == 5_000_000
        assert c.response.status == 413
        assert any("Expect: 100-continue" in n and "5000000" in n for n in c.notes), c.notes


async def test_a_head_that_never_completes_is_answered_408_and_others_are_served(tmp_path):
    s = Server(tmp_path)
    s.receiver = Receiver(s.pipeline, "127.0.0.1", 0, head_timeout=0.3, warn=(notes := []).append)
    async with s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
        writer.write(b"POST /events/webhook/demo/x HTTP/1.1\r\nX-Slow: ")
        status, _, _ = await s.post("/events/webhook/demo/meanwhile", b"{}")
        assert status == 200
        for _ in range(3):  # a byte now and then does not extend the deadline
            writer.write(b"a")
            await asyncio.sleep(0.05)
        answer = await asyncio.wait_for(reader.read(), LIMIT)
        assert answer.startswith(b"HTTP/1.1 408")
        writer.close()
        assert len(notes) == 1 and "not complete 0.3 s after it began" in notes[0]
        assert s.receiver.noted["slow-head"] == 1


async def test_past_the_connection_cap_the_longest_waiting_connection_makes_room(tmp_path):
    s = Server(tmp_path)
    s.receiver = Receiver(s.pipeline, "127.0.0.1", 0, max_connections=20, warn=(notes := []).append)
    async with s:
        idle = []
        for i in range(60):  # idle connections and stalled heads, three times the cap
            reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
            if i % 2:
                writer.write(b"POST /events/webhook/demo/x HTTP/1.1\r\n")
            idle.append((reader, writer))
        status, _, _ = await s.post("/events/webhook/demo/legit", b"{}")
        assert status == 200
        server = s.receiver._runner.server
        assert server.live <= 21
        # The oldest were closed (a stalled head first told 503), the newest still stand.
        first = await asyncio.wait_for(idle[1][0].read(), LIMIT)
        assert first.startswith(b"HTTP/1.1 503")
        for _, writer in idle:
            writer.close()
        assert len(notes) == 1 and "closing the one that waited longest" in notes[0]
        await s.session.close()  # its keep-alive connection too
        await wait_for(lambda: server.live == 0, "every closed connection to be counted out")


def test_accept_failing_for_want_of_descriptors_is_one_line_not_a_traceback_a_second(monkeypatch, capsys, caplog):
    import errno

    from inspector.receiver import LOOP_ENV, run_server

    monkeypatch.setenv(LOOP_ENV, "asyncio")  # uvloop drops such connections without a word

    async def main():
        loop = asyncio.get_running_loop()
        for _ in range(3):  # what asyncio's accept loop reports, once a second
            loop.call_exception_handler(
                {"message": "socket.accept() out of system resource", "exception": OSError(errno.EMFILE, "Too many open files")}
            )
        loop.call_exception_handler({"message": "something else broke", "exception": ValueError("other")})

    run_server(main())
    err = capsys.readouterr().err
    assert err.count("cannot accept connections (Too many open files)") == 1, err
    assert "socket.accept() out of system resource" not in err + caplog.text
    assert "something else broke" in caplog.text  # other failures are logged as before


async def test_at_the_cap_an_upload_trickling_in_is_cut_for_a_new_sender_and_kept_as_far_as_it_came(tmp_path, monkeypatch):
    from inspector import receiver as receiver_module

    monkeypatch.setattr(receiver_module, "SLOW_BODY_GRACE", 0.2)
    s = Server(tmp_path)
    s.receiver = Receiver(s.pipeline, "127.0.0.1", 0, max_connections=10, warn=(notes := []).append)
    async with s:
        shown = []
        s.pipeline.listeners.append(shown.append)
        slow = []
        for _ in range(10):  # the cap, every one of them uploading a byte now and then
            reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
            writer.write(head("/events/webhook/demo/trickle", b"Content-Length: 1000") + b"\r\n" + b"a")
            slow.append((reader, writer))
        await asyncio.sleep(0.3)  # past the grace period: their rate is about 3 bytes/s
        status, _, _ = await s.post("/events/webhook/demo/legit", b"{}")
        assert status == 200
        await wait_for(lambda: any(c.event_type == "trickle" for c in shown), "the cut upload's capture")
        cut = next(c for c in shown if c.event_type == "trickle")
        assert cut.request.body == b"a"
        assert any("cut by the inspector after 1 body bytes of 1000" in n for n in cut.notes), cut.notes
        assert len(notes) == 1 and "closing the slowest upload" in notes[0]
        for _, writer in slow:
            writer.close()


async def test_a_refused_path_with_bytes_that_are_not_utf8_is_stored_percent_encoded(tmp_path):
    raw = b"POST /events/webhook/d\x80mo/x?q=\xff HTTP/1.1\r\nHost: x\r\nX-Odd: \xfe\r\nContent-Length: 0\r\n\r\n"
    async with Server(tmp_path) as s:
        data = json_of(await exchange(s.receiver.port, raw))
        c = s.reread(data["id"])  # it was stored (text columns cannot hold those bytes as such)
        assert (c.request.path, c.request.query) == ("/events/webhook/d%80mo/x", "q=%FF")
        assert ("X-Odd", "\udcfe") in list(c.request.headers)  # headers keep the exact byte
