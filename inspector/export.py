"""Captures out as curl / HTTPie commands, HAR 1.2 or JSON; HAR and ngrok's request log in (SPEC §9).

Commands reproduce the exact body bytes (binary bodies through base64), and secret-bearing
headers are masked unless `reveal` is set.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from .model import Capture, Headers, Request, Response, iso_time
from .replay import outgoing_headers

FORMATS = ("curl", "httpie", "har", "json")
Mask = Callable[[str, str], str]


class ImportFailed(ValueError):
    """A file that cannot be imported; the message says which and why."""


def _sq(text: str) -> str:
    """Single-quoted for POSIX shells: every byte kept, `'` written as '\\''."""
    return "'" + text.replace("'", "'\\''") + "'"


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


def to_curl(capture: Capture, base_url: str, mask: Mask | None = None) -> str:
    req = capture.request
    url = base_url.rstrip("/") + req.target
    headers = _headers_for_command(capture, mask)
    parts = ["curl", "-sS", "-X", req.method, _sq(url)]
    present = {k.lower() for k, _ in headers}
    for k, v in headers:
        parts += ["-H", _sq(f"{k}: {v}")]
    # curl adds these unless told not to; the capture did not have them.
    for default in ("User-Agent", "Accept"):
        if default.lower() not in present:
            parts += ["-H", _sq(f"{default}:")]
    if req.body:
        text = _text_body(req.body)
        if text is not None:
            parts += ["--data-binary", _sq(text)]
            return " ".join(parts)
        b64 = base64.b64encode(req.body).decode()
        return f"printf %s {_sq(b64)} | base64 -d | " + " ".join(parts + ["--data-binary", "@-"])
    return " ".join(parts)


def to_httpie(capture: Capture, base_url: str, mask: Mask | None = None) -> str:
    req = capture.request
    url = base_url.rstrip("/") + req.target
    headers = _headers_for_command(capture, mask)
    present = {k.lower() for k, _ in headers}
    args = ["http", "--print=hb", req.method, _sq(url)]
    for k, v in headers:
        args.append(_sq(f"{k}:{v}"))
    for default in ("User-Agent", "Accept", "Accept-Encoding"):
        if default.lower() not in present:
            args.append(_sq(f"{default}:"))  # an empty value tells HTTPie not to send its default
    if req.body:
        text = _text_body(req.body)
        if text is not None:
            return " ".join(args + [f"--raw={_sq(text)}"])
        b64 = base64.b64encode(req.body).decode()
        return f"printf %s {_sq(b64)} | base64 -d | " + " ".join(args)
    return " ".join(args + ["--ignore-stdin"])


def _har_headers(headers: Iterable[tuple[str, str]], mask: Mask | None) -> list[dict[str, str]]:
    return [{"name": k, "value": mask(k, v) if mask else v} for k, v in headers]


def _har_content(body: bytes, mime: str) -> dict[str, Any]:
    text = _text_body(body) if body else ""
    if text is not None:
        return {"mimeType": mime, "text": text}
    return {"mimeType": mime, "text": base64.b64encode(body).decode(), "encoding": "base64"}


def to_har(captures: list[Capture], base_url: str, mask: Mask | None = None, version: str = "0") -> dict[str, Any]:
    entries = []
    for c in captures:
        req = c.request
        shown = _redactor(c, mask)
        mime = req.headers.get("content-type") or ""
        post = _har_content(req.body, mime)
        request = {
            "method": req.method,
            "url": base_url.rstrip("/") + req.target,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(req.headers, shown),
            "queryString": [{"name": k, "value": v} for k, v in req.query_pairs()],
            "headersSize": -1,
            "bodySize": req.body_size,
        }
        if req.body:
            request["postData"] = {"mimeType": mime, "text": post["text"], "params": []} | ({"encoding": "base64"} if "encoding" in post else {})
        resp = c.response
        response: dict[str, Any] = {
            "status": resp.status if resp else 0,
            "statusText": _reason(resp.status) if resp else "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(resp.headers, shown) if resp else [],
            "content": ({"size": len(resp.body)} | _har_content(_shown_body(resp.body, shown), resp.headers.get("content-type") or "")) if resp else {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(resp.body) if resp else -1,
        }
        took = resp.duration_ms if resp and resp.duration_ms is not None else 0
        entries.append({
            "startedDateTime": iso_time(req.received_at),
            "time": took,
            "request": request,
            "response": response,
            "cache": {},
            "timings": {"send": 0, "wait": took, "receive": 0},
            "_inspector": {"id": c.id, "tenant": c.tenant, "event_type": c.event_type, "origin": c.origin,
                           "replay_of": c.replay_of, "signature": c.signature.to_json(), "flows": c.flows_summary()},
        })
    return {"log": {"version": "1.2", "creator": {"name": "webhook-inspector", "version": version}, "entries": entries}}


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


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


def export(captures: list[Capture], fmt: str, base_url: str, mask: Mask | None) -> str:
    if fmt == "curl":
        return "\n".join(to_curl(c, base_url, _redactor(c, mask)) for c in captures) + "\n"
    if fmt == "httpie":
        return "\n".join(to_httpie(c, base_url, _redactor(c, mask)) for c in captures) + "\n"
    if fmt == "har":
        return json.dumps(to_har(captures, base_url, mask), indent=2, ensure_ascii=False) + "\n"
    if fmt == "json":
        data = []
        for c in captures:
            redactor = _redactor(c, mask)
            detail = c.detail_json(redactor)
            data.append(redactor.detail(detail) if hasattr(redactor, "detail") else detail)
        return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# Import


def _parse_time(text: Any, fallback: float) -> float:
    if not isinstance(text, str):
        return fallback
    try:
        value = text.replace("Z", "+00:00")
        # ngrok writes nanoseconds; Python takes microseconds.
        value = re.sub(r"(\.\d{6})\d+", r"\1", value)
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return fallback


def _split_url(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path or "/"
    if not url.startswith(("http://", "https://")) and url.startswith("/"):
        path, _, query = url.partition("?")
        return path, query
    return path, parts.query


def _b64_or_text(obj: dict, what: str, where: str) -> bytes:
    text = obj.get("text") or ""
    if not isinstance(text, str):
        raise ImportFailed(f"{where}: {what}.text is not a string")
    if obj.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ImportFailed(f"{where}: {what} says base64 but its text is not base64") from None
    return text.encode("utf-8")


def from_har(data: Any, now: float) -> list[tuple[Request, Response | None]]:
    if not isinstance(data, dict) or not isinstance(data.get("log"), dict) or not isinstance(data["log"].get("entries"), list):
        raise ImportFailed("not a HAR file: expected {\"log\": {\"entries\": [...]}}")
    out = []
    for i, entry in enumerate(data["log"]["entries"]):
        where = f"log.entries[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise ImportFailed(f"{where}: has no request object")
        r = entry["request"]
        method, url = r.get("method"), r.get("url")
        if not isinstance(method, str) or not isinstance(url, str):
            raise ImportFailed(f"{where}.request: needs a method and a url")
        headers = _har_header_list(r.get("headers"), f"{where}.request.headers")
        body = _b64_or_text(r["postData"], "postData", where) if isinstance(r.get("postData"), dict) else b""
        path, query = _split_url(url)
        request = Request(method.upper(), path, query, Headers(headers), body, "import", _parse_time(entry.get("startedDateTime"), now))
        response = None
        resp = entry.get("response")
        if isinstance(resp, dict) and isinstance(resp.get("status"), int) and resp["status"] > 0:
            content = resp.get("content") if isinstance(resp.get("content"), dict) else {}
            response = Response(resp["status"], Headers(_har_header_list(resp.get("headers"), f"{where}.response.headers")), _b64_or_text(content, "response.content", where) if content else b"", entry.get("time") if isinstance(entry.get("time"), (int, float)) else None)
        out.append((request, response))
    return out


def _har_header_list(value: Any, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFailed(f"{where}: expected a list of {{name, value}}")
    out = []
    for h in value:
        if not isinstance(h, dict) or not isinstance(h.get("name"), str):
            raise ImportFailed(f"{where}: every header needs a name")
        out.append((h["name"], str(h.get("value", ""))))
    return out


def _parse_raw_http(raw: bytes, where: str) -> tuple[str, str, list[tuple[str, str]], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    first = lines[0].decode("latin-1").strip().split(" ")
    if len(first) < 2:
        raise ImportFailed(f"{where}: raw request has no request line")
    headers = []
    for line in lines[1:]:
        line = line.rstrip(b"\r")
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if colon:
            headers.append((name.decode("latin-1").strip(), value.strip().decode("utf-8", "surrogateescape")))
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
        if size == 0:
            break
        out += data[end + 2:end + 2 + size]
        i = end + 2 + size + 2
    return out


def from_ngrok(data: Any, now: float) -> list[tuple[Request, Response | None]]:
    """The ngrok agent's `GET /api/requests/http` answer: {"requests": [{request: {raw}}, …]}."""
    items = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ImportFailed("not an ngrok request log: expected {\"requests\": [...]}")
    out = []
    for i, item in enumerate(items):
        where = f"requests[{i}]"
        req = item.get("request") if isinstance(item, dict) else None
        if not isinstance(req, dict):
            raise ImportFailed(f"{where}: has no request object")
        raw_b64 = req.get("raw")
        if isinstance(raw_b64, str) and raw_b64:
            try:
                raw = base64.b64decode(raw_b64, validate=True)
            except ValueError:
                raise ImportFailed(f"{where}.request.raw is not base64") from None
            method, target, headers, body = _parse_raw_http(raw, where)
        else:
            method, target = req.get("method"), req.get("uri")
            if not isinstance(method, str) or not isinstance(target, str):
                raise ImportFailed(f"{where}.request: needs raw, or method and uri")
            hdrs = req.get("headers") or {}
            headers = [(k, v) for k, values in hdrs.items() for v in (values if isinstance(values, list) else [values])]
            body = b""
        path, _, query = target.partition("?")
        request = Request(method.upper(), path or "/", query, Headers(headers), body, item.get("remote_addr") or "import", _parse_time(item.get("start"), now))
        response = None
        resp = item.get("response")
        if isinstance(resp, dict) and isinstance(resp.get("raw"), str):
            try:
                raw = base64.b64decode(resp["raw"])
                status_line, _, rest = raw.partition(b"\r\n")
                status = int(status_line.split(b" ")[1])
                _, _, rh, rbody = _parse_raw_http(b"X / HTTP/1.1\r\n" + rest, where)
                duration = item.get("duration")
                response = Response(status, Headers(rh), rbody, round(duration / 1e6, 3) if isinstance(duration, (int, float)) else None)
            except (ValueError, IndexError):
                response = None
        elif isinstance(resp, dict) and isinstance(resp.get("status_code"), int):
            response = Response(resp["status_code"], Headers(), b"")
        out.append((request, response))
    return out


def read_import(raw: bytes, now: float) -> tuple[str, list[tuple[Request, Response | None]]]:
    """(format name, requests with their recorded answers)."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFailed("not UTF-8 JSON; expected a HAR file or the ngrok agent's /api/requests/http JSON") from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); expected a HAR file or the ngrok agent's /api/requests/http JSON") from None
    if isinstance(data, dict) and "log" in data:
        return "har", from_har(data, now)
    if isinstance(data, dict) and "requests" in data:
        return "ngrok", from_ngrok(data, now)
    raise ImportFailed("neither a HAR file ({\"log\": …}) nor an ngrok request log ({\"requests\": […]})")

