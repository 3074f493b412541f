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
