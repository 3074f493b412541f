"""Choose the scheme that applies to a request and produce its SignatureResult (SPEC §3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..config import Config, SignatureEntry
from ..model import Header, Headers, Request, SignatureResult, quick_init
from .base import Key, Scheme, SignedRequest, Verdict, shorten
from .diagnose import SHORT_SECRET, hints_for
from .hmac_body import Generic
from .registry import scheme_for

GENERIC_NAME = "secret_header"
_GENERIC = Generic()


@quick_init
@dataclass(frozen=True)
class Selection:
    """The entry that applies, and its scheme (None when the algorithm is unknown)."""

    entry: SignatureEntry
    scheme: Scheme | None

    @property
    def header(self) -> str:
        if self.entry.header:
            return self.entry.header
        return self.scheme.header if self.scheme else ""

    def key(self, now: float) -> Key:
        tolerance = self.entry.tolerance
        if tolerance is None and self.scheme is not None:
            tolerance = self.scheme.tolerance
        return Key(self.entry.secret, self.header, tolerance, now)


def generic_entry(config: Config) -> SignatureEntry | None:
    if not (config.secret_header or config.secret_key):
        return None
    problems = []
    if not config.secret_header:
        problems.append(("events-webhook.secret_header", "missing; the generic check needs the header name as well as secret_key"))
    if not config.secret_key:
        problems.append(
            ("events-webhook.secret_key", "missing or empty; the generic check needs the shared secret as well as secret_header")
        )
    return SignatureEntry(GENERIC_NAME, "sha256", config.secret_header, config.secret_key or "", None, tuple(problems))


def select(config: Config, request: Request, event_type: str | None) -> Selection | None:
    """SPEC §3 selection: by event_type name, then by header present, then the generic check."""
    entries = config.signatures
    if event_type is not None:
        for entry in entries:
            if entry.name == event_type:
                return Selection(entry, scheme_for(entry.algorithm) if entry.algorithm else None)
    for entry in entries:
        scheme = scheme_for(entry.algorithm) if entry.algorithm else None
        if scheme is None:
            if entry.header and entry.header in request.headers:
                return Selection(entry, None)
            continue
        if scheme.present(request.headers, entry.header):
            return Selection(entry, scheme)
    generic = generic_entry(config)
    if generic is not None:
        return Selection(generic, _GENERIC)
    return None


QuickCheck = Callable[[Request], SignatureResult | None]


def quick_checks(config: Config) -> dict[str, QuickCheck]:
    """For each event type an entry is named after, a check that gives `verify_request`'s
    result for the usual request (signed as the entry's scheme expects, and so `valid`)
    without building the URLs, the key or the verdict, and None for any other request,
    which `verify_request` then decides. Made once per loaded config (the server keeps it
    until a reload); only schemes that offer `Scheme.quick_valid` have one."""
    checks: dict[str, QuickCheck] = {}
    named: set[str] = set()
    for entry in config.signatures:
        if entry.name in named:  # select() takes the first entry of a name
            continue
        named.add(entry.name)
        scheme = scheme_for(entry.algorithm) if entry.algorithm else None
        if entry.problem or scheme is None or scheme.token:
            continue
        check = _quick_check(Selection(entry, scheme))
        if check is not None:
            checks[entry.name] = check
    return checks


def _quick_check(selection: Selection) -> QuickCheck | None:
    """The entry's quick check, or None when its scheme has none."""
    entry, scheme, header = selection.entry, selection.scheme, selection.header
    assert scheme is not None  # quick_checks picks entries with a known scheme
    valid = scheme.quick_valid(header, entry.secret)
    if valid is None:
        return None
    # What verify_request says of a valid request under this entry, but for what the header
    # carried and what was expected: worked out once, from a request signed as expected.
    made = scheme.sign(SignedRequest("POST", "", Headers(), b""), selection.key(0.0))
    sample = verify_request(Config(signatures=(entry,)), Request("POST", "/", "", Headers(made), b"", None, 0.0), entry.name, "", 0.0)
    if sample.status != "valid":  # never for a scheme that offers the check; then no shortcut
        return None
    name, algorithm, reason, hints = entry.name, entry.algorithm or None, sample.reason, sample.hints

    def check(request: Request) -> SignatureResult | None:
        found = valid(request.headers, request.body)
        if found is None:
            return None
        value, expected = found
        return SignatureResult("valid", name, algorithm, header, reason, hints, shorten(value), expected)

    return check


def verify_request(
    config: Config,
    request: Request,
    event_type: str | None,
    url: str,
    now: float | None = None,
    *,
    local_url: str | None = None,
) -> SignatureResult:
    """Never raises: a scheme that fails unexpectedly is reported as `error`.

    `url` is the URL the sender called (public base + path + query); `local_url`, when given,
    is where the request reached this machine, tried by the diagnosis of URL-signing schemes.
    """
    now = time.time() if now is None else now
    selection = select(config, request, event_type)
    if selection is None:
        if config.signatures:
            names = ", ".join(f"`{e.name}`" for e in config.signatures)
            named = f"is named `{event_type}` or " if event_type is not None else ""
            reason = (
                f"No signature scheme applies: no entry of {names} {named}finds its header in this request, and no secret_header is set."
            )
        else:
            reason = "No signature is checked: answers.json configures no `signatures` and no `secret_header`."
        return SignatureResult("unsigned", reason=reason)
    entry, scheme = selection.entry, selection.scheme
    header = selection.header
    algorithm = entry.algorithm or None
    if entry.problem or scheme is None:
        reason = entry.problem or f"unknown algorithm {entry.algorithm!r}"
        return SignatureResult("error", entry.name, algorithm, header or None, f"The `{entry.name}` entry is misconfigured — {reason}.", ())
    signed = SignedRequest(request.method, url, request.headers, request.body, local_url)
    key = selection.key(now)
    try:
        verdict = scheme.verify(signed, key)
    except Exception as exc:  # a scheme bug must not take the receiver down
        verdict = Verdict("error", f"The {entry.algorithm} check failed unexpectedly ({type(exc).__name__}); please report it.")
    hints: tuple[str, ...] = ()
    if verdict.status != "valid":
        hints = _hints(scheme, entry.name, event_type, signed, key, verdict, config)
    elif 0 < len(key.secret) < SHORT_SECRET:
        hints = (f"The secret of `{entry.name}` is only {len(key.secret)} characters; a real provider's secret is longer.",)
    return SignatureResult(
        verdict.status,
        entry.name,
        algorithm,
        header,
        verdict.reason,
        hints,
        received=verdict.received,
        expected=_mask_expected(scheme, verdict.expected),
    )


def _hints(
    scheme: Scheme, name: str, event_type: str | None, signed: SignedRequest, key: Key, verdict: Verdict, config: Config
) -> tuple[str, ...]:
    """What may explain a verdict other than `valid` (SPEC §3's diagnosis)."""
    try:
        hints = hints_for(scheme, name, signed, key, verdict, config.secrets)
    except Exception:
        hints = []
    if verdict.status == "invalid" and not hints:
        hints.append(
            f"Nothing computed here explains the mismatch (no other configured secret, newline, JSON re-encoding or variant of the URL matches): "
            f"either the body changed after it was signed, or the sender signs with a different secret than `{name}`'s — copy the secret again from the sender's webhook settings."
        )
    if verdict.status == "missing" and not hints and event_type == name:
        hints.append(
            f"The `{name}` entry applies because the URL's event_type is `{event_type}`; if this sender does not sign, use another event_type in the URL or remove the entry."
        )
    return tuple(hints)


def _mask_expected(scheme: Scheme, expected: str | None) -> str | None:
    if expected is None or not scheme.token:
        return expected
    from .secrets import mask_value

    return mask_value(expected)


def sign_request(
    config: Config, request: Request, event_type: str | None, url: str, now: float | None = None
) -> tuple[list[Header], SignatureEntry] | None:
    """Headers that make `request` verify under the scheme that applies to it, or None."""
    now = time.time() if now is None else now
    selection = select(config, request, event_type)
    if selection is None or selection.scheme is None or selection.entry.problem or not selection.scheme.signs:
        return None
    signed = SignedRequest(request.method, url, request.headers, request.body)
    return selection.scheme.sign(signed, selection.key(now)), selection.entry
