"""Intercom: `X-Hub-Signature: sha1=<hex>`, HMAC-SHA1 of the body keyed with the app's client secret."""

from __future__ import annotations

from .base import Key, SignedRequest, Verdict, shorten
from .hmac_body import HexBodyHmac
from .registry import register
from .shared import candidates, conclude, utf8


@register
class Intercom(HexBodyHmac):
    algorithm = "intercom"
    digest = "sha1"
    header = "X-Hub-Signature"
    headers = ("X-Hub-Signature",)

    def expected(self, req: SignedRequest, key: Key) -> str:
        return self.hmac_hex("sha1", utf8(key.secret), req.body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        found = [c for c in map(self.candidate, candidates(req.headers, key.header)) if c and len(c) == 40]
        if not found:
            return Verdict(
                "malformed",
                f"`{key.header}` is not an Intercom signature; expected sha1=<40 hex digits>, the HMAC-SHA1 of the body with the app's client secret.",
                shorten(value),
            )
        expected = self.expected(req, key)
        return conclude(key, key.header, self.label, value, found, expected, f"sha1={expected}")
