"""Calendly: `Calendly-Webhook-Signature: t=…,v1=…`, hex HMAC-SHA256 of `t.body` (Stripe's layout).

Calendly asks receivers to reject signatures older than three minutes.
"""

from __future__ import annotations

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, shorten
from .registry import register
from .shared import conclude, unix_number, utf8


@register
class Calendly(Scheme):
    algorithm = "calendly"
    label = "HMAC-SHA256 of `t.body`"
    header = "Calendly-Webhook-Signature"
    headers = ("Calendly-Webhook-Signature",)
    tolerance = 180.0

    def mac(self, secret: str, ts: str, body: bytes) -> str:
        return self.hmac_hex("sha256", utf8(secret), ts.encode() + b"." + body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        stamps, found = [], []
        for part in value.split(","):
            name, eq, item = part.partition("=")
            name, item = name.strip(), item.strip()
            if eq and name == "t":
                stamps.append(item)
            elif eq and name == "v1" and len(item) == 64 and is_hex(item):
                found.append(item.lower())
        ts = stamps[0] if stamps else ""
        stamp = unix_number(ts)
        if stamp is None:
            return Verdict(
                "malformed", f"`{key.header}` has no usable `t=` timestamp; expected `t=<unix seconds>,v1=<hex>`.", shorten(value)
            )
        if not found:
            return Verdict(
                "malformed",
                f"`{key.header}` has no `v1=` signature of 64 hex digits; expected `t=<unix seconds>,v1=<hex>`.",
                shorten(value),
            )
        expected = self.mac(key.secret, ts, req.body)
        return conclude(key, key.header, self.label, value, found, expected, f"t={ts},v1={expected}", float(stamp))

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        ts = str(int(key.now))
        return [(key.header, f"t={ts},v1={self.mac(key.secret, ts, req.body)}")]
