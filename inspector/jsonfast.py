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
from collections.abc import Callable
from typing import Any

import orjson

_compact = json.JSONEncoder(separators=(",", ":"), default=str).encode
_DecodeError = orjson.JSONDecodeError
_EncodeError = orjson.JSONEncodeError
# orjson reads integers outside 64 bits as floats; the standard library keeps them exact.
# Such an integer is a token of 19 digits or more, and a number token starts at the start
# of the text or right after ':', ',', '[', '-' or whitespace. A text with a run of 19
# digits in such a place (found with bytes.translate and a substring search, in C) goes to
# the standard library; digit runs inside strings mostly follow a letter or a quote (commit
# ids, order numbers) and stay on the fast path.
#
# The brackets `{` and `[` are deleted from the marks (translate does it in the same pass),
# which tells their count (see loads_counting) without another pass. A number after `[`
# is then found after what came before the `[`: in valid JSON the start of the text,
# `:`, `,`, whitespace or another `[`, so it is still found. (A digit run that now follows
# such a mark inside a string, as in "x [123…", only takes the standard library's way.)
# The search is a regular expression of the literal marks: its prefix search goes through
# runs of digits (such as zero-padded ids) in one pass, where `in` steps back and forth
# (1.1 µs instead of 2.1 µs for the ingest bench's push).
_DIGIT, _BEFORE_NUMBER = 1, 2
_MARKS = bytes(_DIGIT if 48 <= i <= 57 else _BEFORE_NUMBER if i in b":,- \t\r\n" else 0 for i in range(256))
_BRACKETS = b"{["
_RUN_19 = bytes([_DIGIT]) * 19
_find_number_19 = re.compile(re.escape(bytes([_BEFORE_NUMBER]) + _RUN_19)).search


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces); values JSON cannot hold are written with str().
    Text that is not valid Unicode is written with \\u escapes, so it round-trips."""
    try:
        return orjson.dumps(value, default=str).decode()
    except (_EncodeError, TypeError):
        pass
    try:
        return _compact(value)
    except RecursionError:  # orjson stops at 255 levels, the standard library near 1000
        raise ValueError("the value is nested too deeply to write as JSON") from None


def loads(text: str | bytes, utf8: bytes | None = None) -> Any:
    """Parse JSON with the standard library's rules and errors (ValueError, also for text
    nested too deeply to parse: orjson stops at 1024 levels, the standard library near 1000
    with a RecursionError). `utf8`: the text's UTF-8 encoding when the caller has it (the
    bytes it was decoded from), so the text is not encoded again."""
    return loads_counting(text, utf8)[0]


def loads_counting(text: str | bytes, utf8: bytes | None = None) -> tuple[Any, int]:
    """`loads(text, utf8)`, and how many `{` and `[` the text holds: its nesting depth is at
    most that, so a caller that limits the depth need not walk a value with few of them.
    Raises as `loads` does."""
    raw = utf8 if utf8 is not None else text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    marks = raw.translate(_MARKS, _BRACKETS)
    if _find_number_19(marks) is None and not marks.startswith(_RUN_19):
        try:
            return orjson.loads(raw), len(raw) - len(marks)
        except _DecodeError:
            pass
    try:
        return json.loads(text), len(raw) - len(marks)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


def standard_encoder(*, ensure_ascii: bool = True, separators: tuple[str, str] = (", ", ": ")) -> Callable[[Any], str]:
    """`json.JSONEncoder(ensure_ascii=…, separators=…).encode`, the same text and the same
    errors, without the Python layers around the C encoder on each call (`encode`,
    `iterencode` and the closure it builds): 3.6 → 2.3 µs for a flow's small answer.

    The C encoder is made once and kept in a pool, not made per call (a third of a small
    answer's cost). Its circular-reference memory empties itself when an encoding ends
    normally; one that raised may have left entries, so that encoder is dropped, never
    used again. Each call takes an encoder of its own from the pool (list.pop and append
    are atomic), so threads never share one mid-encoding."""
    standard = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=separators)
    make = getattr(json.encoder, "c_make_encoder", None)  # the C accelerator, not in the stubs
    if make is None:  # a Python without it
        return standard.encode
    default = standard.default
    strings = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    item, key = separators
    pool: list[Any] = []

    def encode(value: Any) -> str:
        try:
            encoder = pool.pop()
        except IndexError:
            encoder = make({}, default, strings, None, key, item, False, False, True)
        text = "".join(encoder(value, 0))  # raising: the encoder is not put back
        pool.append(encoder)
        return text

    return encode
