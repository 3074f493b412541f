"""Signature verification and signing for every supported provider (SPEC §3).

`sign(scheme, secret, request)` is public: a request (or a fixture from
`inspector.fixtures.load_fixture`) signed as the provider would, for the user's own tests.
"""

from .registry import ALGORITHMS, all_schemes, scheme_for
from .secrets import Masker, mask_value
from .signing import SigningError, sign
from .verify import select, sign_request, verify_request

__all__ = [
    "ALGORITHMS",
    "Masker",
    "SigningError",
    "all_schemes",
    "mask_value",
    "scheme_for",
    "select",
    "sign",
    "sign_request",
    "verify_request",
]
