"""Captures out as curl / HTTPie commands, HAR 1.2 or JSON; HAR, our JSON, ngrok's request log,
our fixtures and bundles in (SPEC §9). Fixtures (`inspector.fixtures`) and redacted bundles
(`inspector.bundle`) are written by their own modules: one is a folder, the other needs the
answers.json secrets it must leave out.

Commands reproduce the exact bytes (binary bodies through base64, header bytes that are not
UTF-8 through printf) and run nothing but the one client, whatever a capture holds. HAR and
JSON carry header bytes that are not UTF-8 beside their readable text, so an import gives back
the bytes that were captured. Secret-bearing headers are masked unless `reveal` is set.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .model import Capture, Headers, Request, Response, iso_time, json_text, unicode_text
from .replay import outgoing_headers

FORMATS = ("curl", "httpie", "har", "json", "fixtures", "bundle")
TEXT_FORMATS = ("curl", "httpie", "har", "json", "fixtures")  # what `export()` writes
Mask = Callable[[str, str], str]

# RFC 9110 §5.6.2: a method and a header name are tokens of these characters.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# RFC 9110 §5.5: a field value holds no control character but tab.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
MAX_METHOD = 32
MAX_TARGET = 64 * 1024  # the receiver's own limit on a request line or header field
MAX_HEADER = 64 * 1024
# A word made only of these (a method such as POST) reads the same to every shell unquoted.
_SHELL_PLAIN = re.compile(r"[A-Za-z0-9_-]+\Z")
# Surrogate escapes stand for the bytes 0x80–0xFF that were not UTF-8.
_ESCAPES = re.compile("[\udc80-\udcff]+")
_FIRST_SECOND = -62135596800.0  # 0001-01-01T00:00:00Z
_PAST_LAST_SECOND = 253402300800.0  # 10000-01-01T00:00:00Z


class ImportFailed(ValueError):
    """A file that cannot be imported; the message says which and why."""


# Shell commands


def _sq(text: str) -> str:
    """Single-quoted for POSIX shells: every character kept, `'` written as '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


def _word(text: str) -> str:
    """One shell word that the shell hands over as exactly these bytes: plain when nothing in
    it is special, else single-quoted; bytes that were not UTF-8 come from printf, so the
    command itself stays text a terminal and a clipboard can carry."""
    if _SHELL_PLAIN.match(text):
        return text
    parts, at = [], 0
    for m in _ESCAPES.finditer(text):
        if m.start() > at:
            parts.append(_sq(text[at : m.start()]))
        octal = "".join(f"\\{ord(c) - 0xDC00:03o}" for c in m.group())
        parts.append(f"\"$(printf '{octal}')\"")
        at = m.end()
    if at < len(text) or not parts:
        parts.append(_sq(unicode_text(text[at:])))
    return "".join(parts)


def _text_body(body: bytes) -> str | None:
    """The body as shell-safe text, or None when it must travel as base64."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        return None
    return text


def _headers_for_command(capture: Capture, mask: Mask | None) -> list[tuple[str, str]]:
    return [(k, mask(k, v) if mask else v) for k, v in outgoing_headers(capture.request.headers)]


def _header_arg(name: str, value: str, sep: str) -> str:
    # curl and HTTPie both read `Name:` (nothing after the colon) as "do not send Name";
    # `Name;` is how they send a header whose value is empty.
    return _word(f"{name};") if value == "" else _word(f"{name}{sep}{value}")


def to_curl(capture: Capture, base_url: str, mask: Mask | None = None) -> str:
    req = capture.request
    url = base_url.rstrip("/") + req.target
    headers = _headers_for_command(capture, mask)
    # --globoff: curl would otherwise expand [] and {} in the URL into several requests.
    parts = ["curl", "-sS", "-X", _word(req.method), _word(url), "--globoff"]
    present = {k.lower() for k, _ in headers}
    for k, v in headers:
        parts += ["-H", _header_arg(k, v, ": ")]
    # curl adds these unless told not to; the capture did not have them.
    for default in ("User-Agent", "Accept"):
        if default.lower() not in present:
            parts += ["-H", _sq(f"{default}:")]
    if req.body:
        text = _text_body(req.body)
        # --data-binary @… reads a file: a body that starts with @ goes through stdin.
        if text is not None and not text.startswith("@"):
            parts += ["--data-binary", _sq(text)]
            return " ".join(parts)
        b64 = base64.b64encode(req.body).decode()
        return f"printf %s {_sq(b64)} | base64 -d | " + " ".join(parts + ["--data-binary", "@-"])
    return " ".join(parts)


def _httpie_item(name: str, value: str) -> str:
    # HTTPie reads `Name:=…` as a JSON field and `Name:=@file` as a file to read: a value that
    # starts with a separator character is escaped so that it stays a header.
    if value[:1] in ("=", "@"):
        value = "\\" + value
    return _header_arg(name, value, ":")


def to_httpie(capture: Capture, base_url: str, mask: Mask | None = None) -> str:
    req = capture.request
    url = base_url.rstrip("/") + req.target
    headers = _headers_for_command(capture, mask)
    present = {k.lower() for k, _ in headers}
    options = ["--print=hb"]
    items = [_httpie_item(k, v) for k, v in headers]
    for default in ("User-Agent", "Accept", "Accept-Encoding"):
        if default.lower() not in present:
            items.append(_sq(f"{default}:"))  # an empty value tells HTTPie not to send its default
    piped = None
    if req.body:
        text = _text_body(req.body)
        if text is not None:
            options.append(f"--raw={_sq(text)}")
        else:
            piped = base64.b64encode(req.body).decode()
    else:
        options.append("--ignore-stdin")
    # `--` ends the options: a method such as `--download` (a valid token) stays the method.
    command = " ".join(["http", *options, "--", _word(req.method), _word(url), *items])
    return f"printf %s {_sq(piped)} | base64 -d | {command}" if piped is not None else command


# HAR and JSON out


def _wire(value: str) -> bytes:
    """The bytes a header value stands for: surrogate escapes back to the bytes that were not
    UTF-8 (any other lone surrogate, which no bytes stand for, as U+FFFD)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return unicode_text(value).encode("utf-8")


def _exact_bytes(value: str) -> bytes | None:
    """The bytes of a header value whose text is not what goes on the wire; None when the
    text is exact."""
    try:
        value.encode("utf-8")
        return None
    except UnicodeEncodeError:
        return _wire(value)


def _har_headers(headers: Iterable[tuple[str, str]], mask: Mask | None) -> list[dict[str, str]]:
    out = []
    for k, v in headers:
        v = mask(k, v) if mask else v
        item = {"name": unicode_text(k), "value": unicode_text(v)}
        exact = _exact_bytes(v)
        if exact is not None:
            # HAR allows fields starting with _ for extensions: readers that know it get the
            # exact bytes, the others still read `value`.
            item["_bytes_base64"] = base64.b64encode(exact).decode()
        out.append(item)
    return out


def _har_content(body: bytes, mime: str) -> dict[str, Any]:
    text = _text_body(body) if body else ""
    if text is not None:
        return {"mimeType": mime, "text": text}
    return {"mimeType": mime, "text": base64.b64encode(body).decode(), "encoding": "base64"}


def to_har(captures: list[Capture], base_url: BaseUrl, mask: Mask | None = None, version: str = "0") -> dict[str, Any]:
    entries = []
    for c in captures:
        req = c.request
        shown = _redactor(c, mask)
        mime = unicode_text(req.headers.get("content-type") or "")
        post = _har_content(req.body, mime)
        request = {
            "method": req.method,
            "url": _base(base_url, c).rstrip("/") + req.target,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(req.headers, shown),
            "queryString": [{"name": k, "value": v} for k, v in req.query_pairs()],
            "headersSize": -1,
            "bodySize": req.body_size,
        }
        if req.body:
            request["postData"] = {"mimeType": mime, "text": post["text"], "params": []} | (
                {"encoding": "base64"} if "encoding" in post else {}
            )
        resp = c.response
        response: dict[str, Any] = {
            "status": resp.status if resp else 0,
            "statusText": _reason(resp.status) if resp else "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(resp.headers, shown) if resp else [],
            "content": (
                {"size": len(resp.body)} | _har_content(_shown_body(resp.body, shown), unicode_text(resp.headers.get("content-type") or ""))
            )
            if resp
            else {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(resp.body) if resp else -1,
        }
        took = resp.duration_ms if resp and resp.duration_ms is not None else 0
        entries.append(
            {
                "startedDateTime": iso_time(req.received_at),
                "time": took,
                "request": request,
                "response": response,
                "cache": {},
                "timings": {"send": 0, "wait": took, "receive": 0},
                "_inspector": {
                    "id": c.id,
                    "tenant": c.tenant,
                    "event_type": c.event_type,
                    "origin": c.origin,
                    "replay_of": c.replay_of,
                    "signature": c.signature.to_json(),
                    "flows": c.flows_summary(),
                },
            }
        )
    har: dict[str, Any] = _readable(
        {"log": {"version": "1.2", "creator": {"name": "webhook-inspector", "version": version}, "entries": entries}}
    )
    return har


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def to_json(capture: Capture, mask: Mask | None) -> dict[str, Any]:
    """The `show --json` form, plus what makes it exact: `headers_base64` (each header value's
    bytes, in order) and the response's `body_base64` (its `body` is the parsed value)."""
    mask = _redactor(capture, mask)
    data = capture.detail_json(mask)
    if hasattr(mask, "detail"):
        data = mask.detail(data)  # flow outputs, logs and the answer can repeat a secret
    data["headers_base64"] = [
        [unicode_text(k), base64.b64encode(_wire(mask(k, v) if mask else v)).decode()] for k, v in capture.request.headers
    ]
    if capture.response is not None and isinstance(data.get("response"), dict):
        data["response"]["body_base64"] = base64.b64encode(_shown_body(capture.response.body, mask)).decode()
        data["response"]["headers_base64"] = [
            [unicode_text(k), base64.b64encode(_wire(mask(k, v) if mask else v)).decode()] for k, v in capture.response.headers
        ]
    readable: dict[str, Any] = _readable(data)  # a dict stays a dict
    return readable


def _readable(value: Any) -> Any:
    """Every string as text that can be written as UTF-8: lone surrogates (bytes that were not
    UTF-8, whose exact form travels in a base64 field) become U+FFFD."""
    if isinstance(value, str):
        return unicode_text(value) if _SURROGATES.search(value) else value
    if isinstance(value, dict):
        return {(_readable(k) if isinstance(k, str) else k): _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, tuple):
        return [_readable(v) for v in value]
    return value


_SURROGATES = re.compile("[\ud800-\udfff]")


def _redactor(capture: Capture, mask: Mask | None) -> Any:
    """A `Masker` becomes the capture's `Redactor`, which also hides the secrets that flows
    copied into outputs and answers; any other mask is used as it is."""
    for_capture = getattr(mask, "for_capture", None)
    return for_capture(capture) if for_capture is not None else mask


def _shown_body(body: bytes, mask: Any) -> bytes:
    """An answer's bytes as they may be shown: a flow's answer can echo a secret header
    (`{{headers.authorization}}`)."""
    text_of = getattr(mask, "text", None)
    if text_of is None:
        return body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    shown = text_of(text)
    return body if shown == text else shown.encode("utf-8")


_HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


def arrival_base(capture: Capture) -> str | None:
    """The local address a capture arrived on, from its own Host header (`http://127.0.0.1:PORT`),
    when that names this machine; None for a public name (it came through a tunnel), an
    import without one, or a value that is not a plain host[:port]."""
    from .replay import _is_loopback

    host = capture.request.headers.get("host")
    match = _HOST_HEADER.fullmatch(host) if isinstance(host, str) else None
    if match is None or not _is_loopback(match.group(1).strip("[]")):
        return None
    port = match.group(2)
    if port and not 0 < int(port[1:]) < 65536:
        return None
    return f"http://{host}"


BaseUrl = str | Callable[[Capture], str]


def _base(base_url: BaseUrl, capture: Capture) -> str:
    return base_url(capture) if callable(base_url) else base_url


def export(captures: list[Capture], fmt: str, base_url: BaseUrl, mask: Mask | None) -> str:
    """`base_url`: where the commands send (the capture's path and query are appended); a
    function of the capture gives each its own (see `arrival_base`)."""
    if fmt == "curl":
        return "\n".join(to_curl(c, _base(base_url, c), _redactor(c, mask)) for c in captures) + "\n"
    if fmt == "httpie":
        return "\n".join(to_httpie(c, _base(base_url, c), _redactor(c, mask)) for c in captures) + "\n"
    if fmt == "har":
        return json_text(to_har(captures, base_url, mask), indent=2, ensure_ascii=False) + "\n"
    if fmt == "json":
        data = [to_json(c, mask) for c in captures]
        return json_text(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"
    if fmt in ("fixtures", "fixture"):
        # One capture's fixture document (what the TUI writes to the file it is given);
        # `fixtures.write_fixtures` names and writes one file per capture into a folder.
        from .fixtures import document_text, to_fixture

        docs = [to_fixture(c, mask) for c in captures]
        return document_text(docs[0] if len(docs) == 1 else docs)
    if fmt == "bundle":
        raise ValueError("bundles are written by inspector.bundle.to_bundle (it needs answers.json's secrets), not export()")
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_private(path: str, text: str) -> None:
    """Write an export readable by its owner only (mode 0600): bodies and revealed headers
    hold secrets. The file never exists with wider rights, not even for a moment, and a file
    that was there before is narrowed before anything is written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        # Only a regular file: --output /dev/stdout must not change the terminal's mode.
        if hasattr(os, "fchmod") and stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(text.encode("utf-8"))
    finally:
        os.close(fd)


# Import: every field is checked, and a problem names the entry and the field.


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _string(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if key not in obj:
        raise ImportFailed(f"{where}.{key}: missing; it is required")
    if not isinstance(value, str):
        raise ImportFailed(f"{where}.{key}: expected a string, got {_kind(value)}")
    return value


def _optional_string(obj: dict[str, Any], key: str, where: str) -> str | None:
    """The string at key, or None when the key is absent or null."""
    if obj.get(key) is None:
        return None
    return _string(obj, key, where)


def _method(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ImportFailed(f'{where}: expected an HTTP method (a string such as "POST"), got {_kind(value)}')
    if not _TOKEN.match(value) or len(value) > MAX_METHOD:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ImportFailed(
            f"{where}: not an HTTP method token ({shown!r}); a method is 1 to {MAX_METHOD} letters, digits or !#$%&'*+-.^_`|~, e.g. POST"
        )
    return value


def _header(name: Any, value: Any, where: str) -> tuple[str, str]:
    if not isinstance(name, str):
        raise ImportFailed(f"{where}.name: expected a string, got {_kind(name)}")
    if not _TOKEN.match(name) or len(name) > MAX_HEADER:
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ImportFailed(
            f"{where}.name: {shown!r} is not a header name; names are letters, digits or !#$%&'*+-.^_`|~, without spaces or colons"
        )
    if not isinstance(value, str):
        raise ImportFailed(f"{where}.value: expected a string, got {_kind(value)}")
    if len(value) > MAX_HEADER:
        raise ImportFailed(f"{where}.value: {len(value)} characters; a header value is at most {MAX_HEADER}")
    bad = _CONTROL.search(value)
    if bad:
        raise ImportFailed(
            f"{where}.value: holds the control character {bad.group()!r}; header values cannot carry CR, LF, NUL or other control characters (tab is allowed)"
        )
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ImportFailed(
            f"{where}.value: holds a lone surrogate (\\ud800–\\udfff), which no bytes stand for; write the exact bytes in _bytes_base64"
        ) from None
    return name, value


def _base64(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise ImportFailed(f"{where}: expected base64 text, got {_kind(text)}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ImportFailed(f"{where}: not base64") from None


def _header_bytes(raw: bytes, where: str) -> str:
    value = raw.decode("utf-8", "surrogateescape")
    bad = _CONTROL.search(value)
    if bad:
        raise ImportFailed(
            f"{where}: holds the control byte {bad.group()!r}; header values cannot carry CR, LF, NUL or other control characters"
        )
    return value


def _har_header_list(value: Any, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFailed(f'{where}: expected a list of {{"name", "value"}} objects, got {_kind(value)}')
    out = []
    for i, h in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(h, dict):
            raise ImportFailed(f'{at}: expected a {{"name", "value"}} object, got {_kind(h)}')
        if "name" not in h:
            raise ImportFailed(f"{at}.name: missing; every header needs a name")
        if "value" not in h:
            raise ImportFailed(f'{at}.value: missing; write "" for an empty header')
        name, text = _header(h["name"], h["value"], at)
        if "_bytes_base64" in h:
            exact = _header_bytes(_base64(h["_bytes_base64"], f"{at}._bytes_base64"), f"{at}._bytes_base64")
            # The bytes win while `value` is still their readable form; a `value` someone
            # edited since the export is what they meant.
            if unicode_text(exact) == text:
                text = exact
        out.append((name, text))
    return out


def _target(value: Any, where: str) -> tuple[str, str]:
    """(path, query) from a HAR url: absolute, or a path starting with /."""
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        raise ImportFailed(f"{where}: expected a URL string, got {_kind(value)}")
    if len(value) > MAX_TARGET:
        raise ImportFailed(f"{where}: {len(value)} characters; a URL is at most {MAX_TARGET}")
    bad = re.search(r"[\x00-\x20\x7f]", value)
    if bad:
        raise ImportFailed(f"{where}: holds {bad.group()!r}; a URL has no spaces or control characters (percent-encode them)")
    if value.startswith("/"):
        path, _, query = value.partition("?")
        return path, query.partition("#")[0]
    if not value.lower().startswith(("http://", "https://")):
        raise ImportFailed(f"{where}: {value[:60]!r} is neither an http(s) URL nor a path starting with /")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ImportFailed(f"{where}: not a URL ({exc})") from None
    return parts.path or "/", parts.query


def _body(obj: Any, where: str) -> bytes:
    if obj is None:
        return b""
    if not isinstance(obj, dict):
        raise ImportFailed(f"{where}: expected an object with text (and encoding), got {_kind(obj)}")
    text = obj.get("text")
    if text is None:
        return b""
    if not isinstance(text, str):
        raise ImportFailed(f"{where}.text: expected a string, got {_kind(text)}")
    encoding = obj.get("encoding")
    if encoding is not None and encoding != "base64":
        raise ImportFailed(f'{where}.encoding: {encoding!r} is not understood; only "base64" (or no encoding, for UTF-8 text) is')
    if encoding == "base64":
        return _base64(text, f"{where}.text")
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ImportFailed(
            f'{where}.text: holds a lone surrogate (\\ud800–\\udfff), which no bytes stand for; give binary bodies as base64 with "encoding": "base64"'
        ) from None


def _time(value: Any, where: str, fallback: float) -> float:
    """An ISO 8601 time as epoch seconds; missing or null is the import's own time."""
    if value is None:
        return fallback
    if not isinstance(value, str):
        raise ImportFailed(f'{where}: expected an ISO 8601 time such as "2024-05-01T10:00:00Z", got {_kind(value)}')
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # ngrok writes nanoseconds; Python takes microseconds
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise ImportFailed(f'{where}: {value[:60]!r} is not an ISO 8601 time such as "2024-05-01T10:00:00Z"') from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    try:
        epoch = stamp.timestamp()
    except (OverflowError, ValueError):
        epoch = math.nan
    # Refused, not clamped: a clamped date would be a time the request never had, and every
    # view writes times as UTC within the years 1–9999.
    if not _FIRST_SECOND <= epoch < _PAST_LAST_SECOND:
        raise ImportFailed(f"{where}: {value!r} is outside the years 1–9999 in UTC; give a real time")
    return epoch


def _duration(value: Any, where: str, scale: float = 1.0) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ImportFailed(f"{where}: expected a number, got {_kind(value)}")
    if value == -1:  # HAR: "not available"
        return None
    if not 0 <= value < 1e15:
        raise ImportFailed(f"{where}: {value!r} is not a duration; expected a number ≥ 0")
    return round(value / scale, 3)


def _status(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportFailed(f"{where}: expected a status code (a number such as 200), got {_kind(value)}")
    if value != 0 and not 100 <= value <= 999:
        raise ImportFailed(f'{where}: {value} is not an HTTP status; expected 100–999 (0 for "no answer")')
    return value


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFailed(f"{where}: expected an object, got {_kind(value)}")
    return value


def _optional_obj(value: Any, where: str) -> dict[str, Any] | None:
    """The object, or None for an absent (null) one."""
    return None if value is None else _obj(value, where)


def from_har(data: Any, now: float) -> list[tuple[Request, Response | None]]:
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise ImportFailed('not a HAR file: expected {"log": {"entries": [...]}}')
    out = []
    for i, entry in enumerate(log["entries"]):
        where = f"log.entries[{i}]"
        entry = _obj(entry, where)
        if "request" not in entry:
            raise ImportFailed(f"{where}.request: missing; it has no request object")
        r = _obj(entry["request"], f"{where}.request")
        for field in ("method", "url"):
            if field not in r:
                raise ImportFailed(f"{where}.request.{field}: missing; a request needs a method and a url")
        method = _method(r["method"], f"{where}.request.method")
        path, query = _target(r["url"], f"{where}.request.url")
        headers = _har_header_list(r.get("headers"), f"{where}.request.headers")
        body = _body(r.get("postData"), f"{where}.request.postData")
        received = _time(entry.get("startedDateTime"), f"{where}.startedDateTime", now)
        took = _duration(entry.get("time"), f"{where}.time")
        request = Request(method, path, query, Headers(headers), body, "import", received)
        response = None
        resp = _optional_obj(entry.get("response"), f"{where}.response")
        if resp is not None and "status" in resp and _status(resp["status"], f"{where}.response.status") > 0:
            rheaders = _har_header_list(resp.get("headers"), f"{where}.response.headers")
            rbody = _body(resp.get("content"), f"{where}.response.content")
            response = Response(resp["status"], Headers(rheaders), rbody, took)
        out.append((request, response))
    return out


def _parse_raw_http(raw: bytes, where: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    first = lines[0].decode("latin-1").strip().split(" ")
    if len(first) < 2:
        raise ImportFailed(f"{where}: the raw message has no request line (METHOD /path HTTP/1.1)")
    headers = []
    for n, line in enumerate(lines[1:], 1):
        line = line.rstrip(b"\r")
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            raise ImportFailed(f"{where}: line {n + 1} of the raw message is not a header (Name: value)")
        text_name = name.decode("latin-1")
        if not _TOKEN.match(text_name):
            raise ImportFailed(f"{where}: line {n + 1} of the raw message: {text_name[:40]!r} is not a header name")
        headers.append((text_name, _header_bytes(value.strip(b" \t"), f"{where}: line {n + 1} of the raw message")))
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = _dechunk(body)
    return first[0], first[1], headers, body


def _dechunk(data: bytes) -> bytes:
    out, i = b"", 0
    while i < len(data):
        end = data.find(b"\r\n", i)
        if end < 0:
            break
        try:
            size = int(data[i:end].split(b";")[0], 16)
        except ValueError:
            break
        if size <= 0:
            break
        out += data[end + 2 : end + 2 + size]
        i = end + 2 + size + 2
    return out


def from_ngrok(data: Any, now: float) -> list[tuple[Request, Response | None]]:
    """The ngrok agent's `GET /api/requests/http` answer: {"requests": [{request: {raw}}, …]}."""
    items = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ImportFailed('not an ngrok request log: expected {"requests": [...]}')
    out = []
    for i, item in enumerate(items):
        where = f"requests[{i}]"
        item = _obj(item, where)
        if "request" not in item:
            raise ImportFailed(f"{where}.request: missing; it has no request object")
        req = _obj(item["request"], f"{where}.request")
        if req.get("raw") not in (None, ""):
            raw = _base64(req["raw"], f"{where}.request.raw")
            method, target, headers, body = _parse_raw_http(raw, f"{where}.request.raw")
            method = _method(method, f"{where}.request.raw: the request line's method")
        else:
            for field in ("method", "uri"):
                if field not in req:
                    raise ImportFailed(f"{where}.request.{field}: missing; a request needs raw, or a method and a uri")
            method = _method(req["method"], f"{where}.request.method")
            target = req["uri"]
            hdrs = _optional_obj(req.get("headers"), f"{where}.request.headers") or {}
            headers = []
            for name, values in hdrs.items():
                for n, value in enumerate(values if isinstance(values, list) else [values]):
                    headers.append(_header(name, value, f"{where}.request.headers[{name!r}][{n}]"))
            body = b""
        path, query = _target(target, f"{where}.request.uri")
        client = item.get("remote_addr")
        if client is not None and not isinstance(client, str):
            raise ImportFailed(f"{where}.remote_addr: expected a string, got {_kind(client)}")
        request = Request(method, path, query, Headers(headers), body, client or "import", _time(item.get("start"), f"{where}.start", now))
        out.append((request, _ngrok_response(item, where)))
    return out


def _ngrok_response(item: dict[str, Any], where: str) -> Response | None:
    resp = _optional_obj(item.get("response"), f"{where}.response")
    if resp is None:
        return None
    duration = _duration(item.get("duration"), f"{where}.duration", scale=1e6)  # ngrok: nanoseconds
    if resp.get("raw") not in (None, ""):
        raw = _base64(resp["raw"], f"{where}.response.raw")
        status_line, _, rest = raw.partition(b"\r\n")
        fields = status_line.split(b" ")
        if len(fields) < 2 or not fields[1].isdigit():
            raise ImportFailed(f"{where}.response.raw: the raw answer has no status line (HTTP/1.1 200 OK)")
        status = _status(int(fields[1]), f"{where}.response.raw: the status line's code")
        _, _, rheaders, rbody = _parse_raw_http(b"X / HTTP/1.1\r\n" + rest, f"{where}.response.raw")
        return Response(status, Headers(rheaders), rbody, duration) if status else None
    if "status_code" in resp:
        status = _status(resp["status_code"], f"{where}.response.status_code")
        return Response(status, Headers(), b"", duration) if status else None
    return None


def from_json(data: Any, now: float) -> list[tuple[Request, Response | None]]:
    """Our own `export --format json` (the `show --json` form): one capture or a list."""
    many = isinstance(data, list)
    out = []
    for i, item in enumerate(data if many else [data]):
        where = f"[{i}]" if many else "capture"
        item = _obj(item, where)
        method = _method(item.get("method"), f"{where}.method")
        path = _string(item, "path", where)
        query = _optional_string(item, "query", where) or ""
        target_path, target_query = _target(path + ("?" + query if query else ""), f"{where}.path")
        headers = _json_headers(item, "headers", where)
        body = _base64(item.get("body_base64"), f"{where}.body_base64") if "body_base64" in item else b""
        received = _time(item.get("received_at"), f"{where}.received_at", now)
        request = Request(method, target_path, target_query, Headers(headers), body, "import", received)
        response = None
        resp = _optional_obj(item.get("response"), f"{where}.response")
        if resp is not None and _status(resp.get("status"), f"{where}.response.status"):
            rwhere = f"{where}.response"
            rheaders = _json_headers(resp, "headers", rwhere)
            if "body_base64" in resp:
                rbody = _base64(resp["body_base64"], f"{rwhere}.body_base64")
            else:
                value = resp.get("body")
                rbody = (
                    b"" if value is None else (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogateescape")
                )
            response = Response(resp["status"], Headers(rheaders), rbody, _duration(resp.get("duration_ms"), f"{rwhere}.duration_ms"))
        out.append((request, response))
    return out


def _json_headers(obj: dict[str, Any], key: str, where: str) -> list[tuple[str, str]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFailed(f"{where}.{key}: expected a list of [name, value] pairs, got {_kind(value)}")
    exact = obj.get(key + "_base64")
    if exact is not None and (not isinstance(exact, list) or len(exact) != len(value)):
        raise ImportFailed(f"{where}.{key}_base64: expected a list of [name, base64 value] pairs, one per header in {key}")
    out = []
    for i, pair in enumerate(value):
        at = f"{where}.{key}[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise ImportFailed(f"{at}: expected a [name, value] pair, got {_kind(pair)}")
        name, text = _header(pair[0], pair[1], at)
        if exact is not None:
            other = exact[i]
            if not isinstance(other, list) or len(other) != 2:
                raise ImportFailed(f"{where}.{key}_base64[{i}]: expected a [name, base64 value] pair, got {_kind(other)}")
            raw = _header_bytes(_base64(other[1], f"{where}.{key}_base64[{i}][1]"), f"{where}.{key}_base64[{i}][1]")
            if unicode_text(raw) == text:  # as in HAR: a value edited since the export wins
                text = raw
        out.append((name, text))
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class Imported:
    """One request read from a file, with what was recorded about it: the answer, and for our
    bundles the flow runs and the name of the signature entry that applied."""

    request: Request
    response: Response | None
    runs: tuple[Any, ...] = ()
    scheme: str | None = None


def read_import(raw: bytes, now: float) -> tuple[str, list[tuple[Request, Response | None]]]:
    """(format name, requests with their recorded answers)."""
    kind, items = read_imported(raw, now)
    return kind, [(i.request, i.response) for i in items]


def read_imported(raw: bytes, now: float) -> tuple[str, list[Imported]]:
    """(format name, what each entry holds): HAR, ngrok's log, our JSON, a fixture, a bundle."""
    expected = "expected a HAR file, our JSON export, a bundle or fixture of ours, or the ngrok agent's /api/requests/http JSON"
    if not raw.strip():
        raise ImportFailed(f"the file is empty; {expected}")
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=_no_constants)
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"not UTF-8 JSON (byte {exc.start} is {raw[exc.start : exc.start + 1]!r}); {expected}") from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {expected}") from None
    except RecursionError:
        raise ImportFailed(f"the JSON is nested too deeply to read; {expected}") from None
    except ValueError as exc:  # NaN/Infinity, or a number with thousands of digits
        raise ImportFailed(f"not JSON ({exc}); {expected}") from None
    from .bundle import BundleError, is_bundle, read_bundle
    from .fixtures import FIXTURE_KEY, FixtureError, read_fixture

    try:
        if is_bundle(data):
            return "bundle", [Imported(b.request, b.response, b.runs, b.scheme) for b in read_bundle(data, now)]
        if isinstance(data, dict) and FIXTURE_KEY in data:
            fixture = read_fixture(data, "fixture")
            request = Request(
                fixture.request.method, fixture.request.path, fixture.request.query, fixture.request.headers, fixture.body, "import", now
            )
            received = data.get("received_at")
            if received is not None:
                request = Request(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    request.body,
                    "import",
                    _time(received, "received_at", now),
                )
            return "fixture", [Imported(request, _fixture_answer(fixture.answer))]
        if isinstance(data, dict) and "log" in data:
            return "har", [Imported(r, a) for r, a in from_har(data, now)]
        if isinstance(data, dict) and "requests" in data:
            return "ngrok", [Imported(r, a) for r, a in from_ngrok(data, now)]
        if (
            isinstance(data, dict)
            and "body_base64" in data
            or isinstance(data, list)
            and data
            and all(isinstance(d, dict) and "body_base64" in d for d in data)
        ):
            return "json", [Imported(r, a) for r, a in from_json(data, now)]
    except (BundleError, FixtureError) as exc:
        raise ImportFailed(str(exc)) from None
    except RecursionError:  # pragma: no cover - json.loads refuses such depth first
        raise ImportFailed(f"the JSON is nested too deeply to read; {expected}") from None
    if isinstance(data, dict) and "format" in data:
        raise ImportFailed(
            f'the format {str(data["format"])[:60]!r} is not one this program reads; a bundle of ours says "format": "webhook-inspector-bundle"'
        )
    raise ImportFailed(
        'neither a HAR file ({"log": …}), our JSON export ({"body_base64": …}), our bundle ({"format": "webhook-inspector-bundle", …}), '
        'our fixture ({"webhook_inspector_fixture": 1, …}) nor an ngrok request log ({"requests": […]})'
    )


def _fixture_answer(answer: dict[str, Any] | None) -> Response | None:
    if not answer or not isinstance(answer.get("status"), int) or isinstance(answer.get("status"), bool):
        return None
    status = _status(answer["status"], "answer.status")
    if not status:
        return None
    headers = _json_headers(answer, "headers", "answer")
    return Response(status, Headers(headers), answer.get("body_bytes") or b"", None)
