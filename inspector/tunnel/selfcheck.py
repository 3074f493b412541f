"""The self-check: one request through the public URL that must come back to this process."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from .status import SelfCheckResult

# The self-check


async def check_public_url(
    public_url: str,
    expected: dict[str, bool],
    *,
    local_url: str | None = None,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.perf_counter,
    nonce: str | None = None,
) -> SelfCheckResult:
    """GET {public_url}/__inspector/selfcheck/{nonce}. `expected` is the receiver's table of
    nonces in flight: the receiver answers only those, and marks the ones that arrived."""
    import aiohttp

    from ..receiver import SELFCHECK_PATH

    nonce = nonce or secrets.token_urlsafe(16)
    base = public_url.rstrip("/")
    url = f"{base}{SELFCHECK_PATH}{nonce}"
    forward_fix = f"make sure the tunnel forwards to {local_url}" if local_url else "make sure the tunnel forwards to this inspector's port"
    expected[nonce] = False
    status: int | None = None
    try:
        started = clock()
        # ngrok's free domains show browsers an interstitial page unless this header is sent.
        headers = {"ngrok-skip-browser-warning": "1", "User-Agent": "webhook-inspector-selfcheck"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(url, headers=headers, allow_redirects=True, max_redirects=3) as resp:
                status = resp.status
                body = b""
                while len(body) < 64 * 1024:  # enough to recognise the answer; never a flood
                    chunk = await resp.content.read(64 * 1024 - len(body))
                    if not chunk:
                        break
                    body += chunk
                ngrok_code = resp.headers.get("ngrok-error-code")
        ms = round((clock() - started) * 1000)
        arrived = expected.get(nonce, False)
    except TimeoutError:
        return SelfCheckResult(
            False,
            base,
            reason=f"no answer through {base} within {timeout:g} s",
            fix=f"check that the tunnel is running and {forward_fix}; a firewall or proxy may be in the way",
        )
    except aiohttp.InvalidURL:
        return SelfCheckResult(False, base, reason=f"{base} is not a URL that can be requested", fix="check the public URL")
    except aiohttp.ClientConnectorError as exc:
        host = urlsplit(base).netloc
        why = exc.os_error.strerror if getattr(exc, "os_error", None) and exc.os_error.strerror else str(exc.os_error or exc)
        return SelfCheckResult(
            False, base, reason=f"cannot connect to {host}: {why}", fix=f"check that the tunnel is running and {forward_fix}"
        )
    except aiohttp.ClientError as exc:
        return SelfCheckResult(
            False, base, reason=f"the request through {base} failed: {type(exc).__name__}: {exc}", fix=forward_fix, http_status=status
        )
    finally:
        expected.pop(nonce, None)

    if status == 200 and _echoes(body, nonce):
        return SelfCheckResult(True, base, ms=ms, http_status=status)
    if arrived:
        return SelfCheckResult(
            False,
            base,
            ms=ms,
            http_status=status,
            reason=f"the request reached this inspector, but the answer came back changed (HTTP {status})",
            fix="something between the public URL and this port rewrites responses; check the tunnel's settings",
        )
    if ngrok_code:
        first = body.decode("utf-8", "replace").strip().splitlines()
        said = f": {first[0][:160]}" if first else ""
        return SelfCheckResult(
            False,
            base,
            ms=ms,
            http_status=status,
            reason=f"{base} answered HTTP {status} with ngrok error {ngrok_code}{said}",
            fix=f"the request never reached this inspector; restart the tunnel ({forward_fix})",
        )
    return SelfCheckResult(
        False,
        base,
        ms=ms,
        http_status=status,
        reason=f"{base} answered HTTP {status}, but not from this inspector — another server or tunnel answers there",
        fix=forward_fix,
    )


def _echoes(body: bytes, nonce: str) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("nonce") == nonce
