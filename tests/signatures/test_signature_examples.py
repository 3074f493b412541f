"""The providers' own published examples: values copied from their docs and SDK test suites.

Each vector names its source. A vector the inspector signed itself would only prove that the
verifier agrees with itself; these prove it agrees with the provider.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from inspector.model import Headers
from inspector.signatures.base import Key, SignedRequest
from inspector.signatures.registry import scheme_for


def check(
    algorithm: str,
    headers: list[tuple[str, str]],
    body: bytes,
    secret: str,
    now: float = 0.0,
    url: str = "",
    method: str = "POST",
    header: str | None = None,
):
    scheme = scheme_for(algorithm)
    key = Key(secret, header or scheme.header, scheme.tolerance, now)
    return scheme.verify(SignedRequest(method, url, Headers(headers), body), key)


# Slack: https://docs.slack.dev/authentication/verifying-requests-from-slack/, also
# slackapi/python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_HEADERS = [
    ("X-Slack-Request-Timestamp", "1531420618"),
    ("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
]


def test_slack_documented_example():
    assert check("slack", SLACK_HEADERS, SLACK_BODY, SLACK_SECRET, now=1531420618).status == "valid"
    assert check("slack", SLACK_HEADERS, SLACK_BODY + b"------", SLACK_SECRET, now=1531420618).status == "invalid"
    # slack_sdk rejects the same request once five minutes have passed.
    assert check("slack", SLACK_HEADERS, SLACK_BODY, SLACK_SECRET, now=1531420618 + 301).status == "expired"


# Standard Webhooks: standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py
# (test_sign_function), the specification's own vector.
STANDARD_HEADERS = [
    ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
    ("webhook-timestamp", "1614265330"),
    ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
]


@pytest.mark.parametrize("secret", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
def test_standard_webhooks_specification_vector(secret):
    body = b'{"test": 2432232314}'
    assert check("standard-webhooks", STANDARD_HEADERS, body, secret, now=1614265330).status == "valid"
    bad = [h if h[0] != "webhook-signature" else (h[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=") for h in STANDARD_HEADERS]
    assert check("standard-webhooks", bad, body, secret, now=1614265330).status == "invalid"
    svix = [(k.replace("webhook-", "svix-"), v) for k, v in STANDARD_HEADERS]
    assert check("svix", svix, body, secret, now=1614265330, header="svix-signature").status == "valid"


# Square: square/square-python-sdk tests/integration/test_webhooks_helper.py.
SQUARE_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    b'"created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SQUARE_SIG = [("x-square-hmacsha256-signature", "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=")]
SQUARE_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
SQUARE_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


def test_square_sdk_vectors():
    assert check("square", SQUARE_SIG, SQUARE_BODY, SQUARE_KEY, url=SQUARE_URL).status == "valid"
    assert (
        check("square", SQUARE_SIG, SQUARE_BODY, SQUARE_KEY, url="https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9").status
        == "invalid"
    )
    assert check("square", SQUARE_SIG, SQUARE_BODY, "MCmhFRxGX82xMwg5FsaoQA", url=SQUARE_URL).status == "invalid"
    pretty = json.dumps(json.loads(SQUARE_BODY), indent=2).encode()
    assert check("square", SQUARE_SIG, pretty, SQUARE_KEY, url=SQUARE_URL).status == "invalid"
    escaped = [("x-square-hmacsha256-signature", "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=")]
    body = b'{"data":{"type":"webhooks","id":">id<"}}'
    assert check("square", escaped, body, "signature-key", url="https://webhook.site/webhooks").status == "valid"


# Twilio: twilio/twilio-python tests/unit/test_request_validator.py.
TWILIO_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309", "To": "+18005551212", "Caller": "+14158675309"}
FORM = [("Content-Type", "application/x-www-form-urlencoded")]


@pytest.mark.parametrize(
    "uri, signature",
    [
        (TWILIO_URI, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (TWILIO_URI.replace(".com", ".com:1234"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # removes the port on https
        (TWILIO_URI.replace(".com", ".com:1234").replace("https", "http"), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),  # keeps http's
        (TWILIO_URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443 added
        (TWILIO_URI.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # signed with :80 added
    ],
)
def test_twilio_sdk_form_vectors(uri, signature):
    body = urlencode(TWILIO_PARAMS).encode()
    headers = FORM + [("X-Twilio-Signature", signature)]
    assert check("twilio", headers, body, "12345", url=uri).status == "valid"
    assert check("twilio", headers, body, "54321", url=uri).status == "invalid"


def test_twilio_sdk_repeated_parameters_vector():
    body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
    headers = FORM + [("X-Twilio-Signature", "IK+Dwps556ElfBT0I3Rgjkr1wJU=")]
    assert check("twilio", headers, body, "12345", url=TWILIO_URI).status == "valid"


def test_twilio_sdk_json_body_vector():
    body = b'{"property": "value", "boolean": true}'
    uri = TWILIO_URI + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    headers = [("Content-Type", "application/json"), ("X-Twilio-Signature", "a9nBmqA0ju/hNViExpshrM61xv4=")]
    assert check("twilio", headers, body, "12345", url=uri).status == "valid"
    assert check("twilio", headers, body.replace(b"true", b"false"), "12345", url=uri).status == "invalid"


# Paddle Billing: PaddleHQ/paddle-python-sdk tests/Unit/Notification/test_Verifier.py (with an
# `h1=dummy` candidate and three secrets of which only the last signed).
PADDLE_HEADER = [("Paddle-Signature", "ts=1696195954;h1=dummy;h1=d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02")]


@pytest.mark.parametrize(
    "secret, status",
    [
        ("pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4", "invalid"),
        ("pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo", "invalid"),
        ("pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh", "valid"),
    ],
)
def test_paddle_sdk_vector(secret, status):
    assert check("paddle", PADDLE_HEADER, b"hello-world", secret, now=1696195954 + 5).status == status


def test_paddle_sdk_vector_is_stale_after_five_seconds():
    secret = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh"
    assert check("paddle", PADDLE_HEADER, b"hello-world", secret, now=1696195954 + 6).status == "expired"


# HubSpot v3: HubSpot/hubspot-api-python tests/spec/utils/test_signature.py (timestamp in ms).
def test_hubspot_v3_sdk_vector():
    headers = [("X-HubSpot-Signature-v3", "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="), ("X-HubSpot-Request-Timestamp", "15000000")]
    body = b"{'example_field':'example_value'}"
    secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
    url = "https://www.example.com/webhook_uri"
    assert check("hubspot-v3", headers, body, secret, now=15000, url=url).status == "valid"
    assert check("hubspot-v3", headers, body, secret, now=15000, url=url, method="PUT").status == "invalid"
    assert check("hubspot-v3", headers, body, secret, now=15000 + 301, url=url).status == "expired"


# SendGrid Event Webhook: sendgrid/sendgrid-python test/unit/test_eventwebhook.py.
SENDGRID_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SENDGRID_SIG = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
SENDGRID_BODY = (
    json.dumps(
        [
            {
                "email": "hello@world.com",
                "event": "dropped",
                "reason": "Bounced Address",
                "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
                "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                "timestamp": 1600112492,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    + "\r\n"
).encode()


def sendgrid_headers(signature: str = SENDGRID_SIG, timestamp: str = "1600112502"):
    return [("X-Twilio-Email-Event-Webhook-Signature", signature), ("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)]


def test_sendgrid_sdk_vectors():
    assert check("sendgrid", sendgrid_headers(), SENDGRID_BODY, SENDGRID_KEY).status == "valid"
    pem = "-----BEGIN PUBLIC KEY-----\n" + SENDGRID_KEY + "\n-----END PUBLIC KEY-----\n"
    assert check("sendgrid", sendgrid_headers(), SENDGRID_BODY, pem).status == "valid"
    other_key = (
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
    )
    assert check("sendgrid", sendgrid_headers(), SENDGRID_BODY, other_key).status == "invalid"
    assert check("sendgrid", sendgrid_headers(), b"payload", SENDGRID_KEY).status == "invalid"
    bad_sig = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0="
    assert check("sendgrid", sendgrid_headers(bad_sig), SENDGRID_BODY, SENDGRID_KEY).status == "invalid"
    assert check("sendgrid", sendgrid_headers(timestamp="timestamp"), SENDGRID_BODY, SENDGRID_KEY).status == "invalid"


# GitHub: docs.github.com "Validating webhook deliveries" test values.
def test_github_documented_example():
    headers = [("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
    assert check("github", headers, b"Hello, World!", "It's a Secret to Everybody").status == "valid"
    assert check("github", headers, b"Hello, World!\n", "It's a Secret to Everybody").status == "invalid"
