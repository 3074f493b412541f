"""The protocol every tunnel follows and the tunnels with nothing to run: none, and a URL the user's own tunnel serves."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from .messages import public_url_problem
from .selfcheck import check_public_url
from .status import SelfCheckResult, StatusCallback, TunnelStatus

# The protocol and the shared machinery


class Tunnel(Protocol):
    kind: str

    @property
    def status(self) -> TunnelStatus: ...
    def subscribe(self, callback: StatusCallback) -> Callable[[], None]: ...
    async def start(self, local_url: str) -> TunnelStatus: ...
    async def stop(self) -> TunnelStatus: ...
    async def self_check(self, receiver: Any, *, timeout: float | None = None) -> SelfCheckResult: ...


class _BaseTunnel:
    kind = "none"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.perf_counter,
        nonce: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        selfcheck_timeout: float = 10.0,
    ):
        self._status = TunnelStatus(self.kind)
        self._subscribers: list[StatusCallback] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.clock = clock
        self.nonce = nonce
        self.selfcheck_timeout = selfcheck_timeout
        self.local_url: str | None = None

    @property
    def status(self) -> TunnelStatus:
        return self._status

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _remember_loop(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def _update(self, force: bool = False, **changes: Any) -> None:
        """Apply a change and tell subscribers — on the loop's thread, whichever thread asks.
        `force` tells them even when nothing changed (a start that fails as it was born)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                try:
                    loop.call_soon_threadsafe(self._apply, changes, force)
                except RuntimeError:  # the loop closed meanwhile: nobody is listening
                    pass
                return
        self._apply(changes, force)

    def _apply(self, changes: dict[str, Any], force: bool = False) -> None:
        new = replace(self._status, **changes)
        if new == self._status and not force:
            return
        self._status = new
        for callback in list(self._subscribers):
            try:
                callback(new)
            except Exception as exc:  # a broken listener must not take the tunnel down
                print(f"warning: tunnel status listener failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    async def self_check(self, receiver: Any, *, timeout: float | None = None) -> SelfCheckResult:
        status = self._status
        if status.state != "up" or not status.public_url:
            result = SelfCheckResult(
                False,
                status.public_url or "",
                reason=f"no public URL to check: the tunnel is {status.state}",
                fix=status.fix or "start the tunnel first",
            )
            return result
        self._update(checking=True)
        result = await check_public_url(
            status.public_url,
            receiver.selfcheck_nonces,
            local_url=self.local_url,
            timeout=self.selfcheck_timeout if timeout is None else timeout,
            clock=self.clock,
            nonce=self.nonce(),
        )
        if self._status.public_url == status.public_url:
            self._update(checking=False, selfcheck=result)
        return result


class NoTunnel(_BaseTunnel):
    """Local only: webhooks reach the listening address and nothing else."""

    kind = "none"

    def __init__(self, reason: str = "no tunnel (--tunnel none)", fix: str | None = None, **kw: Any):
        super().__init__(**kw)
        self._status = TunnelStatus(self.kind, "off", reason=reason, fix=fix)

    async def start(self, local_url: str) -> TunnelStatus:
        self._remember_loop()
        self.local_url = local_url
        return self._status

    async def stop(self) -> TunnelStatus:
        return self._status


class PublicUrl(_BaseTunnel):
    """A tunnel the user runs (cloudflared, Tailscale Funnel, a real domain): nothing to start,
    only a URL to show and to prove with the self-check."""

    kind = "public-url"

    def __init__(self, url: str, **kw: Any):
        super().__init__(**kw)
        self.url = url
        self.problem = public_url_problem(url)
        if self.problem:
            self._status = TunnelStatus(
                self.kind,
                "failed",
                reason=self.problem,
                fix="pass the base URL your tunnel prints, e.g. --public-url https://example.trycloudflare.com",
            )

    async def start(self, local_url: str) -> TunnelStatus:
        self._remember_loop()
        self.local_url = local_url
        if self.problem:
            self._update(force=True)
        else:
            self._update(
                state="up",
                public_url=self.url.strip().rstrip("/"),
                reason=None,
                fix=None,
                detail=f"your tunnel must forward to {local_url}",
                selfcheck=None,
                checking=False,
            )
        return self._status

    async def stop(self) -> TunnelStatus:
        self._update(state="stopped", public_url=None, reason="stopped", fix=None, detail=None, selfcheck=None, checking=False)
        return self._status


class _Conflict(_BaseTunnel):
    """Options that cannot both hold: reported as a failed tunnel, like any other bad input."""

    def __init__(self, kind: str, reason: str, fix: str, **kw: Any):
        self.kind = kind
        super().__init__(**kw)
        self._status = TunnelStatus(kind, "failed", reason=reason, fix=fix)

    async def start(self, local_url: str) -> TunnelStatus:
        self._remember_loop()
        self.local_url = local_url
        self._update(force=True)
        return self._status

    async def stop(self) -> TunnelStatus:
        return self._status
