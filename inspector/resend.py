"""Resending a capture (SPEC §9, §10): one order — as captured, re-signed or edited, to this
inspector or to another URL — carried out the same way by the TUI's resend and by
`webhook-inspector replay`. The outcome is a value, never an exception: a face only shows it.

"This inspector" is where the order goes when it names no other URL: the TUI hands the request
to its own pipeline (`InProcess`), `replay` sends it over HTTP to the running server (`Running`);
either records it as a capture linked to the original. A resend to another URL is delivered
and then stored here as a capture of origin `replay` — the request and the target's answer, or
why there was none — so nothing is lost when the target is down, slow or answers garbage."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from .config import Config
from .model import Capture, Request
from .replay import DEFAULT_TIMEOUT, REPLAY_HEADER, Delivery, Edits, ReplayError, deliver, prepare, replay_capture_record, target_url


@dataclass(frozen=True)
class ResendOrder:
    resign: bool = False
    edits: Edits | None = None
    to: str | None = None  # another target's base URL (the path is appended); None: this inspector

    @property
    def how(self) -> str:
        parts = ["edited" if self.edits is not None and not self.edits.empty else "", "re-signed" if self.resign else ""]
        return " and ".join(p for p in parts if p) or "as captured"


@dataclass(frozen=True)
class ResendOutcome:
    original_id: int
    order: ResendOrder
    capture: Capture | None = None  # the new capture, linked to the original (replay_of), when it is here
    signing: str | None = None  # how it was signed, when re-signed
    url: str | None = None  # the other target it was sent to; None: this inspector
    error: str | None = None  # why nothing was sent, or why the target did not answer
    sent: bool = False  # the request left (to `url`), whatever came of it
    delivery: Delivery | None = None  # what went over HTTP and what came back, when it did
    refused: bool = False  # the order cannot be carried out (`error` says why); nothing was sent

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def capture_id(self) -> int | None:
        """The new capture's id: stored here, or the id the running inspector answered with."""
        if self.capture is not None:
            return self.capture.id
        return self.delivery.capture_id if self.delivery is not None else None

    def message(self) -> str:
        """One or two lines for a notification."""
        how = self.signing or self.order.how
        new = self.capture
        if new is None and self.url and self.sent:
            return f"sent #{self.original_id} to {self.url}, but {self.error}"
        if new is None:
            return f"cannot resend #{self.original_id}: {self.error}"
        where = f" to {self.url}" if self.url else ""
        if self.error:
            return f"resend of #{self.original_id}{where} got no answer: {self.error}\nrecorded as #{new.id} (origin replay)"
        response = new.response
        answer = (
            f"{response.status}" + (f" in {response.duration_ms:.0f} ms" if self.url and response.duration_ms is not None else "")
            if response
            else "no answer yet"
        )
        text = f"resent #{self.original_id} ({how}){where} → #{new.id}: {answer}"
        if not self.url:
            text += f" · signature {new.signature.status}"
        return text


@dataclass(frozen=True)
class Taken:
    """What this inspector made of a resend handed to it."""

    capture: Capture | None = None  # the new capture, when it was made in this process
    error: str | None = None
    sent: bool = False
    delivery: Delivery | None = None  # over HTTP: the request and the answer (with the new capture's id)


class Inspector(Protocol):
    """This inspector, as a resend reaches it: the base URL its receiver checks signatures
    against, and how a request marked as a resend of `original_id` is handed to it."""

    @property
    def signed_base(self) -> str: ...

    async def take(self, request: Request, original_id: int, *, now: float, timeout: float) -> Taken: ...


class _Pipeline(Protocol):
    @property
    def base_url(self) -> str: ...

    async def handle(self, request: Request, *, origin: str, now: float) -> Capture: ...


class InProcess:
    """The inspector in this process (the TUI): straight through its pipeline, no HTTP."""

    def __init__(self, pipeline: _Pipeline):
        self.pipeline = pipeline

    @property
    def signed_base(self) -> str:
        return self.pipeline.base_url

    async def take(self, request: Request, original_id: int, *, now: float, timeout: float) -> Taken:
        headers = request.headers.with_set(REPLAY_HEADER, str(original_id))
        marked = Request(request.method, request.path, request.query, headers, request.body, "replay", now)
        try:
            capture = await self.pipeline.handle(marked, origin="replay", now=now)
        except Exception as exc:  # the store or a flow failed in a way the pipeline did not expect
            return Taken(error=f"the pipeline failed: {type(exc).__name__}: {exc}")
        return Taken(capture, sent=True)


class Running:
    """A running inspector reached over HTTP at `base` (`replay`): it records the resend
    itself and answers with the new capture's id. `signed_base` is its public base URL."""

    def __init__(self, base: str, signed_base: str):
        self.base = base.rstrip("/")
        self._signed_base = signed_base.rstrip("/")

    @property
    def signed_base(self) -> str:
        return self._signed_base

    async def take(self, request: Request, original_id: int, *, now: float, timeout: float) -> Taken:
        url = target_url(self.base, request)
        delivery = await deliver(request, url, timeout=timeout, extra_headers=((REPLAY_HEADER, str(original_id)),))
        return Taken(error=delivery.error, sent=True, delivery=delivery)


class Keeper(Protocol):
    """Where a resend to another URL is stored (the capture store)."""

    def add(self, capture: Capture) -> Awaitable[Capture]: ...


def _prepare(original: Capture, order: ResendOrder, inspector: Inspector, config: Config, now: float) -> tuple[Request, str | None]:
    # Signed for the URL the receiver will check: the other target's, or this inspector's
    # public base.
    signed_base = (order.to or inspector.signed_base).rstrip("/")
    return prepare(original, config, resign=order.resign, edits=order.edits, signed_url_base=signed_base, now=now)


def problem(original: Capture, order: ResendOrder, *, pipeline: _Pipeline, config: Config, now: float) -> str | None:
    """Why the core would refuse this order (a sentence), or None: forms check before closing."""
    try:
        _prepare(original, order, InProcess(pipeline), config, now)
    except ReplayError as exc:
        return str(exc)
    return None


async def resend(
    original: Capture,
    order: ResendOrder,
    *,
    inspector: Inspector,
    store: Keeper | None,
    config: Config,
    now: float,
    timeout: float = DEFAULT_TIMEOUT,
    times: int = 1,
) -> list[ResendOutcome]:
    """Carry out `order` `times` times (idempotency tests: the same prepared bytes each time),
    one outcome per send; a refused order is one outcome with `refused`. `store` keeps what is
    sent to another URL (needed only then). A send to another URL after the first is stored
    at `now` plus the (wall clock) time since the first."""
    cid = original.id or 0
    try:
        request, signing = _prepare(original, order, inspector, config, now)
    except ReplayError as exc:
        return [ResendOutcome(cid, order, error=str(exc), refused=True)]
    outcomes: list[ResendOutcome] = []
    if order.to is None:
        for _ in range(times):
            taken = await inspector.take(request, cid, now=now, timeout=timeout)
            outcomes.append(ResendOutcome(cid, order, taken.capture, signing, None, taken.error, taken.sent, taken.delivery))
        return outcomes
    if store is None:
        raise ValueError("a resend to another URL needs a store to record it in")
    url = target_url(order.to, request)
    first: float | None = None
    for _ in range(times):
        delivery = await deliver(request, url, timeout=timeout)
        first = delivery.sent_at if first is None else first
        at = now + max(0.0, delivery.sent_at - first)
        try:
            stored = await store.add(replay_capture_record(original, delivery, at))
        except Exception as exc:
            got = f"it answered {delivery.response.status}" if delivery.response is not None else f"it did not answer ({delivery.error})"
            why = f"{got} and the attempt could not be stored: {type(exc).__name__}: {exc}"
            outcomes.append(ResendOutcome(cid, order, signing=signing, url=url, error=why, sent=True, delivery=delivery))
            continue
        outcomes.append(ResendOutcome(cid, order, stored, signing, url, delivery.error, True, delivery))
    return outcomes


async def carry_out(
    original: Capture,
    order: ResendOrder,
    *,
    pipeline: _Pipeline,
    store: Keeper,
    config: Config,
    now: float,
    timeout: float = DEFAULT_TIMEOUT,
) -> ResendOutcome:
    """The TUI's resend: one send, to this process's pipeline or to `order.to` (see `resend`)."""
    (outcome,) = await resend(original, order, inspector=InProcess(pipeline), store=store, config=config, now=now, timeout=timeout)
    return outcome
