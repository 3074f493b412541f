"""Typeform: `Typeform-Signature: sha256=<base64>`, HMAC-SHA256 of the body."""

from __future__ import annotations

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, shorten
from .registry import register
from .shared import b64, b64decode, candidates, conclude, strip_prefix, utf8


@register
class Typeform(Scheme):
    algorithm = "typeform"
    label = "base64 HMAC-SHA256 of the body"
    header = "Typeform-Signature"
    headers = ("Typeform-Signature",)

    def mac(self, secret: str, body: bytes) -> str:
        return b64(self.hmac_raw("sha256", utf8(secret), body))

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        found = []
        for part in candidates(req.headers, key.header):
            sig = strip_prefix(part, "sha256=")
            raw = b64decode(sig) if sig is not None else None
            if raw is not None and len(raw) == 32:
                found.append(b64(raw))
        if not found:
            return Verdict(
                "malformed", f"`{key.header}` has no `sha256=<base64>` signature (44 base64 characters after the prefix).", shorten(value)
            )
        expected = self.mac(key.secret, req.body)
        return conclude(key, key.header, self.label, value, found, expected, f"sha256={expected}")

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        return [(key.header, f"sha256={self.mac(key.secret, req.body)}")]
