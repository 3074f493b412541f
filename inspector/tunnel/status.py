"""What a tunnel reports: its status, the self-check's result, and the failure a start becomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STATES = ("off", "starting", "up", "failed", "stopped")

StatusCallback = Callable[["TunnelStatus"], None]


# Values


@dataclass(frozen=True)
class SelfCheckResult:
    """One request through the public URL to `/__inspector/selfcheck/{nonce}` and back."""

    ok: bool
    public_url: str
    ms: int | None = None  # round trip, when an answer came back
    reason: str | None = None
    fix: str | None = None
    http_status: int | None = None

    def line(self) -> str:
        if self.ok:
            return f"self-check: ok ({self.ms} ms)"
        return f"self-check: FAILED — {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "public_url": self.public_url,
            "ms": self.ms,
            "reason": self.reason,
            "fix": self.fix,
            "http_status": self.http_status,
        }


@dataclass(frozen=True)
class TunnelStatus:
    kind: str
    state: str = "off"
    public_url: str | None = None
    reason: str | None = None
    fix: str | None = None
    detail: str | None = None
    checking: bool = False
    selfcheck: SelfCheckResult | None = None

    def headline(self) -> str:
        if self.state == "up":
            text = self.public_url or ""
            if self.checking:
                return text + "  (self-check…)"
            if self.selfcheck is not None:
                return text + (f"  ✓ self-check {self.selfcheck.ms} ms" if self.selfcheck.ok else "  ✗ self-check failed")
            return text
        if self.state == "starting":
            return f"{self.kind} starting…" + (f" {self.detail}" if self.detail else "")
        if self.state == "failed":
            return f"tunnel failed: {self.reason}"
        if self.state == "stopped":
            return "tunnel stopped — local only"
        return "local only"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "state": self.state,
            "public_url": self.public_url,
            "reason": self.reason,
            "fix": self.fix,
            "detail": self.detail,
            "selfcheck": self.selfcheck.to_json() if self.selfcheck else None,
        }


class TunnelFailure(Exception):
    """A start that cannot succeed; becomes a `failed` status, never a traceback."""

    def __init__(self, reason: str, fix: str | None = None):
        super().__init__(reason)
        self.reason, self.fix = reason, fix


class _Stopped(Exception):
    """The start was abandoned because stop() was called."""
