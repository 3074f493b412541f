"""The public side of the inspector (SPEC §8): a tunnel that gives the local port a public URL,
and the self-check that proves a request sent to that URL reaches this process.

Three tunnels share one small API: `NgrokTunnel` (ngrok through pyngrok, in worker threads),
`PublicUrl` (a tunnel the user runs: cloudflared, Tailscale Funnel, a real domain) and
`NoTunnel` (local only). `tunnel_from_options` picks one from `--tunnel`, `--public-url`,
`--ngrok-path` and the environment. None of them raises: every failure becomes a status with a
reason and a fix, and the server keeps working on localhost.

For the TUI (and `serve`)::

    tunnel = tunnel_from_options(args.tunnel, args.public_url, args.ngrok_path)
    unsubscribe = tunnel.subscribe(on_status)   # on_status(TunnelStatus), called on the event
                                                # loop that called start() — never a worker thread
    tunnel.subscribe(pipeline_follower(pipeline))  # keeps Pipeline.public_url = the live URL
    await open_tunnel(tunnel, receiver)         # start(receiver.url), then one self-check if up
    await tunnel.self_check(receiver)           # again, on demand → SelfCheckResult
    await tunnel.stop()                         # also safe while starting; never hangs
    await tunnel.start(receiver.url)            # again after stop or failure

    tunnel.status: TunnelStatus (frozen)
        kind        "ngrok" | "public-url" | "none"
        state       "off" (no tunnel: local only) | "starting" | "up" | "failed" | "stopped"
        public_url  the base URL senders call, while up
        reason/fix  why it is off/failed/stopped and what to do (one sentence each)
        detail      progress while starting ("downloading ngrok: 40%"), ngrok's complaints while up
        checking    a self-check is in flight
        selfcheck   the last SelfCheckResult (ok, ms, reason, fix) for this URL, or None
        headline()  one line for a header; to_json() for `serve --json`

To offer "start ngrok" while the tunnel is `NoTunnel`, build a new one with
`tunnel_from_options("ngrok", …)`. `trigger_urls(flows, pipeline, tenant)` lists the exact URL to
paste into each sender's settings; `public_base_url_note` says when answers.json disagrees.
"""

from __future__ import annotations

from .agent import (
    Authtoken,
    NgrokBinary,
    download_ngrok,
    find_authtoken,
    find_ngrok,
    is_pyngrok_shim,
    ngrok_config_paths,
    pyngrok_default_path,
    read_ngrok_config,
)
from .base import NoTunnel, PublicUrl, Tunnel
from .messages import AUTHTOKEN_URL, DOWNLOAD_PAGE, explain_ngrok_failure, no_authtoken, public_url_problem
from .ngrok_tunnel import NgrokTunnel
from .options import open_tunnel, pipeline_follower, tunnel_from_options
from .pyngrok_glue import TUNNEL_NAME, _spawned, upstream_url
from .selfcheck import check_public_url
from .status import STATES, SelfCheckResult, StatusCallback, TunnelFailure, TunnelStatus
from .urls import TriggerUrl, public_base_url_note, trigger_urls

# The package's modules, one job each: status (values), messages (reasons and fixes), selfcheck,
# agent (finding and downloading ngrok), pyngrok_glue, base (the protocol, NoTunnel, PublicUrl),
# ngrok_tunnel, options (choosing and opening a tunnel), urls (what to paste into a sender).
# `_spawned` (the ngrok children by binary path) is exported for tests that watch the agent.
__all__ = [
    "AUTHTOKEN_URL",
    "DOWNLOAD_PAGE",
    "STATES",
    "TUNNEL_NAME",
    "Authtoken",
    "NgrokBinary",
    "NgrokTunnel",
    "NoTunnel",
    "PublicUrl",
    "SelfCheckResult",
    "StatusCallback",
    "TriggerUrl",
    "Tunnel",
    "TunnelFailure",
    "TunnelStatus",
    "_spawned",
    "check_public_url",
    "download_ngrok",
    "explain_ngrok_failure",
    "find_authtoken",
    "find_ngrok",
    "is_pyngrok_shim",
    "pyngrok_default_path",
    "read_ngrok_config",
    "ngrok_config_paths",
    "no_authtoken",
    "open_tunnel",
    "pipeline_follower",
    "public_base_url_note",
    "public_url_problem",
    "trigger_urls",
    "tunnel_from_options",
    "upstream_url",
]
