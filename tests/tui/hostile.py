"""Captures no sender should produce but a store can hold: bytes that are not UTF-8, bodies
nested past Python's recursion limit, calendar-edge dates, gzip bombs, runs of any shape.
The TUI must show each of them, or say what it cannot show, and never exit."""

from __future__ import annotations

import gzip
import math
from typing import Any

from inspector.model import Capture, Headers, Request, Response, SignatureResult

DEEP = 1000
BOMB_INFLATED = 64 * 1024 * 1024  # what the gzip bomb inflates to


def _gzip_bomb() -> bytes:
    out = gzip.compress(b"", mtime=0)[:10]  # header only
    import zlib

    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    chunk = b"\0" * (1024 * 1024)
    body = b"".join(deflate.compress(chunk) for _ in range(BOMB_INFLATED // len(chunk))) + deflate.flush()
    import struct

    return out + body + struct.pack("<II", 0, BOMB_INFLATED & 0xFFFFFFFF)


def _capture(
    label: str,
    *,
    method: str = "POST",
    path: str = "/events/webhook/demo/github",
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),),
    body: bytes = b'{"ok": true}',
    received_at: float = 1_700_000_000.0,
    truncated: bool = False,
    size: int | None = None,
    response: Response | None | str = "default",
    runs: tuple[Any, ...] = (),
    signature: SignatureResult | None = None,
    tenant: str | None = "demo",
    event_type: str | None = "github",
    notes: tuple[str, ...] = (),
) -> tuple[str, Capture]:
    if response == "default":
        response = Response(200, Headers.of((("Content-Type", "application/json"),)), b'{"status": "accepted"}', 1.0)
    request = Request(
        method=method,
        path=path,
        query=query,
        headers=Headers.of(headers),
        body=body,
        client="127.0.0.1",
        received_at=received_at,
        truncated=truncated,
        size=size,
    )
    return label, Capture(None, request, tenant, event_type, signature or SignatureResult("unsigned"), response, runs, notes=notes)


def hostile_captures() -> list[tuple[str, Capture]]:
    nested = b"[" * DEEP + b"]" * DEEP
    nested_map = b'{"a":' * DEEP + b"1" + b"}" * DEEP
    return [
        _capture(
            "non-UTF-8 header bytes",
            headers=(
                ("Content-Type", "application/json"),
                ("X-Bad", "caf\udce9 \udcff\udcfe"),
                ("X-Gr\udcfcn", "ok"),
                ("Authorization", "Bearer \udcff\udcfesecret-token-123"),
            ),
        ),
        _capture("lone surrogates in JSON", body=b'{"text": "\\ud800 and \\udfff", "\\udc80key": ["\\ud83d"]}'),
        _capture("1,000-level nested array", body=nested),
        _capture("1,000-level nested map", body=nested_map, headers=(("Content-Type", "application/vnd.api+json"),)),
        _capture("empty body", body=b"", headers=()),
        _capture("1 MiB body", body=b'{"blob": "' + b"x" * (1024 * 1024) + b'"}'),
        _capture("binary body", body=bytes(range(256)) * 4, headers=(("Content-Type", "application/octet-stream"),)),
        _capture("form with bad bytes", body=b"a=%ff%fe&b=\xff\xfe&c", headers=(("Content-Type", "application/x-www-form-urlencoded"),)),
        _capture("year 1 exactly", received_at=-62135596800.0),
        _capture("before year 1 in UTC", received_at=-62135596800.0 - 14 * 3600),
        _capture("NaN received_at", received_at=math.nan),
        _capture("infinite received_at", received_at=math.inf),
        _capture("far future received_at", received_at=1e18),
        _capture("method with CR/LF", method="PO\r\nST\x1b[31m", path="/events/webhook/demo/github\r\nX: y", query="a=\x00&b=%ff"),
        _capture("gzip bomb", body=_gzip_bomb(), headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip"))),
        _capture("broken gzip", body=b"\x1f\x8b\x08\x00garbage", headers=(("Content-Encoding", "gzip"),)),
        _capture("truncated", body=b'{"a": "' + b"y" * 100, truncated=True, size=5 * 1024 * 1024),
        _capture("no response", response=None),
        _capture(
            "odd response",
            response=Response(
                999, Headers.of((("Content-Type", "application/json"), ("X-R\udcff", "v\udcfe"))), b"[" * DEEP + b"]" * DEEP, -1.0
            ),
        ),
        _capture(
            "non-UTF-8 response text", response=Response(500, Headers.of((("Content-Type", "text/plain"),)), b"\xff\xfe\x00oops", None)
        ),
        _capture("unrouted", path="/%ff/\x00nope", tenant=None, event_type=None, response=Response(404)),
        _capture(
            "odd signature",
            signature=SignatureResult(
                "bogus",
                scheme="x\udcff",
                algorithm=None,
                header="X-\udcff",
                reason="r\udcff",
                hints=("h\udcff", ""),
                received="\udcff",
                expected=None,
            ),
        ),
        _capture(
            "runs with strange shapes",
            runs=(
                {"flow": None, "status": None, "steps": None, "path": None},
                {"flow": "x", "status": "weird", "steps": "not a list", "path": "abc", "duration_us": "soon", "error": "a string"},
                {
                    "flow": "y",
                    "status": "error",
                    "steps": [
                        None,
                        3,
                        "s",
                        {"node": None, "decision": "x", "error": "e", "logs": None},
                        {"node": "n", "type": "branch", "decision": [None, {"expression": None}]},
                        {"node": "h", "type": "http_response", "output": {"status": "x"}, "duration_us": math.nan},
                    ],
                    "path": [None, 1, {"a": 1}],
                    "id": [1],
                    "parent_id": {"x": 1},
                },
                {
                    "flow": "deep",
                    "status": "ok",
                    "steps": [{"node": "s", "type": "script", "output": _deep_value(DEEP // 2)}],
                    "path": ["s"],
                },
                "not a run",
                42,
                None,
                ["a", "list"],
            ),
        ),
        _capture(
            "markup in every field",
            method="[/b]",
            path="/events/webhook/demo/[/red]",
            query="[/i]=[b",
            headers=(
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-[/b]", "[/red] [link=x]"),
                ("X-Hub-Signature-256", "[/]"),
            ),
            body=b"%5B%2Fi%5D=%5B%2Fb%5D&[/u]=1",
            signature=SignatureResult(
                "invalid", scheme="[/b]", algorithm="[/i]", header="[/u]", reason="[/red]", hints=("[/b]",), received="[/]", expected="[/x]"
            ),
            response=Response(401, Headers.of((("X-[/b]", "[/i]"), ("Content-Type", "text/plain"))), b"[/red]", 1.0),
            runs=(
                {
                    "flow": "[/b]",
                    "status": "error",
                    "path": ["[/i]"],
                    "file": "[/u]",
                    "steps": [
                        {
                            "node": "[/b]",
                            "type": "script",
                            "status": "error",
                            "output": "[/red]",
                            "logs": ["[/x]"],
                            "error": {"message": "[/red]", "line": 1, "column": 2},
                        }
                    ],
                    "error": {"message": "[/red]", "line": 1, "column": 2},
                },
            ),
            notes=("[/red]",),
            event_type="[/b]",
            tenant="[/i]",
        ),
        _capture("notes of any shape", notes=("\udcff", "x" * 10000)),  # type: ignore[arg-type]
    ]


def _deep_value(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value
