"""SPEC §3.1: why a signature check failed, each hint computed by re-checking a variant."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..model import Headers
from .base import Key, Scheme, SignedRequest, Verdict, same
from .registry import all_schemes
from .shared import b64, b64decode, utf8

SHORT_SECRET = 12
DAY = 86400.0
WHSEC = "whsec_"


def _passes(scheme: Scheme, req: SignedRequest, key: Key) -> bool:
    try:
        return scheme.verify(req, key).status in ("valid", "expired")
    except Exception:  # a variant that cannot be checked proves nothing
        return False


def _verdict(scheme: Scheme, req: SignedRequest, key: Key) -> Verdict | None:
    try:
        return scheme.verify(req, key)
    except Exception:
        return None


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


def similar_headers(wanted_header: str, present: Iterable[str]) -> list[str]:
    want = _norm(wanted_header)
    out = []
    for name in present:
        got = _norm(name)
        if got == wanted_header.lower():
            continue
        if got == want or edit_distance(got, want) <= 2:
            out.append(name)
    return out


def _json_variants(body: bytes) -> list[tuple[str, bytes]]:
    try:
        data = json.loads(body.decode("utf-8", errors="strict") if body else "")
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, (dict, list)):
        return []
    out: list[tuple[str, bytes]] = []
    forms: list[tuple[str, dict[str, Any]]] = [
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
                try:
                    variant = json.dumps(data, ensure_ascii=ascii_, sort_keys=sort, **kw).encode("utf-8", "surrogatepass")
                except (TypeError, ValueError, RecursionError):  # keys of mixed types cannot be sorted
                    continue
                if variant != body:
                    out.append((name, variant))
    return out


# Another provider's signature header.


def _header_owners() -> dict[str, tuple[str, list[str]]]:
    """Lower-cased signature header → (its spelling, the algorithms that read it)."""
    owners: dict[str, tuple[str, list[str]]] = {}
    for algorithm, scheme in sorted(all_schemes().items()):
        for header in scheme.headers[:1]:
            owners.setdefault(header.lower(), (header, []))[1].append(algorithm)
    return owners


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _header_hints(scheme: Scheme, entry_name: str, headers: Headers, key: Key) -> list[str]:
    hints = []
    for header in scheme.header_names(key):
        if header in headers:
            continue
        for near in similar_headers(header, headers.names()):
            hints.append(
                f"The request has `{near}`, which is close to the expected `{header}`: check the header name in answers.json (`{entry_name}.header`) or at the sender."
            )
    own = {h.lower() for h in scheme.header_names(key)}
    for lowered, (header, algorithms) in _header_owners().items():
        if lowered in own or header not in headers:
            continue
        hints.append(
            f"The request carries `{header}`, the signature header of {_either(algorithms)}: it was probably signed by that provider, not the one `{entry_name}` expects ({scheme.algorithm})."
        )
    return hints


# Which URL the sender signed.


def _port(netloc: str) -> str | None:
    host = netloc.rpartition("@")[2]
    head, sep, tail = host.rpartition(":")
    if sep and tail.isascii() and tail.isdigit() and (not head.startswith("[") or head.endswith("]")):
        return tail
    return None


def _host(netloc: str) -> str:
    host = netloc.rpartition("@")[2]
    return (host.rsplit(":", 1)[0] if _port(netloc) else host).lower()


def _describe(variant: str, url: str) -> list[str]:
    """How `variant` differs from `url`, part by part."""
    a, b = urlsplit(variant), urlsplit(url)
    bits = []
    if a.scheme.lower() != b.scheme.lower():
        bits.append(f"`{a.scheme}` instead of `{b.scheme}`")
    if _host(a.netloc) != _host(b.netloc):
        bits.append(f"host `{_host(a.netloc)}` instead of `{_host(b.netloc)}`")
    pa, pb = _port(a.netloc), _port(b.netloc)
    if pa != pb:
        bits.append(f"without the port {pb}" if pa is None else f"with port {pa}" if pb is None else f"port {pa} instead of {pb}")
    if a.path != b.path:
        if a.path.rstrip("/") == b.path.rstrip("/"):
            bits.append("with a trailing `/`" if a.path.endswith("/") else "without the trailing `/`")
        else:
            bits.append(f"path `{a.path}` instead of `{b.path}`")
    if a.query != b.query:
        bits.append(
            "without the query string" if not a.query else f"with the query `?{a.query}`" if not b.query else f"the query `?{a.query}`"
        )
    return bits


def _slash_toggled(path: str) -> tuple[str, ...]:
    if path in ("", "/"):
        return (path, "/" if not path else "")
    return (path, path[:-1] if path.endswith("/") else path + "/")


def _tweaks(origin: str) -> list[str]:
    """`origin` with http/https swapped, its port dropped or made explicit, query dropped, `/` toggled."""
    parts = urlsplit(origin)
    scheme = parts.scheme.lower()
    schemes = [parts.scheme] + ([{"https": "http", "http": "https"}[scheme]] if scheme in ("http", "https") else [])
    userinfo = parts.netloc[: len(parts.netloc) - len(parts.netloc.rpartition("@")[2])]
    host = parts.netloc.rpartition("@")[2]
    bare = host.rsplit(":", 1)[0] if _port(parts.netloc) else host
    out = []
    for s in schemes:
        default = "443" if s.lower() == "https" else "80"
        for netloc in dict.fromkeys((parts.netloc, userinfo + bare, f"{userinfo}{bare}:{default}")):
            for query in dict.fromkeys((parts.query, "")):
                for path in _slash_toggled(parts.path):
                    out.append(urlunsplit((s, netloc, path, query, "")))
    return out


def _url_hints(scheme: Scheme, req: SignedRequest, key: Key, verdict: Verdict) -> list[str]:
    if not req.url or "://" not in req.url:
        return []
    probe = _verdict(scheme, replace(req, url=req.url + "x"), key)
    if probe is None or same(probe.expected or "", verdict.expected or ""):
        return []  # the URL is not part of what this scheme signs
    try:
        return _matching_url(scheme, req, key)
    except ValueError:  # a URL urllib cannot take apart (an unclosed `[`, say) explains nothing
        return []


def _matching_url(scheme: Scheme, req: SignedRequest, key: Key) -> list[str]:
    target = urlsplit(req.url)
    origins: list[tuple[str, str]] = [(req.url, "")]
    host = (req.headers.get("Host") or "").split(",")[0].strip()
    if host:
        proto = (req.headers.get("X-Forwarded-Proto") or target.scheme or "http").split(",")[0].strip()
        addressed = urlunsplit((proto, host, target.path, target.query, ""))
        origins.append((addressed, " (the address in the request's `Host` header)"))
    if req.local_url:
        origins.append((req.local_url, " (where the request reached this machine)"))
    tried = {req.url}
    variants: list[tuple[int, str, str]] = []
    for origin, where in origins:
        try:
            tweaked = [origin] + _tweaks(origin)
        except ValueError:
            continue
        for variant in tweaked:
            if variant in tried:
                continue
            tried.add(variant)
            try:
                variants.append((len(_describe(variant, req.url)), variant, where))
            except ValueError:
                continue
    for _, variant, where in sorted(variants, key=lambda v: v[0]):
        if _passes(scheme, replace(req, url=variant), key):
            how = ", ".join(_describe(variant, req.url)) or "another spelling"
            return [
                f"The signature matches the URL `{variant}`{where} — {how} — not `{req.url}`: the sender signed the URL it was configured with. "
                "Make the webhook URL at the sender and `public_base_url` (or `verify --url`) the same."
            ]
    return []


# How the secret was encoded.


class _SecretBytes(str):
    """A secret whose key bytes are not its text: schemes turn secrets into bytes with `encode`."""

    raw: bytes

    def __new__(cls, raw: bytes) -> _SecretBytes:
        obj = super().__new__(cls, WHSEC + b64(raw))
        obj.raw = raw
        return obj

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


def _secret_encoding_hints(scheme: Scheme, entry_name: str, req: SignedRequest, key: Key) -> list[str]:
    text = key.secret.strip()
    if scheme.algorithm == "standard-webhooks":
        tries = [("the whole secret, `whsec_` included, as text", utf8(text))]
        if text.startswith(WHSEC):
            tries.append(("the part after `whsec_` as text", utf8(text[len(WHSEC) :])))
        for how, raw in tries:
            if raw and _passes(scheme, req, replace(key, secret=WHSEC + b64(raw))):
                return [
                    f"The signature matches when the secret of `{entry_name}` is used raw ({how}) instead of base64-decoded: "
                    "the sender's signing code does not decode it, but Standard Webhooks keys are the base64-decoded part after `whsec_`."
                ]
        return []
    decoded = b64decode(text[len(WHSEC) :]) if text.startswith(WHSEC) else None
    if decoded and _passes(scheme, req, replace(key, secret=_SecretBytes(decoded))):
        return [
            f"The signature matches the base64-decoded secret, the way Standard Webhooks uses a `whsec_` secret, but {scheme.algorithm} uses the secret as-is: "
            f"the sender decoded the secret of `{entry_name}`; it should sign with the whole `whsec_…` text."
        ]
    return []


# When it was signed.


def _when(skew: float) -> str:
    return f"{skew:.0f} s ago" if skew >= 0 else f"{-skew:.0f} s in the future"


def _time_hints(scheme: Scheme, verdict: Verdict, key: Key) -> list[str]:
    assert verdict.timestamp is not None
    skew = key.now - verdict.timestamp
    # The scheme's own unit read the number; the other unit may put it right next to now.
    for factor, sent, expects in ((1000.0, "seconds", "milliseconds"), (0.001, "milliseconds", "seconds")):
        other = key.now - verdict.timestamp * factor
        if abs(skew) > 30 * DAY and abs(other) <= DAY:
            return [
                f"The timestamp looks like unix {sent}, but {scheme.algorithm} timestamps are in {expects}: read as {sent} it is {_when(other)}. "
                f"The sender (or a script that signed the request) wrote {sent} where {expects} belong."
            ]
    if abs(skew) >= 1:
        direction = "in the past" if skew > 0 else "in the future"
        return [f"The signed timestamp is {abs(skew):.0f} s {direction} relative to this machine's clock."]
    return []


def hints_for(
    scheme: Scheme,
    entry_name: str,
    req: SignedRequest,
    key: Key,
    verdict: Verdict,
    other_secrets: list[tuple[str, str]],
) -> list[str]:
    hints: list[str] = []

    if verdict.status in ("missing", "malformed"):
        hints.extend(_header_hints(scheme, entry_name, req.headers, key))

    if verdict.status == "invalid":
        for name, secret in other_secrets:
            if name == entry_name or not secret or same(secret, key.secret):
                continue
            if _passes(scheme, req, replace(key, secret=secret)):
                hints.append(
                    f"The signature matches the secret of `{name}`: the sender uses that secret, or this request belongs to `{name}`."
                )
        body = req.body
        if body.endswith(b"\n") and _passes(scheme, req.with_body(body.rstrip(b"\r\n")), key):
            hints.append(
                "The signature matches the body without its trailing newline: something between the sender and here added one (a proxy, or curl's --data-binary @file with an editor-saved file)."
            )
        elif _passes(scheme, req.with_body(body + b"\n"), key):
            hints.append(
                "The signature matches the body with a trailing newline: the sender signed a body ending in \\n but sent it without one."
            )
        for label, variant in _json_variants(body):
            if _passes(scheme, req.with_body(variant), key):
                hints.append(
                    f"The signature matches the same JSON re-serialized as {label}: something parsed and re-encoded the body before it arrived; verify over the raw bytes the sender sent."
                )
                break
        hints.extend(_url_hints(scheme, req, key, verdict))
        hints.extend(_secret_encoding_hints(scheme, entry_name, req, key))
        if 0 < len(key.secret) < SHORT_SECRET:
            hints.append(
                f"The secret of `{entry_name}` is only {len(key.secret)} characters: is it the whole secret from the sender's settings?"
            )
        if key.secret[:1].isspace() or key.secret[-1:].isspace():
            hints.append(f"The secret of `{entry_name}` has white space at its start or end: copy it again without it.")

    if verdict.status in ("expired", "invalid") and verdict.timestamp is not None:
        hints.extend(_time_hints(scheme, verdict, key))
    return hints
