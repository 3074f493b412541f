"""Files that hold secrets are private, whatever the umask (issue #21): init's answers.json
(0600), the `.inspector/` folder (0700), the store and its -wal/-shm files (0600). Files
and folders the user made keep the mode the user chose."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from inspector.store import Store

UMASKS = [0o022, 0o000]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_umask(umask: int):
    return lambda: os.umask(umask)


@pytest.mark.parametrize("umask", UMASKS)
def test_init_writes_answers_readable_by_the_owner_only(tmp_path, umask):
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "init"], cwd=tmp_path, capture_output=True, timeout=60, preexec_fn=with_umask(umask)
    )
    assert r.returncode == 0, r.stderr
    assert oct(mode(tmp_path / "answers.json")) == oct(0o600)
    # The flows hold no secret: they keep the usual umask-made modes.
    assert mode(next((tmp_path / "flows").glob("*.ygtc"))) == 0o666 & ~umask


@pytest.mark.parametrize("umask", UMASKS)
def test_serve_creates_a_private_store_folder_and_files(tmp_path, umask):
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "serve", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=with_umask(umask),
    )
    try:
        url = proc.stdout.readline().strip().split()[-1]
        request = urllib.request.Request(
            url + "/events/webhook/demo/test",
            data=b'{"message": "hi"}',
            headers={"Authorization": "Bearer file-mode-token-123456"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()
        assert "/events/webhook/demo/test" in proc.stdout.readline()  # committed before it was answered
        folder = tmp_path / ".inspector"
        db = folder / "captures.sqlite3"
        modes = {p.name: oct(mode(p)) for p in (folder, db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))}
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert modes == {
        ".inspector": oct(0o700),
        "captures.sqlite3": oct(0o600),
        "captures.sqlite3-wal": oct(0o600),
        "captures.sqlite3-shm": oct(0o600),
    }


def test_nested_store_folders_made_for_the_store_are_private(tmp_path):
    old = os.umask(0)
    try:
        Store(tmp_path / "a" / "b" / "captures.sqlite3").close()
    finally:
        os.umask(old)
    assert (oct(mode(tmp_path / "a")), oct(mode(tmp_path / "a" / "b"))) == (oct(0o700), oct(0o700))
    assert oct(mode(tmp_path / "a" / "b" / "captures.sqlite3")) == oct(0o600)


@pytest.mark.parametrize("chosen", [0o644, 0o600, 0o640])
def test_an_existing_store_and_folder_keep_their_modes(tmp_path, chosen):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    path = folder / "captures.sqlite3"
    Store(path).close()
    os.chmod(path, chosen)
    store = Store(path)
    store.close()
    assert (oct(mode(folder)), oct(mode(path))) == (oct(0o755), oct(chosen))


def test_a_store_made_again_after_its_file_was_deleted_is_private(tmp_path):
    from inspector.model import Capture, Headers, Request, SignatureResult

    path = tmp_path / "captures.sqlite3"
    capture = Capture(
        None,
        Request("POST", "/x", headers=Headers([("Authorization", "Bearer reopen-token-123456")]), body=b"{}", received_at=1.0),
        None,
        None,
        SignatureResult("unsigned", reason=""),
    )
    old = os.umask(0)
    try:
        store = Store(path)
        store.notice = lambda text: None  # the "was deleted" warning is not this test's subject
        store.insert(capture)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        store.insert(capture)  # finds the file gone and creates it again
        store.close()
    finally:
        os.umask(old)
    assert oct(mode(path)) == oct(0o600)
