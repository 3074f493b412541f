"""The README's fixture example is a pytest that runs: its code block, as printed, against a
fixture exported from a real capture and a real handler that checks the signature with the
example's test secret (and fails when the secret differs, so the example proves something)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT, run_cli
from tests.test_fixtures_bundles import captured

HANDLER = """
import hashlib, hmac, json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = {secret!r}


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(self.headers.get("X-Hub-Signature-256", ""), expected) and json.loads(body)["ref"]
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({{"ok": bool(ok)}}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def handler_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{{server.server_address[1]}}/hooks/github"
    server.shutdown()
    server.server_close()
"""


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Fixtures and shareable bundles", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README's fixtures section shows a pytest"
    return blocks[0]


def test_the_readme_example_is_about_a_dozen_lines():
    lines = [line for line in readme_example().splitlines() if line.strip()]
    assert len(lines) <= 14


@pytest.mark.parametrize(("secret", "passes"), [("test-secret", True), ("another-secret", False)])
async def test_the_readme_fixture_example_runs_against_a_real_handler(tmp_path, secret, passes):
    _, [push] = await captured(tmp_path, "github.push")
    assert push.id == 1  # the example names github-push-1.json
    exported = run_cli(
        "--answers", str(ROOT / "answers.example.json"), "--store", str(tmp_path / "captures.sqlite3"),
        "export", "1", "--format", "fixtures", "--output", "tests/fixtures", cwd=tmp_path,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "tests" / "conftest.py").write_text(textwrap.dedent(HANDLER.format(secret=secret)))
    (tmp_path / "tests" / "test_webhooks.py").write_text(readme_example())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_webhooks.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if passes:
        assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr
    else:
        assert result.returncode == 1 and "1 failed" in result.stdout and "401" in result.stdout, result.stdout
