"""What the provider modules share: reading signature candidates, base64, unix stamps, the time window."""

from __future__ import annotations

import base64
import binascii

from ..model import Headers
from .base import Key, Verdict, same, shorten


def utf8(text: str) -> bytes:
    """UTF-8 bytes of any text: surrogate-escaped bytes come back as they were, lone surrogates never raise."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def candidates(headers: Headers, name: str, sep: str = ",") -> list[str]:
    """Every value of `name`: repeated header lines and `sep`-separated lists flattened, blanks dropped."""
    out: list[str] = []
    for value in headers.get_all(name):
        for part in value.split(sep):
            part = part.strip()
            if part:
                out.append(part)
    return out


def strip_prefix(value: str, prefix: str) -> str | None:
    """`value` without `prefix` (compared case-insensitively), or None when it does not start with it."""
    if value[: len(prefix)].lower() == prefix.lower():
        return value[len(prefix) :].strip()
    return None


def b64decode(text: str) -> bytes | None:
    """Strict standard base64, or None: never raises on what a sender put in a header."""
    try:
        return base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unix_number(text: str | None, max_digits: int = 15) -> int | None:
    """A whole non-negative number as providers send timestamps, or None."""
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def outside(key: Key, stamp: float, both_ways: bool) -> str | None:
    """Why `stamp` (unix seconds) is outside the tolerance, or None. `both_ways` also rejects the future."""
    tolerance = key.tolerance
    if tolerance is None:
        return None
    age = key.now - stamp
    if age > tolerance:
        window = f"±{tolerance:g} s" if both_ways else f"{tolerance:g} s"
        return f"The signature is authentic but was made {age:.0f} s ago, beyond the {window} tolerance; resend the event (or raise `tolerance`)."
    if both_ways and -age > tolerance:
        return f"The signature is authentic but its timestamp is {-age:.0f} s in the future, outside the ±{tolerance:g} s tolerance; check this machine's clock (or the sender's)."
    return None


def conclude(
    key: Key,
    name: str,
    label: str,
    value: str,
    found: list[str],
    expected: str | list[str],
    shown: str | None,
    stamp: float | None = None,
    both_ways: bool = False,
) -> Verdict:
    """The common end of a check: any candidate matching any expected value, then the time window."""
    wanted = [expected] if isinstance(expected, str) else expected
    # Every pair is compared so the time taken does not say which candidate was close.
    matched = False
    for candidate in found:
        for want in wanted:
            matched |= same(candidate, want)
    if not matched:
        if len(found) == 1:
            why = f"The signature in `{name}` does not match the {label} computed with this secret."
        else:
            why = f"None of the {len(found)} signatures in `{name}` matches the {label} computed with this secret."
        return Verdict("invalid", why, shorten(value), shown, stamp)
    if stamp is not None:
        late = outside(key, stamp, both_ways)
        if late:
            return Verdict("expired", late, shorten(value), shown, stamp)
    return Verdict("valid", f"`{name}` matches the {label}.", shorten(value), shown, stamp)
