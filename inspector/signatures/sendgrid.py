"""SendGrid (Twilio) Event Webhook: ECDSA P-256 / SHA-256 over `timestamp ‖ body`.

`X-Twilio-Email-Event-Webhook-Signature` holds the base64 DER signature and
`X-Twilio-Email-Event-Webhook-Timestamp` the signed timestamp. The entry's secret is the
verification key from Mail Settings: base64 SubjectPublicKeyInfo (a PEM block is accepted too).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from .public_key import PublicKeyScheme
from .registry import register
from .shared import b64decode

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def public_key(secret: str) -> ec.EllipticCurvePublicKey:
    """Raises ValueError with a sentence when the secret is not a P-256 public key."""
    lines = [line.strip() for line in secret.strip().splitlines()]
    text = "".join(line for line in lines if line and not line.startswith("-----"))
    der = b64decode(text)
    if der is None:
        raise ValueError(
            "expected the Event Webhook verification key: base64 text (`MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…`) from SendGrid's Mail Settings"
        )
    try:
        key = load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError(
            "the base64 text is not a public key; copy the whole Event Webhook verification key from SendGrid's Mail Settings"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the key is not an ECDSA P-256 public key, which SendGrid's Event Webhook uses")
    return key


@register
class SendGrid(PublicKeyScheme):
    algorithm = "sendgrid"
    label = "ECDSA P-256 / SHA-256 signature of `timestamp + body`"
    header = SIGNATURE
    headers = (SIGNATURE, TIMESTAMP)
    timestamp_header = TIMESTAMP
    provider = "SendGrid"
    key_name = "verification key"
    signature_shape = "a base64 DER ECDSA signature (`MEUCI…`)"
    invalid_advice = "check the key in SendGrid's Mail Settings and that the body is exactly as sent (SendGrid's ends with CRLF)."

    load_key = staticmethod(public_key)

    def decode(self, text: str) -> bytes | None:
        raw = b64decode(text)
        return raw if raw and raw[0] == 0x30 else None  # a DER SEQUENCE

    def check(self, public: ec.EllipticCurvePublicKey, signature: bytes, message: bytes) -> bool:
        try:
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
        except (InvalidSignature, ValueError):
            return False
