"""Captures as fixtures for the user's own app and as redacted bundles a teammate imports
(issue #19 items 4 and 5): the core, on real captures made by the real pipeline and flows."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from inspector import samples
from inspector.bundle import MARKER, BundleError, parse_path, read_bundle, redact_body, resign, to_bundle
from inspector.config import Config, SignatureEntry, load_config
from inspector.export import ImportFailed, read_imported
from inspector.fixtures import FixtureError, fixture_name, load_fixture, read_fixture, to_fixture, write_fixtures
from inspector.flow import Engine, FlowSet
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.pipeline import Pipeline
from inspector.signatures import Masker, SigningError, sign, verify_request
from inspector.store import Store
from tests.conftest import GITHUB_SECRET, ROOT, STRIPE_SECRET

PLANTED = "planted-bearer-9f8e7d6c5b4a"


async def captured(tmp_path: Path, *names: str, extra: tuple[tuple[str, str], ...] = ()) -> tuple[Path, list[Capture]]:
    """Real captures: each sample through the pipeline and the bundled flows into a store."""
    config = load_config(ROOT / "answers.example.json")
    path = tmp_path / "captures.sqlite3"
    store = Store(path)
    pipeline = Pipeline(config, store, engine=Engine(FlowSet.load(ROOT / "flows")), clock=lambda: 1_700_000_000.0)
    out = []
    try:
        for name in names:
            request, _ = samples.build(name, config, signed_url_base=pipeline.base_url, now=1_700_000_000.0, mark=False)
            if extra:
                headers = request.headers
                for k, v in extra:
                    headers = headers.with_set(k, v)
                request = Request(request.method, request.path, request.query, headers, request.body, "127.0.0.1", request.received_at)
            capture = await pipeline.handle(request, now=1_700_000_000.0, wait=True)
            out.append(store.get(capture.id))
        await pipeline.drain(5)
    finally:
        await pipeline.close()
        store.close()
    return path, out


# sign()


def test_sign_gives_a_request_that_verifies_and_replaces_the_old_signature():
    request = Request(
        "POST", "/hook", "", Headers([("Content-Type", "application/json"), ("X-Hub-Signature-256", "sha256=old")]), b'{"a":1}'
    )
    signed = sign("github", "test-secret", request, now=1_700_000_000.0)
    assert signed.headers.get_all("X-Hub-Signature-256") != ["sha256=old"] and len(signed.headers.get_all("X-Hub-Signature-256")) == 1
    config = Config(signatures=(SignatureEntry("github", "github", None, "test-secret"),))
    assert verify_request(config, signed, "github", "http://localhost/hook", 1_700_000_000.0).status == "valid"
    wrong = Config(signatures=(SignatureEntry("github", "github", None, "another-secret"),))
    assert verify_request(wrong, signed, "github", "http://localhost/hook", 1_700_000_000.0).status == "invalid"


def test_sign_refuses_what_it_cannot_sign_with_a_sentence():
    request = Request("POST", "/hook", "", Headers(), b"{}")
    with pytest.raises(SigningError, match="unknown signature scheme 'nope'; use one of"):
        sign("nope", "s", request)
    with pytest.raises(SigningError, match="public-key scheme"):
        sign("discord", "s", request)
    with pytest.raises(SigningError, match="secret is empty"):
        sign("github", "", request)
    with pytest.raises(SigningError, match="expected a Request or a fixture"):
        sign("github", "s", {"body": "{}"})


# Fixtures


async def test_a_fixture_holds_the_request_the_scheme_and_the_answer(tmp_path):
    _, [push, paid] = await captured(tmp_path, "github.push", "stripe.payment_intent.succeeded", extra=(("Authorization", PLANTED),))
    assert fixture_name(push) == f"github-push-{push.id}.json"
    assert fixture_name(paid) == f"stripe-payment_intent.succeeded-{paid.id}.json"
    data = to_fixture(push, Masker(load_config(ROOT / "answers.example.json")))
    assert data["method"] == "POST" and data["path"] == "/events/webhook/demo/github" and data["query"] == ""
    assert data["body_encoding"] == "text" and data["body"].encode() == push.request.body
    assert data["content_type"] == "application/json"
    assert data["signature"] == {"scheme": "github", "algorithm": "sha256", "header": "X-Hub-Signature-256", "status": "valid"}
    assert data["answer"]["status"] == push.response.status == 200
    assert PLANTED not in json.dumps(data)  # secret-bearing headers are masked as every export masks them
    fixture = read_fixture(json.loads(json.dumps(data)))
    assert fixture.request.body == push.request.body and fixture.scheme == "sha256" and fixture.header == "X-Hub-Signature-256"
    assert fixture.answer is not None and fixture.answer["body_bytes"] == push.response.body


async def test_fixture_names_are_file_names_whatever_the_event_says(tmp_path):
    _, [order] = await captured(tmp_path, "shopify.orders.create")
    assert fixture_name(order) == f"shopify-orders_create-{order.id}.json"
    odd = order.with_(
        request=Request("POST", "/x", "", Headers([("X-GitHub-Event", "../../etc/passwd\x00")]), b""), signature=SignatureResult("unsigned")
    )
    name = fixture_name(odd.with_(event_type=None))
    assert "/" not in name and "\x00" not in name and name == f"webhook-etc_passwd-{order.id}.json"


async def test_a_binary_body_travels_as_base64(tmp_path):
    _, [push] = await captured(tmp_path, "github.push")
    binary = push.with_(request=Request("POST", push.request.path, "", push.request.headers, b"\xff\x00\x01", "x", 0.0))
    data = to_fixture(binary)
    assert data["body_encoding"] == "base64" and base64.b64decode(data["body"]) == b"\xff\x00\x01"
    assert read_fixture(data).body == b"\xff\x00\x01"


async def test_write_fixtures_makes_the_folder_and_one_private_file_each(tmp_path):
    _, captures = await captured(tmp_path, "github.push", "github.ping")
    written = write_fixtures(captures, str(tmp_path / "out" / "fixtures"))
    assert sorted(p.name for p in written) == sorted(fixture_name(c) for c in captures)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)
    assert load_fixture(written[0]).request.body == captures[0].request.body
    (tmp_path / "file").write_text("x")
    with pytest.raises(FixtureError, match="exists and is not a folder"):
        write_fixtures(captures, str(tmp_path / "file"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("method"), "the field `method` is missing"),
        (lambda d: d.pop("body"), "the field `body` is missing"),
        (lambda d: d.update(body_encoding="hex"), '`body_encoding` is \'hex\'; use "text" or "base64"'),
        (lambda d: d.update(headers="x"), "`headers` should be list, got a string"),
        (lambda d: d.update(webhook_inspector_fixture=99), "fixture version 99 was written by a newer webhook-inspector"),
        (lambda d: d.pop("webhook_inspector_fixture"), "not a webhook-inspector fixture"),
        (lambda d: d.update(method="GE T"), "not an HTTP method token"),
    ],
)
async def test_a_fixture_with_a_missing_or_wrong_field_is_one_clear_error(tmp_path, change, message):
    _, [push] = await captured(tmp_path, "github.push")
    data = to_fixture(push)
    change(data)
    with pytest.raises(FixtureError) as caught:
        read_fixture(data, "x.json")
    assert message in str(caught.value) and str(caught.value).startswith("x.json") and "\n" not in str(caught.value)


async def test_a_fixture_signed_with_a_test_secret_verifies(tmp_path):
    _, [push] = await captured(tmp_path, "github.push")
    written = write_fixtures([push], str(tmp_path / "fx"))
    fixture = load_fixture(written[0])
    signed = sign(fixture.scheme, "test-secret", fixture)
    config = Config(signatures=(SignatureEntry("github", "sha256", "X-Hub-Signature-256", "test-secret"),))
    assert verify_request(config, signed, "github", "http://localhost" + signed.target).status == "valid"


# Bundles


def test_redact_paths_parse_and_malformed_ones_say_how_to_write_them():
    assert parse_path("$.customer.email").steps == ("customer", "email")
    assert parse_path("$.items[0].email").steps == ("items", 0, "email")
    assert parse_path("$.items[*]['e mail']").steps == ("items", None, "e mail")
    for bad in ("customer.email", "$", "$.a..b", "$.a[x]", "$.a[", "$['a]"):
        with pytest.raises(BundleError, match="--redact-path") as caught:
            parse_path(bad)
        assert "$.key" in str(caught.value)


def test_redact_body_replaces_values_and_keeps_other_bytes():
    body = b'{"customer": {"email": "jane@example.com", "name": "Jane"}, "items": [{"email": "a@b.c"}, {"email": "d@e.f"}]}'
    out, n, found = redact_body(body, "application/json", [parse_path("$.customer.email"), parse_path("$.items[*].email")])
    data = json.loads(out)
    assert n == 3 and sorted(found) == ["a@b.c", "d@e.f", "jane@example.com"]
    assert data["customer"] == {"email": MARKER, "name": "Jane"} and data["items"] == [{"email": MARKER}, {"email": MARKER}]
    assert redact_body(body, "application/json", [parse_path("$.nothing")]) == (body, 0, [])
    assert redact_body(b"a=1", "application/x-www-form-urlencoded", [parse_path("$.a")]) == (b"a=1", 0, [])


async def test_a_bundle_never_holds_a_planted_secret_or_a_signature_value(tmp_path):
    _, captures = await captured(
        tmp_path,
        "github.push",
        "stripe.payment_intent.succeeded",
        extra=(("Authorization", f"Bearer {PLANTED}"), ("X-Api-Key", "k-0123456789abcdef"), ("X-Forwarded-Secret-Copy", GITHUB_SECRET)),
    )
    config = load_config(ROOT / "answers.example.json")
    written = to_bundle(captures, Masker(config), [parse_path("$.data.object.customer")], now=1_700_000_100.0)
    raw = written.text.encode()
    for secret in (PLANTED, "k-0123456789abcdef", GITHUB_SECRET, STRIPE_SECRET, *(s for _, s in config.secrets)):
        assert secret.encode() not in raw
    for c in captures:
        for name, value in c.request.headers:
            if "signature" in name.lower():
                assert value.encode() not in raw, name
    data = json.loads(raw)
    assert data["format"] == "webhook-inspector-bundle" and data["version"] == 1
    push, paid = data["captures"]
    assert {"Authorization", "X-Api-Key", "X-Hub-Signature-256", "X-Forwarded-Secret-Copy"} <= set(push["removed_headers"])
    assert "Stripe-Signature" in paid["removed_headers"]
    assert push["signature"]["scheme"] == "github" and paid["signature"]["scheme"] == "stripe"
    assert json.loads(paid["body"])["data"]["object"]["customer"] == MARKER
    assert written.replaced == {"$.data.object.customer": 1}


async def test_a_bundle_read_back_and_resigned_verifies_with_the_importers_own_secret(tmp_path):
    _, captures = await captured(tmp_path, "github.push", "stripe.payment_intent.succeeded")
    text = to_bundle(captures, Masker(load_config(ROOT / "answers.example.json"))).text
    theirs = Config(
        signatures=(
            SignatureEntry("github", "sha256", "X-Hub-Signature-256", "their-own-github-secret"),
            SignatureEntry("stripe", "stripe", "Stripe-Signature", "whsec_their_own"),
        )
    )
    for original, item in zip(captures, read_bundle(json.loads(text), 0.0), strict=True):
        assert item.request.received_at == original.request.received_at
        assert item.request.body == original.request.body and len(item.runs) == len(original.runs)
        signed, note = resign(item.request, theirs, original.event_type, "http://127.0.0.1:8080")
        assert "re-signed with" in note and signed.received_at == original.request.received_at
        result = verify_request(theirs, signed, original.event_type, "http://127.0.0.1:8080" + signed.target, signed.received_at)
        assert result.status == "valid", result.reason


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"format": "webhook-inspector-bundle", "version": 2, "captures": []}, "bundle version 2 was written by a newer webhook-inspector"),
        ({"format": "something-else", "captures": []}, "not a webhook-inspector bundle"),
        ({"format": "webhook-inspector-bundle", "version": "1", "captures": []}, "version: expected a whole number"),
        ({"format": "webhook-inspector-bundle", "version": 1, "captures": [{"path": "/x", "headers": []}]}, "captures[0].method: missing"),
        ({"format": "x"}, "is not one this program reads"),
    ],
)
def test_a_bundle_that_is_not_ours_or_too_new_is_one_clear_error(document, message):
    with pytest.raises(ImportFailed) as caught:
        read_imported(json.dumps(document).encode(), 0.0)
    assert message in str(caught.value) and "\n" not in str(caught.value)


async def test_a_short_secret_inside_a_body_does_not_refuse_the_bundle(tmp_path):
    """A secret under MIN_SUBSTRING is hidden where a whole value equals it (as every view
    masks); finding it inside other text is no reason to refuse the export."""
    _, [push] = await captured(tmp_path, "github.push")
    config = Config(signatures=(SignatureEntry("github", "sha256", "X-Hub-Signature-256", "main"),))  # "refs/heads/main"
    data = json.loads(to_bundle([push], Masker(config)).text)
    body = json.loads(data["captures"][0]["body"])
    assert body["ref"] == "refs/heads/main"  # inside other text: kept
    assert body["repository"]["default_branch"] == MARKER  # the whole value is the secret: gone
