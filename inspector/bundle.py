"""Redacted, shareable bundles of captures (issue #19 item 5).

`export --format bundle` writes one JSON file a teammate can use: every secret-bearing header
and every signature value removed (the scheme names kept, so the importer knows what to sign
with), chosen JSON body paths (`$.customer.email`) replaced by a marker, and every value that
was removed also scrubbed wherever it reappears (query, body, the answer, flow traces).
`import FILE --resign` stores the captures signed with the importer's own secrets at their own
received time, so the flows behave on their machine as they did on ours.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .fixtures import document_text, text_or_base64
from .flow.runs import FlowRun, runs_from_json, runs_to_json
from .model import Capture, Headers, Request, Response, iso_time, unicode_text
from .replay import outgoing_headers
from .signatures import all_schemes
from .signatures.secrets import MIN_SUBSTRING, Masker, _fragments

BUNDLE_FORMAT = "webhook-inspector-bundle"
BUNDLE_VERSION = 1
MARKER = "[redacted]"
MIN_MAC = 16  # the shortest piece of a signature header scrubbed elsewhere (a MAC, not a timestamp)
# A header whose name says it carries a MAC, whatever scheme sent it.
_SIGNATURE_NAME = re.compile(r"signature|hmac", re.IGNORECASE)


class BundleError(ValueError):
    """A bundle that cannot be written or read; the message says what, where and how to fix it."""


# Paths: $.a.b, $['a b'], $.items[0].email, $.items[*].email, $..email is not supported


@dataclass(frozen=True)
class RedactPath:
    text: str
    steps: tuple[str | int | None, ...]  # None: every item or member (`[*]`, `.*`)


_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z_$][\w$-]*)      # .name
      | \.\*(?P<star1>)                     # .*
      | \[(?P<index>-?\d+)\]                # [0]
      | \[\*(?P<star2>)\]                   # [*]
      | \['(?P<sq>(?:[^'\\]|\\.)*)'\]      # ['a b']
      | \["(?P<dq>(?:[^"\\]|\\.)*)"\]      # ["a b"]
    """,
    re.VERBOSE,
)


def parse_path(text: str) -> RedactPath:
    """`$.customer.email` as steps; BundleError (a usage error) saying where it goes wrong."""
    how = "write it as $.key, $.key.sub, $.items[0].key, $.items[*].key or $['odd key']"
    if not text.startswith("$"):
        raise BundleError(f"--redact-path {text!r}: a path starts with $ (the body's root); {how}")
    steps: list[str | int | None] = []
    at = 1
    while at < len(text):
        m = _STEP.match(text, at)
        if m is None:
            raise BundleError(f"--redact-path {text!r}: cannot read it from character {at + 1} ({text[at : at + 12]!r}); {how}")
        if m.group("name") is not None:
            steps.append(m.group("name"))
        elif m.group("index") is not None:
            steps.append(int(m.group("index")))
        elif m.group("sq") is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m.group("sq")))
        elif m.group("dq") is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m.group("dq")))
        else:
            steps.append(None)
        at = m.end()
    if not steps:
        raise BundleError(f"--redact-path {text!r}: names the whole body; name a field inside it ({how})")
    return RedactPath(text, tuple(steps))


def _redact_at(value: Any, steps: tuple[str | int | None, ...], found: list[Any]) -> tuple[Any, int]:
    """`value` with what `steps` lead to replaced by MARKER; the count, and the values replaced
    appended to `found`."""
    if not steps:
        found.append(value)
        return MARKER, 1
    step, rest = steps[0], steps[1:]
    count = 0
    if isinstance(value, dict):
        keys = list(value) if step is None else ([step] if isinstance(step, str) and step in value else [])
        if keys:
            value = dict(value)
            for key in keys:
                value[key], n = _redact_at(value[key], rest, found)
                count += n
    elif isinstance(value, list):
        if step is None:
            indexes = list(range(len(value)))
        elif isinstance(step, int) and -len(value) <= step < len(value):
            indexes = [step % len(value)]
        else:
            indexes = []
        if indexes:
            value = list(value)
            for i in indexes:
                value[i], n = _redact_at(value[i], rest, found)
                count += n
    return value, count


def redact_body(body: bytes, content_type: str, paths: Iterable[RedactPath]) -> tuple[bytes, int, list[Any]]:
    """The body with each path's value replaced by MARKER (JSON bodies only; others unchanged),
    how many values were replaced and what they were. An unchanged body keeps its bytes."""
    paths = list(paths)
    if not paths or body.lstrip()[:1] not in (b"{", b"["):
        return body, 0, []
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return body, 0, []
    found: list[Any] = []
    total = 0
    for path in paths:
        data, n = _redact_at(data, path.steps, found)
        total += n
    if not total:
        return body, 0, []
    return _dump_like(data, body), total, found


# Removing what must not travel


class Scrubber:
    """Every value that was removed (secret header values and their usable pieces, the
    configured secrets, signature values, redacted body values) replaced by MARKER wherever
    it reappears: the whole string when it is that value, inside longer text when the value
    is at least MIN_SUBSTRING characters."""

    def __init__(self, values: Iterable[str]):
        exact = {v.strip() for v in values if isinstance(v, str)}
        exact.discard("")
        exact.discard(MARKER)
        self._exact = frozenset(exact)
        inside = sorted((v for v in exact if len(v) >= MIN_SUBSTRING), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, inside))) if inside else None

    def text(self, text: str) -> str:
        if text.strip() in self._exact:
            return MARKER
        if self._pattern is None:
            return text
        return self._pattern.sub(MARKER, text)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            # By value only, not by key name: a body's `client_secret` stays unless a
            # --redact-path names it, so the flows see the body the sender sent.
            return {(self.text(k) if isinstance(k, str) else k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def bytes(self, body: bytes) -> bytes:
        """A body with removed values scrubbed: a JSON body value by value (so it stays JSON,
        and its bytes stay as they were when nothing is removed), other text as text."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body  # binary: the secrets are text
        if self._pattern is None and not self._exact:
            return body
        if text.lstrip()[:1] in ("{", "["):
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                data = _NOT_JSON
            if data is not _NOT_JSON:
                scrubbed = self.value(data)
                return body if scrubbed == data else _dump_like(scrubbed, body)
        scrubbed_text = self.text(text)
        return body if scrubbed_text == text else scrubbed_text.encode("utf-8")


_NOT_JSON: Any = object()


def _dump_like(data: Any, original: bytes) -> bytes:
    """JSON written compact when the original was, else indented as `json.dumps(indent=2)`."""
    if b"\n" in original:
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    if b", " not in original and b": " not in original:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def signature_header_names(masker: Masker) -> frozenset[str]:
    """Lower-cased names of every header a known scheme or a configured entry reads its MAC
    or token from, plus every name that says `signature` or `hmac`."""
    names = set(masker.signature_headers) | set(masker.names)
    for scheme in all_schemes().values():
        names.add(scheme.header.lower())
        names.update(h.lower() for h in scheme.headers if _SIGNATURE_NAME.search(h) or "token" in h.lower())
    return frozenset(names)


def _removable(name: str, value: str, masker: Masker, signature_names: frozenset[str]) -> bool:
    lowered = name.lower()
    return lowered in signature_names or bool(_SIGNATURE_NAME.search(name)) or masker.is_secret(name, value)


def _query(query: str, masker: Masker, scrub: Scrubber) -> str:
    """The query with the value of each secret-named parameter (`?token=…`) replaced by the
    marker and removed values scrubbed; every other byte kept."""
    from urllib.parse import unquote_plus

    parts = []
    for part in query.split("&") if query else []:
        name, eq, value = part.partition("=")
        if eq and masker.is_secret(unquote_plus(name), unquote_plus(value)):
            parts.append(f"{name}={quote(MARKER, safe='')}")
        else:
            parts.append(scrub.text(part))
    return "&".join(parts)


def _gather(capture: Capture, masker: Masker, signature_names: frozenset[str]) -> list[str]:
    """What must never travel for this capture: removed header values and their pieces."""
    out = list(masker.secrets)
    for k, v in capture.request.headers:
        if masker.is_secret(k, v):
            out.append(v.strip())
            out.extend(f for f in _fragments(v) if len(f) >= MIN_SUBSTRING)
        elif _removable(k, v, masker, signature_names):
            # A MAC header's pieces: `v1=…` and `sha256=…` values, not the `t=` timestamp
            # beside them, which is no secret and appears in bodies as a plain number.
            out.append(v.strip())
            out.extend(f for f in _fragments(v) if len(f) >= MIN_MAC)
    if capture.response is not None:
        for k, v in capture.response.headers:
            if masker.is_secret(k, v):
                out.append(v.strip())
    for text in (capture.signature.received, capture.signature.expected):
        if text:
            out.append(text)
    return out


def bundle_capture(
    capture: Capture, masker: Masker, paths: list[RedactPath], signature_names: frozenset[str]
) -> tuple[dict[str, Any], int]:
    """One capture as a bundle entry, and how many body values the paths replaced."""
    req = capture.request
    if req.truncated:
        raise BundleError(
            f"capture {capture.id} kept only the first {len(req.body)} of {req.body_size} body bytes (it was over max_body_bytes); "
            "a bundle must hold the exact body, so leave this capture out"
        )
    content_type = req.headers.get("content-type") or ""
    body, replaced, values = redact_body(req.body, content_type, paths)
    scrub = Scrubber(_gather(capture, masker, signature_names) + [v for v in values if isinstance(v, str)])
    body = scrub.bytes(body)
    kept, removed = [], []
    for k, v in outgoing_headers(req.headers):
        if _removable(k, v, masker, signature_names):
            removed.append(k)
        else:
            kept.append([k, scrub.text(v)])
    encoding, body_text = text_or_base64(body)
    sig = capture.signature
    entry: dict[str, Any] = {
        "id": capture.id,
        "tenant": capture.tenant,
        "event_type": capture.event_type,
        "origin": capture.origin,
        "received_at": iso_time(req.received_at),
        "method": req.method,
        "path": scrub.text(req.path),
        "query": _query(req.query, masker, scrub),
        "headers": kept,
        "removed_headers": removed,
        "content_type": scrub.text(content_type),
        "body_encoding": encoding,
        "body": body_text,
        "signature": {"scheme": sig.scheme, "algorithm": sig.algorithm, "header": sig.header, "status": sig.status},
        "response": None,
        "runs": scrub.value(runs_to_json(capture.runs)),
    }
    resp = capture.response
    if resp is not None:
        rencoding, rtext = text_or_base64(scrub.bytes(resp.body))
        entry["response"] = {
            "status": resp.status,
            "headers": [[k, scrub.text(v)] for k, v in resp.headers if not masker.is_secret(k, v)],
            "body_encoding": rencoding,
            "body": rtext,
            "duration_ms": resp.duration_ms,
        }
    return _readable(entry), replaced


def _readable(value: Any) -> Any:
    if isinstance(value, str):
        return unicode_text(value)
    if isinstance(value, dict):
        return {(_readable(k) if isinstance(k, str) else k): _readable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_readable(v) for v in value]
    return value


@dataclass(frozen=True)
class Written:
    text: str
    replaced: dict[str, int]  # each --redact-path and how many values it replaced


def to_bundle(captures: list[Capture], masker: Masker, paths: Iterable[RedactPath] = (), *, now: float = 0.0) -> Written:
    """The bundle as text. `masker`: answers.json's (its secrets and secret headers); it must not reveal."""
    if masker.reveal:
        raise ValueError("a bundle never reveals secrets: give a Masker made without reveal")
    paths = list(paths)
    signature_names = signature_header_names(masker)
    replaced = {p.text: 0 for p in paths}
    entries = []
    for c in captures:
        entry, _ = bundle_capture(c, masker, paths, signature_names)
        for p in paths:
            replaced[p.text] += redact_body(c.request.body, "", [p])[1]
        entries.append(entry)
    document = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created_at": iso_time(now),
        "marker": MARKER,
        "redacted": {
            "headers": "secret-bearing headers and every signature header are removed; each entry lists the names it lost",
            "paths": [p.text for p in paths],
        },
        "captures": entries,
    }
    text = document_text(document)
    # The last word: nothing configured as a secret is in the file, whatever path it took
    # (a secret shorter than MIN_SUBSTRING is hidden where a whole value equals it, as the
    # masking of every other view does: replacing it inside text would garble the text).
    for secret in masker.secrets:
        if len(secret) >= MIN_SUBSTRING and secret in text:  # pragma: no cover - the scrubber removed it
            raise BundleError("a configured secret would have been written into the bundle; nothing was written (please report it)")
    return Written(text, replaced)


# Reading a bundle back


@dataclass(frozen=True)
class BundledCapture:
    request: Request
    response: Response | None
    runs: tuple[FlowRun, ...]
    scheme: str | None  # the signing entry's name where it was recorded
    algorithm: str | None
    original_id: int | None


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and "format" in data and "captures" in data


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _decode(encoding: Any, text: Any, where: str) -> bytes:
    if text is None:
        return b""
    if not isinstance(text, str):
        raise BundleError(f"{where}.body: expected a string, got {_kind(text)}")
    if encoding in (None, "text"):
        return text.encode("utf-8", "surrogateescape")
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BundleError(f"{where}.body: not base64, though body_encoding says so") from None
    raise BundleError(f'{where}.body_encoding: {encoding!r} is not understood; "text" or "base64"')


def read_bundle(data: Any, now: float) -> list[BundledCapture]:
    """A parsed bundle's captures; BundleError names the entry and field that is wrong."""
    from .export import ImportFailed, _duration, _header, _method, _status, _target, _time

    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise BundleError(
            f"not a webhook-inspector bundle (format is {found!r}, expected {BUNDLE_FORMAT!r}); make one with `export ID… --format bundle --output FILE`"
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BundleError(f"version: expected a whole number ≥ 1, got {version!r}; the file is damaged or not ours")
    if version > BUNDLE_VERSION:
        raise BundleError(
            f"bundle version {version} was written by a newer webhook-inspector; this one reads up to version {BUNDLE_VERSION}: upgrade webhook-inspector to import it"
        )
    items = data.get("captures")
    if not isinstance(items, list):
        raise BundleError(f"captures: expected a list, got {_kind(items)}")
    out = []
    for i, item in enumerate(items):
        where = f"captures[{i}]"
        try:
            if not isinstance(item, dict):
                raise BundleError(f"{where}: expected an object, got {_kind(item)}")
            for key in ("method", "path", "headers"):
                if key not in item:
                    raise BundleError(f"{where}.{key}: missing; every capture in a bundle has method, path, headers and body")
            method = _method(item["method"], f"{where}.method")
            if not isinstance(item["path"], str):
                raise BundleError(f"{where}.path: expected a string, got {_kind(item['path'])}")
            query = item.get("query") or ""
            if not isinstance(query, str):
                raise BundleError(f"{where}.query: expected a string, got {_kind(query)}")
            path, query = _target(item["path"] + ("?" + query if query else ""), f"{where}.path")
            if not isinstance(item["headers"], list):
                raise BundleError(f"{where}.headers: expected a list of [name, value] pairs, got {_kind(item['headers'])}")
            headers = []
            for n, pair in enumerate(item["headers"]):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise BundleError(f"{where}.headers[{n}]: expected a [name, value] pair, got {_kind(pair)}")
                headers.append(_header(pair[0], pair[1], f"{where}.headers[{n}]"))
            body = _decode(item.get("body_encoding"), item.get("body"), where)
            received = _time(item.get("received_at"), f"{where}.received_at", now)
            response = None
            resp = item.get("response")
            if resp is not None:
                if not isinstance(resp, dict):
                    raise BundleError(f"{where}.response: expected an object or null, got {_kind(resp)}")
                status = _status(resp.get("status"), f"{where}.response.status")
                rheaders = []
                for n, pair in enumerate(resp.get("headers") or []):
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise BundleError(f"{where}.response.headers[{n}]: expected a [name, value] pair, got {_kind(pair)}")
                    rheaders.append(_header(pair[0], pair[1], f"{where}.response.headers[{n}]"))
                rbody = _decode(resp.get("body_encoding"), resp.get("body"), f"{where}.response")
                if status:
                    response = Response(
                        status, Headers(rheaders), rbody, _duration(resp.get("duration_ms"), f"{where}.response.duration_ms")
                    )
            found = item.get("signature")
            signature: dict[str, Any] = found if isinstance(found, dict) else {}
            scheme = signature.get("scheme") if isinstance(signature.get("scheme"), str) else None
            algorithm = signature.get("algorithm") if isinstance(signature.get("algorithm"), str) else None
            ident = item.get("id") if isinstance(item.get("id"), int) and not isinstance(item.get("id"), bool) else None
        except ImportFailed as exc:
            raise BundleError(str(exc)) from None
        request = Request(method, path, query, Headers(headers), body, "import", received)
        out.append(BundledCapture(request, response, runs_from_json(item.get("runs")), scheme, algorithm, ident))
    return out


def resign(request: Request, config: Any, event_type: str | None, signed_url_base: str) -> tuple[Request, str]:
    """`import --resign`: the request signed with the importer's answers.json secrets at its own
    received time (so a check at that time, as `import` and `rerun` make, finds it valid), by
    the code `replay --resign` uses; (request, note). ReplayError says why it cannot be."""
    from .replay import resign_request

    signed, note = resign_request(request, config, event_type, signed_url_base, request.received_at)
    return Request(signed.method, signed.path, signed.query, signed.headers, signed.body, request.client, request.received_at), note


__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "MARKER",
    "BundleError",
    "BundledCapture",
    "RedactPath",
    "is_bundle",
    "parse_path",
    "read_bundle",
    "redact_body",
    "resign",
    "to_bundle",
]
