"""Hex HMAC of the raw body: sha256/sha1/sha512, GitHub, Bitbucket, and the generic check."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from ..model import Header, Headers
from .base import Key, Scheme, SignedRequest, Verdict, is_hex, same, shorten
from .registry import register


class HexBodyHmac(Scheme):
    """`HMAC(secret, body)` in hex, an optional `<digest>=` prefix before it."""

    digest = "sha256"

    @property
    def label(self) -> str:  # type: ignore[override]
        return f"HMAC-{self.digest.upper()} of the body"

    def candidate(self, value: str) -> str | None:
        value = value.strip()
        prefix, sep, rest = value.partition("=")
        if sep and prefix.strip().lower() in ("sha1", "sha256", "sha512"):
            if prefix.strip().lower() != self.digest:
                return None
            value = rest.strip()
        value = value.lower()
        return value if is_hex(value) else None

    def expected(self, req: SignedRequest, key: Key) -> str:
        return self.hmac_hex(self.digest, key.secret.encode(), req.body)

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is None:
            return self.missing(key.header)
        expected = self.expected(req, key)
        shown = f"{self.digest}={expected}"
        # The common case, a sender that signs as expected (`sha256=` and lowercase hex, as
        # made here): the same verdict as below without parsing the value. compare_digest
        # takes str only when ASCII; anything else takes the full path.
        if value.isascii() and hmac.compare_digest(value, shown):
            return Verdict("valid", self._valid_reason(key.header), shorten(value), shown)
        candidate = self.candidate(value)
        if candidate is None:
            prefix = value.strip().partition("=")[0].lower()
            if prefix in ("sha1", "sha256", "sha512") and prefix != self.digest:
                why = f'it carries a {prefix.upper()} signature while this entry\'s algorithm is {self.digest}; set "algorithm": "{prefix}" or point it at the {self.digest} header'
            else:
                why = f"expected {self.digest}=<{len(expected)} hex digits>"
            return Verdict(
                "malformed", f"`{key.header}` is present but is not a {self.digest.upper()} hex signature: {why}.", shorten(value), shown
            )
        if len(candidate) != len(expected):
            return Verdict(
                "invalid",
                f"`{key.header}` has {len(candidate)} hex digits but an {self.digest.upper()} signature has {len(expected)}; check the algorithm.",
                shorten(value),
                shown,
            )
        # Both are hex digits (ASCII), which compare_digest takes as they are.
        if hmac.compare_digest(candidate, expected):
            return Verdict("valid", self._valid_reason(key.header), shorten(value), shown)
        return Verdict("invalid", f"`{key.header}` does not match the {self.label} computed with this secret.", shorten(value), shown)

    def sign(self, req: SignedRequest, key: Key) -> list[Header]:
        return [(key.header, f"{self.digest}={self.expected(req, key)}")]

    def quick_valid(self, header: str, secret: str) -> Callable[[Headers, bytes], tuple[str, str] | None] | None:
        if type(self).verify is not HexBodyHmac.verify:  # a scheme that checks more first (Generic)
            return None
        try:
            key = secret.encode()
        except UnicodeEncodeError:  # verify reports it as an error
            return None
        digest = self.digest
        prefix = f"{digest}="
        compare = hmac.compare_digest
        mac = hmac.digest

        def check(headers: Headers, body: bytes) -> tuple[str, str] | None:
            # verify's first test, as it makes it: the value exactly as made here.
            value = headers.get(header)
            if value is None or not value.isascii():
                return None
            shown = prefix + mac(key, body, digest).hex()
            return (value, shown) if compare(value, shown) else None

        return check

    def _valid_reason(self, header: str) -> str:
        return f"`{header}` matches the {self.label}."


@register
class Sha256(HexBodyHmac):
    algorithm = "sha256"
    digest = "sha256"
    header = "X-Hub-Signature-256"
    headers = ("X-Hub-Signature-256",)


@register
class Sha1(HexBodyHmac):
    algorithm = "sha1"
    digest = "sha1"
    header = "X-Hub-Signature"
    headers = ("X-Hub-Signature",)


@register
class Sha512(HexBodyHmac):
    algorithm = "sha512"
    digest = "sha512"
    header = "X-Signature"
    headers = ("X-Signature",)


@register
class GitHub(HexBodyHmac):
    algorithm = "github"
    digest = "sha256"
    header = "X-Hub-Signature-256"
    headers = ("X-Hub-Signature-256",)


@register
class Bitbucket(HexBodyHmac):
    algorithm = "bitbucket"
    digest = "sha256"
    header = "X-Hub-Signature"
    headers = ("X-Hub-Signature",)


class Generic(HexBodyHmac):
    """SPEC §3 rule 3: `secret_header` + `secret_key`, HMAC-SHA256 hex, `sha256=` optional.

    Some senders put the shared secret itself in the header; that is accepted too, and the
    header is then masked like any token.
    """

    algorithm = "sha256"
    digest = "sha256"
    header = "X-Signature"
    headers = ()

    def verify(self, req: SignedRequest, key: Key) -> Verdict:
        value = req.headers.get(key.header)
        if value is not None and key.secret and same(value.strip(), key.secret):
            return Verdict("valid", f"`{key.header}` carries the shared secret itself (a token, not an HMAC).", mask_token(value))
        return super().verify(req, key)


def mask_token(value: str) -> str:
    from .secrets import mask_value

    return mask_value(value)
