"""Slack: `X-Slack-Signature: v0=<hex>` over `v0:timestamp:body`, `X-Slack-Request-Timestamp` in seconds."""

from __future__ import annotations

from typing import ClassVar

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, shorten
from .registry import register
from .shared import candidates, conclude, strip_prefix, unix_number, utf8


class VersionedTimestampHmac(Scheme):
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, the timestamp in its own header (Slack, Zoom)."""

    label = "HMAC-SHA256 of `v0:timestamp:body`"
    timestamp_header: ClassVar[str]
    both_ways: ClassVar[bool] = True
    provider: ClassVar[str]

    def mac(self, secret: str, ts: str, body: bytes) -> str:
        return self.hmac_hex("sha256", utf8(secret), b"v0:" + ts.encode() + b":" + body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        raw_ts = req.headers.get(self.timestamp_header)
        if raw_ts is None:
            return Verdict(
                "missing",
                f"The request has `{key.header}` but no `{self.timestamp_header}`; {self.provider} sends both, and the timestamp is part of what is signed.",
                shorten(value),
            )
        ts = raw_ts.strip()
        stamp = unix_number(ts)
        if stamp is None:
            return Verdict("malformed", f"`{self.timestamp_header}` is {shorten(ts, 30)!r}; expected whole unix seconds.", shorten(value))
        found = []
        for part in candidates(req.headers, key.header):
            sig = strip_prefix(part, "v0=")
            if sig is not None and len(sig) == 64 and is_hex(sig):
                found.append(sig.lower())
        if not found:
            return Verdict(
                "malformed",
                f"`{key.header}` has no `v0=` signature of 64 hex digits; expected `v0=<hex>` (other versions are ignored).",
                shorten(value),
            )
        expected = self.mac(key.secret, ts, req.body)
        return conclude(key, key.header, self.label, value, found, expected, f"v0={expected}", float(stamp), self.both_ways)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        ts = str(int(key.now))
        return [(self.timestamp_header, ts), (key.header, f"v0={self.mac(key.secret, ts, req.body)}")]


@register
class Slack(VersionedTimestampHmac):
    algorithm = "slack"
    header = "X-Slack-Signature"
    headers = ("X-Slack-Signature", "X-Slack-Request-Timestamp")
    timestamp_header = "X-Slack-Request-Timestamp"
    tolerance = 300.0
    both_ways = True  # slack_sdk's SignatureVerifier: abs(now - timestamp) > 300
    provider = "Slack"
