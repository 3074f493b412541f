"""The TUI's export screen offers the fixture format (issue #19 item 4): the file it writes is
the fixture `export --format fixtures` writes, and `load_fixture` reads it back."""

from __future__ import annotations

import json
from pathlib import Path

from inspector.fixtures import load_fixture
from inspector.tui.screens.export_screen import ExportScreen

from .conftest import make_app, record_notifications, wait_for
from .test_resend import SIZE, _captured, _selected


async def test_export_as_a_fixture_writes_one_the_helpers_read(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        original = await _captured(app, "github.push")
        await _selected(app, pilot, original.id)
        await pilot.press("w")
        assert isinstance(app.screen, ExportScreen)
        path = app.screen.query_one("#export-path")
        await pilot.press("down", "down", "down", "down")  # curl, httpie, har, json, fixture
        assert path.value == str(Path(".inspector") / "export-1.fixture.json")
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, ExportScreen), pilot)
        written = workdir / ".inspector" / "export-1.fixture.json"
        assert written.stat().st_mode & 0o777 == 0o600
        data = json.loads(written.read_text())
        assert data["event"] == "push" and data["signature"]["scheme"] == "github"
        fixture = load_fixture(written)
        assert fixture.body == original.request.body and fixture.scheme == "sha256"
        assert any(f"wrote #1 as fixture to {written}" in m for m in seen), seen
