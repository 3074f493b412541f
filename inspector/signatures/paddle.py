"""Paddle Billing: `Paddle-Signature: ts=…;h1=…[;h1=…]`, hex HMAC-SHA256 of `ts:body`.

The secret (`pdl_ntf_…`) is used as-is. During a secret rotation Paddle sends one `h1` per
secret; any match passes. Paddle's SDKs reject a timestamp more than 5 s old, never a future one.
"""

from __future__ import annotations

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, shorten
from .registry import register
from .shared import conclude, unix_number, utf8


@register
class Paddle(Scheme):
    algorithm = "paddle"
    label = "HMAC-SHA256 of `ts:body`"
    header = "Paddle-Signature"
    headers = ("Paddle-Signature",)
    tolerance = 5.0

    def mac(self, secret: str, ts: str, body: bytes) -> str:
        return self.hmac_hex("sha256", utf8(secret), ts.encode() + b":" + body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        stamps, found = [], []
        # Repeated headers arrive joined with ", "; both separators split the same list.
        for part in value.replace(",", ";").split(";"):
            name, eq, item = part.partition("=")
            name, item = name.strip().lower(), item.strip()
            if not eq:
                continue
            if name == "ts":
                stamps.append(item)
            elif name == "h1" and len(item) == 64 and is_hex(item):
                found.append(item.lower())
        ts = stamps[0] if stamps else ""
        stamp = unix_number(ts)
        if stamp is None:
            return Verdict(
                "malformed", f"`{key.header}` has no usable `ts=` timestamp; expected `ts=<unix seconds>;h1=<hex>`.", shorten(value)
            )
        if not found:
            return Verdict(
                "malformed",
                f"`{key.header}` has no `h1=` signature of 64 hex digits; expected `ts=<unix seconds>;h1=<hex>`.",
                shorten(value),
            )
        expected = self.mac(key.secret, ts, req.body)
        return conclude(key, key.header, self.label, value, found, expected, f"ts={ts};h1={expected}", float(stamp))

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        ts = str(int(key.now))
        return [(key.header, f"ts={ts};h1={self.mac(key.secret, ts, req.body)}")]
