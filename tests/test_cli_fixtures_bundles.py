"""`export --format fixtures|bundle`, `send --fixture` and `import --resign` as a user runs them
(issue #19 items 4 and 5): real captures in a real store, subprocesses, a real HTTP handler."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from inspector.config import load_config
from inspector.flow import FlowSet
from inspector.rerun import Rerunner
from inspector.store import Store
from tests.conftest import ROOT, run_cli
from tests.test_fixtures_bundles import PLANTED, captured

ANSWERS_SECRET = "planted-answers-secret-77d1"  # configured in answers.json, copied into a header by a proxy


def mine(tmp_path: Path) -> Path:
    """answers.example.json plus one more entry whose secret a request also carries."""
    data = json.loads((ROOT / "answers.example.json").read_text())
    data["events-webhook"]["signatures"]["intercom"] = {"header": "X-Hub-Signature", "algorithm": "intercom", "secret": ANSWERS_SECRET}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    return path


def theirs(tmp_path: Path) -> Path:
    path = tmp_path / "theirs.json"
    path.write_text(
        json.dumps(
            {
                "events-webhook": {
                    "signatures": {
                        "github": {"header": "X-Hub-Signature-256", "algorithm": "sha256", "secret": "their-own-github-secret-123"},
                        "stripe": {"header": "Stripe-Signature", "algorithm": "stripe", "secret": "whsec_their_own_stripe_secret"},
                    }
                }
            }
        )
    )
    return path


def cli(tmp_path: Path, answers: Path, store: str, *args: str):
    return run_cli("--answers", str(answers), "--flows", str(ROOT / "flows"), "--store", str(tmp_path / store), *args, cwd=tmp_path)


class Handler:
    """The user's own webhook handler: checks GitHub's signature with a test secret."""

    def __init__(self, secret: str):
        self.got: list[tuple[str, dict, bytes]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.got.append((self.path, dict(self.headers), body))
                expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(self.headers.get("X-Hub-Signature-256", ""), expected)
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if ok else b'{"error": "bad signature"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def handler():
    h = Handler("example-github-secret-change-me")  # answers.example.json's github secret
    yield h
    h.close()


async def test_fixtures_go_to_a_folder_and_send_fixture_resigns_them_for_the_users_handler(tmp_path, handler):
    answers = ROOT / "answers.example.json"
    _, [push, paid] = await captured(tmp_path, "github.push", "stripe.payment_intent.succeeded")
    r = cli(tmp_path, answers, "captures.sqlite3", "export", str(push.id), str(paid.id), "--format", "fixtures", "--output", "fx")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "fx").iterdir())
    assert names == sorted([f"github-push-{push.id}.json", f"stripe-payment_intent.succeeded-{paid.id}.json"])
    assert sorted(Path(line).name for line in r.stdout.decode().split()) == names
    fixture = tmp_path / "fx" / f"github-push-{push.id}.json"
    # The handler's own path: used as it is.
    r = cli(tmp_path, answers, "captures.sqlite3", "send", "--fixture", str(fixture), "--to", handler.url + "/hooks/github")
    assert r.returncode == 0, r.stderr
    assert b"re-signed with `github`" in r.stdout and b"200" in r.stdout
    [(path, headers, body)] = handler.got
    assert path == "/hooks/github" and body == push.request.body and headers["X-GitHub-Event"] == "push"
    # A bare address gets the fixture's path.
    r = cli(tmp_path, answers, "captures.sqlite3", "send", "--fixture", str(fixture), "--to", handler.url)
    assert r.returncode == 0 and handler.got[-1][0] == "/events/webhook/demo/github"


async def test_send_fixture_goes_to_the_running_inspector_signed_as_its_answers_say(tmp_path):
    from tests.test_cli import Serve

    answers = ROOT / "answers.example.json"
    _, [paid] = await captured(tmp_path, "stripe.payment_intent.succeeded")
    cli(tmp_path, answers, "captures.sqlite3", "export", str(paid.id), "--format", "fixtures", "--output", "fx")
    [fixture] = (tmp_path / "fx").iterdir()
    served = tmp_path / "served"
    served.mkdir()
    s = Serve(served)
    try:
        # No --to: the server recorded next to the store it uses (.inspector/ under served/).
        r = run_cli("--answers", str(answers), "send", "--fixture", str(fixture), cwd=served)
        assert r.returncode == 0, r.stderr
        assert b"re-signed with `stripe`" in r.stdout and b"\xe2\x86\x90 200" in r.stdout
    finally:
        s.stop()
    listed = json.loads(run_cli("list", "--json", cwd=served).stdout)
    assert [(c["path"], c["signature_status"], c["response_status"]) for c in listed] == [("/events/webhook/demo/stripe", "valid", 200)]


async def test_send_fixture_errors_are_one_line_with_the_fix(tmp_path):
    answers = ROOT / "answers.example.json"
    _, [push] = await captured(tmp_path, "github.push")
    cli(tmp_path, answers, "captures.sqlite3", "export", str(push.id), "--format", "fixtures", "--output", "fx")
    fixture = tmp_path / "fx" / f"github-push-{push.id}.json"
    r = cli(tmp_path, answers, "captures.sqlite3", "send", "--fixture", str(tmp_path / "nope.json"), "--to", "http://127.0.0.1:9")
    assert r.returncode == 2 and b"does not exist; give a file written by `export ID --format fixtures" in r.stderr
    damaged = json.loads(fixture.read_text())
    del damaged["body"]
    (tmp_path / "damaged.json").write_text(json.dumps(damaged))
    r = cli(tmp_path, answers, "captures.sqlite3", "send", "--fixture", str(tmp_path / "damaged.json"), "--to", "http://127.0.0.1:9")
    assert r.returncode == 1 and b"the field `body` is missing" in r.stderr and r.stderr.count(b"\n") == 1
    r = cli(tmp_path, answers, "captures.sqlite3", "send", "github.push", "--fixture", str(fixture))
    assert r.returncode == 2 and b"not both" in r.stderr
    assert b"Traceback" not in r.stderr


async def test_a_bundle_holds_no_planted_secret_and_imports_valid_with_the_importers_own_secrets(tmp_path):
    answers = mine(tmp_path)
    store_path, [push, paid] = await captured(
        tmp_path,
        "github.push",
        "stripe.payment_intent.succeeded",
        extra=(("Authorization", f"Bearer {PLANTED}"), ("X-Proxy-Copy", ANSWERS_SECRET)),
    )
    r = cli(
        tmp_path,
        answers,
        "captures.sqlite3",
        "export",
        str(push.id),
        str(paid.id),
        "--format",
        "bundle",
        "--redact",
        "--redact-path",
        "$.data.object.customer",
        "--output",
        "team.bundle.json",
    )
    assert r.returncode == 0, r.stderr
    raw = (tmp_path / "team.bundle.json").read_bytes()
    secrets = [PLANTED, ANSWERS_SECRET] + [s for _, s in load_config(answers).secrets]
    assert not [s for s in secrets if s.encode() in raw]
    for c in (push, paid):
        for name, value in c.request.headers:
            if "signature" in name.lower() or name.lower() == "authorization":
                assert value.encode() not in raw, name
    assert (tmp_path / "team.bundle.json").stat().st_mode & 0o777 == 0o600
    bundle = json.loads(raw)
    assert [c["signature"]["scheme"] for c in bundle["captures"]] == ["github", "stripe"]

    r = cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "import", "team.bundle.json", "--resign")
    assert r.returncode == 0, r.stderr
    assert b"imported 2 request(s) from team.bundle.json (bundle): captures 1\xe2\x80\x932" in r.stdout
    for cid in ("1", "2"):
        shown = json.loads(cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "show", cid, "--json").stdout)
        assert shown["signature"]["status"] == "valid", shown["signature"]
        assert shown["flows"] and all(f["status"] == "ok" for f in shown["flows"])
    human = cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "show", "1").stdout
    assert b"signature: valid" in human

    # Through the importer's flows again: exactly what was recorded where it was captured.
    store = Store(tmp_path / "theirs.sqlite3", readonly=True)
    try:
        imported = [store.get(1), store.get(2)]
    finally:
        store.close()
    results = await Rerunner(load_config(theirs(tmp_path)), FlowSet.load(ROOT / "flows")).arerun(imported)
    assert [r.verdict for r in results] == ["same", "same"], [r.differences for r in results]

    # Without --resign the signatures are gone, and the note says what to do.
    r = cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "import", "team.bundle.json")
    assert r.returncode == 0 and b"import with --resign" in r.stderr


async def test_import_resign_works_for_a_har_export_too(tmp_path):
    answers = ROOT / "answers.example.json"
    _, [push] = await captured(tmp_path, "github.push")
    assert cli(tmp_path, answers, "captures.sqlite3", "export", str(push.id), "--format", "har", "--output", "push.har").returncode == 0
    r = cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "import", "push.har", "--resign")
    assert r.returncode == 0, r.stderr
    shown = json.loads(cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "show", "1", "--json").stdout)
    assert shown["signature"]["status"] == "valid" and "re-signed with `github` (sha256)" in shown["notes"]
    r = cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "import", "push.har")
    shown = json.loads(cli(tmp_path, theirs(tmp_path), "theirs.sqlite3", "show", "2", "--json").stdout)
    assert shown["signature"]["status"] == "invalid"  # signed with our secret, checked with theirs


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("export", "99", "--format", "bundle", "--output", "b.json"), 1, "no capture 99 in"),
        (("export", "1", "--format", "fixtures"), 2, "give the folder with --output DIR"),
        (("export", "1", "--format", "bundle", "--output", "missing/dir/b.json"), 2, "cannot write missing/dir/b.json"),
        (("export", "1", "--format", "fixtures", "--output", "afile"), 2, "exists and is not a folder"),
        (("export", "1", "--format", "bundle", "--redact-path", "customer.email"), 2, "a path starts with $"),
        (("export", "1", "--format", "bundle", "--redact-path", "$.a[x"), 2, "cannot read it from character 4"),
        (("export", "1", "--format", "curl", "--redact"), 2, "--redact applies to --format bundle"),
        (("export", "1", "--format", "bundle", "--reveal"), 2, "--reveal cannot be used with --format bundle"),
        (("import", "notjson.json"), 1, "not JSON"),
        (("import", "other.json"), 1, "not a webhook-inspector bundle (format is 'someone-elses'"),
        (("import", "newer.json"), 1, "bundle version 2 was written by a newer webhook-inspector"),
    ],
)
async def test_export_and_import_errors_are_clear(tmp_path, args, code, message):
    await captured(tmp_path, "github.push")
    (tmp_path / "afile").write_text("x")
    (tmp_path / "notjson.json").write_text("{nope")
    (tmp_path / "other.json").write_text('{"format": "someone-elses", "captures": []}')
    (tmp_path / "newer.json").write_text('{"format": "webhook-inspector-bundle", "version": 2, "captures": []}')
    r = cli(tmp_path, ROOT / "answers.example.json", "captures.sqlite3", *args)
    assert r.returncode == code, r.stderr
    assert message in r.stderr.decode() and b"Traceback" not in r.stderr
