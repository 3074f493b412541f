"""JSON on the request path: orjson where it gives the same answer, the standard library
where orjson refuses (lone surrogates from non-UTF-8 header bytes, integers beyond 64 bits,
NaN/Infinity literals, non-string keys). Callers see the standard library's behaviour,
except that a NaN or infinite float is written as null (valid JSON) instead of NaN.

Why orjson: encoding a capture's trace and headers and decoding its payload were a fifth
of the time `serve` spent on a request (bench/ingest.py); orjson does both 2-12x faster.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_compact = json.JSONEncoder(separators=(",", ":"), default=str).encode
_DecodeError = orjson.JSONDecodeError
_EncodeError = orjson.JSONEncodeError
# orjson reads integers outside 64 bits as floats; the standard library keeps them exact.
# Such an integer has 19 digits or more: a text with a run of digits that long (found with
# bytes.translate, in C) goes to the standard library.
_DIGIT_MARKS = bytes(1 if 48 <= i <= 57 else 0 for i in range(256))
_RUN_19 = b"\x01" * 19


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces); values JSON cannot hold are written with str().
    Text that is not valid Unicode is written with \\u escapes, so it round-trips."""
    try:
        return orjson.dumps(value, default=str).decode()
    except (_EncodeError, TypeError):
        return _compact(value)


def loads(text: str | bytes) -> Any:
    """Parse JSON with the standard library's rules and errors (ValueError)."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if _RUN_19 in raw.translate(_DIGIT_MARKS):
        return json.loads(text)
    try:
        return orjson.loads(raw)
    except _DecodeError:
        return json.loads(text)
