"""The CLI with Greentic-shaped flows (issue #20): `init --greentic` writes a pack that `check`
accepts, printing per flow its entry node, entry points, mocked nodes and webhook URL; load
problems are printed at file:line:col."""

from __future__ import annotations

from tests.conftest import run_cli

ENV = {"NGROK_AUTHTOKEN": ""}


def test_init_greentic_then_check_lists_each_flow_and_its_url(tmp_path):
    r = run_cli("init", "--greentic", cwd=tmp_path, env=ENV)
    assert r.returncode == 0, r.stderr
    assert b"wrote " in r.stdout and (tmp_path / "pack" / "pack.yaml").is_file()
    assert not (tmp_path / "answers.json").exists()  # the pack only
    r = run_cli("check", "--flows", "pack", "--port", "8123", cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 0, (text, r.stderr)
    assert "flows: 2 ok (pack)" in text
    assert "greentic flows (source pack):" in text
    assert "  default (events) pack/flows/on_webhook.ygtc: entry node in; entrypoints: default" in text
    assert "    webhook: http://127.0.0.1:8123/v1/events/ingress/webhook/demo/default/default" in text
    assert "  notify (messaging) pack/flows/notify.ygtc: entry node post; entrypoints: none" in text
    assert "    mocked: post (chat-post)" in text
    r = run_cli("init", "--greentic", cwd=tmp_path, env=ENV)
    assert r.returncode == 2 and b"never overwrites" in r.stderr


def test_check_prints_greentic_problems_at_their_position(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "bad.ygtc").write_text(
        "id: bad\ntype: events\nnodes:\n  in:\n    emit.log: {}\n    routing:\n      - to: nowhere\n"
    )
    r = run_cli("check", cwd=tmp_path, env=ENV)
    text = r.stdout.decode()
    assert r.returncode == 1
    assert "flows/bad.ygtc:7:" in text and "nowhere" in text
    assert "flows: 0 ok, 1 invalid (flows)" in text
