"""Writing to the terminal: stdout whatever its encoding, stderr, JSON documents, and values made safe for one line."""

from __future__ import annotations

import codecs
import json
import re
import sys
from typing import Any


class OutputFailed(Exception):
    """stdout cannot be written (a full disk, /dev/full, an I/O error): one line, exit 2."""


def out(text: str = "") -> None:
    write_out(text + "\n")


def write_out(text: str, *, json_doc: bool = False) -> None:
    """Write to stdout whatever its encoding. Bytes that were not UTF-8 (surrogate escapes)
    and lone surrogates become U+FFFD, as in the TUI; characters an ASCII or C locale lacks
    become backslash escapes, or \\u escapes in a JSON document (`json_doc`), which keeps
    it the same document."""
    from ..model import unicode_text

    stream = sys.stdout
    if stream is None:  # started with stdout closed (`>&-`): as print() does, nothing to write
        return
    text = unicode_text(text)
    if not _stdout_is_utf8():
        if json_doc:
            text = ascii_json(text)
        else:
            encoding = stream.encoding or "ascii"
            text = text.encode(encoding, "backslashreplace").decode(encoding)
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise  # the reader went away: __main__ ends quietly
    except OSError as exc:
        raise OutputFailed(exc.strerror or str(exc)) from None


_NON_ASCII = re.compile("[^\x00-\x7f]")


def ascii_json(text: str) -> str:
    # Outside its strings JSON is ASCII, so every other character can become its escape.
    return _NON_ASCII.sub(lambda m: json.dumps(m.group())[1:-1], text)


def _stdout_is_utf8() -> bool:
    try:
        return codecs.lookup(sys.stdout.encoding or "ascii").name == "utf-8"
    except LookupError:
        return False


def err(text: str) -> None:
    if sys.stderr is not None:  # started with `2>&-`: print(file=None) would write to stdout
        print(text, file=sys.stderr, flush=True)


def dump(data: Any) -> str:
    """One JSON document for stdout: valid in any encoding, with U+FFFD for bytes that were not
    UTF-8 and for lone surrogates (strict JSON parsers reject them even as \\u escapes), and
    null for a number that is not finite (Python would write NaN or Infinity, which no JSON
    parser has to accept)."""
    from ..model import json_text, unicode_text

    text = unicode_text(json_text(data, ensure_ascii=False, indent=2))
    return text if _stdout_is_utf8() else ascii_json(text)


_CELL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Multi-line text (bodies, logs) keeps its line breaks and tabs.
_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\r(?!\n)")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape_control(match: re.Match) -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def cell(value: Any) -> str:
    """A value in one line of text output: `–` for none, control characters (and bidi
    overrides) escaped, so an imported method with CR/LF or a header with ESC can neither
    break a table's layout nor drive the terminal."""
    if value is None:
        return "–"
    return _CELL_CONTROL.sub(_escape_control, str(value))


def text_block(value: str) -> str:
    """Multi-line text for the terminal: as `cell`, but line breaks and tabs stay."""
    return _TEXT_CONTROL.sub(_escape_control, value)
