"""What went wrong, in words a person can act on: the reason and the fix for each failure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from .status import TunnelFailure

AUTHTOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"
DOWNLOAD_PAGE = "https://ngrok.com/download"


def public_url_problem(url: str) -> str | None:
    """Why `url` cannot be a public base URL, or None when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        return f"--public-url {url!r} is not a URL: it must start with https:// or http:// and name a host"
    if parts.query or parts.fragment:
        return f"--public-url {url!r} has a query or fragment; give the base URL only"
    try:
        _ = parts.port  # a port that is not a number or out of range raises here
    except ValueError:
        return f"--public-url {url!r} has an invalid port"
    return None


def no_authtoken(where: Iterable[str]) -> TunnelFailure:
    """The first thing to say when ngrok has no authtoken: ngrok refuses every tunnel without
    one, so installing or downloading the agent would only postpone this."""
    return TunnelFailure(
        f"no ngrok authtoken is configured (looked at NGROK_AUTHTOKEN, {', '.join(where) or 'no config file'})",
        f"copy your authtoken from {AUTHTOKEN_URL}, then `ngrok config add-authtoken TOKEN` (with the ngrok agent "
        f"installed) or `export NGROK_AUTHTOKEN=TOKEN`, and start the tunnel again; or pass --public-url for a tunnel you run",
    )


# ngrok: what went wrong, in words a person can act on

_AUTH_CODES = {"ERR_NGROK_105", "ERR_NGROK_106", "ERR_NGROK_107", "ERR_NGROK_4018"}
_OLD_AGENT_CODES = {"ERR_NGROK_120", "ERR_NGROK_121"}
_OFFLINE = re.compile(
    r"failed to dial|no such host|dial tcp|network is unreachable|i/o timeout|connection refused|tls handshake|temporary failure in name resolution",
    re.I,
)


def _api_error_text(body: str | None) -> str:
    """The sentence in an agent API error: {"msg": …, "details": {"err": …}}."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return (body or "").strip()
    if not isinstance(data, dict):
        return ""
    details = data.get("details")
    if not isinstance(details, dict):
        details = {}
    return str(details.get("err") or data.get("msg") or "")


def _ngrok_text(raw: str | None) -> str:
    """ngrok quotes its errors Go-style (`\\n`): its first sentence, without the code. Only the
    first — later lines of an authentication error repeat the authtoken."""
    text = (raw or "").replace("\\r", "").replace("\\n", "\n").replace('\\"', '"')
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not re.fullmatch(r"ERR_NGROK_\d+", ln.strip())]
    return re.split(r"(?<=\.)\s", lines[0], maxsplit=1)[0].rstrip(".") if lines else ""


def explain_ngrok_failure(
    error: str | None,
    code: str | None,
    *,
    binary: str,
    local_url: str,
    timed_out: bool = False,
    timeout: float = 0,
    saw_session: bool = False,
    exit_code: int | None = None,
    last_line: str | None = None,
    api_path: str = "/api/endpoints",
) -> tuple[str, str]:
    """(reason, fix) for a start that failed."""
    said = _ngrok_text(error)
    code = code or (m.group(0) if (m := re.search(r"ERR_NGROK_\d+", error or "")) else None)
    token_fix = (
        f"copy your authtoken from {AUTHTOKEN_URL}, then `export NGROK_AUTHTOKEN=…` "
        f"(or `ngrok config add-authtoken …`) and start the tunnel again"
    )
    if code == "ERR_NGROK_4018":
        return "ngrok needs an authtoken and none is configured (ERR_NGROK_4018)", token_fix
    # Before the authtoken test: ngrok words these as "authentication failed" too.
    if code == "ERR_NGROK_108":
        return (
            "ngrok refused a second agent session for this account (ERR_NGROK_108)",
            "stop the other ngrok agent (see https://dashboard.ngrok.com/agents), then start the tunnel again",
        )
    if code in _OLD_AGENT_CODES:
        return f"this ngrok agent is too old for the ngrok service ({code})", f"update it: `{binary} update`"
    if code in _AUTH_CODES or "authentication failed" in said.lower():
        detail = said.split(":", 1)[1].strip() if said.lower().startswith("authentication failed:") else said
        return f"ngrok refused the authtoken ({code or 'authentication failed'}: {detail})", token_fix
    if said and _OFFLINE.search(said):
        return (
            f"ngrok cannot reach its service — are you offline? ({said})",
            "check the internet connection, proxy and firewall (ngrok needs outbound TCP 443), or run another tunnel and pass --public-url",
        )
    port = urlsplit(local_url).port or 80
    if timed_out and saw_session and not said:
        return (
            f"ngrok started a session, but its local API did not answer {api_path} within {timeout:g} s "
            f"(an ngrok agent older than pyngrok 9 expects?)",
            f'update ngrok (`{binary} update`), or put `version: "2"` in ngrok.yml',
        )
    if timed_out:
        return (
            f"ngrok did not start a session within {timeout:g} s" + (f" (last error: {said})" if said else ""),
            f"run `{binary} http {port}` in a terminal to see what ngrok says",
        )
    if said:
        return f"ngrok failed to start: {said}" + (
            f" ({code})" if code else ""
        ), f"run `{binary} http {port}` in a terminal to see what ngrok says"
    how = "" if exit_code is None else f" (exit code {exit_code})" if exit_code >= 0 else f" (killed by signal {-exit_code})"
    last = f"; its last words: {last_line}" if last_line else ""
    return (
        f"ngrok exited while starting{how}{last}",
        f"run `{binary} --version` to check that it is a working ngrok v3 agent, or pass another with --ngrok-path",
    )
