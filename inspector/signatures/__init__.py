"""Signature verification and signing for every supported provider (SPEC §3)."""

from .registry import ALGORITHMS, all_schemes, scheme_for
from .secrets import Masker, mask_value
from .verify import select, sign_request, verify_request

__all__ = ["ALGORITHMS", "Masker", "all_schemes", "mask_value", "scheme_for", "select", "sign_request", "verify_request"]
