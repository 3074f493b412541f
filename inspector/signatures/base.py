"""What every signature scheme is: verify a request with a secret, and sign one (SPEC §3)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from ..model import Header, Headers, quick_init

DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


@quick_init  # built for every signed request: see model.quick_init
@dataclass(frozen=True)
class SignedRequest:
    """The parts of a request a scheme may sign: method, the URL the sender called, headers, body.

    `local_url` is where the request reached this machine (`http://127.0.0.1:8080/…`), when
    known: diagnosis tries it when a URL-signing scheme fails.
    """

    method: str
    url: str
    headers: Headers
    body: bytes
    local_url: str | None = None

    def with_body(self, body: bytes) -> SignedRequest:
        return replace(self, body=body)


@quick_init
@dataclass(frozen=True)
class Key:
    """How one configured entry checks: its secret, header, tolerance, and the current time."""

    secret: str
    header: str
    tolerance: float | None
    now: float


@quick_init
@dataclass(frozen=True)
class Verdict:
    """A scheme's answer before diagnosis. `timestamp` is the signed time, when there is one."""

    status: str
    reason: str
    received: str | None = None
    expected: str | None = None
    timestamp: float | None = None


class Scheme:
    """One provider's algorithm. Subclasses set the class variables and implement the two methods."""

    algorithm: ClassVar[str]
    label: ClassVar[str] = ""  # what the MAC is, for reasons: "HMAC-SHA256 of the body"
    header: ClassVar[str]  # the default signature header
    headers: ClassVar[tuple[str, ...]] = ()  # every header it reads; the first is `header`
    tolerance: ClassVar[float | None] = None
    token: ClassVar[bool] = False  # the header carries the secret itself
    signs: ClassVar[bool] = True  # can produce signatures (public-key schemes cannot)

    def header_names(self, key: Key) -> tuple[str, ...]:
        rest = tuple(h for h in self.headers if h.lower() != key.header.lower())
        return (key.header,) + rest

    def present(self, headers: Headers, header: str | None) -> bool:
        return (header or self.header) in headers

    def check_secret(self, secret: str) -> str | None:
        """Why `secret` cannot be used by this scheme, or None. Checked when answers.json loads."""
        return None

    def verify(self, req: SignedRequest, key: Key) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:  # pragma: no cover - abstract
        raise NotImplementedError

    def quick_valid(self, header: str, secret: str) -> Callable[[Headers, bytes], tuple[str, str] | None] | None:
        """A check for the usual request, one its sender signed as `verify` expects, that
        needs neither the URL, the time nor a diagnosis: given the headers and body, the
        header's value and the expected signature when `verify` would find it `valid`, and
        None for anything else (then `verify` decides). None: this scheme has no such check."""
        return None

    # Helpers shared by the schemes.

    @staticmethod
    def missing(header: str, extra: str = "") -> Verdict:
        return Verdict("missing", f"The request has no `{header}` header{extra}.")

    @staticmethod
    def hmac_hex(digest: str, secret: bytes, message: bytes) -> str:
        return hmac.digest(secret, message, digest).hex()

    @staticmethod
    def hmac_raw(digest: str, secret: bytes, message: bytes) -> bytes:
        return hmac.digest(secret, message, digest)


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison that accepts any text, never raising on non-ASCII."""
    if isinstance(a, str):
        a = _bytes(a)
    if isinstance(b, str):
        b = _bytes(b)
    return hmac.compare_digest(a, b)


def _bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate outside the escape range
        return text.encode("utf-8", "surrogatepass")


def is_hex(text: str) -> bool:
    if not text or len(text) % 2:
        return False
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return text.isascii()


def shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
