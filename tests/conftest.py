"""Shared fixtures: real config files, real stores, a real server on port 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# `make fuzz` raises this; the suite keeps the bounded counts.
FUZZ_SCALE = max(1, int(os.environ.get("INSPECTOR_FUZZ_SCALE", "1")))


def fuzz_examples(n: int) -> int:
    return n * FUZZ_SCALE


GITHUB_SECRET = "example-github-secret-change-me"
STRIPE_SECRET = "whsec_example_stripe_secret_change_me"


@pytest.fixture
def answers_file(tmp_path: Path) -> Path:
    path = tmp_path / "answers.json"
    path.write_text((ROOT / "answers.example.json").read_text())
    return path


def write_answers(tmp_path: Path, root: dict) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"events-webhook": root}))
    return path


def run_cli(*args: str, cwd: Path | None = None, input: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        env=full_env,
        timeout=60,
    )


class OneShotServer:
    """A bare socket server for one request: keeps the bytes it read (up to `until`) in `got`
    and sends `answer`. For checking exact bytes on the wire that no HTTP library rewrites."""

    def __init__(self, answer: bytes, until: bytes = b"\r\n\r\n", timeout: float = 10.0):
        import socket

        self.answer, self.until, self.timeout = answer, until, timeout
        self.got = bytearray()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.settimeout(self.timeout)
            while self.until not in self.got:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                self.got.extend(chunk)
            conn.sendall(self.answer)

    def __enter__(self) -> OneShotServer:
        import threading

        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(self.timeout)
        self.server.close()
