"""Which values are secrets, and how they are masked wherever shown or exported (SPEC §3).

A header is secret-bearing by name (`Authorization`, `Cookie`, token headers, names built from
words such as `token`, `secret`, `api-key`) or because it carries a configured secret. A
capture's `Redactor` then hides those exact values wherever a flow copied them: step outputs,
logs, errors, the debugger's scope, the answer.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from .registry import scheme_for

if TYPE_CHECKING:
    from ..config import Config
    from ..model import Capture

ALWAYS_SECRET = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-gitlab-token"})

# Words that make a header (or a map key in a flow's output) secret-bearing. Whole words
# only: `author`, `access_tokens_url` or `x-idempotency-key` are not secrets.
SECRET_WORDS = frozenset(
    {
        "auth",
        "authorization",
        "authentication",
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "credential",
        "credentials",
        "cookie",
    }
)
SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("session", "key")})
# Glued compounds (`csrftoken`, `XApiKey` once lower-cased, `client_secret` is covered by words).
SECRET_SUFFIXES = ("token", "secret", "password", "apikey")

# Shorter secrets are hidden only where a whole string equals them: replacing every
# occurrence of a 3-character cookie value inside other text would garble the output.
MIN_SUBSTRING = 6


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


@lru_cache(maxsize=4096)
def secret_name(name: str) -> bool:
    """True when a header name says it carries a credential (see README "Secrets")."""
    if name.lower() in ALWAYS_SECRET:
        return True
    words = _words(name)
    if any(w in SECRET_WORDS or w.endswith(SECRET_SUFFIXES) for w in words):
        return True
    if "apikey" in "".join(words):  # `XApiKey`, `x-apiKey`
        return True
    return any(pair in SECRET_PAIRS for pair in pairwise(words))


def mask_value(value: str) -> str:
    """`gl-t…(24 chars)`: enough to recognise a value, never enough to use it."""
    n = len(value)
    if n >= 16:
        return f"{value[:4]}…({n} chars)"
    return f"…({n} chars)"


class Masker:
    """`masker(name, value)` returns the value to show. With `reveal`, values pass unchanged.

    `for_capture(capture)` gives the `Redactor` that also hides that capture's secret values
    inside flow outputs, logs and answers."""

    def __init__(self, config: Config | None = None, reveal: bool = False):
        self.reveal = reveal
        names = set(ALWAYS_SECRET)
        # A MAC is not a secret; its header stays visible even if its name sounds secret.
        signature_headers: set[str] = set()
        secrets: list[str] = []
        self.token_header: str | None = None
        self.token: str | None = None
        if config is not None:
            for entry in config.signatures:
                scheme = scheme_for(entry.algorithm) if entry.algorithm else None
                header = (entry.header or (scheme.header if scheme else "") or "").lower()
                if scheme is not None and scheme.token:
                    names.add(header)
                elif scheme is not None:
                    signature_headers.add(header)
                    signature_headers.update(h.lower() for h in scheme.headers)
                # Public-key schemes hold a public key, not a secret.
                if entry.secret and (scheme is None or scheme.signs or scheme.token):
                    secrets.append(entry.secret)
            if config.secret_header and config.secret_key:
                self.token_header = config.secret_header.lower()
                self.token = config.secret_key
                secrets.append(config.secret_key)
        names.discard("")
        signature_headers -= names
        self.names = frozenset(names)
        self.signature_headers = frozenset(signature_headers)
        self.secrets = tuple(dict.fromkeys(secrets))
        self._secret_set = frozenset(self.secrets)

    def is_secret(self, name: str, value: str) -> bool:
        lowered = name.lower()
        if lowered in self.names:
            return True
        # Plain set membership, not a constant-time compare: this decides what a view shows,
        # no sender can time it.
        if self.secrets and value.strip() in self._secret_set:
            return True  # a configured secret sent as-is, whatever the header is called
        if lowered == self.token_header or lowered in self.signature_headers:
            return False
        return secret_name(name)  # as written: camelCase map keys (`privateKey`) split into words

    def __call__(self, name: str, value: str) -> str:
        if self.reveal or not self.is_secret(name, value):
            return value
        return mask_value(value)

    def for_capture(self, capture: Capture) -> Redactor:
        return Redactor(self, capture.request.headers)


def _fragments(value: str) -> Iterable[str]:
    """The usable pieces of a secret header value: a script may keep only the token after
    `Bearer `, decode Basic credentials, or pick one cookie."""
    value = value.strip()
    yield value
    scheme, _, credential = value.partition(" ")
    credential = credential.strip()
    if credential:
        yield credential
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                decoded = ""
            if decoded:
                yield decoded
                yield decoded.partition(":")[2]
    for part in re.split(r"[;,]", value):
        yield part.strip()
        yield part.partition("=")[2].strip()


class Redactor:
    """One capture's masking: header values by name (as `Masker`), and every secret value
    that capture received (plus the configured secrets) wherever it reappears."""

    def __init__(self, masker: Masker, headers: Iterable[tuple[str, str]]):
        self.masker = masker
        self.reveal = masker.reveal
        exact: set[str] = set()
        if not self.reveal:
            for name, value in headers:
                if masker.is_secret(name, value):
                    whole = value.strip()
                    exact.add(whole)
                    exact.update(f for f in _fragments(value) if len(f) >= MIN_SUBSTRING and f != whole)
            exact.update(masker.secrets)
        exact.discard("")
        self._exact = frozenset(exact)
        inside = sorted((s for s in exact if len(s) >= MIN_SUBSTRING), key=len, reverse=True)
        # Longest first, so `Bearer abc…` is replaced whole rather than leaving `Bearer `.
        self._pattern = re.compile("|".join(map(re.escape, inside))) if inside else None

    def __call__(self, name: str, value: str) -> str:
        if self.reveal:
            return value
        if self.masker.is_secret(name, value):
            return mask_value(value)
        return self.text(value)

    def text(self, text: str) -> str:
        if self.reveal:
            return text
        if text.strip() in self._exact:
            return mask_value(text)
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: mask_value(m.group()), text)

    def value(self, value: Any) -> Any:
        """A JSON-shaped value with every secret masked: strings by content, and a string under
        a key named like a secret header (`authorization`, `x-api-key`) whatever it holds."""
        if self.reveal:
            return value
        return self._value(value)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(v, str) and isinstance(k, str) and self.masker.is_secret(k, v):
                    out[k] = mask_value(v)
                else:
                    out[k] = self._value(v)
            return out
        if isinstance(value, (list, tuple)):
            return [self._value(v) for v in value]
        return value

    def detail(self, data: dict[str, Any]) -> dict[str, Any]:
        """The `show --json` form (`Capture.detail_json`) with flow traces, the answer and the
        notes masked; the request's own headers are masked by `detail_json(self)`."""
        if self.reveal:
            return data
        data = dict(data)
        data["runs"] = self._value(data.get("runs") or [])
        if data.get("response"):
            resp = dict(data["response"])
            resp["headers"] = [[n, self(n, v)] for n, v in resp.get("headers") or []]
            resp["body"] = self._value(resp.get("body"))
            data["response"] = resp
        data["notes"] = self._value(data.get("notes") or [])
        return data
