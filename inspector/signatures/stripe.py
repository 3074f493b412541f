"""Stripe: `Stripe-Signature: t=…,v1=…[,v1=…]`, HMAC-SHA256 hex of `t.body` (SPEC §3.2)."""

from __future__ import annotations

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, same, shorten
from .registry import register


def parse_pairs(value: str, sep: str = ",") -> list[tuple[str, str]]:
    pairs = []
    for part in value.split(sep):
        k, eq, v = part.partition("=")
        if eq:
            pairs.append((k.strip(), v.strip()))
    return pairs


@register
class Stripe(Scheme):
    algorithm = "stripe"
    label = "HMAC-SHA256 of `t.body`"
    header = "Stripe-Signature"
    headers = ("Stripe-Signature",)
    tolerance = 300.0

    def mac(self, secret: str, timestamp: str, body: bytes) -> str:
        return self.hmac_hex("sha256", secret.encode(), timestamp.encode() + b"." + body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        pairs = parse_pairs(value)
        stamps = [v for k, v in pairs if k == "t"]
        ts = stamps[0] if stamps else None
        candidates = [v.lower() for k, v in pairs if k == "v1" and is_hex(v) and len(v) == 64]
        if ts is None or not (ts.isascii() and ts.isdigit()) or len(ts) > 15:
            return Verdict(
                "malformed", f"`{key.header}` has no usable `t=` timestamp; expected `t=<unix seconds>,v1=<hex>`.", shorten(value)
            )
        if not candidates:
            return Verdict(
                "malformed",
                f"`{key.header}` has no `v1=` signature of 64 hex digits; expected `t=<unix seconds>,v1=<hex>` (other schemes such as v0 are ignored).",
                shorten(value),
            )
        expected = self.mac(key.secret, ts, req.body)
        shown = f"t={ts},v1={expected}"
        stamp = float(ts)
        if not any(same(c, expected) for c in candidates):
            n = len(candidates)
            which = "The `v1` signature in `{h}` does not match" if n == 1 else f"None of the {n} `v1` signatures in `{{h}}` matches"
            return Verdict(
                "invalid",
                which.format(h=key.header) + " the HMAC-SHA256 of `t.body` computed with this secret.",
                shorten(value),
                shown,
                stamp,
            )
        tolerance = key.tolerance
        if tolerance is not None and key.now - stamp > tolerance:
            age = key.now - stamp
            return Verdict(
                "expired",
                f"The signature is authentic but was made {age:.0f} s ago, beyond the {tolerance:g} s tolerance; resend the event (or raise `tolerance`).",
                shorten(value),
                shown,
                stamp,
            )
        return Verdict("valid", f"A `v1` signature in `{key.header}` matches.", shorten(value), shown, stamp)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        ts = str(int(key.now))
        return [(key.header, f"t={ts},v1={self.mac(key.secret, ts, req.body)}")]
