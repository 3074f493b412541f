"""The Body tab of a form-encoded delivery that wraps JSON in `payload` (GitHub's form
setting): it says so and shows the JSON document, not only the escaped form line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector import samples
from inspector.config import load_config
from inspector.flow import FlowSet
from inspector.store import Store

from .conftest import NOW, ingest, make_app, settle, text_of, wait_for


@pytest.mark.parametrize("size", [(80, 24), (120, 34)])
async def test_the_body_tab_says_form_encoded_json_in_payload(workdir: Path, size):
    store = Store(workdir / ".inspector" / "captures.sqlite3")
    config = load_config(workdir / "answers.example.json")
    request, _ = samples.build("github.push", config, signed_url_base="http://127.0.0.1:8080", now=NOW, mark=False, form=True)
    await ingest(store, FlowSet.load("flows"), config, [(request, "live")])
    app = make_app(workdir, serve=False, store=store)
    async with app.run_test(size=size) as pilot:
        await settle(app)
        await wait_for(lambda: app.detail.capture is not None, pilot)
        app.detail.tabs.active = "tab-body"
        await pilot.pause()
        body = " ".join(text_of(app.detail.query_one("#view-body")).split())
        assert "form-encoded, JSON in `payload`" in body
        assert '"ref": "refs/heads/main"' in body  # the decoded document
        assert "Received 3 commits" in text_of(app.detail.query_one("#view-response"))
