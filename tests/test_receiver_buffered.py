"""The receiver's shortcut for a body that has wholly arrived (buffered_body) takes exactly
what read_body would, and leaves everything else (still coming, cut short, over the limit,
broken) to read_body untouched. A real server on port 0 with a real SQLite store."""

from __future__ import annotations

import asyncio
from unittest import mock

from aiohttp import streams
from aiohttp.test_utils import make_mocked_request

from inspector.receiver import buffered_body
from tests.test_receiver import Server


def _request(declared: int | None) -> tuple[object, streams.StreamReader]:
    protocol = mock.Mock(_reading_paused=False)
    payload = streams.StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    headers = {"Content-Length": str(declared)} if declared is not None else {"Transfer-Encoding": "chunked"}
    return make_mocked_request("POST", "/events/webhook/demo/x", headers=headers, payload=payload), payload


async def test_a_body_still_coming_is_left_whole_for_read_body():
    request, payload = _request(10)
    payload.feed_data(b"01234")
    assert buffered_body(request, 1000) is None
    payload.feed_data(b"56789")
    payload.feed_eof()
    body = buffered_body(request, 1000)
    assert body is not None and (body.data, body.size, body.truncated, body.complete, body.problem) == (
        b"0123456789",
        10,
        False,
        True,
        None,
    )


async def test_cut_short_over_the_limit_or_broken_bodies_are_not_taken():
    request, payload = _request(10)
    payload.feed_data(b"01234")
    payload.feed_eof()  # the sender went away after 5 of 10 bytes
    assert buffered_body(request, 1000) is None and payload.read_nowait(-1) == b"01234"
    request, payload = _request(10)
    payload.feed_data(b"0123456789")
    payload.feed_eof()
    assert buffered_body(request, 5) is None and payload.read_nowait(-1) == b"0123456789"
    request, payload = _request(None)
    payload.feed_data(b"abc")
    payload.set_exception(ValueError("broken chunked encoding"))
    assert buffered_body(request, 1000) is None


async def _raw(url: str, *parts: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    for part in parts:
        writer.write(part)
        await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_whole_split_and_chunked_bodies_are_stored_exactly(tmp_path):
    body = b'{"zen": "Keep it logically awesome."}'
    head = b"POST /events/webhook/demo/github HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    async with Server(tmp_path, enforce=False) as server:
        sent = [
            (head + b"Content-Length: %d\r\n\r\n" % len(body) + body,),  # one write: the shortcut
            (head + b"Content-Length: %d\r\n\r\n" % len(body) + body[:7], body[7:]),  # two writes
            (
                head + b"Transfer-Encoding: chunked\r\n\r\n",
                b"7\r\n" + body[:7] + b"\r\n",
                b"%x\r\n" % (len(body) - 7) + body[7:] + b"\r\n0\r\n\r\n",
            ),
        ]
        ids = []
        for parts in sent:
            answer = await _raw(server.receiver.url, *parts)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            ids.append(int(answer.split(b"X-Inspector-Capture: ", 1)[1].split(b"\r\n", 1)[0]))
        for cid in ids:
            kept = server.reread(cid)
            assert kept.request.body == body and kept.request.body_size == len(body) and not kept.request.truncated
            assert not kept.notes


async def test_a_body_cut_short_is_still_kept_with_what_happened(tmp_path):
    async with Server(tmp_path, enforce=False) as server:
        host, port = server.receiver.url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /events/webhook/demo/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        await writer.drain()
        writer.write_eof()  # no more bytes: 10 of 100
        await reader.read()
        writer.close()
        for _ in range(500):  # the capture is committed before any answer; the sender may not see one
            captures = list(server.store.iter_newest())
            if captures:
                break
            await asyncio.sleep(0.01)
        kept = server.reread(captures[0].id)
        assert kept.request.body == b"0123456789" and any("closed after 10 body bytes of 100" in n for n in kept.notes), kept.notes
