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

import asyncio
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

TUNNEL_NAME = "webhook-inspector"
AUTHTOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"
DOWNLOAD_PAGE = "https://ngrok.com/download"

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


def public_url_problem(url: str) -> str | None:
    """Why `url` cannot be a public base URL, or None when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        return f"--public-url {url!r} is not a URL: it must start with https:// or http:// and name a host"
    if parts.query or parts.fragment:
        return f"--public-url {url!r} has a query or fragment; give the base URL only"
    try:
        parts.port
    except ValueError:
        return f"--public-url {url!r} has an invalid port"
    return None


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

    from .receiver import SELFCHECK_PATH

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


# ngrok: where the binary and the authtoken are


@dataclass(frozen=True)
class NgrokBinary:
    path: str
    source: str  # "--ngrok-path", "NGROK_PATH", "PATH", "pyngrok's default path", "downloaded"


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


# What a script that hands over to pyngrok says (merely naming pyngrok, as a comment may, is not it).
_RUNS_PYNGROK = re.compile(rb"^\s*(?:from\s+pyngrok[\s.]|import\s+pyngrok\b)|-m\s+pyngrok\b", re.M)


def is_pyngrok_shim(path: str) -> bool:
    """pyngrok installs a console script named `ngrok` beside Python (the venv's bin dir): it
    is not an ngrok agent, and running it as one downloads and starts something else. It is
    a text script (`#!…python` + `from pyngrok…`), or on Windows pip's launcher `ngrok.exe`
    in this Python's scripts dir while pyngrok is installed."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if head.startswith(b"#!"):
        return _RUNS_PYNGROK.search(head) is not None
    if os.name == "nt":
        import importlib.util
        import sysconfig

        scripts = sysconfig.get_path("scripts")
        return (
            bool(scripts)
            and os.path.normcase(os.path.dirname(os.path.abspath(path))) == os.path.normcase(os.path.abspath(scripts))
            and importlib.util.find_spec("pyngrok") is not None
        )
    return False


def pyngrok_default_path(env: Mapping[str, str]) -> str:
    from pyngrok import conf

    return env.get("PYNGROK_NGROK_PATH") or conf.DEFAULT_NGROK_PATH


def find_ngrok(option: str | None, env: Mapping[str, str], *, default_path: str | None = None) -> NgrokBinary | None:
    """The ngrok binary, looked for in the order of SPEC §8; None when it must be downloaded.
    A path the user named that does not work is an error, not a reason to look elsewhere."""
    for value, source in ((option, "--ngrok-path"), (env.get("NGROK_PATH"), "NGROK_PATH")):
        if value:
            path = os.path.expanduser(value)
            if _executable(path) and is_pyngrok_shim(path):
                raise TunnelFailure(
                    f"{source} ({value}) is pyngrok's `ngrok` command, not the ngrok agent",
                    f"point {source} at the ngrok agent ({DOWNLOAD_PAGE}), or drop it to let the inspector find or download the agent",
                )
            if _executable(path):
                return NgrokBinary(os.path.abspath(path), source)
            what = "does not exist" if not os.path.exists(path) else "is not an executable file"
            raise TunnelFailure(
                f"the ngrok binary given by {source} ({value}) {what}",
                f"fix {source}, or drop it to let the inspector find ngrok on PATH or download it",
            )
    for folder in env.get("PATH", os.defpath).split(os.pathsep):
        found = shutil.which("ngrok", path=folder) if folder else None
        if found and not is_pyngrok_shim(found):  # the shim is skipped, not run; look further
            return NgrokBinary(os.path.abspath(found), "PATH")
    default = default_path or pyngrok_default_path(env)
    if _executable(default):
        return NgrokBinary(default, "pyngrok's default path")
    return None


def ngrok_config_paths(env: Mapping[str, str]) -> list[str]:
    """Where the ngrok agent keeps its config (and authtoken), newest layout first."""
    home = env.get("HOME") or os.path.expanduser("~")
    if sys.platform == "darwin":
        first = os.path.join(home, "Library", "Application Support", "ngrok", "ngrok.yml")
    elif os.name == "nt":
        first = os.path.join(env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "ngrok", "ngrok.yml")
    else:
        first = os.path.join(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "ngrok", "ngrok.yml")
    return [first, os.path.join(home, ".ngrok2", "ngrok.yml")]


def read_ngrok_config(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Authtoken:
    token: str = field(repr=False)
    source: str  # "NGROK_AUTHTOKEN" or the config file's path
    config_path: str | None = None


def no_authtoken(where: Iterable[str]) -> TunnelFailure:
    """The first thing to say when ngrok has no authtoken: ngrok refuses every tunnel without
    one, so installing or downloading the agent would only postpone this."""
    return TunnelFailure(
        f"no ngrok authtoken is configured (looked at NGROK_AUTHTOKEN, {', '.join(where) or 'no config file'})",
        f"copy your authtoken from {AUTHTOKEN_URL}, then `ngrok config add-authtoken TOKEN` (with the ngrok agent "
        f"installed) or `export NGROK_AUTHTOKEN=TOKEN`, and start the tunnel again; or pass --public-url for a tunnel you run",
    )


def find_authtoken(env: Mapping[str, str], config_paths: Iterable[str] | None = None) -> Authtoken | None:
    if env.get("NGROK_AUTHTOKEN"):
        return Authtoken(env["NGROK_AUTHTOKEN"], "NGROK_AUTHTOKEN")
    for path in ngrok_config_paths(env) if config_paths is None else config_paths:
        data = read_ngrok_config(path)
        agent = data.get("agent") if isinstance(data.get("agent"), dict) else {}
        token = agent.get("authtoken") or data.get("authtoken")  # v3 layout, then v2
        if isinstance(token, str) and token.strip():
            return Authtoken(token.strip(), path, path)
    return None


# ngrok: download


def download_ngrok(
    dest: str,
    url: str | None = None,
    *,
    progress: Callable[[str], None] = lambda text: None,
    cancelled: Callable[[], bool] = lambda: False,
    timeout: float = 15.0,
) -> None:
    """Fetch ngrok's archive for this platform (pyngrok's CDN URL) and install the binary at
    `dest`. Done here rather than by pyngrok so progress goes to the status, not to stdout."""
    if url is None:
        from pyngrok import installer

        url = installer.get_ngrok_cdn_url("3")
    host = urlsplit(url).netloc
    progress(f"downloading ngrok from {host}")
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        total = int(resp.headers.get("Content-Length") or 0)
        suffix = ".zip" if url.endswith(".zip") else ".tgz"
        fd, archive = tempfile.mkstemp(suffix=suffix, dir=os.path.dirname(dest) or ".")
        try:
            with os.fdopen(fd, "wb") as f:
                done, shown = 0, -1
                while True:
                    if cancelled():
                        raise _Stopped()
                    chunk = resp.read(64 * 1024)
                    if not chunk:
                        break
                    f.write(chunk)
                    done += len(chunk)
                    step = done * 10 // total if total else done // (1 << 20)
                    if step != shown:
                        shown = step
                        progress(f"downloading ngrok: {done * 100 // total}%" if total else f"downloading ngrok: {done >> 20} MB")
            progress("installing ngrok")
            _extract_ngrok(archive, dest)
        finally:
            if os.path.exists(archive):
                os.unlink(archive)


def _extract_ngrok(archive: str, dest: str) -> None:
    names = ("ngrok", "ngrok.exe")
    tmp = dest + ".part"
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            member = next((m for m in z.namelist() if os.path.basename(m) in names), None)
            if member is None:
                raise OSError("the downloaded archive holds no ngrok binary")
            with z.open(member) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive, "r:gz") as t:
            member = next((m for m in t.getmembers() if m.isfile() and os.path.basename(m.name) in names), None)
            if member is None:
                raise OSError("the downloaded archive holds no ngrok binary")
            src = t.extractfile(member)
            assert src is not None
            with src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)


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
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
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


# ngrok: the tunnel


_spawned: dict[str, subprocess.Popen] = {}


class _PyngrokSubprocess:
    """Stands in for the `subprocess` module inside pyngrok.process. pyngrok leaves ngrok's
    stderr on our terminal, where its error box would garble `serve` and the TUI's screen; this
    sends it into the stdout pipe pyngrok already reads, and remembers each child so a death
    can be reported with its exit code."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 — subprocess's name
        kwargs.setdefault("stderr", subprocess.STDOUT)
        proc = subprocess.Popen(args, **kwargs)
        if isinstance(args, (list, tuple)) and args:
            _spawned[str(args[0])] = proc
        return proc


def _prepare_pyngrok() -> None:
    import logging

    from pyngrok import process

    if not isinstance(process.subprocess, _PyngrokSubprocess):
        process.subprocess = _PyngrokSubprocess()  # type: ignore[assignment]
    # pyngrok logs each ngrok line; without a handler, Python's last resort prints its errors on stderr.
    logger = logging.getLogger("pyngrok")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _ngrok_proc(path: str) -> subprocess.Popen | None:
    proc = _spawned.get(path)
    if proc is not None:
        return proc
    from pyngrok import process

    running = process._current_processes.get(path)  # only if the stand-in above was bypassed
    return running.proc if running is not None else None


def upstream_url(local_url: str) -> str:
    """What ngrok should forward to: the listening address, wildcard hosts made loopback."""
    parts = urlsplit(local_url)
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme or 'http'}://{host}:{parts.port or 80}"


def _run_in_thread(fn: Callable[..., Any], *args: Any) -> asyncio.Future:
    """Run blocking pyngrok work on a daemon thread: unlike the default executor, a thread
    stuck on a dead agent can never hold up interpreter exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 — handed to the awaiting coroutine
            outcome = (False, exc)
        else:
            outcome = (True, result)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass

    threading.Thread(target=run, name="ngrok", daemon=True).start()
    return future


class NgrokTunnel(_BaseTunnel):
    """ngrok through pyngrok. Every pyngrok call runs on a worker thread; status changes come
    back to the event loop. Failure at start or mid-session becomes a `failed` status."""

    kind = "ngrok"

    def __init__(
        self,
        *,
        ngrok_path: str | None = None,
        env: Mapping[str, str] | None = None,
        config_path: str | None = None,
        authtoken_paths: Iterable[str] | None = None,
        default_path: str | None = None,
        download_url: str | None = None,
        startup_timeout: float = 20.0,
        request_timeout: float = 4.0,
        poll_every: float = 0.2,
        **kw: Any,
    ):
        super().__init__(**kw)
        self._status = TunnelStatus(self.kind, "off", reason="not started")
        self.ngrok_path = ngrok_path
        self.env = dict(os.environ if env is None else env)
        self.config_path = config_path
        self.authtoken_paths = list(authtoken_paths) if authtoken_paths is not None else None
        self.default_path = default_path
        self.download_url = download_url
        self.startup_timeout = startup_timeout
        self.request_timeout = request_timeout
        self.poll_every = poll_every
        self.binary: NgrokBinary | None = None
        self._generation = 0
        self._config: Any = None  # the PyngrokConfig of the running agent
        self._timed_out = False
        self._saw_session = False
        self._last_error: str | None = None
        self._last_line: str | None = None

    # The event-loop side

    async def start(self, local_url: str) -> TunnelStatus:
        self._remember_loop()
        if self._status.state in ("starting", "up"):
            return self._status
        self.local_url = local_url
        self._generation += 1
        generation = self._generation
        self._update(state="starting", public_url=None, reason=None, fix=None, detail=None, selfcheck=None, checking=False)
        try:
            public_url, proc = await _run_in_thread(self._start_blocking, upstream_url(local_url), generation)
        except _Stopped:
            return self._status
        except TunnelFailure as failure:
            if generation == self._generation:
                self._update(state="failed", reason=failure.reason, fix=failure.fix, detail=None)
            return self._status
        except Exception as exc:  # pyngrok or the platform surprised us: still a status, not a crash
            if generation == self._generation:
                self._update(
                    state="failed",
                    reason=f"ngrok could not start: {type(exc).__name__}: {exc}",
                    fix="start with --tunnel none, or pass --public-url for another tunnel",
                    detail=None,
                )
            return self._status
        if generation != self._generation:  # stop() won the race
            return self._status
        self._update(state="up", public_url=public_url, detail=None)
        threading.Thread(target=self._watch, args=(proc, generation), name="ngrok-watch", daemon=True).start()
        return self._status

    async def stop(self) -> TunnelStatus:
        self._remember_loop()
        was = self._status.state
        self._generation += 1  # everything started before this is now stale
        if was in ("off", "stopped"):
            return self._status
        if self.binary is not None:
            proc = _ngrok_proc(self.binary.path)
            if was == "starting" and proc is not None and proc.poll() is None:
                proc.kill()  # unblocks pyngrok's startup read at once
        config, public_url = self._config, self._status.public_url
        self._config = None
        if config is not None:
            try:
                await asyncio.wait_for(asyncio.shield(_run_in_thread(self._stop_blocking, config, public_url)), self.request_timeout + 2)
            except Exception:  # timed out or failed: make sure the agent is gone
                proc = _ngrok_proc(config.ngrok_path)
                if proc is not None and proc.poll() is None:
                    proc.kill()
        self._update(state="stopped", public_url=None, reason="stopped", fix=None, detail=None, selfcheck=None, checking=False)
        return self._status

    # The worker side

    def _progress(self, text: str) -> None:
        if self._status.state == "starting":
            self._update(detail=text)

    def _start_blocking(self, upstream: str, generation: int) -> tuple[str, subprocess.Popen | None]:
        from pyngrok import conf, ngrok
        from pyngrok.exception import PyngrokError

        _prepare_pyngrok()
        stale = lambda: generation != self._generation  # noqa: E731
        # The authtoken before the binary: without one, the agent (perhaps downloaded first)
        # could only fail with ERR_NGROK_4018.
        token_paths = ([self.config_path] if self.config_path else []) + (
            self.authtoken_paths if self.authtoken_paths is not None else ngrok_config_paths(self.env)
        )
        token = find_authtoken(self.env, token_paths)
        if token is None:
            raise no_authtoken(token_paths)
        binary = find_ngrok(self.ngrok_path, self.env, default_path=self.default_path)
        if binary is None:
            dest = self.default_path or pyngrok_default_path(self.env)
            try:
                download_ngrok(dest, self.download_url, progress=self._progress, cancelled=stale)
            except _Stopped:
                raise
            except (OSError, ValueError, http.client.HTTPException, tarfile.TarError, zipfile.BadZipFile) as exc:
                why = getattr(exc, "reason", None) or exc
                raise TunnelFailure(
                    f"ngrok is not installed (looked at --ngrok-path, NGROK_PATH, PATH and {dest}) and could not be downloaded: {why}",
                    f"install ngrok ({DOWNLOAD_PAGE}) and put it on PATH or pass --ngrok-path; or run another tunnel and pass --public-url",
                ) from None
            binary = NgrokBinary(dest, "downloaded")
        self.binary = binary
        if stale():
            raise _Stopped()

        config_path = self.config_path or token.config_path
        version = str(read_ngrok_config(config_path or conf.DEFAULT_NGROK_CONFIG_PATH).get("version", "3"))
        config = conf.PyngrokConfig(
            ngrok_path=binary.path,
            config_path=config_path,
            auth_token=token.token if token.source == "NGROK_AUTHTOKEN" else None,
            startup_timeout=self.startup_timeout,  # type: ignore[arg-type] — pyngrok only adds it to time.time()
            request_timeout=self.request_timeout,
            log_event_callback=self._on_log,
            config_version="2" if version == "2" else "3",
        )
        self._timed_out = self._saw_session = False
        self._last_error = self._last_line = None
        self._progress(f"starting {binary.path}" + (f" (from {binary.source})" if binary.source != "downloaded" else ""))
        # pyngrok waits for startup lines with a blocking read; an agent that goes silent would
        # hold it forever, so a watchdog kills it and pyngrok's read ends.
        watchdog = threading.Timer(self.startup_timeout + 1.0, self._startup_watchdog, args=(binary.path,))
        watchdog.daemon = True
        watchdog.start()
        began = time.monotonic()
        try:
            tunnel = ngrok.connect(upstream, "http", name=TUNNEL_NAME, pyngrok_config=config)
        except PyngrokError as exc:
            if stale():
                raise _Stopped() from None
            raise self._failure(
                exc, config, binary, upstream, timed_out=self._timed_out or time.monotonic() - began >= self.startup_timeout
            ) from None
        finally:
            watchdog.cancel()
        if stale():
            self._stop_blocking(config, tunnel.public_url)
            raise _Stopped()
        self._config = config
        return str(tunnel.public_url), _ngrok_proc(binary.path)

    def _failure(self, exc: Exception, config: Any, binary: NgrokBinary, upstream: str, *, timed_out: bool) -> TunnelFailure:
        """What a PyngrokError from connect() means. `timed_out`: pyngrok has its own deadline,
        checked between lines, and ours is the watchdog; either one may have run out."""
        from pyngrok import conf, ngrok
        from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError

        port = urlsplit(upstream).port or 80
        see = f"run `{binary.path} http {port}` in a terminal to see what ngrok says"
        if isinstance(exc, PyngrokNgrokHTTPError):
            # The agent is up but refused the tunnel; pyngrok leaves it running.
            try:
                ngrok.kill(pyngrok_config=config)
            except Exception:
                pass
            said = _api_error_text(exc.body) or str(exc)
            reason, fix = explain_ngrok_failure(said, None, binary=binary.path, local_url=upstream)
            return TunnelFailure(reason.replace("ngrok failed to start:", "ngrok refused the tunnel:"), fix)
        if not isinstance(exc, PyngrokNgrokError):  # pyngrok's own checks, before or after ngrok ran
            where = config.config_path or conf.DEFAULT_NGROK_CONFIG_PATH
            if any(key in str(exc) for key in ('"web_addr"', '"log_format"', '"log_level"')):
                return TunnelFailure(
                    f"pyngrok cannot use the ngrok config {where}: {exc}",
                    f"edit {where}: pyngrok needs the web interface on, log_format: term and log_level: info",
                )
            return TunnelFailure(f"ngrok failed to start: {exc}", see)
        proc = _spawned.get(binary.path)
        exit_code = proc.poll() if proc is not None else None
        self._drain(proc)
        reason, fix = explain_ngrok_failure(
            exc.ngrok_error or self._last_error,
            exc.ngrok_error_code,
            binary=binary.path,
            local_url=upstream,
            timed_out=timed_out,
            timeout=self.startup_timeout,
            saw_session=self._saw_session,
            exit_code=exit_code,
            last_line=self._last_line,
            api_path="/api/endpoints" if config.config_version == "3" else "/api/tunnels",
        )
        return TunnelFailure(reason, fix)

    def _drain(self, proc: subprocess.Popen | None) -> None:
        """pyngrok stops reading once the agent has exited, so its last lines — often the very
        error that explains the exit — may still sit in the pipe. Read them."""
        if proc is None or proc.poll() is None or proc.stdout is None:
            return  # still running: a read would block
        try:
            rest = proc.stdout.read()
        except (OSError, ValueError):
            return
        from pyngrok.log import NgrokLog

        for line in (rest or "").splitlines():
            log = NgrokLog(line)
            if log.line:
                self._on_log(log)

    def _startup_watchdog(self, path: str) -> None:
        proc = _ngrok_proc(path)
        if proc is not None and proc.poll() is None:
            self._timed_out = True
            proc.kill()

    def _stop_blocking(self, config: Any, public_url: str | None) -> None:
        from pyngrok import ngrok
        from pyngrok.exception import PyngrokError

        try:
            if public_url:
                ngrok.disconnect(public_url, pyngrok_config=config)
        except PyngrokError:
            pass  # the agent is going away anyway
        finally:
            ngrok.kill(pyngrok_config=config)

    def _on_log(self, log: Any) -> None:
        """pyngrok's per-line callback (its reader thread)."""
        self._last_line = log.line[:300] if log.line else self._last_line
        msg = log.msg or ""
        if "client session established" in msg or "tunnel session started" in msg:
            self._saw_session = True
            if self._status.state == "up" and self._status.detail:
                self._update(detail=None)  # reconnected
        if log.lvl in ("ERROR", "CRITICAL"):
            self._last_error = log.err or msg
            if self._status.state in ("starting", "up"):  # while starting: why it is taking long
                self._update(detail=f"ngrok reports: {_ngrok_text(log.err) or msg}")

    def _watch(self, proc: subprocess.Popen | None, generation: int) -> None:
        """Notice ngrok exiting mid-session. Polls rather than wait(): pyngrok's own reader
        polls the same process and must never find its wait lock held."""
        if proc is None:
            return
        code = proc.poll()
        while code is None:
            if generation != self._generation:
                return  # stopped or restarted on purpose
            time.sleep(self.poll_every)
            code = proc.poll()
        if generation != self._generation:
            return
        config, self._config = self._config, None
        if config is not None:
            try:
                self._stop_blocking(config, None)  # forget the dead process in pyngrok's tables
            except Exception:
                pass
        said = _ngrok_text(self._last_error)
        path = self.binary.path if self.binary else "ngrok"
        port = urlsplit(self.local_url or "").port or 80
        self._update(
            state="failed",
            public_url=None,
            checking=False,
            detail=None,
            reason=f"ngrok exited mid-session (exit code {code})" + (f": {said}" if said else ""),
            fix=f"start the tunnel again; if it keeps exiting, run `{path} http {port}` in a terminal to see why",
        )


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


# URLs to paste


@dataclass(frozen=True)
class TriggerUrl:
    flow: str
    trigger_type: str
    event_type: str
    url: str


def trigger_urls(flows: Any, pipeline: Any, tenant: str, base: str | None = None) -> list[TriggerUrl]:
    """For each trigger, the exact URL to paste into the sender's settings (under `base`, else
    the pipeline's base URL). Glob event types show where the sender's own event name goes."""
    out = []
    for flow in flows.flows:
        for trigger in flow.triggers:
            event = trigger.event_type
            shown = event if not any(c in event for c in "*?[") else event.replace("*", "{anything}").replace("?", "{one character}")
            out.append(TriggerUrl(flow.name, trigger.type, event, pipeline.webhook_url(tenant, shown, base)))
    return out


def public_base_url_note(configured: str | None, public_url: str | None) -> str | None:
    """A note when answers.json's public_base_url is not the URL senders must now call."""
    if not configured or not public_url or configured.rstrip("/") == public_url.rstrip("/"):
        return None
    from .starter import is_placeholder_url

    if is_placeholder_url(configured):
        return (
            f"answers.json's public_base_url ({configured.rstrip('/')}) is a placeholder; senders must call "
            f"{public_url.rstrip('/')}: paste the URLs above into the sender's webhook settings"
        )
    return (
        f"answers.json's public_base_url is {configured.rstrip('/')}, but senders must call {public_url.rstrip('/')}: "
        f"update the sender's webhook settings (and public_base_url, which URL-signing schemes use)"
    )
