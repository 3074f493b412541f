"""Fixtures for the tunnel: a real receiver on port 0, and pyngrok driving the fake agent in
tests/fakes/ngrok. Only loopback addresses are ever used; downloads point at a local server."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from inspector.config import Config
from inspector.pipeline import Pipeline
from inspector.receiver import Receiver
from inspector.store import Store
from inspector.tunnel import NgrokTunnel, _spawned

FAKE_NGROK = str(Path(__file__).resolve().parent.parent / "fakes" / "ngrok")
if not os.access(FAKE_NGROK, os.X_OK):  # a checkout or archive that dropped the mode bit
    os.chmod(FAKE_NGROK, 0o755)
CLOSED = "http://127.0.0.1:9/nothing-listens-here.tgz"  # the discard port: refused at once


@pytest.fixture
async def server(tmp_path):
    store = Store(tmp_path / "captures.sqlite3")
    pipeline = Pipeline(Config(), store)
    receiver = Receiver(pipeline, "127.0.0.1", 0)
    await receiver.start()
    yield SimpleNamespace(store=store, pipeline=pipeline, receiver=receiver, url=receiver.url)
    await receiver.stop()
    await pipeline.close()
    store.close()


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake agent's knobs: mode (FAKE_NGROK_MODE) and the log of what pyngrok called."""
    calls = tmp_path / "ngrok-calls.txt"
    monkeypatch.setenv("FAKE_NGROK_CALLS", str(calls))
    monkeypatch.delenv("FAKE_NGROK_MODE", raising=False)
    monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)

    def mode(value: str) -> None:
        monkeypatch.setenv("FAKE_NGROK_MODE", value)

    def lines() -> list[str]:
        return calls.read_text().splitlines() if calls.exists() else []

    return SimpleNamespace(path=FAKE_NGROK, mode=mode, calls=lines)


CONFIG_WITH_TOKEN = 'version: "3"\nagent:\n    authtoken: fake-token-from-the-config\n'


@pytest.fixture
def make_ngrok(tmp_path):
    """An NgrokTunnel whose every path is under tmp_path and whose download URL is loopback.
    Its ngrok config (tmp_path/ngrok.yml) holds an authtoken unless `config_path` is given:
    without one the tunnel stops before the agent runs."""
    made: list[NgrokTunnel] = []

    def make(**kw) -> NgrokTunnel:
        env = kw.pop("env", {"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path / "home")})
        kw.setdefault("ngrok_path", FAKE_NGROK)
        if "config_path" not in kw:
            (tmp_path / "ngrok.yml").write_text(CONFIG_WITH_TOKEN)
            kw["config_path"] = str(tmp_path / "ngrok.yml")
        kw.setdefault("authtoken_paths", [])
        kw.setdefault("default_path", str(tmp_path / "pyngrok-default" / "ngrok"))
        kw.setdefault("download_url", CLOSED)
        kw.setdefault("startup_timeout", 5.0)
        kw.setdefault("poll_every", 0.05)
        tunnel = NgrokTunnel(env=env, **kw)
        made.append(tunnel)
        return tunnel

    yield make
    for tunnel in made:
        proc = _spawned.get(tunnel.binary.path) if tunnel.binary else None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
