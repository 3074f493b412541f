"""Twitch EventSub: `Twitch-Eventsub-Message-Signature: sha256=<hex>` of `id ‖ timestamp ‖ body`.

The id and the RFC 3339 timestamp come from `Twitch-Eventsub-Message-Id` and
`Twitch-Eventsub-Message-Timestamp`, used exactly as received. Twitch asks receivers to
reject messages older than 10 minutes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, shorten
from .registry import register
from .shared import candidates, conclude, strip_prefix, utf8

MESSAGE_ID = "Twitch-Eventsub-Message-Id"
TIMESTAMP = "Twitch-Eventsub-Message-Timestamp"
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))\Z")


def rfc3339(text: str) -> float | None:
    """Unix seconds of an RFC 3339 time (nanoseconds allowed, as Twitch sends), or None."""
    match = _RFC3339.fullmatch(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        when = datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59), tzinfo=UTC)
    except ValueError:
        return None
    if not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        when -= offset if sign == "+" else -offset
    return when.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


@register
class Twitch(Scheme):
    algorithm = "twitch"
    label = "HMAC-SHA256 of `message id + timestamp + body`"
    header = "Twitch-Eventsub-Message-Signature"
    headers = ("Twitch-Eventsub-Message-Signature", MESSAGE_ID, TIMESTAMP)
    tolerance = 600.0

    def mac(self, secret: str, msg_id: str, ts: str, body: bytes) -> str:
        return self.hmac_hex("sha256", utf8(secret), utf8(msg_id) + utf8(ts) + body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        absent = [h for h in (key.header, MESSAGE_ID, TIMESTAMP) if h not in req.headers]
        if absent:
            listed = ", ".join(f"`{h}`" for h in absent)
            return Verdict(
                "missing", f"The request lacks {listed}; Twitch sends `{MESSAGE_ID}`, `{TIMESTAMP}` and `{key.header}` together."
            )
        value = req.headers.get(key.header) or ""
        msg_id = (req.headers.get(MESSAGE_ID) or "").strip()
        ts = (req.headers.get(TIMESTAMP) or "").strip()
        stamp = rfc3339(ts)
        if stamp is None:
            return Verdict(
                "malformed",
                f"`{TIMESTAMP}` is {shorten(ts, 40)!r}; expected an RFC 3339 time such as 2023-07-19T14:56:51.634234626Z.",
                shorten(value),
            )
        found = []
        for part in candidates(req.headers, key.header):
            sig = strip_prefix(part, "sha256=")
            if sig is not None and len(sig) == 64 and is_hex(sig):
                found.append(sig.lower())
        if not found:
            return Verdict("malformed", f"`{key.header}` has no `sha256=<64 hex digits>` signature.", shorten(value))
        expected = self.mac(key.secret, msg_id, ts, req.body)
        return conclude(key, key.header, self.label, value, found, expected, f"sha256={expected}", stamp)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        msg_id = (req.headers.get(MESSAGE_ID) or "").strip() or f"inspector-{int(key.now * 1000)}"
        ts = datetime.fromtimestamp(key.now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return [(MESSAGE_ID, msg_id), (TIMESTAMP, ts), (key.header, f"sha256={self.mac(key.secret, msg_id, ts, req.body)}")]
