"""SPEC §3.1: why a signature check failed, each hint computed by re-checking a variant."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Iterable

from ..model import Headers
from .base import Key, Scheme, SignedRequest, Verdict
from .registry import all_schemes

SHORT_SECRET = 12


def _passes(scheme: Scheme, req: SignedRequest, key: Key) -> bool:
    try:
        return scheme.verify(req, key).status in ("valid", "expired")
    except Exception:  # a variant that cannot be checked proves nothing
        return False


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def similar_headers(expected: str, present: Iterable[str]) -> list[str]:
    want = _norm(expected)
    out = []
    for name in present:
        got = _norm(name)
        if got == expected.lower():
            continue
        if got == want or edit_distance(got, want) <= 2:
            out.append(name)
    return out


def _json_variants(body: bytes) -> list[tuple[str, bytes]]:
    text = body.decode("utf-8", errors="strict") if body else ""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, (dict, list)):
        return []
    out: list[tuple[str, bytes]] = []
    forms = [
        ("compact JSON", dict(separators=(",", ":"))),
        ("JSON with spaces after `,` and `:`", dict()),
        ("pretty-printed JSON (2-space indent)", dict(indent=2)),
        ("pretty-printed JSON (4-space indent)", dict(indent=4)),
    ]
    for label, kw in forms:
        for ascii_ in (False, True):
            for sort in (False, True):
                extra = []
                if sort:
                    extra.append("keys sorted")
                if ascii_:
                    extra.append("non-ASCII escaped as \\u")
                name = label + (" with " + " and ".join(extra) if extra else "")
                candidate = json.dumps(data, ensure_ascii=ascii_, sort_keys=sort, **kw).encode()
                if candidate != body:
                    out.append((name, candidate))
    return out


def hints_for(
    scheme: Scheme,
    entry_name: str,
    req: SignedRequest,
    key: Key,
    verdict: Verdict,
    other_secrets: list[tuple[str, str]],
) -> list[str]:
    hints: list[str] = []
    headers: Headers = req.headers
    names = headers.names()

    if verdict.status in ("missing", "malformed"):
        for header in scheme.header_names(key):
            if header in headers:
                continue
            for near in similar_headers(header, names):
                hints.append(f"The request has `{near}`, which is close to the expected `{header}`: check the header name in answers.json (`{entry_name}.header`) or at the sender.")
        own = {h.lower() for h in scheme.header_names(key)}
        for other in all_schemes().values():
            if other.token:
                continue
            for header in other.headers[:1]:
                if header.lower() in own or header not in headers:
                    continue
                hints.append(f"The request carries `{header}`, the signature header of {other.algorithm}: it was probably signed by that provider, not the one `{entry_name}` expects ({scheme.algorithm}).")
                break

    if verdict.status == "invalid":
        for name, secret in other_secrets:
            if name == entry_name or not secret or secret == key.secret:
                continue
            if _passes(scheme, req, replace(key, secret=secret)):
                hints.append(f"The signature matches the secret of `{name}`: the sender uses that secret, or this request belongs to `{name}`.")
        body = req.body
        if body.endswith(b"\n") and _passes(scheme, req.with_body(body.rstrip(b"\r\n")), key):
            hints.append("The signature matches the body without its trailing newline: something between the sender and here added one (a proxy, or curl's --data-binary @file with an editor-saved file).")
        elif _passes(scheme, req.with_body(body + b"\n"), key):
            hints.append("The signature matches the body with a trailing newline: the sender signed a body ending in \\n but sent it without one.")
        for label, variant in _json_variants(body):
            if _passes(scheme, req.with_body(variant), key):
                hints.append(f"The signature matches the same JSON re-serialized as {label}: something parsed and re-encoded the body before it arrived; verify over the raw bytes the sender sent.")
                break
        if 0 < len(key.secret) < SHORT_SECRET:
            hints.append(f"The secret of `{entry_name}` is only {len(key.secret)} characters: is it the whole secret from the sender's settings?")
        if key.secret != key.secret.strip():
            hints.append(f"The secret of `{entry_name}` has white space at its start or end: copy it again without it.")

    if verdict.status in ("expired", "invalid") and verdict.timestamp is not None:
        skew = key.now - verdict.timestamp
        if abs(skew) >= 1:
            direction = "in the past" if skew > 0 else "in the future"
            hints.append(f"The signed timestamp is {abs(skew):.0f} s {direction} relative to this machine's clock.")
    return hints
