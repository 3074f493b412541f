"""The signature schemes by algorithm name; a new provider is one module that registers a class."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Scheme

_SCHEMES: dict[str, Scheme] = {}
ALIASES: dict[str, str] = {}


def register(cls: type[Scheme]) -> type[Scheme]:
    """Class decorator: make the scheme available under its `algorithm` name."""
    _SCHEMES[cls.algorithm] = cls()
    return cls


def alias(name: str, target: str) -> None:
    ALIASES[name] = target


def scheme_for(algorithm: str) -> Scheme | None:
    algorithm = algorithm.lower()
    return _SCHEMES.get(ALIASES.get(algorithm, algorithm))


def all_schemes() -> dict[str, Scheme]:
    return dict(_SCHEMES)


# Importing the scheme modules registers them.
from . import (  # noqa: E402,F401
    calendly,
    discord,
    gitlab,
    hmac_body,
    hubspot,
    intercom,
    linear,
    paddle,
    sendgrid,
    shopify,
    slack,
    square,
    standard,
    stripe,
    twilio,
    twitch,
    typeform,
    zoom,
)

ALGORITHMS: tuple[str, ...] = tuple(sorted(set(_SCHEMES) | set(ALIASES)))
