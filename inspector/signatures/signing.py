"""`sign(scheme, secret, request)`: a request signed as a provider signs it, for the user's own
tests (a fixture posted to their handler with a test secret).

It goes through `sign_request`, the function `replay --resign`, `send` and `import --resign`
use, with answers.json replaced by one entry; there is no second signer.
"""

from __future__ import annotations

import time
from typing import Any

from ..config import Config, SignatureEntry
from ..model import Headers, Request
from .registry import ALGORITHMS, scheme_for
from .verify import sign_request


class SigningError(ValueError):
    """The request cannot be signed as asked; the message says why and what to use instead."""


def sign(scheme: str, secret: str, request: Any, *, url: str | None = None, header: str | None = None, now: float | None = None) -> Request:
    """`request` (a `Request`, or a fixture from `inspector.fixtures.load_fixture`) with fresh
    signature headers for `scheme` (an algorithm name such as `github`, `stripe`, `slack`,
    `standard-webhooks`; see `ALGORITHMS`) and `secret`; the signature headers it carried are
    replaced. `url` is the URL the handler is called at, signed by Twilio, Square and HubSpot v3
    (default `http://localhost` + the request's path); `header` overrides the scheme's signature
    header (a fixture's own is used by default); `now` fixes the signed time (default: now).
    Raises `SigningError` for an unknown scheme, a public-key scheme (only the sender holds its
    private key) or a secret the scheme cannot use."""
    if header is None:
        header = getattr(request, "header", None)
    request = getattr(request, "request", request)
    if not isinstance(request, Request):
        raise SigningError(f"expected a Request or a fixture (inspector.fixtures.load_fixture), got {type(request).__name__}")
    if not isinstance(scheme, str) or not scheme:
        raise SigningError(f"expected a scheme name such as 'github', got {scheme!r}; the names are: {', '.join(ALGORITHMS)}")
    found = scheme_for(scheme)
    if found is None:
        raise SigningError(f"unknown signature scheme {scheme!r}; use one of {', '.join(ALGORITHMS)}")
    if not found.signs:
        raise SigningError(
            f"{scheme} is a public-key scheme: only the sender holds the private key, so nothing here can sign for it; test with verification off instead"
        )
    if not isinstance(secret, str) or not secret:
        raise SigningError("the secret is empty; pass the test secret your handler checks with")
    problem = found.check_secret(secret)
    if problem:
        raise SigningError(f"the secret cannot be used by {scheme}: {problem}")
    entry = SignatureEntry(scheme, found.algorithm, header or found.header, secret)
    config = Config(signatures=(entry,))
    now = time.time() if now is None else now
    target = url if url is not None else "http://localhost" + request.target
    signed = sign_request(config, request, scheme, target, now)
    if signed is None:  # pragma: no cover - the checks above are what sign_request refuses
        raise SigningError(f"{scheme} could not sign this request")
    headers: Headers = request.headers
    for name, value in signed[0]:
        headers = headers.with_set(name, value)
    return Request(request.method, request.path, request.query, headers, request.body, request.client, now)
