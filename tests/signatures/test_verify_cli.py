"""`webhook-inspector verify` (SPEC §10) end to end: a real subprocess, a real answers.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_signature_examples import SENDGRID_BODY, SENDGRID_KEY, SLACK_BODY, SLACK_HEADERS, SLACK_SECRET, sendgrid_headers

from inspector.model import Headers
from inspector.signatures.base import Key, SignedRequest
from inspector.signatures.registry import scheme_for

PUBLIC = "https://abc123.ngrok-free.app"
GITLAB_SECRET = "gitlab-secret-token-0123456789"
TWILIO_TOKEN = "twilio-auth-token-0123456789"


def answers(tmp_path: Path, signatures: dict, public: str = PUBLIC) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"events-webhook": {"public_base_url": public, "signatures": signatures}}))
    return path


def verify(
    answers_file: Path, event_type: str, headers: list[tuple[str, str]], *extra: str, body: str | None = None, body_file: Path | None = None
):
    args = [sys.executable, "-m", "inspector", "--answers", str(answers_file), "verify", "--event-type", event_type, "--json"]
    for name, value in headers:
        args += ["-H", f"{name}: {value}"]
    args += ["--body-file", str(body_file)] if body_file else ["--body", body or ""]
    done = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout), done.stdout + done.stderr


def test_slack_official_example_is_valid_at_its_own_time(tmp_path):
    cfg = answers(tmp_path, {"slack": {"algorithm": "slack", "secret": SLACK_SECRET}})
    code, result, _ = verify(cfg, "slack", SLACK_HEADERS, "--now", "1531420618", body=SLACK_BODY.decode())
    assert code == 0
    assert result["status"] == "valid" and result["scheme"] == "slack" and result["algorithm"] == "slack"
    assert result["header"] == "X-Slack-Signature"


def test_slack_official_example_expires_and_says_by_how_much(tmp_path):
    cfg = answers(tmp_path, {"slack": {"algorithm": "slack", "secret": SLACK_SECRET}})
    code, result, output = verify(cfg, "slack", SLACK_HEADERS, "--now", str(1531420618 + 900), body=SLACK_BODY.decode())
    assert code == 1
    assert result["status"] == "expired"
    assert any("900 s in the past" in hint for hint in result["hints"])
    assert SLACK_SECRET not in output


def test_twilio_official_vector_with_url(tmp_path):
    cfg = answers(tmp_path, {"twilio": {"algorithm": "twilio", "secret": "12345"}})
    headers = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")]
    body = "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309"
    code, result, _ = verify(cfg, "twilio", headers, "--url", "https://mycompany.com/myapp.php?foo=1&bar=2", body=body)
    assert (code, result["status"]) == (0, "valid")
    code, result, _ = verify(cfg, "twilio", headers, "--url", "https://mycompany.com/myapp.php?foo=1", body=body)
    assert (code, result["status"]) == (1, "invalid")
    assert "https://mycompany.com/myapp.php?foo=1" in result["reason"]  # the URL it checked against


def test_twilio_signed_for_the_local_address_is_diagnosed(tmp_path):
    cfg = answers(tmp_path, {"twilio": {"algorithm": "twilio", "secret": TWILIO_TOKEN}})
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    body = "From=%2B15550100&Body=hello"
    local = "http://localhost:8080/events/webhook/demo/twilio"
    signed = scheme_for("twilio").sign(
        SignedRequest("POST", local, Headers(form), body.encode()), Key(TWILIO_TOKEN, "X-Twilio-Signature", None, 0)
    )
    code, result, output = verify(cfg, "twilio", form + signed + [("Host", "localhost:8080")], body=body)
    assert code == 1 and result["status"] == "invalid"
    assert any(f"matches the URL `{local}`" in hint and "`Host` header" in hint for hint in result["hints"])
    assert TWILIO_TOKEN not in output


def test_hubspot_method_is_part_of_the_signature(tmp_path):
    cfg = answers(tmp_path, {"hubspot-v3": {"algorithm": "hubspot-v3", "secret": "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"}})
    headers = [("X-HubSpot-Signature-v3", "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="), ("X-HubSpot-Request-Timestamp", "15000000")]
    common = ("--url", "https://www.example.com/webhook_uri", "--now", "15010")
    body = "{'example_field':'example_value'}"
    assert verify(cfg, "hubspot-v3", headers, *common, body=body)[0] == 0
    code, result, _ = verify(cfg, "hubspot-v3", headers, *common, "--method", "PUT", body=body)
    assert (code, result["status"]) == (1, "invalid")


def test_sendgrid_official_vector_from_a_body_file(tmp_path):
    cfg = answers(tmp_path, {"sendgrid": {"algorithm": "sendgrid", "secret": SENDGRID_KEY}})
    body_file = tmp_path / "events.json"
    body_file.write_bytes(SENDGRID_BODY)
    code, result, _ = verify(cfg, "sendgrid", sendgrid_headers(), body_file=body_file)
    assert (code, result["status"]) == (0, "valid")
    body_file.write_bytes(SENDGRID_BODY.rstrip(b"\r\n") + b"\n")
    code, result, _ = verify(cfg, "sendgrid", sendgrid_headers(), body_file=body_file)
    assert (code, result["status"]) == (1, "invalid")


def test_gitlab_token_never_printed(tmp_path):
    cfg = answers(tmp_path, {"gitlab": {"algorithm": "gitlab", "secret": GITLAB_SECRET}})
    code, result, output = verify(cfg, "gitlab", [("X-Gitlab-Token", GITLAB_SECRET)], body="{}")
    assert (code, result["status"]) == (0, "valid")
    assert GITLAB_SECRET not in output
    sent = "glpat-some-other-token-987654321"
    code, result, output = verify(cfg, "gitlab", [("X-Gitlab-Token", sent)], body="{}")
    assert (code, result["status"]) == (1, "invalid")
    assert GITLAB_SECRET not in output and sent not in output


def test_discord_public_key_must_be_hex(tmp_path):
    cfg = answers(tmp_path, {"discord": {"algorithm": "discord", "secret": "not-a-public-key"}})
    code, result, output = verify(cfg, "discord", [("X-Signature-Ed25519", "00" * 64), ("X-Signature-Timestamp", "1")], body="{}")
    assert code == 1 and result["status"] == "error"
    assert "64 hex digits" in result["reason"]
