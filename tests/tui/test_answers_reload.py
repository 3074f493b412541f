"""The TUI runs on the same server session as `serve` (server.py): it reloads answers.json
when the file changes and says so, shows a broken file's errors while keeping the last good
configuration, and records where it listens for `send`, `replay` and `export`."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from inspector import samples
from inspector.config import load_config
from inspector.discovery import record_path, running_server
from inspector.tui.widgets.problems_bar import ProblemsBar

from .conftest import make_app, record_notifications, text_of, wait_for

WAIT = 10.0  # the watcher looks once a second


async def _send_github_ping(url: str, config) -> int:
    request, _ = samples.build("github.ping", config, signed_url_base=url)
    async with aiohttp.ClientSession() as session:
        headers = [(k, v) for k, v in request.headers if k.lower() not in ("host", "content-length")]
        async with session.post(url + request.target, data=request.body, headers=headers) as resp:
            await resp.read()
            return int(resp.headers["X-Inspector-Capture"])


async def test_the_tui_reloads_answers_json_says_so_and_keeps_the_last_good_one_when_broken(workdir: Path):
    answers = workdir / "answers.example.json"
    original = json.loads(answers.read_text())
    app = make_app(workdir, watch_flows=True)
    async with app.run_test() as pilot:
        seen = record_notifications(app)
        await wait_for(lambda: app.receiver is not None, pilot)
        first = app.config

        changed = json.loads(json.dumps(original))
        changed["events-webhook"]["signatures"]["github"]["secret"] = "a-brand-new-github-secret"
        answers.write_text(json.dumps(changed))
        await wait_for(lambda: app.config is not first, pilot, timeout=WAIT)
        assert app.pipeline.config is app.config
        assert any(n.startswith("answers reloaded: answers.example.json") for n in seen), seen
        # The next request is checked with the new secret.
        cid = await _send_github_ping(app.receiver.url, load_config(answers))
        await wait_for(lambda: app.store.get(cid) is not None, pilot)
        assert app.store.get(cid).signature.status == "valid"

        good = app.config
        answers.write_text('{"events-webhook": {"enabled": "yes"')  # cut off mid-write
        await wait_for(lambda: any("has errors" in n for n in seen), pilot, timeout=WAIT)
        assert app.config is good and app.pipeline.config is good
        bar = app.query_one(ProblemsBar)
        await wait_for(lambda: "keeping the previous configuration" in text_of(bar), pilot)
        assert "answers.example.json" in text_of(bar)
        # Requests still use the last good configuration meanwhile.
        cid = await _send_github_ping(app.receiver.url, load_config_from(changed, workdir))
        await wait_for(lambda: app.store.get(cid) is not None, pilot)
        assert app.store.get(cid).signature.status == "valid"

        answers.write_text(json.dumps(original))
        await wait_for(lambda: app.config is not good, pilot, timeout=WAIT)
        await wait_for(lambda: "keeping the previous configuration" not in text_of(bar), pilot)
        assert app.answers_problems == []


def load_config_from(data: dict, folder: Path):
    path = folder / "answers.check.json"
    path.write_text(json.dumps(data))
    return load_config(path)


async def test_the_tui_records_where_it_listens_and_removes_the_record_when_it_quits(workdir: Path):
    store = workdir / ".inspector" / "captures.sqlite3"
    app = make_app(workdir)
    async with app.run_test() as pilot:
        await wait_for(lambda: app.receiver is not None, pilot)
        record = running_server(store)
        assert record is not None and record.local_url == app.receiver.url
        await app.action_quit()
    assert not record_path(store).exists()
