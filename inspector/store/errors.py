"""What the store raises."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used; the message says which file and what to do."""


class NoStore(StoreError):
    """A read-only open found no store (no file, or an empty one): nothing is captured there
    yet, and a reader leaves it that way."""
