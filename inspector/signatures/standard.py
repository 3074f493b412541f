"""Standard Webhooks (Svix): `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<b64> …`.

The signed content is `id.timestamp.body`; the secret is base64 after an optional `whsec_`
prefix. `svix-*` header names are the same scheme under Svix's older names.
"""

from __future__ import annotations

import base64
import binascii

from ..model import Header, Headers
from .base import Key, Scheme, SignedRequest, Verdict, same, shorten
from .registry import alias, register
from .shared import utf8

PREFIXES = ("webhook", "svix")


def decode_secret(secret: str) -> bytes:
    """Raises ValueError with a sentence when the secret is not usable."""
    text = secret.strip()
    if text.startswith("whsec_"):
        text = text[len("whsec_") :]
    try:
        key = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(
            "the secret is not base64 after its `whsec_` prefix; copy the whole signing secret (`whsec_…`) from the sender"
        ) from None
    if not key:
        raise ValueError("the secret is empty after its `whsec_` prefix")
    return key


@register
class StandardWebhooks(Scheme):
    algorithm = "standard-webhooks"
    label = "base64 HMAC-SHA256 of `id.timestamp.body`"
    header = "webhook-signature"
    headers = ("webhook-signature", "svix-signature")
    tolerance = 300.0

    def names(self, headers: Headers, key: Key) -> tuple[str, str, str]:
        """The signature, id and timestamp header names this request uses."""
        configured = key.header.lower()
        for prefix in PREFIXES:
            if f"{prefix}-signature" in headers or f"{prefix}-id" in headers:
                sig = key.header if configured.startswith(prefix + "-") else f"{prefix}-signature"
                return sig, f"{prefix}-id", f"{prefix}-timestamp"
        prefix = configured.split("-")[0] if configured.split("-")[0] in PREFIXES else "webhook"
        return key.header, f"{prefix}-id", f"{prefix}-timestamp"

    def present(self, headers: Headers, header: str | None) -> bool:
        return any(h in headers for h in ((header,) if header else ()) + self.headers)

    def mac(self, key: bytes, msg_id: str, ts: str, body: bytes) -> str:
        signed = utf8(msg_id) + b"." + ts.encode() + b"." + body
        return base64.b64encode(self.hmac_raw("sha256", key, signed)).decode()

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        sig_name, id_name, ts_name = self.names(req.headers, key)
        absent = [h for h in (sig_name, id_name, ts_name) if h not in req.headers]
        if absent:
            listed = ", ".join(f"`{h}`" for h in absent)
            return Verdict(
                "missing", f"The request lacks {listed}; Standard Webhooks senders send `{id_name}`, `{ts_name}` and `{sig_name}` together."
            )
        value = req.headers.get(sig_name) or ""
        msg_id = req.headers.get(id_name) or ""
        ts = (req.headers.get(ts_name) or "").strip()
        if not (ts.isascii() and ts.isdigit()) or len(ts) > 15:
            return Verdict("malformed", f"`{ts_name}` is {shorten(ts, 30)!r}; expected whole unix seconds.", shorten(value))
        candidates = []
        for part in value.split():
            version, comma, sig = part.partition(",")
            # Repeated header lines arrive joined with ", "; base64 never holds a comma.
            sig = sig.rstrip(",")
            if comma and version == "v1" and sig:
                candidates.append(sig)
        if not candidates:
            return Verdict(
                "malformed",
                f"`{sig_name}` has no `v1,<base64>` signature; expected a space-separated list such as `v1,K5oZ…=`.",
                shorten(value),
            )
        try:
            secret = decode_secret(key.secret)
        except ValueError as exc:
            return Verdict("error", f"The secret cannot be used: {exc}.")
        expected = self.mac(secret, msg_id, ts, req.body)
        stamp = float(ts)
        if not any(same(utf8(c), expected.encode()) for c in candidates):
            return Verdict(
                "invalid",
                f"No `v1` signature in `{sig_name}` matches the {self.label} with this secret.",
                shorten(value),
                f"v1,{expected}",
                stamp,
            )
        if key.tolerance is not None and abs(key.now - stamp) > key.tolerance:
            skew = key.now - stamp
            when = f"{skew:.0f} s ago" if skew > 0 else f"{-skew:.0f} s in the future"
            return Verdict(
                "expired",
                f"The signature is authentic but its timestamp is {when}, outside the ±{key.tolerance:g} s tolerance; resend the event or check this machine's clock.",
                shorten(value),
                f"v1,{expected}",
                stamp,
            )
        return Verdict("valid", f"A `v1` signature in `{sig_name}` matches.", shorten(value), f"v1,{expected}", stamp)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        sig_name, id_name, ts_name = self.names(req.headers, key)
        msg_id = req.headers.get(id_name) or f"msg_inspector{int(key.now * 1000)}"
        ts = str(int(key.now))
        expected = self.mac(decode_secret(key.secret), msg_id, ts, req.body)
        return [(id_name, msg_id), (ts_name, ts), (sig_name, f"v1,{expected}")]

    def check_secret(self, secret: str) -> str | None:
        try:
            decode_secret(secret)
        except ValueError as exc:
            return str(exc)
        return None


alias("svix", "standard-webhooks")
