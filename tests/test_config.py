import json

import pytest

from inspector.config import ConfigError, find_answers, load_config, parse_config


def cfg(root, env=None, extra=None):
    data = {"events-webhook": root}
    data.update(extra or {})
    return parse_config(json.dumps(data), "answers.json", env or {})


def test_defaults_with_no_file():
    c = load_config(None)
    assert c.enabled and c.enforce and c.max_body_bytes == 1 << 20 and c.ack_timeout_seconds == 5
    assert c.signatures == ()


def test_example_file_loads_cleanly():
    from tests.conftest import ROOT

    c = load_config(ROOT / "answers.example.json", env={})
    assert [e.name for e in c.signatures] == ["github", "stripe", "shopify", "standard-webhooks"]
    assert not c.entry_errors and not c.warnings


def test_lookup_order(tmp_path):
    assert find_answers(None, tmp_path) is None
    (tmp_path / "answers.example.json").write_text("{}")
    assert find_answers(None, tmp_path) == tmp_path / "answers.example.json"
    (tmp_path / "answers.json").write_text("{}")
    assert find_answers(None, tmp_path) == tmp_path / "answers.json"
    assert str(find_answers("x.json", tmp_path)) == "x.json"


def test_env_expansion_and_unset_variable():
    c = cfg(
        {"signatures": {"github": {"algorithm": "sha256", "secret": "${GH}", "header": "X-Hub-Signature-256"}}},
        env={"GH": "s3cr3t-value-long"},
    )
    assert c.signatures[0].secret == "s3cr3t-value-long"
    c = cfg({"signatures": {"github": {"algorithm": "sha256", "secret": "${GH}"}}}, env={})
    [problem] = c.entry_errors
    assert problem.path == "events-webhook.signatures.github.secret"
    assert "GH is not set" in problem.message
    with pytest.raises(ConfigError) as exc:
        cfg({"public_base_url": "${BASE}"})
    assert "events-webhook.public_base_url" in str(exc.value) and "BASE" in str(exc.value)


def test_invalid_json_reports_line_and_column():
    with pytest.raises(ConfigError) as exc:
        parse_config('{\n  "events-webhook": {\n    "enabled": true,\n  }\n}', "a.json", {})
    assert str(exc.value).startswith("a.json:4:3: invalid JSON")


@pytest.mark.parametrize(
    "root, path, expected",
    [
        ({"enabled": "yes"}, "events-webhook.enabled", "expected true or false"),
        ({"max_body_bytes": -1}, "events-webhook.max_body_bytes", "≥ 1"),
        ({"max_body_bytes": 1.5}, "events-webhook.max_body_bytes", "whole number"),
        ({"ack_timeout_seconds": "soon"}, "events-webhook.ack_timeout_seconds", "expected a number"),
        ({"public_base_url": "ftp://x"}, "events-webhook.public_base_url", "https://"),
        ({"signatures": []}, "events-webhook.signatures", "expected an object"),
        ({"enforce": None}, "events-webhook.enforce", "true or false"),
    ],
)
def test_wrong_types_name_the_path(root, path, expected):
    with pytest.raises(ConfigError) as exc:
        cfg(root)
    [problem] = exc.value.problems
    assert problem.path == path and expected in problem.message


def test_not_an_object_and_missing_provider():
    with pytest.raises(ConfigError, match="top level"):
        parse_config("[1]", "a.json", {})
    with pytest.raises(ConfigError, match="events-webhook"):
        parse_config("{}", "a.json", {})


def test_unknown_keys_warn():
    c = cfg({"enabeld": True, "signatures": {"github": {"algorithm": "sha256", "secret": "x" * 20, "hedaer": "X"}}}, extra={"other": 1})
    paths = [w.path for w in c.warnings]
    assert paths == ["other", "events-webhook.enabeld", "events-webhook.signatures.github.hedaer"]


def test_signature_entry_problems_do_not_stop_loading():
    c = cfg(
        {
            "signatures": {
                "a": {"algorithm": "md5", "secret": "x"},
                "b": {"algorithm": "sha256", "secret": ""},
                "c": {"algorithm": "sha256"},
                "d": {"algorithm": 5, "secret": "x"},
                "e": {"algorithm": "standard-webhooks", "secret": "whsec_%%%"},
                "f": {"algorithm": "sha256", "secret": "abc", "tolerance": -1},
                "stripe": {"secret": "whsec_x"},
            }
        }
    )
    errors = {p.path: p.message for p in c.entry_errors}
    assert "unknown algorithm 'md5'" in errors["events-webhook.signatures.a.algorithm"]
    assert "empty" in errors["events-webhook.signatures.b.secret"]
    assert "missing" in errors["events-webhook.signatures.c.secret"]
    assert "expected a string" in errors["events-webhook.signatures.d.algorithm"]
    assert "base64" in errors["events-webhook.signatures.e.secret"]
    assert "tolerance" in next(k for k in errors if k.endswith("f.tolerance"))
    stripe = c.signatures[-1]
    assert stripe.algorithm == "stripe" and not stripe.problems  # algorithm defaults to a known entry name


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"events-webhook": {"public_base_url": "\xff"}}')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(bad)
