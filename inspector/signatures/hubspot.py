"""HubSpot v3: `X-HubSpot-Signature-v3`, base64 HMAC-SHA256 of `method ‖ URI ‖ body ‖ timestamp`.

The timestamp (`X-HubSpot-Request-Timestamp`) is in milliseconds and HubSpot rejects requests
older than 5 minutes. HubSpot signs the URI with some percent-escapes decoded (its table:
`%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`); the URI as received is tried as well.
"""

from __future__ import annotations

import re

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, shorten
from .registry import register
from .shared import b64, b64decode, candidates, conclude, unix_number, utf8

TIMESTAMP = "X-HubSpot-Request-Timestamp"
_DECODED = {
    "3A": ":",
    "2F": "/",
    "3F": "?",
    "40": "@",
    "21": "!",
    "24": "$",
    "27": "'",
    "28": "(",
    "29": ")",
    "2A": "*",
    "2C": ",",
    "3B": ";",
}
_ESCAPE = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


def hubspot_uri(url: str) -> str:
    return _ESCAPE.sub(lambda m: _DECODED[m.group(1).upper()], url)


@register
class HubSpotV3(Scheme):
    algorithm = "hubspot-v3"
    label = "base64 HMAC-SHA256 of `method + url + body + timestamp`"
    header = "X-HubSpot-Signature-v3"
    headers = ("X-HubSpot-Signature-v3", TIMESTAMP)
    tolerance = 300.0

    def mac(self, secret: str, method: str, url: str, body: bytes, ts: str) -> str:
        return b64(self.hmac_raw("sha256", utf8(secret), utf8(method) + utf8(url) + body + ts.encode()))

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        raw_ts = req.headers.get(TIMESTAMP)
        if raw_ts is None:
            return Verdict(
                "missing",
                f"The request has `{key.header}` but no `{TIMESTAMP}`; HubSpot sends both, and the timestamp is part of what is signed.",
                shorten(value),
            )
        ts = raw_ts.strip()
        millis = unix_number(ts)
        if millis is None:
            return Verdict("malformed", f"`{TIMESTAMP}` is {shorten(ts, 30)!r}; expected unix milliseconds.", shorten(value))
        found = []
        for part in candidates(req.headers, key.header):
            raw = b64decode(part)
            if raw is not None and len(raw) == 32:
                found.append(b64(raw))
        if not found:
            return Verdict("malformed", f"`{key.header}` is not a base64 HMAC-SHA256 (44 characters, 32 bytes).", shorten(value))
        method = req.method.upper()
        uris = list(dict.fromkeys((hubspot_uri(req.url), req.url)))
        expected = [self.mac(key.secret, method, uri, req.body, ts) for uri in uris]
        label = f"base64 HMAC-SHA256 of `method + url + body + timestamp` for {method} {uris[0]}"
        return conclude(key, key.header, label, value, found, expected, expected[0], millis / 1000)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        ts = str(int(key.now * 1000))
        sig = self.mac(key.secret, req.method.upper(), hubspot_uri(req.url), req.body, ts)
        return [(TIMESTAMP, ts), (key.header, sig)]
