"""The form-encoded GitHub samples (`send github.push --form` on the command line) from the
TUI: the picker (`s`) and the command palette offer them, and what they store is the form
delivery the CLI sends: JSON in a `payload` field, signed over the form bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import OptionList

from inspector import samples
from inspector.tui.screens.sample_picker import SamplePicker

from .conftest import NOW, make_app, record_notifications, text_of, tree_text, wait_for

SIZE = (100, 30)
FORM_NAMES = [s.name for s in samples.SAMPLES.values() if s.form]


def screen_text(app) -> str:
    """What the terminal shows now, one line per row."""
    console = Console(width=app.size.width, file=io.StringIO(), record=True, color_system=None, force_terminal=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def _option_ids(picker: SamplePicker) -> list[str]:
    options = picker.query_one(OptionList)
    return [options.get_option_at_index(i).id for i in range(options.option_count)]


async def _check_form_push_capture(app, pilot) -> None:
    """The capture the app selected is github.push form-encoded, verified, and its flow ran."""
    await wait_for(lambda: app.detail.capture is not None and app.detail.capture.runs, pilot)
    capture = app.detail.capture
    expected, _ = samples.build("github.push", app.config, signed_url_base=app.pipeline.base_url, now=NOW, form=True)
    assert capture.request.body == expected.body and capture.request.body.startswith(b"payload=")
    assert capture.request.headers.get("content-type") == samples.FORM_TYPE
    row = app.table.current
    assert (row.route, row.event, row.sig_mark, row.origin) == ("demo/github", "push", "✓", "sample")
    app.detail.tabs.active = "tab-body"
    await pilot.pause()
    body = " ".join(text_of(app.detail.query_one("#view-body")).split())
    assert "form-encoded, JSON in `payload`" in body and '"ref": "refs/heads/main"' in body
    flow = tree_text(app.detail.query_one("#view-flow"))
    assert "handle_push (script)" in flow and "Received 3 commits" in flow, flow
    assert "Received 3 commits" in text_of(app.detail.query_one("#view-response"))


# 80x24: the list no longer fits and scrolls; the last entries are still reached by keys.
@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_the_picker_offers_each_form_variant_and_sends_it_form_encoded(workdir: Path, size):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=size) as pilot:
        seen = record_notifications(app)
        await pilot.press("s")
        assert isinstance(app.screen, SamplePicker)
        ids = _option_ids(app.screen)
        # Every sample as JSON first (positions unchanged), then the form variants.
        assert ids == [*samples.SAMPLES, *(f"{name} (form)" for name in FORM_NAMES)]
        assert FORM_NAMES == ["github.push", "github.pull_request", "github.ping"]
        shown = app.screen.query_one(OptionList).get_option_at_index(ids.index("github.push (form)")).prompt.plain
        assert "signed with github" in shown and "form-encoded, JSON in `payload`" in shown
        await pilot.press(*["down"] * ids.index("github.push (form)"), "enter")
        assert not isinstance(app.screen, SamplePicker)
        await _check_form_push_capture(app, pilot)
        await wait_for(lambda: any(m.startswith("sent github.push (form)") for m in seen), pilot)
        assert any("sent github.push (form) (signed with github) → 200" in m for m in seen), seen


async def test_the_json_entry_still_sends_json(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", "enter")  # the first entry: github.push as JSON
        await wait_for(lambda: app.detail.capture is not None, pilot)
        capture = app.detail.capture
        assert capture.request.headers.get("content-type") == "application/json"
        assert capture.request.body.startswith(b"{")


async def test_the_palette_offers_and_sends_the_form_variants(workdir: Path):
    from inspector.tui.commands import InspectorCommands

    app = make_app(workdir, serve=False)
    async with app.run_test(size=SIZE) as pilot:
        entries = {title: (help_text, run) for title, help_text, run in app.palette_entries(app.screen)}
        for name in FORM_NAMES:
            help_text, _ = entries[f"Send sample {name} (form)"]
            assert "form-encoded, JSON in `payload`" in help_text
        assert "Send sample stripe.payment_intent.succeeded (form)" not in entries
        hits = [hit.text async for hit in InspectorCommands(app.screen).search("push form")]
        assert hits[0] == "Send sample github.push (form)", hits
        entries["Send sample github.push (form)"][1]()
        await _check_form_push_capture(app, pilot)


async def test_at_80x24_the_last_entry_and_the_keys_hint_stay_on_screen(workdir: Path):
    """With the form variants the list is taller than a 24-row terminal: it must scroll
    inside the box, not run past the box's bottom edge (hiding the entry being chosen and
    the enter/esc hint)."""
    app = make_app(workdir, serve=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        last = len(_option_ids(app.screen)) - 1
        await pilot.press(*["down"] * last)
        await pilot.pause()
        shown = screen_text(app)
        assert "github.ping (form)" in shown and "enter send · esc cancel" in shown, shown
        await pilot.press("up")  # the first entries scroll back in when needed
        await pilot.press(*["up"] * (last - 1))
        await pilot.pause()
        shown = screen_text(app)
        assert "github.push  signed with github" in shown and "enter send · esc cancel" in shown, shown
