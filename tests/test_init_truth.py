"""`init` tells the truth: the public_base_url it writes is a placeholder, so `check` and
`serve` show local URLs (and say how to set a real one) instead of presenting it as the URL
to paste; and its note on secrets says, per scheme, which side creates each secret."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.signatures.registry import ALGORITHMS
from inspector.starter import STARTER_PUBLIC_BASE_URL, is_placeholder_url, secret_origin
from tests.conftest import run_cli

TRIGGERS = {
    "github": "github",
    "stripe": "stripe",
    "shopify": "shopify",
    "handle_webhook": "order.created",
    "ack_then_process": "report.generate",
}


def _init(tmp_path: Path) -> None:
    r = run_cli("init", cwd=tmp_path, env={"NGROK_AUTHTOKEN": ""})
    assert r.returncode == 0, r.stderr


def test_init_says_which_side_creates_each_secret(tmp_path):
    r = run_cli("init", cwd=tmp_path)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "github (sha256): you choose it: init generated one; paste ours into GitHub's webhook settings" in out
    assert "stripe (stripe): Stripe issues it: replace the generated value" in out and "whsec_" in out
    assert "shopify (shopify): Shopify issues it: replace the generated value" in out
    assert "standard-webhooks (standard-webhooks): the provider issues it" in out
    assert f"public_base_url is a placeholder ({STARTER_PUBLIC_BASE_URL})" in out
    entries = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))["events-webhook"]["signatures"]
    assert entries["github"]["_secret"].startswith("you choose it")
    assert entries["stripe"]["_secret"].startswith("Stripe issues it")
    # the notes are ignored keys, not warnings
    r = run_cli("check", cwd=tmp_path, env={"NGROK_AUTHTOKEN": ""})
    assert r.returncode == 0 and b"unknown key" not in r.stderr


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_says_who_creates_its_secret(algorithm):
    who, sentence = secret_origin("custom-name", algorithm)
    assert who in ("ours", "theirs", "public key") and sentence


def test_provider_names_win_over_generic_algorithms():
    assert "GitHub" in secret_origin("github", "sha256")[1]
    assert secret_origin("gitlab", "gitlab")[0] == "ours"
    assert secret_origin("discord", "discord")[0] == secret_origin("sendgrid", "sendgrid")[0] == "public key"
    assert secret_origin("slack", "slack")[0] == secret_origin("svix", "svix")[0] == "theirs"


@pytest.mark.parametrize(
    "url, placeholder",
    [
        (STARTER_PUBLIC_BASE_URL, True),
        (STARTER_PUBLIC_BASE_URL + "/", True),
        ("https://your-domain.ngrok-free.app", True),
        ("https://hooks.example.com", True),
        ("https://x.example", True),
        ("https://\u2026.ngrok-free.app", True),
        ("https://<your-id>.ngrok-free.app", True),
        ("https://4f2a-81-2-69-160.ngrok-free.app", False),
        ("https://hooks.acme.io", False),
        ("http://127.0.0.1:8080", False),
        (None, False),
        ("", False),
    ],
)
def test_placeholder_detection(url, placeholder):
    assert is_placeholder_url(url) is placeholder


def test_check_after_init_shows_local_urls_not_the_placeholder(tmp_path):
    _init(tmp_path)
    r = run_cli("check", cwd=tmp_path, env={"NGROK_AUTHTOKEN": ""})
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, out + err
    assert f"({STARTER_PUBLIC_BASE_URL}) is a placeholder; the URLs below are local" in out
    for flow, event in TRIGGERS.items():
        assert f"  {flow} ← event {event}: http://127.0.0.1:8080/events/webhook/demo/{event}" in out
    assert "your-subdomain.ngrok-free.app/events" not in out + err
    assert 'set "public_base_url" in answers.json' in err


def test_check_presents_a_real_public_base_url(tmp_path):
    _init(tmp_path)
    answers = json.loads((tmp_path / "answers.json").read_text(encoding="utf-8"))
    answers["events-webhook"]["public_base_url"] = "https://hooks.acme.io"
    (tmp_path / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    r = run_cli("check", cwd=tmp_path, env={"NGROK_AUTHTOKEN": ""})
    out = r.stdout.decode()
    assert "public url: https://hooks.acme.io (public_base_url in answers.json)" in out
    assert "  github ← event github: https://hooks.acme.io/events/webhook/demo/github" in out
    assert "placeholder" not in out + r.stderr.decode()


def _stderr_until(proc: subprocess.Popen, needle: str, timeout: float = 20.0) -> str:
    """stderr read as it comes, until `needle` is in it (or the process ends or time runs out)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    seen = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in seen and time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    return seen.decode()


def test_serve_after_init_says_placeholder_and_lists_local_urls(tmp_path):
    _init(tmp_path)
    env = dict(os.environ, NGROK_AUTHTOKEN="")
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        first = proc.stdout.readline().decode().strip()
        assert first.startswith("listening on http://127.0.0.1:"), first
        local = first.split(" ")[-1]
        err = _stderr_until(proc, "  stripe ← event stripe:")
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=15)[1].decode()
    err += rest
    assert f"public_base_url in answers.json ({STARTER_PUBLIC_BASE_URL}) is a placeholder, not a URL senders can reach" in err
    for flow, event in TRIGGERS.items():
        assert f"  {flow} ← event {event}: {local}/events/webhook/demo/{event}" in err
    assert "your-subdomain.ngrok-free.app/events" not in err
    # The fix names the port serve listens on, not the default 8080.
    assert f"`ngrok http {local.rsplit(':', 1)[1]}`" in err
