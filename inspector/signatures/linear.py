"""Linear: `linear-signature`, hex HMAC-SHA256 of the body; `linear-timestamp` (milliseconds) ±60 s.

Like Linear's SDK, the timestamp comes from the header, else from the body's
`webhookTimestamp`; with neither there is nothing to check the age against.
"""

from __future__ import annotations

import json

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, shorten
from .registry import register
from .shared import candidates, conclude, unix_number, utf8

TIMESTAMP = "linear-timestamp"
BODY_FIELD = "webhookTimestamp"


def body_timestamp(body: bytes) -> int | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = data.get(BODY_FIELD) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**15 else None


@register
class Linear(Scheme):
    algorithm = "linear"
    label = "HMAC-SHA256 of the body"
    header = "linear-signature"
    headers = ("linear-signature", TIMESTAMP)
    tolerance = 60.0

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        raw_ts = req.headers.get(TIMESTAMP)
        if raw_ts is not None:
            millis = unix_number(raw_ts)
            if millis is None:
                return Verdict(
                    "malformed", f"`{TIMESTAMP}` is {shorten(raw_ts.strip(), 30)!r}; expected unix milliseconds.", shorten(value)
                )
        else:
            millis = body_timestamp(req.body)
        found = [p.lower() for p in candidates(req.headers, key.header) if len(p) == 64 and is_hex(p)]
        if not found:
            return Verdict("malformed", f"`{key.header}` is not a hex HMAC-SHA256 (64 hex digits).", shorten(value))
        expected = self.hmac_hex("sha256", utf8(key.secret), req.body)
        stamp = None if millis is None else millis / 1000
        return conclude(key, key.header, self.label, value, found, expected, expected, stamp, both_ways=True)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        return [(TIMESTAMP, str(int(key.now * 1000))), (key.header, self.hmac_hex("sha256", utf8(key.secret), req.body))]
