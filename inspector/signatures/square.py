"""Square: `x-square-hmacsha256-signature`, base64 HMAC-SHA256 of `notification URL ‖ body`.

The legacy `x-square-signature` (HMAC-SHA1 of the same bytes) is read when it is the only one.
"""

from __future__ import annotations

from ..model import Header, Headers
from .base import Key, Scheme, SignedRequest, Verdict, shorten
from .registry import register
from .shared import b64, b64decode, candidates, conclude, utf8

LEGACY = "x-square-signature"


@register
class Square(Scheme):
    algorithm = "square"
    label = "base64 HMAC-SHA256 of `url + body`"
    header = "x-square-hmacsha256-signature"
    headers = ("x-square-hmacsha256-signature", LEGACY)

    def present(self, headers: Headers, header: str | None) -> bool:
        return any(h in headers for h in ((header,) if header else ()) + self.headers)

    def mac(self, digest: str, secret: str, url: str, body: bytes) -> str:
        return b64(self.hmac_raw(digest, utf8(secret), utf8(url) + body))

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        name = next((h for h in self.header_names(key) if h in req.headers), None)
        if name is None:
            return self.missing(key.header)
        value = req.headers.get(name) or ""
        digest, size = ("sha1", 20) if name.lower() == LEGACY else ("sha256", 32)
        found = []
        for part in candidates(req.headers, name):
            raw = b64decode(part)
            if raw is not None and len(raw) == size:
                found.append(b64(raw))
        if not found:
            return Verdict(
                "malformed",
                f"`{name}` has no base64 HMAC-{digest.upper()} ({size} bytes); expected the value Square computes over the notification URL and the body.",
                shorten(value),
            )
        expected = self.mac(digest, key.secret, req.url, req.body)
        label = f"base64 HMAC-{digest.upper()} of `url + body` for {req.url}"
        return conclude(key, name, label, value, found, expected, expected)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        digest = "sha1" if key.header.lower() == LEGACY else "sha256"
        return [(key.header, self.mac(digest, key.secret, req.url, req.body))]
