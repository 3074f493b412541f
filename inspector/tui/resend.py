"""Resend from the TUI (SPEC §9): one order — as captured, re-signed or edited, to this inspector
or to another URL — carried out with the core's replay functions, the way `webhook-inspector
replay` does. The outcome is a value, never an exception: the UI only shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..model import Capture, Request
from ..replay import DEFAULT_TIMEOUT, REPLAY_HEADER, Edits, ReplayError, deliver, prepare, replay_capture_record, target_url


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
    capture: Capture | None = None  # the new capture, linked to the original (replay_of)
    signing: str | None = None  # how it was signed, when re-signed
    url: str | None = None  # where it was sent; None: through this inspector's pipeline
    error: str | None = None  # why nothing was sent, or why the target did not answer
    sent: bool = False  # the request left (to `url`), whatever came of it

    @property
    def failed(self) -> bool:
        return self.error is not None

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


def _prepare(original: Capture, order: ResendOrder, pipeline: Any, config: Config, now: float) -> tuple[Request, str | None]:
    # Signed for the URL the receiver will check: this inspector's public base (as `replay`
    # does), or the other target's.
    signed_base = (order.to or pipeline.base_url).rstrip("/")
    return prepare(original, config, resign=order.resign, edits=order.edits, signed_url_base=signed_base, now=now)


def problem(original: Capture, order: ResendOrder, *, pipeline: Any, config: Config, now: float) -> str | None:
    """Why the core would refuse this order (a sentence), or None: forms check before closing."""
    try:
        _prepare(original, order, pipeline, config, now)
    except ReplayError as exc:
        return str(exc)
    return None


async def carry_out(
    original: Capture,
    order: ResendOrder,
    *,
    pipeline: Any,
    store: Any,
    config: Config,
    now: float,
    timeout: float = DEFAULT_TIMEOUT,
) -> ResendOutcome:
    """To this inspector: straight through `pipeline.handle` (no HTTP), marked with
    X-Inspector-Replay-Of so the new capture is linked. To another URL: `deliver`, then the
    request and the target's answer (or why there was none) are stored as an origin `replay`
    capture — nothing is lost when the target is down, slow or answers garbage."""
    cid = original.id or 0
    try:
        request, signing = _prepare(original, order, pipeline, config, now)
    except ReplayError as exc:
        return ResendOutcome(cid, order, error=str(exc))
    if order.to is None:
        marked = Request(
            request.method, request.path, request.query, request.headers.with_set(REPLAY_HEADER, str(cid)), request.body, "replay", now
        )
        try:
            capture = await pipeline.handle(marked, origin="replay", now=now)
        except Exception as exc:  # the store or a flow failed in a way the pipeline did not expect
            return ResendOutcome(cid, order, signing=signing, error=f"the pipeline failed: {type(exc).__name__}: {exc}")
        return ResendOutcome(cid, order, capture, signing)
    url = target_url(order.to, request)
    delivery = await deliver(request, url, timeout=timeout)
    try:
        stored = await store.add(replay_capture_record(original, delivery, now))
    except Exception as exc:
        got = f"it answered {delivery.response.status}" if delivery.response is not None else f"it did not answer ({delivery.error})"
        why = f"{got} and the attempt could not be stored: {type(exc).__name__}: {exc}"
        return ResendOutcome(cid, order, signing=signing, url=url, error=why, sent=True)
    return ResendOutcome(cid, order, stored, signing, url, delivery.error)
