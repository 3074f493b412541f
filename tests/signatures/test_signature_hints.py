"""SPEC §3.1: every hint appears when its cause is real and stays away when it is not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from sig_cases import CASES, NOW, OTHER_SECRET, SECRET, STANDARD_SECRET, URL, replace_header

from inspector.config import Config, parse_config
from inspector.model import Headers, Request, SignatureResult
from inspector.signatures import verify_request
from inspector.signatures.base import Key, SignedRequest
from inspector.signatures.registry import scheme_for

PUBLIC = "https://abc123.ngrok-free.app"


def config(entries: dict, **top) -> Config:
    root = {"public_base_url": PUBLIC, "signatures": entries, **top}
    return parse_config(json.dumps({"events-webhook": root}), "answers.json", env={})


def entry(algorithm: str, secret: str = SECRET, **more) -> dict:
    return {"algorithm": algorithm, "secret": secret, **more}


def run(
    cfg: Config,
    event_type: str,
    headers,
    body: bytes,
    *,
    query: str = "",
    url: str | None = None,
    now: float = NOW,
    method: str = "POST",
    local_url: str | None = None,
) -> SignatureResult:
    path = f"/events/webhook/demo/{event_type}"
    request = Request(method, path, query, Headers(headers), body)
    called = url if url is not None else PUBLIC + path + ("?" + query if query else "")
    result = verify_request(cfg, request, event_type, called, now, local_url=local_url)
    shown = json.dumps(result.to_json())
    for secret in (SECRET, OTHER_SECRET, STANDARD_SECRET):
        assert secret not in shown
    return result


def has(result: SignatureResult, text: str) -> bool:
    return any(text in hint for hint in result.hints)


def sign(algorithm: str, body: bytes, secret: str = SECRET, at: float = NOW, url: str = "", method: str = "POST", headers=()) -> list:
    scheme = scheme_for(algorithm)
    return scheme.sign(SignedRequest(method, url, Headers(list(headers)), body), Key(secret, scheme.header, None, at))


BODY = b'{"type":"payment_intent.succeeded","amount":1200,"note":"d\xc3\xa9j\xc3\xa0 vu"}'


# Another configured secret.


def test_hint_names_the_entry_whose_secret_signed():
    cfg = config({"stripe": entry("stripe", "whsec_" + SECRET), "billing": entry("stripe", "whsec_" + OTHER_SECRET)})
    result = run(cfg, "stripe", sign("stripe", BODY, "whsec_" + OTHER_SECRET), BODY)
    assert result.status == "invalid"
    assert has(result, "matches the secret of `billing`")


def test_no_other_secret_hint_for_an_unknown_secret():
    cfg = config({"stripe": entry("stripe", "whsec_" + SECRET), "billing": entry("stripe", "whsec_" + OTHER_SECRET)})
    result = run(cfg, "stripe", sign("stripe", BODY, "whsec_unconfigured-secret-000000"), BODY)
    assert result.status == "invalid"
    assert not has(result, "matches the secret of")


def test_gitlab_token_of_another_entry_is_named_not_quoted():
    cfg = config({"gitlab": entry("gitlab"), "ops": entry("gitlab", OTHER_SECRET)})
    result = run(cfg, "gitlab", [("X-Gitlab-Token", OTHER_SECRET)], BODY)
    assert result.status == "invalid" and has(result, "matches the secret of `ops`")


# Trailing newline.


def test_hint_body_gained_a_trailing_newline():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY), BODY + b"\n")
    assert result.status == "invalid" and has(result, "without its trailing newline")


def test_hint_body_lost_its_trailing_newline():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY + b"\n"), BODY)
    assert result.status == "invalid" and has(result, "with a trailing newline")


def test_no_newline_hint_for_other_changes():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY), BODY.replace(b"1200", b"1300") + b"\n")
    assert result.status == "invalid" and not has(result, "trailing newline")


# JSON re-serialized.


DATA = json.loads(BODY)


@pytest.mark.parametrize(
    "signed, received, label",
    [
        (BODY, json.dumps(DATA, indent=2, ensure_ascii=False), "compact JSON:"),
        (json.dumps(DATA), json.dumps(DATA, separators=(",", ":")), "JSON with spaces after `,` and `:` with non-ASCII escaped as \\u:"),
        (
            json.dumps(DATA, separators=(",", ":"), sort_keys=True),
            json.dumps(DATA, indent=4),
            "compact JSON with keys sorted and non-ASCII escaped as \\u:",
        ),
    ],
)
def test_hint_json_was_re_serialized(signed, received, label):
    cfg = config({"shopify": entry("shopify")})
    signed = signed if isinstance(signed, bytes) else signed.encode()
    result = run(cfg, "shopify", sign("shopify", signed), received.encode())
    assert result.status == "invalid"
    assert has(result, f"re-serialized as {label}")


def test_no_json_hint_when_the_content_changed():
    cfg = config({"shopify": entry("shopify")})
    data = json.loads(BODY) | {"amount": 1}
    result = run(cfg, "shopify", sign("shopify", BODY), json.dumps(data, indent=2).encode())
    assert result.status == "invalid" and not has(result, "re-serialized")


# Standard Webhooks secret: raw instead of base64-decoded, and the reverse.


def standard_headers(key: bytes, body: bytes, ts: str = str(int(NOW))):
    content = b"msg_1." + ts.encode() + b"." + body
    sig = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return [("webhook-id", "msg_1"), ("webhook-timestamp", ts), ("webhook-signature", f"v1,{sig}")]


@pytest.mark.parametrize(
    "raw_key, how",
    [
        (STANDARD_SECRET.encode(), "the whole secret, `whsec_` included, as text"),
        (STANDARD_SECRET[len("whsec_") :].encode(), "the part after `whsec_` as text"),
    ],
)
def test_hint_standard_webhooks_secret_used_raw(raw_key, how):
    cfg = config({"standard-webhooks": entry("standard-webhooks", STANDARD_SECRET)})
    result = run(cfg, "standard-webhooks", standard_headers(raw_key, BODY), BODY)
    assert result.status == "invalid"
    assert has(result, f"used raw ({how}) instead of base64-decoded")


def test_no_raw_secret_hint_for_a_wrong_secret():
    cfg = config({"standard-webhooks": entry("standard-webhooks", STANDARD_SECRET)})
    result = run(cfg, "standard-webhooks", standard_headers(b"some-unrelated-key-material", BODY), BODY)
    assert result.status == "invalid" and not has(result, "used raw") and not has(result, "base64-decoded secret")


def test_hint_whsec_secret_base64_decoded_where_used_as_is():
    secret = "whsec_" + base64.b64encode(b"thirty-two-bytes-of-key-material").decode()
    cfg = config({"stripe": entry("stripe", secret)})
    ts = str(int(NOW))
    mac = hmac.new(b"thirty-two-bytes-of-key-material", ts.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    result = run(cfg, "stripe", [("Stripe-Signature", f"t={ts},v1={mac}")], BODY)
    assert result.status == "invalid"
    assert has(result, "matches the base64-decoded secret") and has(result, "stripe uses the secret as-is")
    assert secret not in json.dumps(result.to_json())


def test_no_decoded_secret_hint_when_signed_with_another_secret():
    secret = "whsec_" + base64.b64encode(b"thirty-two-bytes-of-key-material").decode()
    cfg = config({"stripe": entry("stripe", secret)})
    result = run(cfg, "stripe", sign("stripe", BODY, "whsec_" + OTHER_SECRET), BODY)
    assert result.status == "invalid" and not has(result, "base64-decoded")


# Timestamp skew, its direction, and the seconds/milliseconds mix-up.


def test_hint_skew_in_the_past():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY, at=NOW - 400), BODY)
    assert result.status == "expired"
    assert has(result, "400 s in the past")
    assert not has(result, "looks like unix")


def test_hint_skew_in_the_future():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY, at=NOW + 400), BODY)
    assert result.status == "expired" and has(result, "400 s in the future")


def test_valid_request_has_no_hints():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY, at=NOW - 3), BODY)
    assert result.status == "valid" and result.hints == ()


def test_hint_seconds_where_milliseconds_belong():
    cfg = config({"hubspot-v3": entry("hubspot-v3")})
    path_url = PUBLIC + "/events/webhook/demo/hubspot-v3"
    ts = str(int(NOW) - 20)  # seconds, not milliseconds
    mac = base64.b64encode(hmac.new(SECRET.encode(), b"POST" + path_url.encode() + BODY + ts.encode(), hashlib.sha256).digest()).decode()
    result = run(cfg, "hubspot-v3", [("X-HubSpot-Signature-v3", mac), ("X-HubSpot-Request-Timestamp", ts)], BODY)
    assert result.status == "expired"
    assert has(result, "looks like unix seconds, but hubspot-v3 timestamps are in milliseconds: read as seconds it is 20 s ago")
    assert not has(result, "relative to this machine's clock")


def test_hint_milliseconds_where_seconds_belong():
    cfg = config({"slack": entry("slack")})
    ts = str(int(NOW * 1000))
    mac = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + BODY, hashlib.sha256).hexdigest()
    result = run(cfg, "slack", [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", f"v0={mac}")], BODY)
    assert result.status == "expired"
    assert has(result, "looks like unix milliseconds, but slack timestamps are in seconds")


def test_no_unit_hint_for_a_plain_old_signature():
    cfg = config({"linear": entry("linear")})
    result = run(cfg, "linear", sign("linear", BODY, at=NOW - 3600), BODY)
    assert result.status == "expired"
    assert not has(result, "looks like unix") and has(result, "3600 s in the past")


# Another provider's header, a header name with a typo.


def test_hint_another_providers_header():
    cfg = config({"github": entry("github")})
    result = run(cfg, "github", sign("stripe", BODY, "whsec_" + SECRET), BODY)
    assert result.status == "missing"
    assert has(result, "carries `Stripe-Signature`, the signature header of stripe")


def test_hint_shared_header_names_every_provider_reading_it():
    cfg = config({"github": entry("github")})
    result = run(cfg, "github", [("X-Hub-Signature", "sha1=" + "0" * 40)], BODY)
    assert has(result, "the signature header of bitbucket, intercom or sha1")


def test_no_provider_header_hint_without_one():
    cfg = config({"github": entry("github")})
    result = run(cfg, "github", [("Content-Type", "application/json")], BODY)
    assert result.status == "missing" and not has(result, "carries `")


def test_hint_header_name_typo():
    cfg = config({"slack": entry("slack")})
    headers = [(k.replace("X-Slack-Signature", "X-Slack-Signatur"), v) for k, v in sign("slack", BODY)]
    result = run(cfg, "slack", headers, BODY)
    assert result.status == "missing"
    assert has(result, "`X-Slack-Signatur`, which is close to the expected `X-Slack-Signature`")


def test_no_typo_hint_for_unrelated_headers():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", [("X-Request-Id", "abc"), ("X-Slack-Retry-Num", "1")], BODY)
    assert result.status == "missing" and not has(result, "close to the expected")


# Short secret.


def test_hint_short_secret():
    cfg = config({"typeform": entry("typeform", "tiny")})
    result = run(cfg, "typeform", sign("typeform", BODY, "other"), BODY)
    assert result.status == "invalid" and has(result, "only 4 characters")


def test_no_short_secret_hint_for_a_real_secret():
    cfg = config({"typeform": entry("typeform")})
    result = run(cfg, "typeform", sign("typeform", BODY, OTHER_SECRET), BODY)
    assert result.status == "invalid" and not has(result, "characters")


# Which URL a URL-signing scheme's sender signed.


def test_hint_square_signed_the_local_address_from_the_host_header():
    cfg = config({"square": entry("square")})
    local = "http://localhost:8080/events/webhook/demo/square"
    headers = sign("square", BODY, url=local) + [("Host", "localhost:8080")]
    result = run(cfg, "square", headers, BODY)
    assert result.status == "invalid"
    assert has(result, f"matches the URL `{local}` (the address in the request's `Host` header)")
    assert has(result, "`http` instead of `https`") and has(result, "host `localhost` instead of `abc123.ngrok-free.app`")


def test_hint_url_signed_is_where_the_request_reached_this_machine():
    cfg = config({"square": entry("square")})
    local = "http://127.0.0.1:8080/events/webhook/demo/square"
    result = run(cfg, "square", sign("square", BODY, url=local), BODY, local_url=local)
    assert has(result, f"matches the URL `{local}` (where the request reached this machine)")


def test_hint_hubspot_signed_without_the_query():
    cfg = config({"hubspot-v3": entry("hubspot-v3")})
    bare = PUBLIC + "/events/webhook/demo/hubspot-v3"
    result = run(cfg, "hubspot-v3", sign("hubspot-v3", BODY, url=bare), BODY, query="portalId=62515")
    assert result.status == "invalid"
    assert has(result, f"matches the URL `{bare}` — without the query string —")


def test_hint_twilio_signed_http_not_https():
    cfg = config({"twilio": entry("twilio")})
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    body = b"From=%2B15550100&Body=hi"
    http = "http://abc123.ngrok-free.app/events/webhook/demo/twilio"
    result = run(cfg, "twilio", sign("twilio", body, url=http, headers=form) + form, body)
    assert result.status == "invalid" and has(result, "`http` instead of `https`")


def test_hint_square_signed_with_an_explicit_port():
    cfg = config({"square": entry("square")})
    with_port = PUBLIC + ":443/events/webhook/demo/square"
    result = run(cfg, "square", sign("square", BODY, url=with_port), BODY)
    assert has(result, "— with port 443 —")


def test_no_url_hint_when_the_secret_is_wrong():
    cfg = config({"square": entry("square")})
    result = run(cfg, "square", sign("square", BODY, OTHER_SECRET, url="http://localhost:8080/x") + [("Host", "localhost:8080")], BODY)
    assert result.status == "invalid" and not has(result, "matches the URL")


def test_no_url_hint_for_a_scheme_that_does_not_sign_the_url():
    cfg = config({"slack": entry("slack")})
    result = run(cfg, "slack", sign("slack", BODY, OTHER_SECRET) + [("Host", "localhost:8080")], BODY)
    assert result.status == "invalid" and not has(result, "matches the URL")


# White space around the secret (kept from the receiver issue).


def test_hint_secret_with_white_space():
    cfg = config({"zoom": entry("zoom", SECRET + " ")})
    result = run(cfg, "zoom", sign("zoom", BODY, SECRET), BODY)
    assert result.status == "invalid" and has(result, "white space")


# Nothing ever quotes a secret or a received token.


FAILURES = ["wrong secret", "tampered", "missing", "malformed", "old"]


@pytest.mark.parametrize("algorithm", sorted(CASES))
def test_no_output_quotes_a_secret(algorithm):
    case = CASES[algorithm]
    cfg = config({algorithm: entry(algorithm, case.secret), "spare": entry(algorithm, case.other_secret)})
    headers = list(case.base_headers)
    for failure in FAILURES:
        signed = case.sign(at=NOW - 100_000 if failure == "old" else NOW)
        body = case.body + (b"!" if failure == "tampered" else b"")
        if failure == "wrong secret":
            result = run(config({algorithm: entry(algorithm, case.other_secret)}), algorithm, headers + signed, body, url=URL)
        else:
            if failure == "missing":
                signed = replace_header(signed, case.header, None)
            if failure == "malformed":
                signed = replace_header(signed, case.header, case.malformed)
            result = run(cfg, algorithm, headers + signed, body, url=URL)
        shown = json.dumps(result.to_json())
        for secret in (case.secret, case.other_secret):
            assert secret not in shown, (failure, shown)
        assert result.reason


def test_unrouted_request_reason_does_not_name_a_missing_event_type():
    from inspector.model import Headers, Request

    cfg = parse_config(
        json.dumps(
            {
                "events-webhook": {
                    "signatures": {"github": {"header": "X-Hub-Signature-256", "algorithm": "sha256", "secret": "s3cret-value-long"}}
                }
            }
        ),
        "answers.json",
        env={},
    )
    result = verify_request(cfg, Request("POST", "/nope", "", Headers(), b""), None, "http://127.0.0.1:8080/nope")
    assert result.status == "unsigned"
    assert "None" not in result.reason and "`github`" in result.reason
