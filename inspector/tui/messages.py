"""Messages that carry work done elsewhere (the pipeline, worker threads) to the widgets.

Live captures are not carried in the message: they wait in a buffer, and the message only
says "there is more". A burst therefore collapses into one message (`can_replace`, as in
Toolong), and the table takes the whole buffer at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..resend import ResendOutcome
from ..tunnel import TunnelStatus
from .rows import Row


@dataclass
class CapturesPending(Message, bubble=False):
    """New or updated captures wait in the app's buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CapturesPending)


@dataclass
class HistoryBatch(Message, bubble=False):
    """Older captures read from the store (newest first), as rows."""

    rows: list[Row]
    loaded: int
    total: int


@dataclass
class HistoryDone(Message, bubble=False):
    loaded: int
    error: str | None = None


@dataclass
class SearchProgress(Message, bubble=False):
    """A text search through the store found these ids among `scanned` captures."""

    generation: int
    hits: list[int]
    scanned: int
    done: bool = False
    error: str | None = None


@dataclass
class FlowsReloaded(Message, bubble=False):
    changed: bool
    error: str | None = None


@dataclass
class SampleSent(Message, bubble=False):
    name: str
    capture_id: int | None
    status: int | None
    entry: str | None
    error: str | None = None


@dataclass
class TunnelChanged(Message, bubble=False):
    """The tunnel published a new status (from its own subscription, on the loop's thread)."""

    status: TunnelStatus

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TunnelChanged)


@dataclass
class ResendDone(Message, bubble=False):
    """A resend ended: a new capture linked to the original, or why there is none."""

    outcome: ResendOutcome
