"""The values every part of the inspector passes around: requests, verdicts, responses, captures."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl

from .jsonfast import standard_encoder

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed import DataclassInstance

    from .flow.runs import FlowRun

Header = tuple[str, str]

_Dataclass = TypeVar("_Dataclass", bound="DataclassInstance")


def quick_init(cls: type[_Dataclass]) -> type[_Dataclass]:
    """Give a frozen dataclass an __init__ that fills the instance's __dict__ directly.
    The generated one sets each field through object.__setattr__ (to get past frozen's
    __setattr__): 2–4 µs for a Request here, several times per webhook, against well under
    one this way. Fields, defaults, default factories, equality, hashing and immutability
    stay as the dataclass declares them."""
    params, lines = [], []
    namespace: dict[str, Any] = {"_MISSING": MISSING}
    for f in fields(cls):
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            lines.append(f"    if {f.name} is _MISSING: {f.name} = _factory_{f.name}()")
        else:
            params.append(f.name)
        lines.append(f"    d[{f.name!r}] = {f.name}")
    source = f"def __init__(self, {', '.join(params)}):\n    d = self.__dict__\n" + "\n".join(lines) + "\n"
    exec(source, namespace)  # noqa: S102 - built from the dataclass's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]  # replacing it is the point
    return cls


_new = object.__new__
_JSON_TYPE: tuple[Header, ...] = (("Content-Type", "application/json"),)
_encode_answer = standard_encoder(separators=(", ", ": "))  # json.dumps(data), as answers always were


class TimeStamper:
    """UTC time with millisecond precision, the form every output uses, remembered for the
    last millisecond (a run's steps mostly start in the same one, and requests under load
    arrive in the same one) and the date text for the last second. Each stamper has its own
    memory, so that users of different clocks do not evict each other."""

    __slots__ = ("window", "date")

    def __init__(self) -> None:
        # (from, to, text): every time in [from, to) has that text; the bounds keep 10 µs
        # inside the millisecond, far more than float rounding moves a time.
        self.window: tuple[float, float, str] = (0.0, 0.0, "")
        self.date: tuple[int, str] = (-1, "")  # (second, its date and time text)

    def text(self, epoch: float) -> str:
        window = self.window  # one read: worker threads may replace it meanwhile
        try:
            if window[0] <= epoch < window[1]:
                return window[2]
            # NaN fails this test too. Imported or hand-edited stores hold such times, and
            # a time stamp is never worth failing a listing for.
            if not _FIRST_DAY <= epoch < _PAST_LAST_DAY:
                return odd_time(epoch)
        except TypeError:  # not a number at all (a store written by something else)
            return odd_time(epoch)
        second = int(epoch // 1)
        ms = int((epoch - second) * 1000) % 1000
        date = self.date
        if date[0] != second:
            date = self.date = (second, datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S."))
        text = date[1] + _MILLIS[ms]
        start = second + ms / 1000
        self.window = (start + 1e-5, start + 0.001 - 1e-5, text)
        return text


# "000Z" … "999Z": a new millisecond's stamp is two strings joined, not a formatted number.
_MILLIS = tuple(f"{ms:03d}Z" for ms in range(1000))

iso_time = TimeStamper().text

# datetime writes years 1000 to 9999 (in UTC); times outside them are written as ECMAScript's
# Date.toISOString writes them (a signed six-digit year), up to the same bound it has.
_FIRST_DAY = -30610224000.0  # 1000-01-01T00:00:00Z: strftime writes earlier years unpadded
_PAST_LAST_DAY = 253402300800.0  # 10000-01-01T00:00:00Z
_FARTHEST = 8.64e12  # seconds either side of 1970: year -271821 / +275760


def odd_time(epoch: object) -> str:
    """The text of a time outside datetime's years: an extended ISO 8601 stamp, or
    `invalid time (…)` for what is not a time at all (NaN, infinities, text, absurd sizes)."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not -_FARTHEST <= epoch <= _FARTHEST:
        shown = repr(epoch) if isinstance(epoch, (int, float)) else type(epoch).__name__
        return f"invalid time ({shown[:24]})"
    second = int(epoch // 1)
    ms = int((epoch - second) * 1000) % 1000
    days, rest = divmod(second, 86400)
    year, month, day = _civil_date(days)
    sign = "" if 0 <= year <= 9999 else ("+" if year > 0 else "-")
    digits = 4 if not sign else 6
    return f"{sign}{abs(year):0{digits}d}-{month:02d}-{day:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}.{ms:03d}Z"


def _civil_date(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of a day number counted from 1970-01-01.
    Counts in 400-year eras of 146097 days, with years starting on 1 March so that the
    leap day falls at the end of one."""
    shifted = days + 719468  # days from 0000-03-01
    era = shifted // 146097
    day_of_era = shifted - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153  # 0 = March
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(data: Any, **options: Any) -> str:
    """json.dumps that always writes JSON: a number JSON cannot carry (NaN, ±Infinity, from a
    damaged or hand-edited store) becomes null instead of Python's NaN/Infinity."""
    try:
        return json.dumps(data, allow_nan=False, **options)
    except ValueError:
        return json.dumps(_finite(data), **options)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value - value == 0 else None  # inf - inf and NaN - NaN are NaN
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def unicode_text(text: str) -> str:
    """Text that can go out as UTF-8 (an answer, a header aiohttp writes): bytes that were not
    UTF-8 (kept as surrogate escapes) become U+FFFD, and so does any other lone surrogate."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate outside the escape range ("\ud800")
        return _SURROGATE.sub("\ufffd", text)


class Headers:
    """Headers in their original order and case, looked up case-insensitively.

    Repeated headers are kept; `get` joins them with ", " as HTTP allows.
    """

    __slots__ = ("items", "_lookup")

    def __init__(self, items: Iterable[Header] = ()):
        self.items: tuple[Header, ...] = tuple((str(k), str(v)) for k, v in items)
        self._lookup: dict[str, str] | None = None

    @classmethod
    def of(cls, items: tuple[Header, ...]) -> Headers:
        """From a tuple of (str, str) pairs the caller vouches for (the request path)."""
        new = object.__new__(cls)
        new.items = items
        new._lookup = None
        return new

    @property
    def _index(self) -> dict[str, str]:
        # Lower-cased name -> its values joined with ", " (what `get` and `lowered` give),
        # built on first lookup: most response headers are never looked up. One
        # comprehension for the usual headers, each name once; a name repeated (fewer keys
        # than pairs) takes the walk that joins its values in order.
        index = self._lookup
        if index is None:
            items = self.items
            index = {name.lower(): value for name, value in items}
            if len(index) != len(items):
                # Gathered first and joined once: joining as they come copies the text
                # again for every repeat (quadratic for a sender that repeats one name).
                values: dict[str, list[str]] = {}
                for name, value in items:
                    values.setdefault(name.lower(), []).append(value)
                index = {key: ", ".join(found) for key, found in values.items()}
            self._lookup = index
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        index = self._lookup
        return (self._index if index is None else index).get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        key = name.lower()
        index = self._index
        if len(index) == len(self.items):  # no name repeated: its one value, if any
            return [index[key]] if key in index else []
        return [v for k, v in self.items if k.lower() == key]

    def __contains__(self, name: object) -> bool:
        index = self._lookup
        return isinstance(name, str) and name.lower() in (self._index if index is None else index)

    def names(self) -> list[str]:
        """Distinct header names as first received."""
        seen: dict[str, str] = {}
        for name, _ in self.items:
            seen.setdefault(name.lower(), name)
        return list(seen.values())

    def lowered(self) -> dict[str, str]:
        """Lower-cased names, repeated values joined: the `headers` of a flow's scope."""
        return dict(self._index)

    def without(self, *names: str) -> Headers:
        drop = {n.lower() for n in names}
        return Headers((k, v) for k, v in self.items if k.lower() not in drop)

    def with_set(self, name: str, value: str) -> Headers:
        """A copy where `name` has exactly one value, kept at its first position."""
        out: list[Header] = []
        placed = False
        for k, v in self.items:
            if k.lower() == name.lower():
                if not placed:
                    out.append((name, value))
                    placed = True
                continue
            out.append((k, v))
        if not placed:
            out.append((name, value))
        return Headers(out)

    def __iter__(self) -> Iterator[Header]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self.items == other.items

    def __repr__(self) -> str:
        return f"Headers({list(self.items)!r})"


@quick_init
@dataclass(frozen=True)
class Request:
    """One HTTP request exactly as received (or as `run`/resend/samples make it)."""

    method: str
    path: str  # decoded path as sent, without the query
    query: str = ""  # raw query string, without '?'
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    client: str | None = None
    received_at: float = 0.0
    truncated: bool = False
    size: int | None = None  # bytes the sender sent (more than len(body) when truncated)

    @property
    def body_size(self) -> int:
        return self.size if self.size is not None else len(self.body)

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)


SIGNATURE_STATUSES = ("valid", "invalid", "missing", "malformed", "expired", "unsigned", "error")
FAILED_SIGNATURE = frozenset({"invalid", "missing", "malformed", "expired", "error"})


@quick_init
@dataclass(frozen=True)
class SignatureResult:
    """The verdict on a request's signature (SPEC §3)."""

    status: str
    scheme: str | None = None
    algorithm: str | None = None
    header: str | None = None
    reason: str = ""
    hints: tuple[str, ...] = ()
    received: str | None = None  # what the header carried, secrets masked
    expected: str | None = None  # what would have matched, secrets masked

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "scheme": self.scheme,
            "algorithm": self.algorithm,
            "header": self.header,
            "reason": self.reason,
            "hints": list(self.hints),
            "received": self.received,
            "expected": self.expected,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SignatureResult:
        if not data:
            return cls(status="unsigned", reason="")
        return cls(
            status=data.get("status", "unsigned"),
            scheme=data.get("scheme"),
            algorithm=data.get("algorithm"),
            header=data.get("header"),
            reason=data.get("reason", ""),
            hints=tuple(data.get("hints") or ()),
            received=data.get("received"),
            expected=data.get("expected"),
        )


@quick_init
@dataclass(frozen=True)
class Response:
    """The answer given to the sender."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    duration_ms: float | None = None

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(status, Headers.of(_JSON_TYPE), _encode_answer(data).encode())

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def body_value(self) -> Any:
        """SPEC §10: the parsed value when JSON, the text otherwise, None when empty."""
        return body_value(self.body, self.content_type)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body": self.body_value(),
            "duration_ms": self.duration_ms,
        }


def is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def body_value(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    if is_json_type(content_type):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


@quick_init
@dataclass(frozen=True)
class Capture:
    """A request, what the inspector decided about it, and what it answered."""

    id: int | None
    request: Request
    tenant: str | None
    event_type: str | None
    signature: SignatureResult
    response: Response | None = None
    runs: tuple[FlowRun, ...] = ()
    origin: str = "live"
    replay_of: int | None = None
    notes: tuple[str, ...] = ()

    def with_(self, **changes: Any) -> Capture:
        # dataclasses.replace re-runs __init__ through introspection; this is on the hot path
        # (twice a request): the new instance's dict, read once, takes both updates.
        new = _new(Capture)
        fields = new.__dict__
        fields.update(self.__dict__)
        fields.update(changes)
        return new

    def flows_summary(self) -> list[dict[str, Any]]:
        return [r.summary_json() for r in self.runs]

    def summary_json(self) -> dict[str, Any]:
        """The `list --json` shape (SPEC §10)."""
        req = self.request
        return {
            "id": self.id,
            "received_at": iso_time(req.received_at),
            "method": req.method,
            "path": req.path,
            "tenant": self.tenant,
            "event_type": self.event_type,
            "response_status": self.response.status if self.response else None,
            "signature_status": self.signature.status,
            "flows": self.flows_summary(),
            "replay_of": self.replay_of,
            "origin": self.origin,
        }

    def detail_json(self, mask: Any = None) -> dict[str, Any]:
        """The `show --json` shape: the list fields and everything else.

        `mask(name, value) -> value` hides secret-bearing header values.
        """
        req = self.request
        headers = [[name, mask(name, value) if mask else value] for name, value in req.headers]
        try:
            body_text: str | None = req.body.decode("utf-8")
        except UnicodeDecodeError:
            body_text = None
        data = self.summary_json()
        data.update(
            {
                "query": req.query,
                "headers": headers,
                "body_base64": base64.b64encode(req.body).decode("ascii"),
                "body_text": body_text,
                "body_size": req.body_size,
                "truncated": req.truncated,
                "client": req.client,
                "signature": self.signature.to_json(),
                "response": self.response.to_json() if self.response else None,
                "runs": [r.to_json() for r in self.runs],
                "notes": list(self.notes),
            }
        )
        return data
