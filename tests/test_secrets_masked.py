"""Secrets are masked wherever a flow copied them (outputs, logs, scope, answers) and in every
view and export, unless --reveal (SPEC §3, §9; issues #16 and #21)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from inspector.config import load_config
from inspector.signatures import Masker, all_schemes
from inspector.signatures.secrets import secret_name
from tests.conftest import ROOT, run_cli, write_answers

TOKEN = "sk_live_planted_4e5f6a7b8c"
BEARER = f"Bearer {TOKEN}"
API_KEY = "apikey-planted-0a1b2c3d"
COOKIE_VALUE = "cookie-planted-9z8y7x"
BASIC_PASSWORD = "pw-planted-6d5c4b"
BASIC = "Basic " + base64.b64encode(f"alice:{BASIC_PASSWORD}".encode()).decode()
GENERIC_KEY = "generic-planted-key-1234"
PLANTED = (TOKEN, API_KEY, COOKIE_VALUE, BASIC_PASSWORD, GENERIC_KEY)

# Every way a flow can carry a secret header's value into what is shown.
LEAK_FLOW = """\
name: leak
nodes:
  - id: logs
    type: script
    config:
      script: |
        print(headers);
        print(`token is ${headers.authorization.split(" ")[1]}`);
        headers
    next: whole
  - id: whole
    type: script
    config:
      script: "event"
    next: one
  - id: one
    type: script
    config:
      script: "event.headers.authorization"
    next: decoded
  - id: decoded
    type: script
    config:
      script: "base64_decode(headers['proxy-authorization'].split(' ')[1]).split(':')[1]"
    next: keyed
  - id: keyed
    type: script
    config:
      script: |
        #{ "x-api-key": "short", copy: headers['x-api-key'], note: `cookie ${headers.cookie}`, key: headers['x-webhook-token'] }
    next: answer
  - id: answer
    type: http_response
    config:
      status: 200
      body: "{{headers.authorization}}"
    next: fail
  - id: fail
    type: branch
    config:
      conditions:
        - expression: "headers.authorization.to_int() == 1"
          next: answer
triggers:
  - type: event
    event_type: leak
"""

HEADERS = {
    "Authorization": BEARER,
    "X-Api-Key": API_KEY,
    "Cookie": f"theme=dark; session={COOKIE_VALUE}",
    "Proxy-Authorization": BASIC,
    "X-Webhook-Token": GENERIC_KEY,
}


def project(tmp_path: Path) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "leak.ygtc").write_text(LEAK_FLOW)
    write_answers(tmp_path, {"secret_header": "X-Webhook-Token", "secret_key": GENERIC_KEY})
    return tmp_path


def header_args() -> list[str]:
    return [arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}")]


def assert_masked(text: str, where: str) -> None:
    for secret in PLANTED:
        assert secret not in text, f"{secret} leaked in {where}: {text[:3000]}"


# Which headers are secret


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Gitlab-Token",
        "X-Api-Key",
        "Api-Key",
        "X-API-KEY",
        "apikey",
        "X-Auth-Token",
        "X-Access-Token",
        "X-Shopify-Access-Token",
        "X-Amz-Security-Token",
        "X-Webhook-Secret",
        "X-Client-Secret",
        "X-Password",
        "X-Auth",
        "X-Csrftoken",
        "XApiKey",
        "x_api_key",
    ],
)
def test_secret_bearing_header_names(name):
    assert secret_name(name)
    assert Masker()(name, "v" * 20) == "vvvv…(20 chars)"


def test_map_keys_named_like_secrets_are_masked_in_flow_outputs():
    from inspector.model import Headers
    from inspector.signatures.secrets import Redactor

    output = {"privateKey": "k" * 20, "clientSecret": "s" * 20, "author": "Ada Lovelace", "count": 3, "items": [{"apiKey": "abc"}]}
    assert Redactor(Masker(), Headers()).value(output) == {
        "privateKey": "kkkk…(20 chars)",
        "clientSecret": "ssss…(20 chars)",
        "author": "Ada Lovelace",
        "count": 3,
        "items": [{"apiKey": "…(3 chars)"}],
    }


@pytest.mark.parametrize(
    "name",
    [
        "Content-Type",
        "User-Agent",
        "X-GitHub-Event",
        "X-Author",
        "X-Idempotency-Key",
        "X-Request-Id",
        "X-GitHub-Hook-Installation-Target-Type",
        "access_tokens_url",
        "X-Forwarded-For",
    ],
)
def test_ordinary_header_names_stay_visible(name):
    assert not secret_name(name)
    assert Masker()(name, "v" * 20) == "v" * 20


def test_signature_headers_are_macs_not_secrets():
    for scheme in all_schemes().values():
        for header in (scheme.header, *scheme.headers):
            if scheme.token:
                assert secret_name(header), header
            else:
                assert not secret_name(header), f"{scheme.algorithm}: {header} would be masked"


def test_configured_headers_follow_their_scheme(tmp_path):
    path = write_answers(
        tmp_path,
        {
            "secret_header": "X-Webhook-Token",
            "secret_key": GENERIC_KEY,
            "signatures": {
                "custom": {"header": "X-Secret-Signature", "algorithm": "sha256", "secret": "custom-secret-123456"},
                "gl": {"header": "X-Hook-Check", "algorithm": "gitlab", "secret": "gitlab-token-123456"},
            },
        },
    )
    masker = Masker(load_config(path))
    # A configured HMAC header keeps its MAC visible even when its name sounds secret.
    assert masker("X-Secret-Signature", "ab" * 32) == "ab" * 32
    # The generic header holds a MAC unless it carries the key itself.
    assert masker("X-Webhook-Token", "cd" * 32) == "cd" * 32
    assert masker("X-Webhook-Token", GENERIC_KEY) != GENERIC_KEY
    # A token scheme's header is secret under any name; a configured secret under any header.
    assert masker("X-Hook-Check", "anything-at-all") == "…(15 chars)"
    assert masker("X-Anything", "custom-secret-123456") != "custom-secret-123456"
    assert Masker(load_config(path), reveal=True)("X-Hook-Check", "anything-at-all") == "anything-at-all"


# Every command that shows a capture


def test_run_masks_outputs_logs_errors_and_the_answer(tmp_path):
    cwd = project(tmp_path)
    args = ["--flows", "flows", "run", "--event-type", "leak", *header_args(), "--body", '{"a": 1}']
    text = run_cli(*args, cwd=cwd)
    as_json = run_cli(*args, "--json", cwd=cwd)
    for name, r in {"run": text, "run --json": as_json}.items():
        out = r.stdout.decode() + r.stderr.decode()
        assert "Traceback" not in out, out
        assert_masked(out, name)
    data = json.loads(as_json.stdout)
    steps = {s["node"]: s for s in data["runs"][0]["steps"]}
    assert steps["one"]["output"] == "Bear…(33 chars)"
    assert steps["logs"]["logs"][1] == "token is sk_l…(26 chars)"
    assert steps["keyed"]["output"]["x-api-key"] == "…(5 chars)"  # named like a secret header
    assert steps["decoded"]["output"] == "pw-p…(17 chars)"
    assert data["response"]["body"] == "Bear…(33 chars)"
    revealed = run_cli(*args, "--json", "--reveal", cwd=cwd)
    out = revealed.stdout.decode()
    for secret in PLANTED:
        assert secret in out, secret


def test_show_and_exports_mask_what_flows_copied_from_a_served_request(tmp_path):
    cwd = project(tmp_path)
    store = str(tmp_path / "store.sqlite3")
    common = ["--flows", "flows", "--store", store]
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", *common, "serve", "--port", "0"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip().split()[-1]
        request = urllib.request.Request(url + "/events/webhook/demo/leak", data=b'{"a": 1}', headers=HEADERS, method="POST")
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200
            resp.read()
        proc.stdout.readline()  # the request's line: the capture and its runs are stored
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert_masked(out + err, "serve")
    outputs = {}
    for name, args in {
        "show": ["show", "1"],
        "show --json": ["show", "1", "--json"],
        "export json": ["export", "1", "--format", "json"],
        "export har": ["export", "1", "--format", "har"],
        "export curl": ["export", "1", "--format", "curl"],
        "export httpie": ["export", "1", "--format", "httpie"],
        "list": ["list", "--json"],
    }.items():
        r = run_cli(*common, *args, cwd=cwd)
        assert r.returncode == 0, r.stderr
        outputs[name] = r.stdout.decode() + r.stderr.decode()
        assert_masked(outputs[name], name)
    shown = json.loads(outputs["show --json"])
    assert any(s["output"] == "Bear…(33 chars)" for s in shown["runs"][0]["steps"])
    assert "log: token is sk_l…(26 chars)" in outputs["show"]
    har = json.loads(outputs["export har"])
    assert har["log"]["entries"][0]["response"]["content"]["text"] == "Bear…(33 chars)"
    revealed = run_cli(*common, "--reveal", "show", "1", "--json", cwd=cwd).stdout.decode()
    for secret in PLANTED:
        assert secret in revealed, secret


# The TUI: flow tree, overview, response and the debugger's scope


async def test_tui_flow_tree_response_and_debugger_scope_are_masked(tmp_path, monkeypatch):
    from inspector.model import Headers, Request
    from inspector.tui.screens.debugger_screen import DebuggerScreen
    from tests.tui.conftest import NOW, make_app, settle, text_of, tree_text, wait_for

    cwd = project(tmp_path)
    (cwd / "answers.example.json").write_text((cwd / "answers.json").read_text())
    monkeypatch.chdir(cwd)
    app = make_app(cwd, serve=False)
    request = Request("POST", "/events/webhook/demo/leak", headers=Headers(list(HEADERS.items())), body=b'{"a": 1}', received_at=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.pipeline.handle(request, wait=True)
        await wait_for(lambda: app.detail.capture is not None and bool(app.detail.capture.runs), pilot)
        # A note (a forward target's error, say) can quote what was sent, as `show` masks it.
        noted = app.detail.capture.with_(notes=(f"the target said: {BEARER} is not welcome",))
        app.detail.show(noted, app._main._view_context(noted))
        views = {
            "flow tree": tree_text(app.detail.query_one("#view-flow")),
            "overview": text_of(app.detail.query_one("#view-overview")),
            "response": text_of(app.detail.query_one("#view-response")),
            "headers": text_of(app.detail.query_one("#view-headers")),
        }
        assert "Bear…(33 chars)" in views["flow tree"]
        assert "the target said: Bear…(33 chars) is not welcome" in views["overview"]
        await pilot.press("d")
        await settle(app)
        await wait_for(lambda: isinstance(app.screen, DebuggerScreen), pilot)
        screen = app.screen
        for _ in range(len(screen.session.frames)):
            views[f"scope at {screen.session.current.node}"] = tree_text(screen.query_one("#debug-scope"))
            views[f"result at {screen.session.current.node}"] = text_of(screen.query_one("#debug-result-text"))
            await pilot.press("n")
        await pilot.press("escape")
    for name, text in views.items():
        assert_masked(text, name)
    assert "Bear…(33 chars)" in views["scope at whole"]


async def test_a_tui_crash_report_says_where_but_shows_no_local_variables(tmp_path, monkeypatch, capsys):
    from tests.tui.conftest import make_app

    cwd = project(tmp_path)
    (cwd / "answers.example.json").write_text((cwd / "answers.json").read_text())
    monkeypatch.chdir(cwd)
    app = make_app(cwd, serve=False)

    def crash_with_a_secret_in_scope() -> None:
        received = "crash-local-" + TOKEN  # noqa: F841 - what Textual's report would list
        raise RuntimeError("planted crash")

    with pytest.raises(RuntimeError, match="planted crash"):
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(crash_with_a_secret_in_scope)
            await pilot.pause()
    report = capsys.readouterr().err
    assert "planted crash" in report and "crash_with_a_secret_in_scope" in report
    assert TOKEN not in report


async def test_replay_masks_what_the_target_echoes_back(tmp_path):
    import asyncio

    from aiohttp import web

    from inspector.model import Capture, Headers, Request, SignatureResult
    from inspector.store import Store

    async def echo(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "")
        return web.json_response({"you sent": token}, headers={"Set-Cookie": f"session={COOKIE_VALUE}"})

    app = web.Application()
    app.router.add_post("/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        store_path = tmp_path / "store.sqlite3"
        store = Store(store_path)
        request = Request("POST", "/events/webhook/demo/leak", headers=Headers([("Authorization", BEARER)]), body=b"{}", received_at=1.0)
        store.insert(Capture(None, request, "demo", "leak", SignatureResult("unsigned", reason="")))
        store.close()
        outputs = {}
        for name, extra in {"replay": [], "replay --json": ["--json"], "revealed": ["--json", "--reveal"]}.items():
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "inspector",
                "--store",
                str(store_path),
                "replay",
                "1",
                "--to",
                f"http://127.0.0.1:{port}",
                *extra,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err
            outputs[name] = out.decode() + err.decode()
    finally:
        await runner.cleanup()
    assert_masked(outputs["replay"], "replay")
    assert_masked(outputs["replay --json"], "replay --json")
    answer = json.loads(outputs["replay --json"])["answers"][0]
    assert answer["body"] == {"you sent": "Bear…(33 chars)"}
    assert dict(answer["headers"])["Set-Cookie"] == "sess…(29 chars)"
    assert TOKEN in outputs["revealed"] and COOKIE_VALUE in outputs["revealed"]


def test_no_code_prints_tracebacks_with_local_variables():
    offenders = []
    for path in sorted((ROOT / "inspector").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("show_locals=True", "capture_locals=True", "traceback.install(", "install(show_locals"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []
