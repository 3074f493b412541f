"""`copy as curl`: one shell command that sends a capture's exact method, path, query,
headers and body again (SPEC §9 export form; moves to the core's export module when it lands)."""

from __future__ import annotations

import base64
import shlex
from typing import Callable

from ..model import Capture

# Hop-by-hop and framing headers: curl sets its own.
SKIPPED = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "proxy-connection"})


def curl_command(capture: Capture, base_url: str, mask: Callable[[str, str], str] | None = None) -> str:
    req = capture.request
    url = base_url.rstrip("/") + req.target
    parts = ["curl", "-X", req.method, shlex.quote(url)]
    for name, value in req.headers:
        if name.lower() in SKIPPED:
            continue
        shown = mask(name, value) if mask else value
        parts += ["-H", shlex.quote(f"{name}: {shown}")]
    body = req.body
    if not body:
        return " ".join(parts)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        parts += ["--data-binary", shlex.quote(text)]
        return " ".join(parts)
    encoded = base64.b64encode(body).decode("ascii")
    return f"printf %s {encoded} | base64 -d | " + " ".join(parts + ["--data-binary", "@-"])
