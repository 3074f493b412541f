"""Light row summaries of captures for the request table: what a row shows and what the
filter's field terms read, without bodies or headers, so 100,000 of them stay small."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from ..filters import KEYS, tokens
from ..flow.model import BROKEN_FLOW_NOTE
from ..model import FAILED_SIGNATURE, Capture, unicode_text

# The steps cell of a request no flow ran for because the file meant for it failed to load.
BROKEN_FLOW_MARK = "✗flow"

# Interned small values: many rows share them, so each row holds only references.
_strings: dict[str, str] = {}


def _intern(value: str | None) -> str | None:
    if value is None:
        return None
    return _strings.setdefault(value, value)


class _Signature:
    __slots__ = ("status",)

    def __init__(self, status: str):
        self.status = status


class _Status:
    __slots__ = ("status",)

    def __init__(self, status: int):
        self.status = status


_SIGNATURES: dict[str, _Signature] = {}
_STATUSES: dict[int, _Status] = {}


class RunMark(NamedTuple):
    """What a row keeps of a run: its flow and status (filters read `flow`, as of a FlowRun;
    a status is None only as read from a store that had none)."""

    flow: str | None
    status: str | None


_RUNS: dict[tuple[tuple[str | None, str | None], ...], tuple[RunMark, ...]] = {}
_KEYS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_NO_RUNS: tuple[RunMark, ...] = ()

# The filter keys whose terms read only what `Row.key` holds. Rows with equal keys agree on
# every such term, so a filter is evaluated once per distinct key (a few hundred, even for
# 100,000 rows). A filter key added to the language later and not listed here turns this off.
KEYED_TERMS = frozenset({"tenant", "type", "sig", "status", "flow", "method", "origin"})

# Headers that name the provider's event, in the order they are looked for.
EVENT_HEADERS = ("X-GitHub-Event", "X-Shopify-Topic", "X-Gitlab-Event", "X-Event-Key", "Twitch-Eventsub-Subscription-Type")
_TYPE_FIELD = re.compile(rb'"type"\s*:\s*"([^"\\]{1,120})"')


def provider_event(capture: Capture) -> str:
    """`push` (X-GitHub-Event), `orders/create` (X-Shopify-Topic), Stripe's payload `type`;
    bytes that were not UTF-8 as U+FFFD, so that the cell prints as one character each."""
    event = _provider_event(capture)
    return event if event.isascii() else unicode_text(event)


def _provider_event(capture: Capture) -> str:
    headers = capture.request.headers
    for name in EVENT_HEADERS:
        value = headers.get(name)
        if value:
            return value
    if "stripe-signature" in headers or capture.event_type == "stripe":
        body = capture.request.body
        if body[:1] == b"{":
            try:
                data = json.loads(body)
            except ValueError:
                found = _TYPE_FIELD.search(body[:4096])
                return found.group(1).decode("utf-8", "replace") if found else ""
            kind = data.get("type") if isinstance(data, dict) else None
            return kind if isinstance(kind, str) else ""
    return ""


def got_no_answer(capture: Capture) -> bool:
    """A resend to another target that got no answer: its record is final, not in flight."""
    return capture.response is None and capture.origin == "replay" and any(n.startswith("no answer") for n in capture.notes)


class Row:
    """One capture as the table shows it. It quacks enough like a Capture for the field
    terms of `filters.parse_filter` (tenant, type, sig, status, flow, method, origin)."""

    __slots__ = (
        "id",
        "received_at",
        "method",
        "path",
        "query",
        "tenant",
        "event_type",
        "event",
        "signature",
        "response",
        "duration_ms",
        "runs",
        "steps",
        "run_failed",
        "running",
        "origin",
        "replay_of",
        "key",
        "no_answer",
        "broken_flow",
    )

    # The text search of the filter needs headers and bodies, which rows do not keep: such
    # filters run against the store instead (`needs_store`). These keep a stray call harmless.
    headers: tuple = ()
    body = b""

    def __init__(self, capture: Capture):
        req = capture.request
        self.id: int = capture.id or 0
        self.received_at: float = req.received_at
        self.method: str = _intern(req.method) or ""
        self.path: str = _intern(req.path) or ""
        self.query: str = req.query
        self.tenant = _intern(capture.tenant)
        self.event_type = _intern(capture.event_type)
        self.event: str = _intern(provider_event(capture)) or ""
        self.origin: str = _intern(capture.origin) or "live"
        self.replay_of = capture.replay_of
        status = capture.signature.status
        self.signature = _SIGNATURES.get(status) or _SIGNATURES.setdefault(status, _Signature(status))
        self.update(capture)

    def update(self, capture: Capture) -> None:
        """Take the response and runs of a later version of the same capture. (It runs for
        every capture that arrives, so it reads each run once, in one loop.)"""
        response = capture.response
        notes = capture.notes
        # A flow file meant for this event type failed to load: Overview says which and where.
        self.broken_flow = bool(notes) and any(isinstance(n, str) and n.startswith(BROKEN_FLOW_NOTE) for n in notes)
        self.no_answer = response is None and got_no_answer(capture)
        if response is None:
            self.response = None
            self.duration_ms = None
        else:
            code = response.status
            self.response = _STATUSES.get(code) or _STATUSES.setdefault(code, _Status(code))
            self.duration_ms = response.duration_ms
        marks: list[tuple[str | None, str | None]] = []
        steps = 0
        failed = running = False
        for run in capture.runs:
            if run.shapeless:  # as in_shape: a stored run that was no JSON object is left out
                continue
            status = run.status
            marks.append((run.flow, status))
            steps += len(run.path)
            if status == "running":
                running = True
            elif not failed and run.failed:
                failed = True
        if marks:
            shape = tuple(marks)
            runs = _RUNS.get(shape)
            if runs is None:
                runs = _RUNS.setdefault(shape, tuple(RunMark(flow, status) for flow, status in shape))
        else:
            shape, runs = (), _NO_RUNS
        self.runs = runs
        self.steps = steps
        self.run_failed = failed
        self.running = running
        key = (
            self.tenant,
            self.event_type,
            self.signature.status,
            response.status if response else None,
            shape,
            self.method.upper(),
            self.origin,
        )
        self.key = _KEYS.get(key) or _KEYS.setdefault(key, key)

    def take(self, later: Row) -> None:
        """What `update` would take from the capture `later` was made from."""
        for name in _UPDATED:
            setattr(self, name, getattr(later, name))

    @property
    def request(self) -> Row:
        return self

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    # What the cells show

    @property
    def route(self) -> str:
        if self.event_type is None:
            return self.path
        return f"{self.tenant}/{self.event_type}"

    @property
    def sig_mark(self) -> str:
        status = self.signature.status
        if status == "valid":
            return "✓"
        if status in FAILED_SIGNATURE:
            return "✗"
        return "–"

    @property
    def status_text(self) -> str:
        if self.response is not None:
            return str(self.response.status)
        return "error" if self.no_answer else "…"

    @property
    def steps_text(self) -> str:
        if not self.runs:
            return BROKEN_FLOW_MARK if self.broken_flow else "–"
        if self.running:
            return f"{self.steps}…"
        if all(status == "skipped" for _flow, status in self.runs):
            return "skip"
        return str(self.steps)

    @property
    def duration_text(self) -> str:
        ms = self.duration_ms
        if ms is None:
            return ""
        if ms >= 1000:
            return f"{ms / 1000:.2f} s"
        if ms >= 100:
            return f"{ms:.0f} ms"
        return f"{ms:.1f} ms"


# What Row.update sets: a later version of a capture changes these, never the rest.
_UPDATED = ("broken_flow", "no_answer", "response", "duration_ms", "runs", "steps", "run_failed", "running", "key")


def time_text(epoch: float, tz: tzinfo | None) -> str:
    """`14:03:07.123`, in `tz` (local time when None)."""
    try:
        dt = datetime.fromtimestamp(epoch, tz)
    except (ValueError, OverflowError, OSError, TypeError):
        # Imported or hand-edited stores hold times datetime cannot take (year 0, NaN): the
        # UTC text every output uses, which has a form for each of them.
        from ..model import iso_time

        text = iso_time(epoch)
        return "–" if text.startswith("invalid") else text.partition("T")[2].rstrip("Z")
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def needs_store(text: str) -> bool:
    """Whether a filter has text-search terms (path, headers, body), which only full
    captures can answer. Follows `filters.parse_filter`'s rule for what a keyed term is."""
    for _negated, quoted, word in tokens(text or ""):
        key, colon, _ = word.partition(":")
        if quoted or not colon or not re.fullmatch(r"[a-z]+", key) or key not in KEYS:
            return True
    return False


def select(rows: Iterable[Row], predicates: tuple[Callable[[Any], bool], ...]) -> list[Row]:
    """Rows for which every predicate holds (always a new list)."""
    rows = list(rows)
    if not predicates:
        return rows
    if set(KEYS) <= KEYED_TERMS:
        verdicts: dict[tuple, bool] = {}
        out = []
        for row in rows:
            ok = verdicts.get(row.key)
            if ok is None:
                ok = verdicts[row.key] = all(p(row) for p in predicates)
            if ok:
                out.append(row)
        return out
    for predicate in predicates:
        rows = [r for r in rows if predicate(r)]
    return rows
