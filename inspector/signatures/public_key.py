"""What Discord (Ed25519) and SendGrid (ECDSA) share: a public key checks `timestamp ‖ body`,
and no one but the sender can sign."""

from __future__ import annotations

from typing import Any, ClassVar

from ..model import Header
from .base import Key, Scheme, SignedRequest, Verdict, shorten
from .shared import candidates, utf8


class PublicKeyScheme(Scheme):
    """Subclasses name the headers and say how to load the key, read and check a signature."""

    timestamp_header: ClassVar[str]
    provider: ClassVar[str]  # "Discord"
    key_name: ClassVar[str]  # "public key", "verification key"
    signature_shape: ClassVar[str]  # how a well-formed signature looks, for `malformed`
    invalid_advice: ClassVar[str]
    signs = False

    def load_key(self, secret: str) -> Any:  # pragma: no cover - abstract
        """The key object; raises ValueError with a sentence when the secret is not one."""
        raise NotImplementedError

    def decode(self, text: str) -> bytes | None:  # pragma: no cover - abstract
        """A signature's bytes, or None when `text` is not one."""
        raise NotImplementedError

    def check(self, public: Any, signature: bytes, message: bytes) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_secret(self, secret: str) -> str | None:
        try:
            self.load_key(secret)
        except ValueError as exc:
            return str(exc)
        return None

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        ts = req.headers.get(self.timestamp_header)
        if ts is None:
            return Verdict(
                "missing",
                f"The request has `{key.header}` but no `{self.timestamp_header}`; {self.provider} signs the timestamp with the body.",
                shorten(value),
            )
        found = [raw for raw in (self.decode(p) for p in candidates(req.headers, key.header)) if raw]
        if not found:
            return Verdict("malformed", f"`{key.header}` is not {self.signature_shape}.", shorten(value))
        try:
            public = self.load_key(key.secret)
        except ValueError as exc:
            return Verdict("error", f"The {self.key_name} cannot be used: {exc}.")
        message = utf8(ts) + req.body
        if any(self.check(public, signature, message) for signature in found):
            return Verdict("valid", f"`{key.header}` is a valid {self.label} for this {self.key_name}.", shorten(value))
        which = "The signature in" if len(found) == 1 else f"None of the {len(found)} signatures in"
        verb = "is not" if len(found) == 1 else "is"
        return Verdict(
            "invalid", f"{which} `{key.header}` {verb} a valid {self.label} for this {self.key_name}; {self.invalid_advice}", shorten(value)
        )

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        raise NotImplementedError(f"{self.provider} signs with its private key; the inspector only holds the public key")
