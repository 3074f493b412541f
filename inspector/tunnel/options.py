"""Choosing a tunnel from the command line's options, opening it, and following it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .agent import find_authtoken, ngrok_config_paths
from .base import NoTunnel, PublicUrl, Tunnel, _Conflict
from .messages import AUTHTOKEN_URL
from .ngrok_tunnel import NgrokTunnel
from .status import StatusCallback, TunnelStatus

# Choosing a tunnel


def tunnel_from_options(
    mode: str = "auto",
    public_url: str | None = None,
    ngrok_path: str | None = None,
    env: Mapping[str, str] | None = None,
    **kw: Any,
) -> Tunnel:
    """SPEC §8: `--public-url` is a tunnel the user runs; `auto` means ngrok when an authtoken is
    configured (NGROK_AUTHTOKEN or ngrok's own config), else none. Extra keywords go to the
    tunnel (NgrokTunnel's injectables, clock, nonce, selfcheck_timeout)."""
    env = os.environ if env is None else env
    common = {k: v for k, v in kw.items() if k in ("clock", "nonce", "selfcheck_timeout")}
    if public_url is not None:
        if mode == "ngrok":
            return _Conflict(
                "ngrok",
                "--tunnel ngrok and --public-url both given",
                "drop --public-url to let ngrok assign the URL, or drop --tunnel ngrok if you run the tunnel yourself",
                **common,
            )
        return PublicUrl(public_url, **common)
    if mode == "none":
        return NoTunnel(**common)
    if mode == "auto" and find_authtoken(env, kw.get("authtoken_paths")) is None:
        where = ", ".join(ngrok_config_paths(env)) if kw.get("authtoken_paths") is None else ", ".join(kw["authtoken_paths"])
        return NoTunnel(
            f"no tunnel: no ngrok authtoken found (NGROK_AUTHTOKEN, {where})",
            f"for a public URL, copy your authtoken from {AUTHTOKEN_URL} and run `ngrok config add-authtoken TOKEN` "
            f"or `export NGROK_AUTHTOKEN=TOKEN`; or pass --public-url for a tunnel you run",
            **common,
        )
    return NgrokTunnel(ngrok_path=ngrok_path, env=env, **kw)


async def open_tunnel(tunnel: Tunnel, receiver: Any, *, check: bool = True) -> TunnelStatus:
    """Start the tunnel towards `receiver` and, once it is up, run the self-check once."""
    status = await tunnel.start(receiver.url)
    if check and status.state == "up":
        await tunnel.self_check(receiver)
    return tunnel.status


def pipeline_follower(pipeline: Any) -> StatusCallback:
    """A subscriber that keeps `pipeline.public_url` at the tunnel's live URL (None when down),
    so shown URLs and URL-signing schemes use what senders call."""

    def follow(status: TunnelStatus) -> None:
        pipeline.public_url = status.public_url if status.state == "up" else None

    return follow
