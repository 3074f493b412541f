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

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, shorten
from .registry import register
from .shared import b64decode, candidates, utf8

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def public_key(secret: str) -> ec.EllipticCurvePublicKey:
    """Raises ValueError with a sentence when the secret is not a P-256 public key."""
    lines = [line.strip() for line in secret.strip().splitlines()]
    text = "".join(line for line in lines if line and not line.startswith("-----"))
    der = b64decode(text)
    if der is None:
        raise ValueError("expected the Event Webhook verification key: base64 text (`MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE…`) from SendGrid's Mail Settings")
    try:
        key = load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("the base64 text is not a public key; copy the whole Event Webhook verification key from SendGrid's Mail Settings") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the key is not an ECDSA P-256 public key, which SendGrid's Event Webhook uses")
    return key


@register
class SendGrid(Scheme):
    algorithm = "sendgrid"
    label = "ECDSA P-256 / SHA-256 signature of `timestamp + body`"
    header = SIGNATURE
    headers = (SIGNATURE, TIMESTAMP)
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
            return Verdict("missing", f"The request has `{key.header}` but no `{TIMESTAMP}`; SendGrid signs the timestamp with the body.", shorten(value))
        found = [raw for raw in (b64decode(p) for p in candidates(req.headers, key.header)) if raw and raw[0] == 0x30]
        if not found:
            return Verdict("malformed", f"`{key.header}` is not a base64 DER ECDSA signature (`MEUCI…`).", shorten(value))
        try:
            verifier = public_key(key.secret)
        except ValueError as exc:
            return Verdict("error", f"The verification key cannot be used: {exc}.")
        message = utf8(ts) + req.body
        matched = False
        for signature in found:
            try:
                verifier.verify(signature, message, ec.ECDSA(hashes.SHA256()))
                matched = True
            except (InvalidSignature, ValueError):
                pass
        if matched:
            return Verdict("valid", f"`{key.header}` is a valid {self.label} for this verification key.", shorten(value))
        which = "The signature in" if len(found) == 1 else f"None of the {len(found)} signatures in"
        verb = "is not" if len(found) == 1 else "is"
        return Verdict("invalid", f"{which} `{key.header}` {verb} a valid {self.label} for this verification key; check the key in SendGrid's Mail Settings and that the body is exactly as sent (SendGrid's ends with CRLF).", shorten(value))

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        raise NotImplementedError("SendGrid signs with its private key; the inspector only holds the public key")
