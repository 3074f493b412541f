"""Captures as test fixtures for the user's own app (issue #19 item 4).

`export --format fixtures` writes one JSON file per capture, `{provider}-{event}-{id}.json`:
the request (method, path, query, headers, body as text or base64, content type), the name of
the signature scheme that applied and the answer the inspector recorded. `load_fixture` reads
one back as a `Fixture` whose `request` `inspector.signatures.sign` re-signs with a test
secret, and `send --fixture` re-signs with answers.json's secrets.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import Capture, Headers, Request, iso_time, json_text, unicode_text
from .replay import outgoing_headers

FIXTURE_VERSION = 1
FIXTURE_KEY = "webhook_inspector_fixture"  # holds the version; says what the file is
MAX_FIXTURE_FILE = 64 * 1024 * 1024

# Headers that name the provider's event, in the order they are looked for.
EVENT_HEADERS = ("X-GitHub-Event", "X-Shopify-Topic", "X-Gitlab-Event", "X-Event-Key", "Twitch-Eventsub-Subscription-Type")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_PART = 60


class FixtureError(ValueError):
    """A fixture that cannot be written or read; the message says which, where and how to fix it."""


def provider_of(capture: Capture) -> str:
    """The sender as the signature entry that applied names it (`github`), else the URL's
    event_type, else `webhook`."""
    return capture.signature.scheme or capture.event_type or "webhook"


def event_of(capture: Capture) -> str:
    """The provider's own event: `push` (X-GitHub-Event), `orders/create` (X-Shopify-Topic),
    a JSON body's `type` (Stripe, Standard Webhooks), else `event`."""
    headers = capture.request.headers
    for name in EVENT_HEADERS:
        value = headers.get(name)
        if value:
            return value
    body = capture.request.body
    if body[:1] == b"{" and len(body) <= MAX_FIXTURE_FILE:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        kind = data.get("type") if isinstance(data, dict) else None
        if isinstance(kind, str) and kind:
            return kind
    return "event"


def _name_part(text: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", unicode_text(text)).strip("._") or "x"
    return cleaned[:MAX_NAME_PART]


def fixture_name(capture: Capture) -> str:
    """`github-push-12.json`: every character a file name may hold on any system (letters,
    digits, `.`, `_`, `-`); `orders/create` becomes `orders_create`."""
    return f"{_name_part(provider_of(capture))}-{_name_part(event_of(capture))}-{capture.id}.json"


def text_or_base64(body: bytes) -> tuple[str, str]:
    """(encoding, body): `text` for UTF-8 without control characters, else `base64`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "base64", base64.b64encode(body).decode("ascii")
    if _CONTROL_TEXT.search(text):
        return "base64", base64.b64encode(body).decode("ascii")
    return "text", text


def to_fixture(capture: Capture, mask: Any = None) -> dict[str, Any]:
    """One capture as a fixture. `mask(name, value)` hides secret-bearing header values (a
    `Masker`'s capture redactor also hides secrets a flow echoed into the answer); the
    signature headers stay, they are MACs, and `sign` replaces them."""
    req = capture.request
    if req.truncated:
        raise FixtureError(
            f"capture {capture.id} kept only the first {len(req.body)} of {req.body_size} body bytes (it was over max_body_bytes); "
            "a fixture must hold the exact body, so leave this capture out"
        )
    redact = mask.for_capture(capture) if hasattr(mask, "for_capture") else mask
    encoding, body = text_or_base64(req.body)
    sig = capture.signature
    data: dict[str, Any] = {
        FIXTURE_KEY: FIXTURE_VERSION,
        "id": capture.id,
        "provider": provider_of(capture),
        "event": event_of(capture),
        "tenant": capture.tenant,
        "event_type": capture.event_type,
        "received_at": iso_time(req.received_at),
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "headers": [[k, redact(k, v) if redact else v] for k, v in outgoing_headers(req.headers)],
        "content_type": req.headers.get("content-type") or "",
        "body_encoding": encoding,
        "body": body,
        "signature": {"scheme": sig.scheme, "algorithm": sig.algorithm, "header": sig.header, "status": sig.status},
        "answer": None,
    }
    resp = capture.response
    if resp is not None:
        answer_body = resp.body
        text_of = getattr(redact, "text", None)
        if text_of is not None:
            try:
                answer_body = text_of(resp.body.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                pass
        answer_encoding, answer_text = text_or_base64(answer_body)
        data["answer"] = {
            "status": resp.status,
            "headers": [[k, redact(k, v) if redact else v] for k, v in resp.headers],
            "content_type": resp.headers.get("content-type") or "",
            "body_encoding": answer_encoding,
            "body": answer_text,
        }
    return _readable(data)


def _readable(value: Any) -> Any:
    """Lone surrogates (header bytes that were not UTF-8) as U+FFFD, so the file is UTF-8."""
    if isinstance(value, str):
        return unicode_text(value)
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


# A JSON string literal (it never holds a raw newline), and a list of two of them as
# `json.dumps(indent=2)` writes it: four lines, which a header pair need not take.
_STRING = r'"(?:[^"\\]|\\.)*"'
_PAIR = re.compile(rf"\[\n\s+({_STRING}),\n\s+({_STRING})\n\s+\]")


def document_text(document: Any) -> str:
    """A fixture or bundle as indented JSON with each `[name, value]` pair on one line."""
    return _PAIR.sub(r"[\1, \2]", json_text(document, indent=2, ensure_ascii=False)) + "\n"


def prepare_directory(directory: str) -> Path:
    """The folder fixtures go to, created if missing; FixtureError when it cannot be."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise FixtureError(f"--output {directory}: exists and is not a folder; fixtures are one file per capture, give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FixtureError(f"--output {directory}: cannot create the folder ({exc.strerror or exc}); give a folder you can write") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise FixtureError(f"--output {directory}: the folder is not writable; give a folder you can write")
    return path


def write_fixtures(captures: list[Capture], directory: str, mask: Any = None) -> list[Path]:
    """Write one fixture per capture into `directory` (mode 0600: bodies can hold personal
    data); every capture is checked before anything is written."""
    from .export import write_private

    documents = [(fixture_name(c), to_fixture(c, mask)) for c in captures]
    folder = prepare_directory(directory)
    written = []
    for name, document in documents:
        target = folder / name
        try:
            write_private(str(target), document_text(document))
        except OSError as exc:
            raise FixtureError(f"cannot write {target}: {exc.strerror or exc}") from None
        written.append(target)
    return written


# Reading fixtures back


@dataclass(frozen=True)
class Fixture:
    """A fixture file read back. `request` is what was captured (signature headers as they
    were); `scheme` the algorithm name to give `inspector.signatures.sign` (None when the
    capture was not signed); `header` the signature header the capture used; `answer` the
    recorded answer (`status`, `headers`, `body` as text or base64, `body_bytes`)."""

    id: int | None
    provider: str
    event: str
    tenant: str | None
    event_type: str | None
    scheme: str | None
    header: str | None
    request: Request
    content_type: str
    answer: dict[str, Any] | None
    source: str

    @property
    def body(self) -> bytes:
        return self.request.body

    @property
    def headers(self) -> Headers:
        return self.request.headers


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _field(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, *, required: bool = True) -> Any:
    if key not in data:
        if required:
            raise FixtureError(
                f"{where}: the field `{key}` is missing; a fixture needs method, path, headers, body_encoding and body (write it again with `export ID --format fixtures`)"
            )
        return None
    value = data[key]
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise FixtureError(f"{where}: `{key}` should be {wanted}, got {_kind(value)}")
    return value


def _decode_body(encoding: Any, text: str, where: str, key: str) -> bytes:
    if encoding == "text":
        return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else b""
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise FixtureError(f'{where}: `{key}` is not base64 though `{key}_encoding` says "base64"') from None
    raise FixtureError(f'{where}: `{key}_encoding` is {encoding!r}; use "text" or "base64"')


def read_fixture(data: Any, where: str = "fixture") -> Fixture:
    """A fixture document (parsed JSON) as a `Fixture`; FixtureError names the missing or
    wrong field."""
    from .export import ImportFailed, _header, _method, _target

    if not isinstance(data, dict):
        raise FixtureError(f"{where}: expected a JSON object written by `export --format fixtures`, got {_kind(data)}")
    version = data.get(FIXTURE_KEY)
    if version is None:
        raise FixtureError(
            f"{where}: not a webhook-inspector fixture (no `{FIXTURE_KEY}` field); write one with `export ID --format fixtures`"
        )
    if isinstance(version, bool) or not isinstance(version, int):
        raise FixtureError(f"{where}: `{FIXTURE_KEY}` should be a version number, got {_kind(version)}")
    if version > FIXTURE_VERSION:
        raise FixtureError(
            f"{where}: fixture version {version} was written by a newer webhook-inspector; this one reads up to version {FIXTURE_VERSION}: upgrade webhook-inspector"
        )
    try:
        method = _method(_field(data, "method", str, where), f"{where}: `method`")
        path = _field(data, "path", str, where)
        query = _field(data, "query", str, where, required=False) or ""
        target_path, target_query = _target(path + ("?" + query if query else ""), f"{where}: `path`")
        raw_headers = _field(data, "headers", list, where)
        pairs = []
        for i, pair in enumerate(raw_headers):
            if not isinstance(pair, list) or len(pair) != 2:
                raise FixtureError(f"{where}: `headers[{i}]` should be a [name, value] pair, got {_kind(pair)}")
            pairs.append(_header(pair[0], pair[1], f"{where}: `headers[{i}]`"))
    except ImportFailed as exc:
        raise FixtureError(str(exc)) from None
    encoding = _field(data, "body_encoding", str, where)
    body = _decode_body(encoding, _field(data, "body", str, where), where, "body")
    signature = _field(data, "signature", dict, where, required=False) or {}
    scheme = signature.get("algorithm") or None
    header = signature.get("header") or None
    if scheme is not None and not isinstance(scheme, str) or header is not None and not isinstance(header, str):
        raise FixtureError(f"{where}: `signature.algorithm` and `signature.header` should be strings")
    answer = _field(data, "answer", dict, where, required=False)
    if answer is not None:
        answer = dict(answer)
        if isinstance(answer.get("body"), str):
            answer["body_bytes"] = _decode_body(answer.get("body_encoding", "text"), answer["body"], where, "answer.body")
    tenant = data.get("tenant") if isinstance(data.get("tenant"), str) else None
    event_type = data.get("event_type") if isinstance(data.get("event_type"), str) else None
    ident = data.get("id") if isinstance(data.get("id"), int) and not isinstance(data.get("id"), bool) else None
    request = Request(method, target_path, target_query, Headers(pairs), body, "fixture", 0.0)
    return Fixture(
        ident,
        str(data.get("provider") or "webhook"),
        str(data.get("event") or "event"),
        tenant,
        event_type,
        scheme,
        header,
        request,
        str(data.get("content_type") or request.headers.get("content-type") or ""),
        answer,
        where,
    )


def load_fixture(path: str | os.PathLike[str]) -> Fixture:
    """Read a fixture file written by `export --format fixtures`."""
    where = os.fspath(path)
    try:
        with open(where, "rb") as f:
            raw = f.read(MAX_FIXTURE_FILE + 1)
    except OSError as exc:
        raise FixtureError(f"{where}: cannot read it ({exc.strerror or exc}); give the path of a fixture file") from None
    if len(raw) > MAX_FIXTURE_FILE:
        raise FixtureError(f"{where}: over {MAX_FIXTURE_FILE // (1024 * 1024)} MiB; a fixture is one request, this is not one")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FixtureError(
            f"{where}: not JSON ({type(exc).__name__}: {str(exc)[:120]}); write it with `export ID --format fixtures`"
        ) from None
    return read_fixture(data, where)


__all__ = ["FIXTURE_VERSION", "Fixture", "FixtureError", "fixture_name", "load_fixture", "read_fixture", "to_fixture", "write_fixtures"]
