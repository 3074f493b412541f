"""Hostile request bodies and flow answers against a real server on port 0 and a real store:
gzip bombs, JSON nested a thousand levels deep, header values with control characters,
interim statuses. Each request is kept with its exact bytes and answered with a reason."""

from __future__ import annotations

import functools
import gzip
import json
import struct
import zlib

import pytest

from inspector.flow import FlowSet
from inspector.flow.engine import MAX_DECODED_BYTES, MAX_PAYLOAD_DEPTH, decode_body, parse_payload
from inspector.model import Headers, Request
from tests.harness import LiveServer as Server  # the echo flow (ECHO_FLOW)

JSON = {"Content-Type": "application/json"}


# Item 5: answers HTTP cannot carry


@pytest.mark.parametrize("value", ["a\x01b", "del\x7f", "vt\x0bx", "esc\x1b[31m", "c1\x85"])
async def test_a_header_value_with_any_control_character_fails_the_node(tmp_path, value):
    async with Server(tmp_path) as s:
        status, raw, headers = await s.post("/events/webhook/demo/echo", json.dumps({"value": value}).encode(), JSON)
        assert status == 500, raw
        data = json.loads(raw)
        assert data["node"] == "reply" and "'X-Echo'" in data["message"] and "control character" in data["message"], data
        assert "X-Echo" not in headers
        kept = s.reread(headers["X-Inspector-Capture"])
        assert kept.response.status == 500 and kept.runs[0].to_json()["status"] == "error"


async def test_a_tab_in_a_header_value_is_still_allowed(tmp_path):
    async with Server(tmp_path) as s:
        status, raw, headers = await s.post("/events/webhook/demo/echo", json.dumps({"value": "a\tb"}).encode(), JSON)
        assert status == 200 and headers["X-Echo"] == "a\tb"


@pytest.mark.parametrize("code", [100, 101, 199, 1000, 99])
async def test_a_rendered_status_that_is_not_a_final_answer_fails_the_node(tmp_path, code):
    async with Server(tmp_path) as s:
        status, raw, headers = await s.post("/events/webhook/demo/echo", json.dumps({"status": code}).encode(), JSON)
        assert status == 500, raw
        data = json.loads(raw)
        assert data["node"] == "reply" and "HTTP status code 200–599 (a final answer)" in data["message"], data
        if code < 200 and code >= 100:
            assert "interim" in data["message"]
        assert s.reread(headers["X-Inspector-Capture"]).response.status == 500


@pytest.mark.parametrize("code", [100, 101, 199, 1000])
def test_a_literal_status_that_is_not_a_final_answer_is_a_load_error(tmp_path, code):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "bad.ygtc").write_text(
        f"name: bad\nnodes:\n  - id: reply\n    type: http_response\n    config:\n      status: {code}\n      body: ok\n"
        "triggers:\n  - type: event\n    event_type: x\n"
    )
    errors = [str(e) for e in FlowSet.load(folder).errors]
    assert len(errors) == 1 and "bad.ygtc:6:" in errors[0] and "HTTP status code 200–599 (a final answer)" in errors[0], errors


# Item 1: decompression bombs


@functools.cache
def gzip_bomb(chunks: int = 64, chunk: int = 1 << 24) -> bytes:
    """A valid gzip body of `chunks` × `chunk` zero bytes (1 GiB by default, ~1 MiB on the
    wire), built from one compressed chunk repeated: a full flush makes each chunk's
    deflate output self-contained and byte-aligned, so it is the same every time."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = deflater.compress(bytes(chunk)) + deflater.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    zeros = bytes(chunk)
    for _ in range(chunks):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + segment * chunks + b"\x03\x00" + struct.pack("<II", crc, (chunks * chunk) & 0xFFFFFFFF)


def test_a_bomb_is_inflated_only_up_to_the_cap_with_a_warning():
    body = gzip_bomb(chunks=4)  # 64 MiB inflated
    req = Request("POST", "/x", "", Headers([("Content-Encoding", "gzip")]), body, None, 0.0)
    decoded, warning = decode_body(req)
    assert len(decoded) == MAX_DECODED_BYTES and decoded == bytes(MAX_DECODED_BYTES)
    assert f"cut at {MAX_DECODED_BYTES} bytes" in warning and "raw bytes" in warning


def test_bodies_under_the_cap_decode_as_before():
    text = b'{"a": 1}' * 1000
    for name, body in (("gzip", gzip.compress(text)), ("deflate", zlib.compress(text)), ("deflate", zlib.compress(text)[2:-4])):
        req = Request("POST", "/x", "", Headers([("Content-Encoding", name)]), body, None, 0.0)
        assert decode_body(req) == (text, None)
    broken = Request("POST", "/x", "", Headers([("Content-Encoding", "gzip")]), gzip.compress(text)[:-20], None, 0.0)
    decoded, warning = decode_body(broken)
    assert decoded == broken.body and "could not be undone" in warning


async def test_a_gzip_bomb_is_kept_raw_and_answered_with_the_trace_cut(tmp_path):
    """1 MiB on the wire that claims 1 GiB: the flow sees the first 16 MiB (a warning in its
    run says so), the request bytes are stored as received and the sender gets the flow's
    answer, which the stored capture records; a trace too large for the store is kept
    without step outputs (a note says why)."""
    bomb = gzip_bomb()
    async with Server(tmp_path) as s:
        status, raw, headers = await s.post("/events/webhook/demo/echo", bomb, {"Content-Encoding": "gzip", "Content-Type": "text/plain"})
        await s.pipeline.drain(20)  # decoded in a worker: its trace is stored when the run ends
        kept = s.reread(headers["X-Inspector-Capture"])
        assert kept.request.body == bomb and kept.response.status == status
        run = kept.runs[0].to_json()
        assert any(f"cut at {MAX_DECODED_BYTES} bytes" in w for w in run["warnings"]), run["warnings"]
        if run["status"] == "ok":  # the 16 MiB the script returned went into the trace
            assert status == 200, raw
            assert [step["output"] for step in run["steps"]] == [None, None]
            assert any("flow trace is" in note and "without step outputs" in note for note in kept.notes), kept.notes
        else:  # or the engine's budget for one request's trace stopped the run first
            assert status == 500 and run["status"] == "limit", (raw, run["error"])
        # A normal request right after is unaffected.
        status, raw, headers = await s.post("/events/webhook/demo/echo", b'{"value": "x"}', JSON)
        assert status == 200 and s.reread(headers["X-Inspector-Capture"]).runs[0].to_json()["steps"][0]["output"] == {"value": "x"}


# Item 3: JSON nested a thousand levels deep


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def test_parsing_or_writing_json_too_deep_for_python_is_a_value_error():
    from inspector import jsonfast

    with pytest.raises(ValueError, match="nested too deeply"):
        jsonfast.loads(deep(5000))
    value: object = 1
    for _ in range(5000):
        value = [value]
    with pytest.raises(ValueError, match="nested too deeply"):
        jsonfast.dumps(value)


@pytest.mark.parametrize("levels", [MAX_PAYLOAD_DEPTH + 1, 1000, 5000])
def test_a_payload_nested_too_deep_is_the_text_with_a_warning(levels):
    text = deep(levels).decode()
    payload, warning = parse_payload(text, "application/json")
    assert payload == text and f"nested more than {MAX_PAYLOAD_DEPTH} levels" in warning


def test_a_payload_at_the_depth_limit_is_parsed():
    payload, warning = parse_payload(deep(MAX_PAYLOAD_DEPTH - 1).decode(), "application/json")
    assert warning is None and isinstance(payload, dict)


@pytest.mark.parametrize("levels", [1000, 5000])
async def test_a_deep_body_is_captured_and_the_flow_runs_on_its_text(tmp_path, levels):
    body = deep(levels)
    async with Server(tmp_path) as s:
        status, raw, headers = await s.post("/events/webhook/demo/echo", body, JSON)
        assert status == 200, raw
        kept = s.reread(headers["X-Inspector-Capture"])
        assert kept.request.body == body and kept.response.status == 200
        run = kept.runs[0].to_json()
        assert run["status"] == "ok" and any("nested more than" in w for w in run["warnings"]), run
        assert run["steps"][0]["output"] == body.decode()
