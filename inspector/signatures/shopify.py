"""Shopify: `X-Shopify-Hmac-Sha256` (newer senders: `shopify-hmac-sha256`), base64 HMAC-SHA256 of the body."""

from __future__ import annotations

import base64
import binascii

from ..model import Header, Headers
from .base import Key, Scheme, SignedRequest, Verdict, same, shorten
from .registry import register


@register
class Shopify(Scheme):
    algorithm = "shopify"
    label = "base64 HMAC-SHA256 of the body"
    header = "X-Shopify-Hmac-Sha256"
    headers = ("X-Shopify-Hmac-Sha256", "shopify-hmac-sha256")

    def present(self, headers: Headers, header: str | None) -> bool:
        return any(h in headers for h in ((header,) if header else ()) + self.headers)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        found = next(((h, req.headers.get(h)) for h in self.header_names(key) if h in req.headers), None)
        if found is None:
            return self.missing(key.header)
        name, value = found
        assert value is not None
        expected = base64.b64encode(self.hmac_raw("sha256", key.secret.encode(), req.body)).decode()
        try:
            raw = base64.b64decode(value.strip().encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return Verdict(
                "malformed",
                f"`{name}` is not base64; expected the base64 HMAC-SHA256 of the body (44 characters).",
                shorten(value),
                expected,
            )
        if len(raw) != 32:
            return Verdict("malformed", f"`{name}` decodes to {len(raw)} bytes; an HMAC-SHA256 has 32.", shorten(value), expected)
        if same(base64.b64encode(raw).decode(), expected):
            return Verdict("valid", f"`{name}` matches the {self.label}.", shorten(value), expected)
        return Verdict("invalid", f"`{name}` does not match the {self.label} computed with this secret.", shorten(value), expected)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        mac = self.hmac_raw("sha256", key.secret.encode(), req.body)
        return [(key.header, base64.b64encode(mac).decode())]
