"""The ngrok agent: where its binary and authtoken are, and downloading it when it is nowhere."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .messages import DOWNLOAD_PAGE
from .status import TunnelFailure, _Stopped

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


def find_authtoken(env: Mapping[str, str], config_paths: Iterable[str] | None = None) -> Authtoken | None:
    if env.get("NGROK_AUTHTOKEN"):
        return Authtoken(env["NGROK_AUTHTOKEN"], "NGROK_AUTHTOKEN")
    for path in ngrok_config_paths(env) if config_paths is None else config_paths:
        data = read_ngrok_config(path)
        agent = data.get("agent")
        if not isinstance(agent, dict):
            agent = {}
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
            name = next((m for m in z.namelist() if os.path.basename(m) in names), None)
            if name is None:
                raise OSError("the downloaded archive holds no ngrok binary")
            with z.open(name) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive, "r:gz") as t:
            member = next((m for m in t.getmembers() if m.isfile() and os.path.basename(m.name) in names), None)
            if member is None:
                raise OSError("the downloaded archive holds no ngrok binary")
            packed = t.extractfile(member)
            assert packed is not None
            with packed, open(tmp, "wb") as out:
                shutil.copyfileobj(packed, out)
    os.chmod(tmp, 0o755)
    os.replace(tmp, dest)
