"""The command line never prints a traceback (issues #16, #21): bytes that are not UTF-8, odd
dates, a reader that goes away, foreign files and bad arguments each end in valid output or one
clear line, with exit code 0, 1 or 2. Real processes of `python -m inspector`, real stores."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import __main__ as entry
from inspector import cli
from inspector.model import Capture, Headers, Request, Response, SignatureResult
from inspector.store import Store
from tests.conftest import GITHUB_SECRET, run_cli

# A payload whose JSON holds a lone surrogate, as a sender may post it.
SURROGATE_PAYLOAD = b'{"text": "\\ud800 caf\xc3\xa9"}'
# A locale without UTF-8: Python's C locale, with coercion and UTF-8 mode off.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""}
UTF8_STRICT = {"PYTHONIOENCODING": "utf-8:strict"}
ASCII_STRICT = {"PYTHONIOENCODING": "ascii:strict"}

ECHO_FLOW = """\
name: echo
version: "1.0"
nodes:
  - id: look
    type: script
    config:
      script: |
        print(event.payload.text);
        event.payload
    next: answer
  - id: answer
    type: http_response
    config:
      status: 200
      body: "{{event.payload}}"
triggers:
  - type: event
    event_type: "echo"
    target: look
"""


def capture(
    method="POST", path="/events/webhook/demo/echo", headers=(), body=b"", at=1700000000.0, response=None, tenant="demo", event_type="echo"
):
    request = Request(method, path, "", Headers(headers), body, "127.0.0.1", at)
    return Capture(None, request, tenant, event_type, SignatureResult("unsigned"), response)


@pytest.fixture
def hostile(tmp_path) -> Path:
    """Capture 1: a header byte that is not UTF-8 (kept as the receiver keeps it, a surrogate
    escape), the surrogate payload, a JSON answer echoing it. Capture 2: an imported method with
    CR/LF and ESC in a header, unrouted, an answer without a duration."""
    path = tmp_path / "captures.sqlite3"
    store = Store(path)
    try:
        echoed = Response(200, Headers([("Content-Type", "application/json")]), b'{"text": "\\ud800"}', 2.5)
        store.insert(
            capture(headers=[("X-Bytes", "a\udcffb"), ("Content-Type", "application/json")], body=SURROGATE_PAYLOAD, response=echoed)
        )
        store.insert(
            capture(
                method="PO\r\nST",
                path="/nowhere",
                headers=[("X-Esc", "\x1b[2J")],
                body=b"line 1\r\nline\x1b2\n",
                response=Response(404, Headers(), b""),
                tenant=None,
                event_type=None,
            )
        )
    finally:
        store.close()
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "echo.ygtc").write_text(ECHO_FLOW)
    return path


def cli_in(store: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli("--store", str(store), *args, cwd=store.parent, env=env)


def assert_calm(r: subprocess.CompletedProcess, codes=(0,)) -> None:
    """No traceback, nothing from the last-resort net, an expected exit code."""
    assert b"Traceback" not in r.stderr and b"Exception ignored" not in r.stderr, r.stderr.decode(errors="replace")
    assert b"internal error" not in r.stderr, r.stderr.decode(errors="replace")
    assert r.returncode in codes, (r.returncode, r.stderr.decode(errors="replace"))


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def _no_constant(name: str):
    raise AssertionError(f"{name} is not JSON")


def valid_json(stdout: bytes, encoding: str):
    data = json.loads(stdout.decode(encoding), parse_constant=_no_constant)
    for text in strings(data):
        text.encode("utf-8")  # no lone surrogate survives, not even as a \u escape
    return data


# 1. Bytes that are not UTF-8 and lone surrogates, under strict and ASCII stdouts

JSON_COMMANDS = [("list", "--json"), ("show", "1", "--json"), ("export", "1", "--format", "har"), ("export", "1", "--format", "json")]
TEXT_COMMANDS = [("list",), ("show", "1"), ("export", "1", "--format", "curl"), ("export", "1", "--format", "httpie")]


@pytest.mark.parametrize("args", JSON_COMMANDS + TEXT_COMMANDS, ids=" ".join)
def test_strict_utf8_stdout_gets_valid_output_with_replacement_characters(hostile, args):
    r = cli_in(hostile, *args, env=UTF8_STRICT)
    assert_calm(r)
    text = r.stdout.decode("utf-8")  # strict: valid UTF-8
    if "--json" in args or "har" in args or "json" in args:
        data = valid_json(r.stdout, "utf-8")
        if args[0] != "list":  # list's fields hold no header or body
            assert "\ufffd" in json.dumps(data, ensure_ascii=False)
    elif args[0] == "show":
        assert "X-Bytes: a\ufffdb" in text
    elif args[0] == "export":  # commands send the byte itself
        assert "printf '\\377'" in text


@pytest.mark.parametrize("env", [ASCII_STRICT, C_LOCALE], ids=["ascii", "C-locale"])
@pytest.mark.parametrize(
    "args",
    [("list",), ("show", "1"), ("show", "1", "--json"), ("export", "1", "--format", "har"), ("export", "1", "--format", "curl")],
    ids=" ".join,
)
def test_ascii_stdout_gets_escapes_and_json_stays_the_same_document(hostile, env, args):
    r = cli_in(hostile, *args, env=env)
    assert_calm(r)
    text = r.stdout.decode("ascii")  # strict: nothing outside ASCII reached the terminal
    if "--json" in args or "har" in args:
        data = valid_json(r.stdout, "ascii")
        assert "\ufffd" in json.dumps(data, ensure_ascii=False)
    elif args[0] == "show":
        assert "X-Bytes: a\\ufffdb" in text


@pytest.mark.parametrize("env", [ASCII_STRICT, C_LOCALE], ids=["ascii", "C-locale"])
def test_help_on_an_ascii_stdout(tmp_path, env):
    for args in (("--help",), ("replay", "--help")):
        r = run_cli(*args, cwd=tmp_path, env=env)
        assert_calm(r)
        assert "\\u2014" in r.stdout.decode("ascii")  # the help's dashes, escaped


@pytest.mark.parametrize("env", [UTF8_STRICT, ASCII_STRICT], ids=["utf8-strict", "ascii"])
def test_run_with_a_lone_surrogate_in_the_payload(hostile, env):
    body = SURROGATE_PAYLOAD.decode()
    r = cli_in(hostile, "run", "--event-type", "echo", "--body", body, "--json", env=env)
    assert_calm(r)
    data = valid_json(r.stdout, "utf-8")
    assert data["response"]["body"] == {"text": "\ufffd café"}
    assert data["runs"][0]["steps"][0]["logs"] == ["\ufffd café"]
    r = cli_in(hostile, "run", "--event-type", "echo", "--body", body, env=env)
    assert_calm(r)
    r.stdout.decode("ascii" if env is ASCII_STRICT else "utf-8")


def test_show_of_a_live_capture_with_a_byte_that_is_not_utf8(tmp_path):
    """The same through a real server: a raw socket sends header byte 0xff."""
    import socket

    store = tmp_path / "captures.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--store", str(store), "--tunnel", "none", "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = proc.stdout.readline().decode()
        port = int(first.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /events/webhook/demo/raw HTTP/1.1\r\nHost: x\r\nX-Raw: \xff!\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        line = proc.stdout.readline()  # the request's line: it is stored by now
        assert line.startswith(b"[200] POST /events/webhook/demo/raw")
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    r = cli_in(store, "show", "1", env=UTF8_STRICT)
    assert_calm(r)
    assert "X-Raw: \ufffd!" in r.stdout.decode("utf-8")
    r = cli_in(store, "show", "1", "--json", env=ASCII_STRICT)
    assert_calm(r)
    assert ["X-Raw", "\ufffd!"] in valid_json(r.stdout, "ascii")["headers"]


# 2. Dates at the edges of the calendar

ODD_TIMES = {
    "0001-01-01T00:00:00+14:00": (-62135596800.0 - 14 * 3600, "0000-12-31T10:00:00.000Z"),
    "year 10000": (253402300800.0, "+010000-01-01T00:00:00.000Z"),
    "1e20": (1e20, "invalid time (1e+20)"),
    "-1e20": (-1e20, "invalid time (-1e+20)"),
    "inf": (float("inf"), "invalid time (inf)"),
    "-inf": (float("-inf"), "invalid time (-inf)"),
}


def test_captures_dated_at_the_edges_of_the_calendar(tmp_path):
    path = tmp_path / "captures.sqlite3"
    store = Store(path)
    for at, _ in ODD_TIMES.values():
        store.insert(capture(at=at))
    store.close()
    # NaN cannot be stored as a REAL (SQLite makes it NULL); a hand-edited store can hold text.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE captures SET received_at='sometime' WHERE id=1")
    db.close()
    expected = ["invalid time (str)"] + [text for _, text in list(ODD_TIMES.values())[1:]]

    r = cli_in(path, "list", "--json")
    assert_calm(r)
    # Newest first by arrival time; the time that is not a number (id 1) last.
    times = [at for at, _ in ODD_TIMES.values()]
    by_arrival = sorted(range(2, len(times) + 1), key=lambda cid: times[cid - 1], reverse=True) + [1]
    assert [item["received_at"] for item in json.loads(r.stdout)] == [expected[cid - 1] for cid in by_arrival]
    r = cli_in(path, "list")
    assert_calm(r)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 1 + len(ODD_TIMES)
    assert len({line.index("/events/") for line in lines[1:]}) == 1  # columns stay aligned
    for cid, text in enumerate(expected, start=1):
        r = cli_in(path, "show", str(cid))
        assert_calm(r)
        assert r.stdout.decode().splitlines()[0].startswith(f"capture {cid}  {text}  ")
    r = cli_in(path, "export", *map(str, range(1, len(ODD_TIMES) + 1)), "--format", "har")
    assert_calm(r)
    assert [e["startedDateTime"] for e in json.loads(r.stdout)["log"]["entries"]] == expected


def test_tui_time_cells_survive_odd_dates():
    from inspector.tui.rows import time_text
    from inspector.tui.widgets.context import ViewContext

    view = ViewContext(mask=lambda name, value: value)
    for at, text in ODD_TIMES.values():
        assert view.when(at) == text
    assert time_text(-62135596800.0 - 14 * 3600, None) == "10:00:00.000"
    assert time_text(float("nan"), None) == "–" and time_text(None, None) == "–"


# 3. A reader that goes away


def big_store(path: Path) -> None:
    store = Store(path)
    # Far more than a pipe holds (64 KiB), so the writer meets the closed end: 150 rows of
    # over 1000 characters, and bodies of 200 KB.
    for i in range(150):
        body = b"x" * 200_000 if i < 3 else b"{}"
        store.insert(capture(path="/events/webhook/demo/" + "p" * 1000, body=body, at=1700000000.0 + i))
    store.close()


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--limit", "150"),
        ("list", "--json", "--limit", "150"),
        ("show", "3", "--json"),
        ("export", "1", "2", "3", "--format", "curl"),
    ],
    ids=" ".join,
)
def test_stdout_closed_early_exits_quietly(tmp_path, args):
    path = tmp_path / "captures.sqlite3"
    big_store(path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "--store", str(path), *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    assert stderr == b"", stderr.decode(errors="replace")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full is Linux's always-full device")
@pytest.mark.parametrize("args", [("list",), ("show", "1", "--json"), ("export", "1", "--format", "har")], ids=" ".join)
def test_stdout_that_cannot_be_written_is_one_line(hostile, args):
    with open("/dev/full", "wb") as full:
        r = subprocess.run(
            [sys.executable, "-m", "inspector", "--store", str(hostile), *args],
            cwd=hostile.parent,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert r.returncode == 2
    assert r.stderr == b"error: cannot write the output: No space left on device\n"


def test_closed_stdout_stdin_and_stderr(hostile):
    def run(*args, close: int) -> subprocess.CompletedProcess:
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        return subprocess.run(
            [sys.executable, "-m", "inspector", "--store", str(hostile), *args],
            cwd=hostile.parent,
            preexec_fn=lambda: os.close(close),
            timeout=60,
            **pipes,
        )

    r = run("list", close=1)  # `list >&-`
    assert r.returncode == 0 and r.stderr == b""
    r = run("run", "--event-type", "echo", "--body-file", "-", close=0)  # `<&-`
    assert r.returncode == 2 and r.stderr.endswith(b"error: --body-file -: stdin is closed; pipe the body in, or give a file\n")
    r = run("--store", str(hostile.parent / "none.sqlite3"), "list", "--json", close=2)  # `2>&-`: notes must not land in stdout
    assert r.returncode == 0 and json.loads(r.stdout) == []


# 4. Ids, --now and argv bytes


@pytest.mark.parametrize(
    "id_text, code, says",
    [
        ("99999999999999999999999", 2, "out of range"),
        pytest.param("9" * 5000, 2, "out of range", id="5000 digits"),
        ("9223372036854775807", 1, "no capture 9223372036854775807"),
        ("abc", 2, "not a capture id"),
        ("-1", 2, "not a capture id"),
        ("٣", 2, "not a capture id"),
    ],
)
def test_show_and_export_ids(hostile, id_text, code, says):
    for command in (("show", id_text), ("export", id_text)):
        r = cli_in(hostile, *command)
        assert_calm(r, (code,))
        assert says in r.stderr.decode() and len(r.stderr.decode().splitlines()) == 1


@pytest.mark.parametrize("command", ["run", "verify"])
@pytest.mark.parametrize("now", ["nan", "inf", "=-inf", "1e400", "-5", "soon"])
def test_now_must_be_a_real_time(tmp_path, command, now):
    option = ["--now" + now] if now.startswith("=") else ["--now", now]
    r = run_cli(command, "--event-type", "x", "--body", "{}", *option, cwd=tmp_path)
    assert_calm(r, (2,))
    assert "argument --now" in r.stderr.decode()


def test_body_bytes_that_are_not_utf8_are_sent_as_given(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps(
            {
                "events-webhook": {
                    "signatures": {"github": {"header": "X-Hub-Signature-256", "algorithm": "github", "secret": GITHUB_SECRET}}
                }
            }
        )
    )
    body = b"\xff\xfe not UTF-8"
    sig = "sha256=" + hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    for command in ("verify", "run"):
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "inspector",
                "--answers",
                str(answers),
                command,
                "--event-type",
                "github",
                "-H",
                f"X-Hub-Signature-256: {sig}",
                b"--body",
                body,
                "--json",
            ],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        )
        assert_calm(r, (0,) if command == "verify" else (1,))  # run: no flow is triggered by `github` here
        result = json.loads(r.stdout)
        assert (result if command == "verify" else result["signature"])["status"] == "valid"


# 5. Read commands never change foreign files


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_read_commands_leave_another_programs_database_as_it_was(tmp_path, journal):
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as db:
        db.execute(f"PRAGMA journal_mode={journal}")
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES ('keep me')")
    db.close()
    before = snapshot(tmp_path)
    for args in (("list",), ("list", "--json"), ("show", "1"), ("export", "1", "--format", "har")):
        r = cli_in(other, *args)
        assert_calm(r, (2,))
        assert "not a capture store" in r.stderr.decode()
        assert snapshot(tmp_path) == before


@pytest.mark.parametrize("args", [("serve", "--port", "0"), ("replay", "1", "--to", "http://127.0.0.1:9"), ("replay", "1")], ids=" ".join)
def test_commands_that_write_refuse_another_programs_database_too(tmp_path, args):
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    db.close()
    before = snapshot(tmp_path)
    r = run_cli("--store", str(other), "--tunnel", "none", *args, cwd=tmp_path)
    assert_calm(r, (2,))
    assert f"{other}: not a capture store (it holds the tables notes)" in r.stderr.decode()
    assert snapshot(tmp_path) == before  # no tables added, not switched to WAL


def test_a_store_from_a_newer_version_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "captures.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    db.close()
    before = snapshot(tmp_path)
    r = cli_in(path, "list")
    assert_calm(r, (2,))
    assert "newer webhook-inspector" in r.stderr.decode()
    assert snapshot(tmp_path) == before


def test_a_mistyped_store_path_creates_nothing(tmp_path):
    missing = tmp_path / "new" / "dir" / "x.sqlite3"
    for args, code in ((("list",), 0), (("list", "--json"), 0), (("show", "1"), 1), (("export", "1"), 1)):
        r = run_cli("--store", str(missing), *args, cwd=tmp_path)
        assert_calm(r, (code,))
        assert f"no capture store at {missing}; serve or the TUI creates it" in r.stderr.decode()
        assert not (tmp_path / "new").exists()
    assert json.loads(run_cli("--store", str(missing), "list", "--json", cwd=tmp_path).stdout) == []


def test_an_empty_valid_store_still_works(tmp_path):
    path = tmp_path / "captures.sqlite3"
    Store(path).close()
    r = cli_in(path, "list", "--json")
    assert_calm(r)
    assert json.loads(r.stdout) == []
    r = cli_in(path, "show", "1")
    assert_calm(r, (1,))
    assert "no capture 1" in r.stderr.decode()


def test_rows_damaged_by_hand_are_shown_as_far_as_they_can_be_read(hostile):
    with sqlite3.connect(hostile) as db:
        db.execute("UPDATE captures SET headers='not json', runs='{}', signature='[1]' WHERE id=1")
        db.execute("UPDATE captures SET method=X'FF00', response_status='abc', notes='[1, 2]' WHERE id=2")
    db.close()
    for args in (
        ("list",),
        ("list", "--json"),
        ("list", "--filter", "caf"),
        ("export", "1", "2", "--format", "har"),
        ("show", "1", "--json"),
    ):
        assert_calm(cli_in(hostile, *args))
    r = cli_in(hostile, "show", "1")
    assert_calm(r)
    text = r.stdout.decode()
    assert "note: this stored capture is damaged: signature, headers, runs could not be read as written" in text
    assert "caf\u00e9" in text or "café" in text  # the body is still there
    r = cli_in(hostile, "show", "2")
    assert_calm(r)
    assert "note: this stored capture is damaged: response_status, method could not be read as written" in r.stdout.decode()
    assert r.stdout.decode().splitlines()[1].startswith("\ufffd\\x00 /nowhere")


def test_numbers_json_cannot_carry_become_null(hostile):
    with sqlite3.connect(hostile) as db:  # SQLite keeps an infinite REAL (NaN it makes NULL)
        db.execute("UPDATE captures SET response_ms=9e999 WHERE id=1")
    db.close()
    for args in (("show", "1", "--json"), ("export", "1", "--format", "json"), ("export", "1", "--format", "har")):
        r = cli_in(hostile, *args)
        assert_calm(r)
        data = valid_json(r.stdout, "utf-8")
    assert data["log"]["entries"][0]["time"] is None
    assert "response: 200  (inf ms)" in cli_in(hostile, "show", "1").stdout.decode()


def test_a_store_damaged_on_disk_is_one_line(tmp_path):
    path = tmp_path / "captures.sqlite3"
    big_store(path)
    with open(path, "r+b") as f:  # pages past the schema's become noise
        f.seek(2 * 4096)
        f.write(b"\xa5" * 4096 * 50)
    r = cli_in(path, "list")
    assert_calm(r, (2,))
    assert r.stderr.decode().startswith("error: the capture store cannot be used (database disk image is malformed)")
    assert len(r.stderr.decode().splitlines()) == 1


# 6. Usage errors, None and control characters


@pytest.mark.parametrize(
    "args, says",
    [
        (("--store", "", "list"), "--store"),
        (("--tenant", "../x", "check"), "--tenant"),
        (("--tenant", "..", "check"), "--tenant"),
        (("--tenant", "a/b", "list"), "--tenant"),
        (("--public-url", "not a url", "check"), "--public-url"),
        (("--public-url", "ftp://x.example", "serve"), "--public-url"),
        (("--port", "70000", "serve"), "--port"),
        (("--port", "-1", "serve"), "--port"),
        (("--host", "", "serve"), "--host"),
        (("--answers", "", "check"), "--answers"),
        (("--flows", "", "check"), "--flows"),
        (("--max-captures", "9" * 26, "serve"), "--max-captures"),
        (("--port", "٨٠", "serve"), "--port"),
        (("list", "--limit", "1_0"), "--limit"),
        (("serve", "--forward-to", "http://[::1"), "--forward-to"),
        (("--forward-to", "localhost:3000", "tui"), "--forward-to"),
        (("send", "github.push", "--to", "http://[::1"), "--to"),
        (("export", "1", "--to", "not a url"), "--to"),
        (("replay", "1", "--to", "http://x:99999"), "--to"),
        (("replay", "1", "--timeout", "nan"), "--timeout"),
        (("replay", "1", "--timeout", "inf"), "--timeout"),
        (("replay", "1", "--timeout", "0"), "--timeout"),
        (("replay", "1", "--times", "99999999999999999999"), "--times"),
    ],
)
def test_bad_common_options_are_usage_errors(tmp_path, args, says):
    r = run_cli(*args, cwd=tmp_path)
    assert_calm(r, (2,))
    assert says in r.stderr.decode().splitlines()[0]
    assert not (tmp_path / ".inspector").exists()


def test_show_never_prints_none_and_escapes_control_characters(hostile):
    r = cli_in(hostile, "show", "2")
    assert_calm(r)
    text = r.stdout.decode()
    assert "None" not in text
    assert "PO\\r\\nST /nowhere" in text and "X-Esc: \\x1b[2J" in text
    assert "tenant=–  event_type=–" in text and "response: 404\n" in text
    assert "\x1b" not in text and "line 1\r\nline\\x1b2" in text  # CRLF bodies keep their lines
    r = cli_in(hostile, "show", "1")
    assert "response: 200  (2.5 ms)" in r.stdout.decode()


def test_list_layout_survives_a_method_with_cr_lf(hostile):
    r = cli_in(hostile, "list")
    assert_calm(r)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 3 and "PO\\r\\nST" in lines[1]
    assert lines[1].index("/nowhere") == lines[2].index("/events/")


# 7. The last-resort net


def test_an_unexpected_error_is_one_line_and_exit_70(monkeypatch, capsys):
    def broken(args):
        token = "do-not-print-me"  # a local of the failing frame: never shown
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'" + token[:0])

    monkeypatch.setattr(cli.check, "handle", broken)
    monkeypatch.delenv(entry.DEBUG_ENV, raising=False)
    assert entry.main(["check"]) == 70
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: internal error: TypeError: unsupported operand type(s) for +: 'int' and 'str' "
        "(please report it; run with WEBHOOK_INSPECTOR_DEBUG=1 for the traceback)\n"
    )
    monkeypatch.setenv(entry.DEBUG_ENV, "1")
    assert entry.main(["check"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("for the traceback)\n") and "do-not-print-me" not in err


def test_ctrl_c_exits_130_quietly(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.check, "handle", interrupted)
    assert entry.main(["check"]) == 130
    assert capsys.readouterr() == ("", "")


def test_init_in_a_folder_it_cannot_write(tmp_path, monkeypatch, capsys):
    from inspector import starter

    def refuse(folder):
        raise PermissionError(13, "Permission denied", str(folder / "flows"))

    monkeypatch.setattr(starter, "write_starter", refuse)
    monkeypatch.chdir(tmp_path)
    assert entry.main(["init"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write the starter files into {tmp_path} (Permission denied") and len(err.splitlines()) == 1


def test_endless_files_are_refused_not_read_into_memory(tmp_path, monkeypatch, capsys):
    # The caps are lowered so that the test reads 1 MiB of /dev/zero, not hundreds.
    monkeypatch.setattr(cli.imports, "MAX_IMPORT_FILE", 1 << 20)
    monkeypatch.setattr(cli.common, "MAX_BODY_FILE", 1 << 20)
    monkeypatch.chdir(tmp_path)
    assert entry.main(["import", "/dev/zero"]) == 2
    assert capsys.readouterr().err == "error: /dev/zero: more than 1 MiB; is it the right file?\n"
    with pytest.raises(SystemExit) as usage:
        entry.main(["run", "--event-type", "x", "--body-file", "/dev/zero"])
    assert usage.value.code == 2
    assert "--body-file /dev/zero: more than 1 MiB" in capsys.readouterr().err
    assert not (tmp_path / ".inspector").exists()


def test_an_endless_answers_file_is_a_config_error(tmp_path):
    r = run_cli("--answers", "/dev/zero", "check", cwd=tmp_path)
    assert_calm(r, (1,))
    assert "/dev/zero: larger than 16 MiB; is it the answers file?" in r.stdout.decode()
    r = run_cli("--answers", "/dev/zero", "verify", "--event-type", "x", "--body", "{}", cwd=tmp_path)
    assert_calm(r, (2,))
    assert r.stderr.decode() == "error: /dev/zero: larger than 16 MiB; is it the answers file?\n"


# Everything else: a table of hostile argument vectors

HOSTILE = [
    ("check", "--flows", "answers.json"),
    ("check", "--answers", "binary.dat"),
    ("check", "--answers", "folder"),
    ("check", "--answers", "empty.json"),
    ("verify", "--event-type", "x", "--body", "{}", "--body-file", "x"),
    ("verify", "--event-type", "", "--body", "{}"),
    ("verify", "--event-type", "x", "--body-file", "folder"),
    ("verify", "--event-type", "x", "--body-file", "missing"),
    ("verify", "--event-type", "x", "--body", "{}", "-H", "no colon"),
    ("verify", "--event-type", "x", "--body", "{}", "-H", ": empty name"),
    ("verify", "--event-type", "x", "--body", "{}", "--method", "É"),
    ("verify", "--event-type", "x", "--body", "{}", "--url", "not a url"),
    ("verify", "--event-type", "x", "--body", "{}", "--answers", "binary.dat"),
    ("run", "--event-type", "x", "--body", "{}", "--flows", "binary.dat"),
    ("run", "--event-type", "echo", "--body", "\x00\x1b[2J", "--flows", "flows"),
    ("list", "--filter", "sig:"),
    ("list", "--filter", "status:abc"),
    ("list", "--filter", '"'),
    ("list", "--filter", "type:["),
    ("list", "--filter", "status:99999999999999999999"),
    ("list", "--limit", "-5"),
    ("list", "--limit", "abc"),
    ("list", "--limit", "99999999999999999999999"),
    ("replay", "1", "--to", "http://127.0.0.1:{closed}", "--timeout", "5"),
    ("replay", "99", "--to", "http://127.0.0.1:{closed}"),
    ("replay", "1", "--path", "no-slash", "--to", "http://127.0.0.1:{closed}"),
    ("replay", "1", "--times", "0"),
    ("send", "no.such.sample"),
    ("send", "github.push", "--to", "ftp://x"),
    ("import", "folder"),
    ("import", "binary.dat"),
    ("import", "empty.json"),
    ("import", "missing"),
    ("export", "1", "--output", "folder"),
    ("export", "1", "--format", "nope"),
    ("show", ""),
    ("show", "#"),
    ("--workers", "2", "list"),
    ("--max-captures", "0", "list"),
    ("nonsense",),
]


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hostile_argument_vectors_never_get_a_traceback(hostile, monkeypatch, capsys):
    """One in-process call each (a subprocess each would take a minute): what matters here is
    that no vector reaches the last-resort net (exit 70) or escapes it."""
    folder = hostile.parent
    (folder / "binary.dat").write_bytes(b"\x00\xff\xfe\x01")
    (folder / "empty.json").write_bytes(b"")
    (folder / "folder").mkdir()
    (folder / "answers.json").write_text("{}")
    monkeypatch.chdir(folder)
    port = closed_port()
    for args in HOSTILE:
        args = [a.replace("{closed}", str(port)) for a in args]
        try:
            code = entry.main(["--store", str(hostile), *args])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
        err = capsys.readouterr().err
        assert code in (0, 1, 2) and "internal error" not in err, (args, code, err)
