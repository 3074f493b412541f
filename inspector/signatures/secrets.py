"""Which header values are secrets, and how they are masked wherever shown or exported (SPEC §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import same
from .registry import scheme_for

if TYPE_CHECKING:
    from ..config import Config

ALWAYS_SECRET = frozenset({"authorization", "proxy-authorization", "cookie", "x-gitlab-token"})


def mask_value(value: str) -> str:
    """`gl-t…(24 chars)`: enough to recognise a value, never enough to use it."""
    n = len(value)
    if n >= 16:
        return f"{value[:4]}…({n} chars)"
    return f"…({n} chars)"


class Masker:
    """`masker(name, value)` returns the value to show. With `reveal`, values pass unchanged."""

    def __init__(self, config: "Config | None" = None, reveal: bool = False):
        self.reveal = reveal
        names = set(ALWAYS_SECRET)
        self.token_header: str | None = None
        self.token: str | None = None
        if config is not None:
            for entry in config.signatures:
                scheme = scheme_for(entry.algorithm) if entry.algorithm else None
                if scheme is not None and scheme.token:
                    names.add((entry.header or scheme.header).lower())
            if config.secret_header and config.secret_key:
                self.token_header = config.secret_header.lower()
                self.token = config.secret_key
        self.names = frozenset(names)

    def is_secret(self, name: str, value: str) -> bool:
        lowered = name.lower()
        if lowered in self.names:
            return True
        return lowered == self.token_header and self.token is not None and same(value.strip(), self.token)

    def __call__(self, name: str, value: str) -> str:
        if self.reveal or not self.is_secret(name, value):
            return value
        return mask_value(value)
