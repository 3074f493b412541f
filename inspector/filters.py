"""The filter language of `list --filter` and the TUI's `/` (SPEC §10).

Space-separated terms, all must hold: `tenant:X`, `type:X` (glob), `sig:valid|invalid|…`,
`status:404|4xx`, `flow:NAME`, `method:POST`, `origin:replay`; `-term` negates; a bare word
(or a "quoted phrase") searches the path, the headers and the body text.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from .model import SIGNATURE_STATUSES, Capture
from .store import ORIGINS

KEYS = ("tenant", "type", "sig", "status", "flow", "method", "origin")


class FilterError(ValueError):
    """A filter that cannot be understood; the message says which term and why."""


Predicate = Callable[[Capture], bool]


def _glob(pattern: str) -> Callable[[str | None], bool]:
    if not any(c in pattern for c in "*?["):
        return lambda value: value == pattern
    rx = re.compile(fnmatch.translate(pattern))
    return lambda value: value is not None and rx.match(value) is not None


def _status(value: str) -> Predicate:
    v = value.lower()
    if re.fullmatch(r"[1-5]xx", v):
        hundred = int(v[0])
        return lambda c: c.response is not None and c.response.status // 100 == hundred
    if re.fullmatch(r"\d{3}", v):
        code = int(v)
        return lambda c: c.response is not None and c.response.status == code
    raise FilterError(f"status:{value}: expected a code such as 404 or a class such as 4xx")


def _term(key: str, value: str) -> Predicate:
    if value == "":
        raise FilterError(f"{key}: needs a value, e.g. {key}:{_EXAMPLES[key]}")
    if key == "tenant":
        m = _glob(value)
        return lambda c: m(c.tenant)
    if key == "type":
        m = _glob(value)
        return lambda c: m(c.event_type)
    if key == "sig":
        wanted = set(value.lower().split(","))
        unknown = wanted - set(SIGNATURE_STATUSES)
        if unknown:
            raise FilterError(f"sig:{value}: unknown status {', '.join(sorted(unknown))}; expected one of {'|'.join(SIGNATURE_STATUSES)}")
        return lambda c: c.signature.status in wanted
    if key == "status":
        return _status(value)
    if key == "flow":
        m = _glob(value)
        return lambda c: any(m(r.flow) for r in c.runs)
    if key == "method":
        up = value.upper()
        return lambda c: c.request.method.upper() == up
    if key == "origin":
        if value.lower() not in ORIGINS:
            raise FilterError(f"origin:{value}: expected one of {'|'.join(ORIGINS)}")
        low = value.lower()
        return lambda c: c.origin == low
    raise AssertionError(key)


_EXAMPLES = {
    "tenant": "demo",
    "type": "order.*",
    "sig": "invalid",
    "status": "4xx",
    "flow": "handle_webhook",
    "method": "POST",
    "origin": "replay",
}


def _text_search(word: str) -> Predicate:
    needle = word.lower()

    def search(c: Capture) -> bool:
        req = c.request
        if needle in req.path.lower() or needle in req.query.lower():
            return True
        for name, value in req.headers:
            if needle in name.lower() or needle in value.lower():
                return True
        return needle in req.body.decode("utf-8", "replace").lower()

    return search


@dataclass(frozen=True)
class Filter:
    text: str
    predicates: tuple[Predicate, ...]

    def __call__(self, capture: Capture) -> bool:
        return all(p(capture) for p in self.predicates)


def tokens(text: str) -> list[tuple[bool, bool, str]]:
    """(negated, quoted, text) for each term; a quoted term is always a text search."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negate = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negate:
            i += 1
        if text[i] == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise FilterError(f'{text[i:]!r}: the quote is not closed; end the phrase with "')
            out.append((negate, True, "".join(buf)))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                j += 1
            out.append((negate, False, text[i:j]))
            i = j
    return out


def parse_filter(text: str | None) -> Filter:
    text = (text or "").strip()
    preds: list[Predicate] = []
    for negate, quoted, word in tokens(text):
        key, colon, value = word.partition(":")
        if not quoted and colon and re.fullmatch(r"[a-z]+", key):
            if key not in KEYS:
                raise FilterError(
                    f"{word}: unknown filter {key!r}; use one of {', '.join(k + ':' for k in KEYS)} or quote the text to search for it"
                )
            pred = _term(key, value)
        else:
            pred = _text_search(word)
        preds.append((lambda p: lambda c: not p(c))(pred) if negate else pred)
    return Filter(text, tuple(preds))
