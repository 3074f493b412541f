"""Discord interactions: `X-Signature-Ed25519` (hex) over `X-Signature-Timestamp ‖ body`.

The entry's secret is the application's public key (64 hex digits); the inspector can check
these signatures but never make them.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .base import is_hex
from .public_key import PublicKeyScheme
from .registry import register

TIMESTAMP = "X-Signature-Timestamp"


def public_key(secret: str) -> Ed25519PublicKey:
    """Raises ValueError with a sentence when the secret is not a Discord public key."""
    text = secret.strip()
    if len(text) != 64 or not is_hex(text):
        raise ValueError(
            f"expected the application's public key, 64 hex digits (found {len(text)} characters); copy it from the Discord developer portal's General Information page"
        )
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


@register
class Discord(PublicKeyScheme):
    algorithm = "discord"
    label = "Ed25519 signature of `timestamp + body`"
    header = "X-Signature-Ed25519"
    headers = ("X-Signature-Ed25519", TIMESTAMP)
    timestamp_header = TIMESTAMP
    provider = "Discord"
    key_name = "public key"
    signature_shape = "an Ed25519 signature in hex (128 hex digits)"
    invalid_advice = "check the public key (not the bot token or client secret)."

    load_key = staticmethod(public_key)

    def decode(self, text: str) -> bytes | None:
        return bytes.fromhex(text) if len(text) == 128 and is_hex(text) else None

    def check(self, public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
        try:
            public.verify(signature, message)
            return True
        except InvalidSignature:
            return False
