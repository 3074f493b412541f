"""Choosing a tunnel, finding ngrok and its authtoken, and explaining failures: the pure parts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inspector.tunnel import (
    NgrokBinary,
    NgrokTunnel,
    NoTunnel,
    PublicUrl,
    TunnelFailure,
    explain_ngrok_failure,
    find_authtoken,
    find_ngrok,
    public_base_url_note,
    trigger_urls,
    tunnel_from_options,
    upstream_url,
)


def executable(path, text="#!/bin/sh\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_binary_lookup_order(tmp_path):
    option = executable(tmp_path / "opt" / "ngrok")
    var = executable(tmp_path / "var" / "ngrok")
    on_path = executable(tmp_path / "bin" / "ngrok")
    default = executable(tmp_path / "default" / "ngrok")
    env = {"NGROK_PATH": var, "PATH": str(tmp_path / "bin")}
    assert find_ngrok(option, env, default_path=default) == NgrokBinary(option, "--ngrok-path")
    assert find_ngrok(None, env, default_path=default) == NgrokBinary(var, "NGROK_PATH")
    assert find_ngrok(None, {"PATH": str(tmp_path / "bin")}, default_path=default) == NgrokBinary(on_path, "PATH")
    assert find_ngrok(None, {"PATH": ""}, default_path=default) == NgrokBinary(default, "pyngrok's default path")
    assert find_ngrok(None, {"PATH": "", "PYNGROK_NGROK_PATH": default}) == NgrokBinary(default, "pyngrok's default path")
    assert find_ngrok(None, {"PATH": ""}, default_path=str(tmp_path / "absent")) is None  # → download


def test_a_named_binary_that_does_not_work_is_an_error(tmp_path):
    not_exec = tmp_path / "ngrok.txt"
    not_exec.write_text("hi")
    with pytest.raises(TunnelFailure) as exc:
        find_ngrok(None, {"NGROK_PATH": str(not_exec), "PATH": ""})
    assert exc.value.reason == f"the ngrok binary given by NGROK_PATH ({not_exec}) is not an executable file"
    assert "NGROK_PATH" in exc.value.fix


def test_authtoken_from_env_then_v3_then_v2_config(tmp_path):
    v3 = tmp_path / "v3.yml"
    v3.write_text('version: "3"\nagent:\n  authtoken: tok-v3\n')
    v2 = tmp_path / "v2.yml"
    v2.write_text("authtoken: tok-v2\n")
    broken = tmp_path / "broken.yml"
    broken.write_text("agent: [unclosed\n")
    assert find_authtoken({"NGROK_AUTHTOKEN": "tok-env"}, [str(v3)]).source == "NGROK_AUTHTOKEN"
    found = find_authtoken({}, [str(broken), str(tmp_path / "missing.yml"), str(v3), str(v2)])
    assert (found.token, found.config_path) == ("tok-v3", str(v3))
    assert find_authtoken({}, [str(v2)]).token == "tok-v2"
    assert find_authtoken({}, [str(broken)]) is None
    assert "tok-v3" not in repr(found)  # never printed by accident


def test_default_config_locations_follow_xdg(tmp_path):
    home = tmp_path / "home"
    config = home / "xdg" / "ngrok" / "ngrok.yml"
    config.parent.mkdir(parents=True)
    config.write_text("agent:\n  authtoken: t\n")
    if sys.platform not in ("darwin", "win32"):
        assert find_authtoken({"HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg")}).config_path == str(config)
    legacy = home / ".ngrok2" / "ngrok.yml"
    legacy.parent.mkdir()
    legacy.write_text("authtoken: old\n")
    assert find_authtoken({"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "none")}).token == "old"


def test_choosing_a_tunnel(tmp_path):
    no_token = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    auto = tunnel_from_options("auto", env=no_token)
    assert isinstance(auto, NoTunnel) and auto.status.state == "off"
    assert auto.status.reason.startswith("no tunnel: no ngrok authtoken found (NGROK_AUTHTOKEN, ")
    assert "NGROK_AUTHTOKEN" in auto.status.fix and "--public-url" in auto.status.fix
    assert isinstance(tunnel_from_options("auto", env=dict(no_token, NGROK_AUTHTOKEN="t")), NgrokTunnel)
    assert isinstance(tunnel_from_options("ngrok", env=no_token), NgrokTunnel)
    assert isinstance(tunnel_from_options("none", env=dict(no_token, NGROK_AUTHTOKEN="t")), NoTunnel)
    assert isinstance(tunnel_from_options("auto", "https://x.example", env=no_token), PublicUrl)
    assert isinstance(tunnel_from_options("none", "https://x.example", env=no_token), PublicUrl)
    both = tunnel_from_options("ngrok", "https://x.example", env=no_token)
    assert both.status.state == "failed" and both.status.reason == "--tunnel ngrok and --public-url both given"


@pytest.mark.parametrize(
    "error, code, expected",
    [
        (
            "authentication failed: Your account is limited to 1 simultaneous ngrok agent sessions.\\r\\n\\r\\nERR_NGROK_108",
            "ERR_NGROK_108",
            "ngrok refused a second agent session for this account (ERR_NGROK_108)",
        ),
        (
            'Your ngrok-agent version \\"2.3.0\\" is too old.\\nERR_NGROK_121',
            "ERR_NGROK_121",
            "this ngrok agent is too old for the ngrok service (ERR_NGROK_121)",
        ),
        (
            "authentication failed: The authtoken credential has been revoked\\r\\n\\r\\nERR_NGROK_107\\r\\n",
            None,
            "ngrok refused the authtoken (ERR_NGROK_107: The authtoken credential has been revoked)",
        ),
        (
            'failed to dial ngrok server with address \\"connect.ngrok-agent.com:443\\": dial tcp 1.2.3.4:443: i/o timeout',
            None,
            'ngrok cannot reach its service — are you offline? (failed to dial ngrok server with address "connect.ngrok-agent.com:443": dial tcp 1.2.3.4:443: i/o timeout)',
        ),
    ],
)
def test_explaining_ngrok_errors(error, code, expected):
    reason, fix = explain_ngrok_failure(error, code, binary="/usr/bin/ngrok", local_url="http://127.0.0.1:8080")
    assert reason == expected and fix


def test_explaining_an_agent_too_old_for_api_endpoints():
    reason, fix = explain_ngrok_failure(
        None, None, binary="ngrok", local_url="http://127.0.0.1:8080", timed_out=True, timeout=20, saw_session=True
    )
    assert reason.startswith("ngrok started a session, but its local API did not answer /api/endpoints within 20 s")
    assert fix == 'update ngrok (`ngrok update`), or put `version: "2"` in ngrok.yml'


def test_upstream_is_always_a_reachable_address():
    assert upstream_url("http://0.0.0.0:8080") == "http://127.0.0.1:8080"
    assert upstream_url("http://[::]:8080") == "http://[::1]:8080"
    assert upstream_url("http://127.0.0.1:5") == "http://127.0.0.1:5"


def test_urls_to_paste_and_the_public_base_url_note():
    from types import SimpleNamespace

    from inspector.config import Config
    from inspector.pipeline import Pipeline

    trigger = lambda ev: SimpleNamespace(type="event", event_type=ev)  # noqa: E731
    flows = SimpleNamespace(flows=[SimpleNamespace(name="orders", triggers=[trigger("order.created"), trigger("order.*")])])
    pipeline = Pipeline(Config(), public_url="https://abc.ngrok-free.app")
    urls = [t.url for t in trigger_urls(flows, pipeline, "demo")]
    assert urls == [
        "https://abc.ngrok-free.app/events/webhook/demo/order.created",
        "https://abc.ngrok-free.app/events/webhook/demo/order.{anything}",
    ]
    assert public_base_url_note("https://abc.ngrok-free.app/", "https://abc.ngrok-free.app") is None
    assert public_base_url_note("https://hooks.mycompany.dev", "https://abc.ngrok-free.app").startswith(
        "answers.json's public_base_url is https://hooks.mycompany.dev, but senders must call https://abc.ngrok-free.app"
    )
    # A placeholder (what init writes, an .example host) is said to be one.
    assert public_base_url_note("https://old.example", "https://abc.ngrok-free.app").startswith(
        "answers.json's public_base_url (https://old.example) is a placeholder; senders must call https://abc.ngrok-free.app"
    )


def test_the_tunnel_module_imports_neither_textual_nor_pyngrok_up_front():
    code = "import sys, inspector.tunnel, inspector.cli; print('textual' in sys.modules, 'pyngrok' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ))
    assert out.stdout.split() == ["False", "False"]
