"""Exports keep the exact bytes (headers that are not UTF-8 too) and run nothing but the client."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.export import export, read_import, to_curl, to_httpie
from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.signatures import Masker
from inspector.store import Store
from tests.conftest import run_cli

# Field-value bytes HTTP can carry: visible ASCII, space, tab and 0x80–0xFF (obs-text).
VALUE_BYTES = [0x09] + list(range(0x20, 0x7F)) + list(range(0x80, 0x100))


def capture_with(headers, body=b"", method="POST", path="/events/webhook/demo/x", query="", response=None):
    return Capture(
        5,
        Request(method, path, query, Headers(headers), body, "1.2.3.4", 1_700_000_000.25),
        "demo",
        "x",
        SignatureResult("unsigned"),
        response,
    )


def as_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


header_values = st.lists(st.sampled_from(VALUE_BYTES), max_size=40).map(bytes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(header_values, min_size=1, max_size=4),
    body=st.binary(max_size=300),
    answer=st.binary(max_size=100),
    fmt=st.sampled_from(["har", "json"]),
)
def test_har_and_json_round_trip_every_byte(values, body, answer, fmt):
    headers = [(f"X-H{i}", as_text(v)) for i, v in enumerate(values)]
    response = Response(200, Headers([("X-Back", as_text(values[0]))]), answer, 1.5)
    text = export([capture_with(headers, body, response=response)], fmt, "http://h:1", Masker(None))
    text.encode("utf-8")  # the document itself is writable text, whatever the bytes were
    kind, [(req, resp)] = read_import(text.encode(), 0)
    assert kind == fmt
    assert [(k, v.encode("utf-8", "surrogateescape")) for k, v in req.headers] == [(f"X-H{i}", v) for i, v in enumerate(values)]
    assert req.body == body and req.method == "POST" and req.received_at == 1_700_000_000.25
    assert resp.status == 200 and resp.body == answer
    assert resp.headers.get("X-Back").encode("utf-8", "surrogateescape") == values[0]


def test_har_header_keeps_readable_value_beside_the_bytes():
    har = json.loads(export([capture_with([("X-Raw", as_text(b"caf\xe9 \xff"))])], "har", "http://h:1", None))
    [header] = har["log"]["entries"][0]["request"]["headers"]
    assert header == {"name": "X-Raw", "value": "caf\ufffd \ufffd", "_bytes_base64": base64.b64encode(b"caf\xe9 \xff").decode()}
    # A value someone edited after the export is what they meant; the stale bytes give way.
    header["value"] = "edited"
    [(req, _)] = read_import(json.dumps(har).encode(), 0)[1]
    assert req.headers.get("X-Raw") == "edited"


def test_cli_json_export_of_non_utf8_header_imports_back_exact(tmp_path):
    db = tmp_path / "s.sqlite3"
    store = Store(db)
    store.insert(capture_with([("X-Raw", as_text(b"\xff\xfe ok")), ("Content-Type", "application/octet-stream")], b"\x00\xff"))
    store.close()
    (tmp_path / "answers.json").write_text('{"events-webhook": {}}')
    common = ["--store", str(db), "--answers", str(tmp_path / "answers.json")]
    for fmt in ("json", "har"):
        out = tmp_path / f"out.{fmt}"
        r = run_cli(*common, "export", "1", "--format", fmt, "--output", str(out), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = run_cli(*common, "import", str(out), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    store = Store(db)
    try:
        for cid in (2, 3):
            c = store.get(cid)
            assert c.request.headers.get("X-Raw").encode("utf-8", "surrogateescape") == b"\xff\xfe ok"
            assert c.request.body == b"\x00\xff"
    finally:
        store.close()


def test_export_files_are_private_from_the_start(tmp_path):
    db = tmp_path / "s.sqlite3"
    store = Store(db)
    store.insert(capture_with([("Authorization", "Bearer abcdefghijklmnopqrstuvwxyz")], b"{}"))
    store.close()
    old = tmp_path / "old.har"
    old.write_text("previous")
    old.chmod(0o644)
    previous = os.umask(0)  # the child inherits it: the mode must not depend on the umask
    try:
        results = [
            run_cli("--store", str(db), "--reveal", "export", "1", "--format", "har", "--output", str(t), cwd=tmp_path)
            for t in (tmp_path / "new.har", old)
        ]
    finally:
        os.umask(previous)
    for target, r in zip((tmp_path / "new.har", old), results, strict=True):
        assert r.returncode == 0, r.stderr
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert "abcdefghijklmnopqrstuvwxyz" in target.read_text()


# Shell commands: the client is replaced by a function that prints the arguments it got,
# NUL-separated, so a test sees exactly what the shell handed over and nothing else runs.

ARGV_OF = "{name}() {{ for a in \"$@\"; do printf '%s\\000' \"$a\"; done; if [ ! -t 0 ]; then printf 'STDIN\\000'; cat; fi; }}\n"


def run_as_function(command: str, name: str, cwd) -> list[bytes]:
    script = ARGV_OF.format(name=name) + command
    done = subprocess.run(["sh", "-c", script], cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
    assert done.returncode == 0, done.stderr
    return done.stdout.split(b"\0")


EVIL = [
    "POST;$'\\164ouch pwned'",
    "POST$(touch pwned)",
    "POST`touch pwned`",
    "PO'ST;touch pwned;'",
    "--output=pwned",
]


@pytest.mark.parametrize("method", EVIL)
def test_commands_run_nothing_but_the_client(tmp_path, method):
    headers = [
        ("X-Evil", "'; touch pwned; echo '"),
        ("X-Sub", "$(touch pwned)"),
        ("X-Empty", ""),
        ("X-Raw", as_text(b"a\xffb")),
        ("X-At", "=@pwned"),
    ]
    cap = capture_with(headers, b"@pwned", method=method, path="/p/'$(touch pwned)'/[1-2]", query="a=`touch pwned`")
    for name, make in (("curl", to_curl), ("http", to_httpie)):
        args = run_as_function(make(cap, "http://127.0.0.1:9"), name, tmp_path)
        assert not (tmp_path / "pwned").exists(), (name, method)
        assert method.encode() in args  # the method arrives whole, as one argument
        assert b"http://127.0.0.1:9/p/'$(touch pwned)'/[1-2]?a=`touch pwned`" in args
        if name == "curl":  # --data-binary @… would read a file: the body comes on stdin
            assert args[args.index(b"STDIN") + 1] == b"@pwned" and args[args.index(b"--data-binary") + 1] == b"@-"
        else:  # HTTPie's --raw is literal
            assert b"--raw=@pwned" in args
        sep = b": " if name == "curl" else b":"
        assert b"X-Raw" + sep + b"a\xffb" in args and b"X-Empty;" in args
        assert b"X-Evil" + sep + b"'; touch pwned; echo '" in args
    http_args = run_as_function(to_httpie(cap, "http://h"), "http", tmp_path)
    assert http_args[http_args.index(b"--") + 1] == method.encode()  # after --: never an option
    assert b"X-At:\\=@pwned" in http_args  # escaped: a header, not a file to read


def test_curl_sends_a_header_byte_that_is_not_utf8(tmp_path):
    """curl itself (when present) gets the raw byte from printf and sends it."""
    import shutil

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    from tests.conftest import OneShotServer

    with OneShotServer(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", timeout=5) as target:
        cmd = to_curl(capture_with([("X-Raw", as_text(b"caf\xe9\xff"))]), target.url)
        subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=10)
    got = target.got
    assert b"\r\nX-Raw: caf\xe9\xff\r\n" in bytes(got)


def test_export_to_a_device_leaves_its_mode_alone(tmp_path):
    from inspector.export import write_private

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o644)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that opening it to write does not block
    try:
        write_private(str(fifo), "data")
        assert os.read(reader, 10) == b"data"
    finally:
        os.close(reader)
    assert stat.S_IMODE(fifo.stat().st_mode) == 0o644 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PATH_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "?#")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    method=st.text(TCHAR, min_size=1, max_size=32),
    path=st.text(PATH_CHARS, max_size=30).map(lambda p: "/" + p),
    values=st.lists(header_values, max_size=3),
    body=st.one_of(
        st.binary(max_size=60),
        st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.just(b"a\x00b"),
        st.just(b"@/etc/passwd"),
    ),
)
def test_curl_hands_over_exactly_the_captured_parts(tmp_path, method, path, values, body):
    headers = [(f"X-H{i}", as_text(v)) for i, v in enumerate(values)]
    cap = capture_with(headers, body, method=method, path=path)
    args = run_as_function(to_curl(cap, "http://h:1"), "curl", tmp_path)
    assert args[:5] == [b"-sS", b"-X", method.encode(), b"http://h:1" + path.encode(), b"--globoff"]
    for i, v in enumerate(values):
        expected = f"X-H{i};".encode() if v == b"" else f"X-H{i}: ".encode() + v
        assert args[args.index(b"-H", 5 + 2 * i) + 1] == expected
    if body:
        data = args[args.index(b"--data-binary") + 1]
        assert data == body or (data == b"@-" and b"\0".join(args[args.index(b"STDIN") + 1 :]) == body)
    assert list(tmp_path.iterdir()) == []  # nothing else ran, nothing was written
