"""One signed request per algorithm, made the way its provider makes it, for the generic scheme tests.

HMAC schemes sign through the scheme's own `sign` (so a round trip is a test); the public-key
schemes sign with fixed test keys, as the provider's private key would.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspector.model import Header, Headers
from inspector.signatures.base import Key, SignedRequest, Verdict
from inspector.signatures.registry import scheme_for

NOW = 1_700_000_000.0
URL = "https://hooks.example.com/events/webhook/demo/test?tenant=demo"
JSON_BODY = b'{"event":"order.created","data":{"id":42,"name":"caf\xc3\xa9"}}'
FORM_BODY = b"AccountSid=AC123&Body=Hello+there&From=%2B14155550100&To=%2B14155550199"
SECRET = "a-long-enough-secret-for-tests-0123456789"
OTHER_SECRET = "another-long-secret-for-tests-9876543210"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-test-key-32byt").decode()
STANDARD_OTHER = "whsec_" + base64.b64encode(b"some-other-standard-key-32-bytes").decode()

ED25519 = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ED25519_OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
P256 = ec.derive_private_key(0x5EED_1234_5678, ec.SECP256R1())
P256_OTHER = ec.derive_private_key(0xBAD_C0FFEE, ec.SECP256R1())


def ed25519_public(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def p256_public(private: ec.EllipticCurvePrivateKey) -> str:
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def sign_discord(private: Ed25519PrivateKey, ts: str, body: bytes) -> str:
    return private.sign(ts.encode() + body).hex()


def sign_sendgrid(private: ec.EllipticCurvePrivateKey, ts: str, body: bytes) -> str:
    return base64.b64encode(private.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


@dataclass(frozen=True)
class Case:
    algorithm: str
    secret: str
    other_secret: str
    body: bytes = JSON_BODY
    base_headers: tuple[Header, ...] = (("Content-Type", "application/json"),)
    tolerance: float | None = None
    both_ways: bool = False
    malformed: str = "garbage!!"
    # From the good signature header value to one that also holds a well-formed wrong candidate.
    multi: Callable[[str], str] | None = None
    signer: Callable[[Case, bytes, float], list[Header]] | None = field(default=None, repr=False)

    @property
    def scheme(self):
        return scheme_for(self.algorithm)

    @property
    def header(self) -> str:
        return self.scheme.header

    def key(self, now: float = NOW, secret: str | None = None) -> Key:
        return Key(self.secret if secret is None else secret, self.header, self.tolerance, now)

    def request(self, headers: list[Header], body: bytes | None = None, url: str = URL, method: str = "POST") -> SignedRequest:
        return SignedRequest(method, url, Headers(list(self.base_headers) + headers), self.body if body is None else body)

    def sign(self, body: bytes | None = None, at: float = NOW, url: str = URL, method: str = "POST") -> list[Header]:
        body = self.body if body is None else body
        if self.signer is not None:
            return self.signer(self, body, at)
        unsigned = SignedRequest(method, url, Headers(list(self.base_headers)), body)
        return self.scheme.sign(unsigned, Key(self.secret, self.header, self.tolerance, at))

    def signed(self, at: float = NOW, body: bytes | None = None) -> SignedRequest:
        return self.request(self.sign(at=at), body)

    def check(self, req: SignedRequest, now: float = NOW, secret: str | None = None) -> Verdict:
        return self.scheme.verify(req, self.key(now, secret))


def _discord(case: Case, body: bytes, at: float) -> list[Header]:
    ts = str(int(at))
    return [("X-Signature-Timestamp", ts), ("X-Signature-Ed25519", sign_discord(ED25519, ts, body))]


def _sendgrid(case: Case, body: bytes, at: float) -> list[Header]:
    ts = str(int(at))
    return [("X-Twilio-Email-Event-Webhook-Timestamp", ts), ("X-Twilio-Email-Event-Webhook-Signature", sign_sendgrid(P256, ts, body))]


def _before(bad: str, sep: str = ", ") -> Callable[[str], str]:
    return lambda good: bad + sep + good


ZERO_HEX = "0" * 64
ZERO_B64_32 = base64.b64encode(bytes(32)).decode()
ZERO_B64_20 = base64.b64encode(bytes(20)).decode()

CASES: dict[str, Case] = {
    c.algorithm: c
    for c in [
        Case("sha256", SECRET, OTHER_SECRET),
        Case("sha1", SECRET, OTHER_SECRET),
        Case("sha512", SECRET, OTHER_SECRET),
        Case("github", SECRET, OTHER_SECRET),
        Case("bitbucket", SECRET, OTHER_SECRET),
        Case("shopify", SECRET, OTHER_SECRET),
        Case("intercom", SECRET, OTHER_SECRET, multi=_before("sha1=" + "0" * 40)),
        Case(
            "stripe",
            "whsec_" + SECRET,
            "whsec_" + OTHER_SECRET,
            tolerance=300,
            multi=lambda g: g.replace(",v1=", f",v1={ZERO_HEX},v0={ZERO_HEX},v1=", 1),
        ),
        Case("calendly", SECRET, OTHER_SECRET, tolerance=180, multi=lambda g: g.replace(",v1=", f",v1={ZERO_HEX},v1=", 1)),
        Case(
            "standard-webhooks",
            STANDARD_SECRET,
            STANDARD_OTHER,
            tolerance=300,
            both_ways=True,
            multi=lambda g: f"v1,{ZERO_B64_32} v2,{ZERO_B64_32} {g}",
        ),
        Case("slack", SECRET, OTHER_SECRET, tolerance=300, both_ways=True, multi=_before("v0=" + ZERO_HEX)),
        Case("zoom", SECRET, OTHER_SECRET, tolerance=300, multi=_before("v0=" + ZERO_HEX)),
        Case("square", SECRET, OTHER_SECRET, multi=_before(ZERO_B64_32)),
        Case(
            "twilio",
            SECRET,
            OTHER_SECRET,
            body=FORM_BODY,
            base_headers=(("Content-Type", "application/x-www-form-urlencoded"),),
            multi=_before(ZERO_B64_20),
        ),
        Case(
            "paddle",
            "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_" + SECRET,
            "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_" + OTHER_SECRET,
            tolerance=5,
            multi=lambda g: g.replace(";h1=", f";h1=dummy;h1={ZERO_HEX};h1=", 1),
        ),
        Case("hubspot-v3", SECRET, OTHER_SECRET, tolerance=300, multi=_before(ZERO_B64_32)),
        Case("linear", SECRET, OTHER_SECRET, tolerance=60, both_ways=True, multi=_before(ZERO_HEX)),
        Case("typeform", SECRET, OTHER_SECRET, multi=_before("sha256=" + ZERO_B64_32)),
        Case("twitch", SECRET, OTHER_SECRET, tolerance=600, multi=_before("sha256=" + ZERO_HEX)),
        Case("gitlab", SECRET, OTHER_SECRET, malformed="", multi=_before("not-the-token")),
        Case("discord", ed25519_public(ED25519), ed25519_public(ED25519_OTHER), signer=_discord, multi=_before("00" * 64)),
        Case(
            "sendgrid",
            p256_public(P256),
            p256_public(P256_OTHER),
            body=JSON_BODY + b"\r\n",
            signer=_sendgrid,
            multi=lambda g: sign_sendgrid(P256_OTHER, "0", b"") + ", " + g,
        ),
    ]
}

TIMED = [c for c in CASES.values() if c.tolerance is not None]
MULTI = [c for c in CASES.values() if c.multi is not None]


def replace_header(headers: list[Header], name: str, value: str | None) -> list[Header]:
    """`headers` with `name` set to `value` (dropped when None), case-insensitively."""
    out = [(k, v) for k, v in headers if k.lower() != name.lower()]
    return out if value is None else out + [(name, value)]


def header_value(headers: list[Header], name: str) -> str:
    return next(v for k, v in headers if k.lower() == name.lower())
