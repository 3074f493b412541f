"""inspector.resend: the one way the TUI's resend and `webhook-inspector replay` carry out an
order (SPEC §9, §10), against real aiohttp servers on port 0 and a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

from inspector.config import load_config
from inspector.pipeline import Pipeline
from inspector.replay import Edits
from inspector.resend import InProcess, ResendOrder, Running, resend
from inspector.store import Store
from tests.conftest import ROOT, run_cli
from tests.test_replay import Echo, refused_url, stripe_capture

NOW = 1_700_000_000.0


def config():
    return load_config(ROOT / "answers.example.json", env={})


async def test_to_a_url_n_times_sends_the_same_bytes_and_stores_each_attempt_in_order(tmp_path):
    store = Store(tmp_path / "c.sqlite3")
    original = store.insert(stripe_capture(NOW))
    try:
        async with Echo() as target:
            order = ResendOrder(resign=True, to=target.url)
            outcomes = await resend(
                original, order, inspector=Running("http://127.0.0.1:9", "http://x"), store=store, config=config(), now=NOW + 60, times=3
            )
        assert [o.failed for o in outcomes] == [False, False, False]
        # Prepared once: an idempotency test gets the very same request three times.
        assert len({(m, p, tuple(h), b) for m, p, h, b in target.got}) == 1 and len(target.got) == 3
        assert "stripe" in (outcomes[0].signing or "")
        ids = [o.capture_id for o in outcomes]
        assert ids == [2, 3, 4]
        stored = [store.get(i) for i in ids]
        assert all(c.origin == "replay" and c.replay_of == original.id and c.response.status == 201 for c in stored)
        # Stored at the caller's time, later ones later by the time since the first send.
        times = [c.request.received_at for c in stored]
        assert times[0] == NOW + 60 and times == sorted(times) and times[-1] < NOW + 70
    finally:
        store.close()


async def test_an_attempt_the_store_refuses_is_an_outcome_not_an_exception(tmp_path):
    class Refusing:
        async def add(self, capture):
            raise sqlite3.OperationalError("attempt to write a readonly database")

    async with Echo() as target:
        (outcome,) = await resend(
            stripe_capture(NOW),
            ResendOrder(to=target.url),
            inspector=Running("http://x", "http://x"),
            store=Refusing(),
            config=config(),
            now=NOW,
        )
    assert outcome.sent and outcome.capture is None and outcome.capture_id is None
    assert outcome.error == "it answered 201 and the attempt could not be stored: OperationalError: attempt to write a readonly database"
    assert outcome.message().startswith(f"sent #7 to {target.url}/events/webhook/demo/stripe?a=1, but it answered 201")


async def test_a_refused_order_sends_nothing():
    async with Echo() as target:
        edits = Edits(path="no-slash")
        outcomes = await resend(
            stripe_capture(NOW),
            ResendOrder(edits=edits, to=target.url),
            inspector=Running("http://x", "http://x"),
            store=None,
            config=config(),
            now=NOW,
            times=5,
        )
    assert len(outcomes) == 1 and outcomes[0].refused and not outcomes[0].sent and "path" in outcomes[0].error
    assert target.got == []


async def test_in_process_and_over_http_the_inspector_records_a_linked_capture(tmp_path):
    """The TUI's way (its own pipeline) and replay's (the running server over HTTP) end alike:
    a capture of origin replay, linked to the original, checked as a live one would be."""
    from inspector.receiver import Receiver

    cfg = config()
    store = Store(tmp_path / "c.sqlite3")
    pipeline = Pipeline(cfg, store)
    original = store.insert(stripe_capture(NOW))
    try:
        (here,) = await resend(original, ResendOrder(resign=True), inspector=InProcess(pipeline), store=store, config=cfg, now=time.time())
        receiver = Receiver(pipeline, "127.0.0.1", 0)
        await receiver.start()
        try:
            (there,) = await resend(
                original,
                ResendOrder(resign=True),
                inspector=Running(receiver.url, pipeline.base_url),
                store=None,
                config=cfg,
                now=time.time(),
            )
        finally:
            await receiver.stop()
        assert there.delivery is not None and there.delivery.response.status == 200, there.error
        for outcome in (here, there):
            new = store.get(outcome.capture_id)
            assert (new.origin, new.replay_of) == ("replay", original.id)
            assert new.request.body == original.request.body
            # Re-signed now, long after the original's tolerance: valid in both.
            assert new.signature.status == "valid"
    finally:
        store.close()


def test_replay_to_a_url_whose_attempt_cannot_be_stored_says_so_and_exits_2(tmp_path):
    store_path = tmp_path / "c.sqlite3"
    store = Store(store_path)
    store.insert(stripe_capture(NOW))
    store.close()
    # A real SQLite failure on insert, whoever runs the test (root ignores file modes).
    db = sqlite3.connect(store_path)
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON captures BEGIN SELECT RAISE(ABORT, 'the disk said no'); END")
    db.commit()
    db.close()
    code = (
        "import asyncio, sys\n"
        "from tests.test_replay import Echo\n"
        "async def main():\n"
        "    async with Echo() as t:\n"
        "        print(t.url, flush=True)\n"
        "        await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    target = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = target.stdout.readline().strip()
        r = run_cli("--answers", str(ROOT / "answers.example.json"), "--store", str(store_path), "replay", "1", "--to", url, cwd=tmp_path)
    finally:
        target.kill()
        target.wait(10)
    assert r.returncode == 2, r
    out, err = r.stdout.decode(), r.stderr.decode()
    assert out.startswith(f"replay of 1 (as captured) → {url}/events/webhook/demo/stripe?a=1: 201 in ") and "→ capture" not in out
    assert "Traceback" not in err
    assert err.startswith(
        f"error: replay of 1 → {url}/events/webhook/demo/stripe?a=1: it answered 201 and the attempt could not be stored: "
    )
    assert "the disk said no" in err and "--store PATH" in err


def test_replay_json_names_the_capture_each_attempt_was_stored_as(tmp_path):
    store_path = tmp_path / "c.sqlite3"
    store = Store(store_path)
    store.insert(stripe_capture(NOW))
    store.close()
    import socket

    with socket.socket() as held:
        nowhere = refused_url(held)
        r = run_cli(
            "--answers",
            str(ROOT / "answers.example.json"),
            "--store",
            str(store_path),
            "replay",
            "1",
            "--to",
            nowhere,
            "--times",
            "2",
            "--json",
            cwd=tmp_path,
        )
    assert r.returncode == 1, r
    data = json.loads(r.stdout)
    assert data["captures"] == [2, 3] and [a["capture_id"] for a in data["answers"]] == [2, 3]
    assert all(a["status"] is None and "cannot connect" in a["error"] for a in data["answers"])
