"""Random requests against the live server: never a 5xx, never a crash, always captured."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import fuzz_examples
from tests.test_receiver import Server

token = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'"), min_size=1, max_size=20)
path_char = st.sampled_from(list("abcXYZ019._-~%/") + ["%2F", "%00", "%ff", "..", "//"])
header_value = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c not in b"\r\n"))


@st.composite
def raw_requests(draw):
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"]) | token.map(str.upper))
    prefix = draw(st.sampled_from(["/events/webhook/", "/v1/events/ingress/", "/", "/__inspector/selfcheck/"]))
    path = prefix + "".join(draw(st.lists(path_char, max_size=30)))
    query = draw(st.sampled_from(["", "?a=1", "?a=%ff&b", "?" + "x" * 100]))
    headers = draw(st.lists(st.tuples(token, header_value), max_size=6))
    body = draw(st.binary(max_size=2000))
    head = f"{method} {path}{query} HTTP/1.1\r\nHost: x\r\n".encode()
    for name, value in headers:
        if name.lower() in ("content-length", "transfer-encoding", "host", "connection", "expect"):
            continue
        head += name.encode() + b": " + value + b"\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    return head + body


@settings(max_examples=fuzz_examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(raw_requests(), min_size=1, max_size=4))
def test_random_requests_never_get_a_5xx(tmp_path_factory, requests):
    async def go():
        async with Server(tmp_path_factory.mktemp("fuzz"), max_body_bytes=1000) as s:
            for raw in requests:
                reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
                writer.write(raw)
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), 10)
                writer.close()
                # aiohttp's parser answers malformed HTTP (control bytes in a header, a bad
                # method token) with its own 400 before the request reaches the pipeline.
                assert answer[:5] == b"HTTP/", answer[:60]
                status = int(answer[9:12])
                assert status < 500 or status == 503 and b"disabled" in answer, answer[:300]
            # The server still answers, and every request it parsed was captured.
            status, _, _ = await s.post("/events/webhook/demo/after", b"{}")
            assert status == 200

    asyncio.run(go())


VALID_HEAD = (
    b"POST /events/webhook/demo/fuzz?x=1 HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\nContent-Type: application/json\r\n"
)


@st.composite
def damaged_requests(draw):
    """A valid request with random bytes written over, into or cut out of its head."""
    head = bytearray(VALID_HEAD)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(head)))
        kind = draw(st.sampled_from(["insert", "overwrite", "cut"]))
        junk = draw(st.binary(min_size=1, max_size=8))
        if kind == "insert":
            head[at:at] = junk
        elif kind == "overwrite":
            head[at : at + len(junk)] = junk
        else:
            del head[at : at + len(junk)]
    return bytes(head) + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"


@settings(max_examples=fuzz_examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(damaged_requests(), min_size=1, max_size=4))
def test_damaged_heads_are_answered_and_whatever_is_refused_is_kept(tmp_path_factory, requests):
    import json
    import logging

    from inspector.pipeline import REJECTED_NOTE

    class Tracebacks(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.records = []

        def emit(self, record):
            if record.exc_info:
                self.records.append(record)

    seen = Tracebacks()
    logging.getLogger().addHandler(seen)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)

    async def go():
        async with Server(tmp_path_factory.mktemp("damaged")) as s:
            for raw in requests:
                reader, writer = await asyncio.open_connection("127.0.0.1", s.receiver.port)
                writer.write(raw)
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), 10)
                writer.close()
                assert answer[:5] == b"HTTP/", (raw, answer[:60])
                status = int(answer[9:12])
                assert status < 500, (raw, answer[:300])
                if status == 400 and b'"malformed HTTP request"' in answer:
                    data = json.loads(answer.partition(b"\r\n\r\n")[2])
                    capture = s.reread(data["id"])
                    assert capture.notes[0] == REJECTED_NOTE + data["reason"]
            status, _, _ = await s.post("/events/webhook/demo/after", b"{}")
            assert status == 200

    try:
        asyncio.run(go())
    finally:
        logging.getLogger().removeHandler(seen)
        logging.getLogger().setLevel(previous)
    assert not seen.records, [r.getMessage() for r in seen.records]
