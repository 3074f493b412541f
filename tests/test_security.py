"""The public port serves webhook routes only; secrets never leak; comparisons are constant-time."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ROOT, run_cli

GITHUB_SECRET = "planted-github-secret-5f2a9c"
GITLAB_TOKEN = "planted-gitlab-token-8d1e7b"
GENERIC_KEY = "planted-generic-key-3c4d5e"
AUTH = "Bearer planted-bearer-9a8b7c6d"
COOKIE = "session=planted-cookie-1f2e3d"
PLANTED = (GITHUB_SECRET, GITLAB_TOKEN, GENERIC_KEY, "planted-bearer-9a8b7c6d", "planted-cookie-1f2e3d")


def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(
        json.dumps(
            {
                "events-webhook": {
                    "secret_header": "X-Webhook-Token",
                    "secret_key": GENERIC_KEY,
                    "signatures": {
                        "github": {"header": "X-Hub-Signature-256", "algorithm": "sha256", "secret": GITHUB_SECRET},
                        "gitlab": {"header": "X-Gitlab-Token", "algorithm": "gitlab", "secret": GITLAB_TOKEN},
                        "broken": {"header": "X-Broken", "algorithm": "nope", "secret": GITHUB_SECRET},
                    },
                }
            }
        )
    )
    return path


def test_secrets_never_appear_in_any_output(tmp_path):
    ans = answers(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--answers", str(ans), "--flows", str(ROOT / "flows"), "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = proc.stdout.readline().strip().split()[-1]

    async def send():
        async with aiohttp.ClientSession() as s:
            for path, headers in [
                ("/events/webhook/demo/gitlab", {"X-Gitlab-Token": GITLAB_TOKEN}),
                ("/events/webhook/demo/gitlab", {"X-Gitlab-Token": GITLAB_TOKEN + "x"}),
                ("/events/webhook/demo/orders", {"X-Webhook-Token": GENERIC_KEY, "Authorization": AUTH, "Cookie": COOKIE}),
                ("/events/webhook/demo/github", {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Authorization": AUTH}),
                ("/events/webhook/demo/broken", {"X-Broken": "x"}),
                ("/nowhere", {"Proxy-Authorization": AUTH}),
            ]:
                async with s.post(url + path, data=b'{"a": 1}', headers=headers) as r:
                    yield_body = await r.read()
                    for secret in PLANTED:
                        assert secret.encode() not in yield_body, (path, yield_body)

    asyncio.run(send())
    proc.terminate()
    out, err = proc.communicate(10)
    outputs = {"serve stdout": out, "serve stderr": err}
    common = ["--answers", str(ans)]
    for name, args in {
        "list": ["list"],
        "list json": ["list", "--json"],
        "show": ["show", "1"],
        "show 2": ["show", "2"],
        "show 3 json": ["show", "3", "--json"],
        "show 4 json": ["show", "4", "--json"],
        "show 5": ["show", "5", "--json"],
        "show 6": ["show", "6", "--json"],
        "export curl": ["export", "1", "2", "3", "4", "5", "6", "--format", "curl"],
        "export httpie": ["export", "1", "3", "6", "--format", "httpie"],
        "export har": ["export", "1", "3", "6", "--format", "har"],
        "export json": ["export", "1", "3", "6", "--format", "json"],
        "check": ["check"],
        "verify": ["verify", "--event-type", "gitlab", "-H", f"X-Gitlab-Token: {GITLAB_TOKEN}x", "--body", "{}", "--json"],
        "verify github": ["verify", "--event-type", "github", "-H", "X-Hub-Signature-256: sha256=00", "--body", "{}"],
    }.items():
        r = run_cli(*common, *args, cwd=tmp_path)
        outputs[name] = r.stdout.decode() + r.stderr.decode()
    for name, text in outputs.items():
        for secret in PLANTED:
            assert secret not in text, f"{secret} leaked in {name}: {text[:2000]}"
    # --reveal shows what was received, exactly.
    revealed = run_cli(*common, "--reveal", "show", "1", "--json", cwd=tmp_path).stdout.decode()
    assert GITLAB_TOKEN in revealed


def test_the_port_serves_webhook_routes_only(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--flows", str(ROOT / "flows"), "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = proc.stdout.readline().strip().split()[-1]
    probes = [
        "/",
        "/api",
        "/api/requests/http",
        "/admin",
        "/captures",
        "/.inspector/captures.sqlite3",
        "/__inspector/",
        "/__inspector/selfcheck/guess",
        "/__inspector/captures",
        "/events/webhook/",
        "/events/webhook/demo",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../answers.json",
        "/.git/config",
        "/v1/events/ingress",
        "/metrics",
        "/health",
        "/events/webhook/demo/x/../../../../etc",
    ]

    async def walk():
        async with aiohttp.ClientSession() as s:
            for path in probes:
                for method in ("GET", "POST", "OPTIONS", "DELETE"):
                    async with s.request(method, aiohttp.client.URL(url + path, encoded=True)) as r:
                        body = await r.read()
                        assert r.status == 404, (method, path, r.status)
                        data = json.loads(body)
                        assert set(data) == {"error", "hint", "id"}, data
            # A webhook route answers with an acknowledgement, never with stored data.
            async with s.get(url + "/events/webhook/demo/anything") as r:
                assert set(await r.json()) <= {"status", "id", "warning"}

    try:
        asyncio.run(walk())
    finally:
        proc.terminate()
        proc.wait(10)


def test_default_bind_is_loopback():
    from inspector.__main__ import COMMON_DEFAULTS

    assert COMMON_DEFAULTS["host"] == "127.0.0.1"


SENSITIVE = ("sig", "mac", "digest", "expected", "candidate", "token", "secret", "received")


def test_signature_comparisons_are_constant_time():
    """No `==`/`!=` between values that hold signatures, MACs or secrets in the signature code."""
    offenders = []
    for path in sorted((ROOT / "inspector" / "signatures").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare) or not any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                continue
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Constant) for s in sides):
                continue  # comparing with a literal (a version tag, a prefix) reveals nothing
            names = [ast.unparse(s).lower() for s in sides]
            if "self.digest" in names:
                continue  # the algorithm's name, e.g. "sha256"
            if any(any(word in n for word in SENSITIVE) for n in names) and not any(
                "len(" in n or "header" in n or "status" in n or "name" in n for n in names
            ):
                offenders.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []
