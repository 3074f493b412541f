"""Twilio: `X-Twilio-Signature`, base64 HMAC-SHA1 (auth token) of the URL then each form parameter.

Form parameters are appended as `name‖value`, names sorted, repeated names' values sorted.
JSON bodies are signed through the URL: Twilio adds `bodySHA256=<hex SHA-256 of the body>` to
its query and signs the URL alone. Like Twilio's own validators, the URL is tried both with
and without its port (the default port added when there is none).
"""

from __future__ import annotations

import hashlib
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, same, shorten
from .registry import register
from .shared import b64, b64decode, candidates, conclude, utf8

FORM = "application/x-www-form-urlencoded"


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # "http://[::1" and the like: nothing to adjust
        return None


def without_port(url: str) -> str:
    parts = _split(url)
    if parts is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    if not _port(host):
        return url
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    return urlunsplit(parts._replace(netloc=userinfo + host.rsplit(":", 1)[0]))


def with_port(url: str) -> str:
    parts = _split(url)
    if parts is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    if _port(host) or not host:
        return url
    port = 443 if parts.scheme.lower() == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def _port(host: str) -> bool:
    # "[::1]" has colons but no port; "[::1]:8080" and "example.com:8080" do.
    head, sep, tail = host.rpartition(":")
    return bool(sep) and tail.isascii() and tail.isdigit() and (not head.startswith("[") or head.endswith("]"))


def body_hash(url: str) -> str | None:
    parts = _split(url)
    for name, value in parse_qsl(parts.query if parts else "", keep_blank_values=True):
        if name == "bodySHA256":
            return value
    return None


def form_params(req: SignedRequest) -> list[tuple[str, str]]:
    """The POST parameters Twilio signs: the form body's, none for JSON or other bodies."""
    content_type = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == FORM or (not content_type and req.body):
        return parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    return []


def signed_text(url: str, params: list[tuple[str, str]]) -> str:
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    return url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))


@register
class Twilio(Scheme):
    algorithm = "twilio"
    label = "base64 HMAC-SHA1 of the URL and the sorted form parameters"
    header = "X-Twilio-Signature"
    headers = ("X-Twilio-Signature",)

    def mac(self, secret: str, url: str, params: list[tuple[str, str]]) -> str:
        return b64(self.hmac_raw("sha1", utf8(secret), utf8(signed_text(url, params))))

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        found = []
        for part in candidates(req.headers, key.header):
            raw = b64decode(part)
            if raw is not None and len(raw) == 20:
                found.append(b64(raw))
        if not found:
            return Verdict(
                "malformed",
                f"`{key.header}` is not a base64 HMAC-SHA1 (28 characters, 20 bytes); expected the value Twilio computes over the URL and parameters.",
                shorten(value),
            )
        declared = body_hash(req.url)
        params = [] if declared is not None else form_params(req)
        urls = list(dict.fromkeys((req.url, without_port(req.url), with_port(req.url))))
        expected = [self.mac(key.secret, url, params) for url in urls]
        if declared is not None:
            label = f"base64 HMAC-SHA1 of the URL {req.url} (the body is covered by its `bodySHA256`)"
        elif params:
            label = f"base64 HMAC-SHA1 of the URL {req.url} and the {len(params)} sorted form parameters"
        else:
            label = f"base64 HMAC-SHA1 of the URL {req.url} (no form parameters)"
        verdict = conclude(key, key.header, label, value, found, expected, expected[0])
        if verdict.status == "valid" and declared is not None:
            actual = hashlib.sha256(req.body).hexdigest()
            if not same(actual.encode(), utf8(declared.lower())):
                return Verdict(
                    "invalid",
                    f"`{key.header}` matches the URL, but the body's SHA-256 is not the URL's `bodySHA256`: the body changed after Twilio signed it.",
                    verdict.received,
                    verdict.expected,
                )
        return verdict

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        params = [] if body_hash(req.url) is not None else form_params(req)
        return [(key.header, self.mac(key.secret, req.url, params))]
