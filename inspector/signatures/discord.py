"""Discord interactions: `X-Signature-Ed25519` (hex) over `X-Signature-Timestamp ‖ body`.

The entry's secret is the application's public key (64 hex digits); the inspector can check
these signatures but never make them.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, shorten
from .registry import register
from .shared import candidates, utf8

TIMESTAMP = "X-Signature-Timestamp"


def public_key(secret: str) -> Ed25519PublicKey:
    """Raises ValueError with a sentence when the secret is not a Discord public key."""
    text = secret.strip()
    if len(text) != 64 or not is_hex(text):
        raise ValueError(f"expected the application's public key, 64 hex digits (found {len(text)} characters); copy it from the Discord developer portal's General Information page")
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


@register
class Discord(Scheme):
    algorithm = "discord"
    label = "Ed25519 signature of `timestamp + body`"
    header = "X-Signature-Ed25519"
    headers = ("X-Signature-Ed25519", TIMESTAMP)
    signs = False

    def check_secret(self, secret: str) -> str | None:
        try:
            public_key(secret)
        except ValueError as exc:
            return str(exc)
        return None

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        ts = req.headers.get(TIMESTAMP)
        if ts is None:
            return Verdict("missing", f"The request has `{key.header}` but no `{TIMESTAMP}`; Discord signs the timestamp with the body.", shorten(value))
        found = [bytes.fromhex(p) for p in candidates(req.headers, key.header) if len(p) == 128 and is_hex(p)]
        if not found:
            return Verdict("malformed", f"`{key.header}` is not an Ed25519 signature in hex (128 hex digits).", shorten(value))
        try:
            verifier = public_key(key.secret)
        except ValueError as exc:
            return Verdict("error", f"The public key cannot be used: {exc}.")
        message = utf8(ts) + req.body
        matched = False
        for signature in found:
            try:
                verifier.verify(signature, message)
                matched = True
            except InvalidSignature:
                pass
        if matched:
            return Verdict("valid", f"`{key.header}` is a valid {self.label} for this public key.", shorten(value))
        which = "The signature in" if len(found) == 1 else f"None of the {len(found)} signatures in"
        verb = "is not" if len(found) == 1 else "is"
        return Verdict("invalid", f"{which} `{key.header}` {verb} a valid {self.label} for this public key; check the public key (not the bot token or client secret).", shorten(value))

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        raise NotImplementedError("Discord signs with its private key; the inspector only holds the public key")
