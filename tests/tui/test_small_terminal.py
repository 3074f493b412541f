"""Issue 18 item 6: the TUI at 80×24 (the tunnel panel's buttons, the footer's essential keys,
the first screen's sample hint, the selected row after a shrink), the filter line's manners,
the command palette's word matching and the edit & resend form."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console
from textual.widgets import Button, Input, TextArea

from inspector import samples
from inspector.tui.commands import InspectorCommands, match_words
from inspector.tui.screens.edit_resend import EditResendScreen
from inspector.tui.screens.help_screen import HelpScreen
from inspector.tui.screens.tunnel_screen import TunnelScreen

from .conftest import NOW, FixedAddress, bad_github_request, build_request, make_app, settle, text_of, wait_for

SMALL = (80, 24)
LARGE = (120, 34)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (one line per terminal row)."""
    console = Console(width=app.size.width, file=io.StringIO(), record=True, color_system=None, force_terminal=False)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def squeezed(text: str) -> str:
    """Without any whitespace: wrapping may fall anywhere, the words must all be there."""
    return re.sub(r"\s+", "", text)


def on_screen(app, widget) -> bool:
    """The widget is drawn inside the terminal and is what the mouse finds at its place."""
    region = widget.region
    if not region or region.right > app.size.width or region.bottom > app.size.height:
        return False
    found, _ = app.screen.get_widget_at(region.x, region.y)
    return found is widget or widget in found.ancestors


# The tunnel panel, the footer, the first screen


async def test_the_tunnel_panels_buttons_are_on_screen_and_work_at_80x24(workdir: Path):
    app = make_app(workdir, port=8080, receiver_factory=FixedAddress)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TunnelScreen), pilot)
        await pilot.pause()
        buttons = list(app.screen.query(Button))
        assert [b.id for b in buttons] == ["tunnel-start-button", "tunnel-stop-button", "tunnel-selfcheck-button", "tunnel-close-button"]
        assert [b.id for b in buttons if not on_screen(app, b)] == []
        assert await pilot.click("#tunnel-close-button")
        await wait_for(lambda: not isinstance(app.screen, TunnelScreen), pilot)


async def test_the_footer_keeps_debug_and_help_in_sight_at_80_columns(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        keys = {k.key: k for k in app.screen.query("FooterKey")}
        palette = next(k for k in keys.values() if k.has_class("-command-palette"))
        for key in ("d", "question_mark", "s", "slash"):
            assert on_screen(app, keys[key]), key
            assert keys[key].region.right <= palette.region.x, key


async def test_the_first_screen_shows_press_s_at_80x24(workdir: Path):
    app = make_app(workdir, port=8080, receiver_factory=FixedAddress)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(lambda: app.listening is not None, pilot)
        await pilot.pause()
        assert "press s to send a sample" in screen_text(app)


async def test_a_trigger_url_sits_under_or_beside_its_flow_name_at_any_width(workdir: Path):
    """A long flow name no longer pushes its URL to the left edge, under nothing."""
    app = make_app(workdir, port=8080, receiver_factory=FixedAddress)
    async with app.run_test(size=LARGE) as pilot:
        await wait_for(lambda: app.listening is not None, pilot)
        urls = app.trigger_urls()
        assert max(len(u.flow) + len(u.url) for u in urls) + 8 > SMALL[0]  # one does not fit beside its name
        for size in (LARGE, SMALL):
            await pilot.resize_terminal(*size)
            await wait_for(lambda size=size: app.size == size, pilot)
            await pilot.pause()
            lines = screen_text(app).splitlines()
            for u in urls:
                row = next(i for i, line in enumerate(lines) if u.url in line)
                column = lines[row].index(u.url)
                beside = lines[row][:column].rstrip().endswith(u.flow)
                above = lines[row - 1].strip(" │") == u.flow and lines[row - 1].index(u.flow) < column
                assert beside or above, (size, u.flow, lines[row - 1], lines[row])


async def test_the_selected_row_stays_on_screen_when_the_window_shrinks(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=LARGE) as pilot:
        for i in range(30):
            await app.pipeline.handle(build_request("github.ping", app.config, NOW + i), origin="live", now=NOW + i, wait=True)
        await wait_for(lambda: len(app.table.view) == 30, pilot)
        table = app.table

        def shown() -> range:
            top = int(table.scroll_y)
            return range(top, top + table.size.height - 1)  # the first line is the column titles

        for chosen in (29, 26):  # the newest (follow), then one near the bottom of the window
            await pilot.resize_terminal(*LARGE)
            await pilot.pause()
            table.select_id(chosen + 1)
            await pilot.pause()
            assert table.cursor == chosen and table.cursor in shown()
            assert table.cursor >= shown().stop - 4  # near the bottom at 120×34
            await pilot.resize_terminal(*SMALL)
            await wait_for(lambda: app.size == SMALL and table.size.height < 12, pilot)
            await pilot.pause()
            assert table.cursor == chosen
            assert table.cursor in shown(), (chosen, shown())


# The filter line


async def _two_captures(app, pilot) -> None:
    await app.pipeline.handle(build_request("github.push", app.config), origin="live", now=NOW, wait=True)
    await app.pipeline.handle(bad_github_request(app.config), now=NOW, wait=True)
    await wait_for(lambda: len(app.table.view) == 2, pilot)


async def test_escape_clears_the_filter_being_typed(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await _two_captures(app, pilot)
        await pilot.press("slash", *"sig:invalid")
        await wait_for(lambda: len(app.table.view) == 1, pilot)
        await pilot.press("escape")
        bar_input = app.query_one("#filter-input", Input)
        await wait_for(lambda: len(app.table.view) == 2, pilot)
        assert bar_input.value == "" and app.main.filter_text == ""
        assert app.focused is app.table and not app.query_one("#filter").has_class("-visible")


async def test_the_help_screen_says_escape_clears_the_filter(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        text = " ".join(text_of(app.screen.query_one("#help-text")).split())
        assert "esc clears the filter being typed" in text


async def test_a_long_filter_error_wraps_to_show_the_whole_message_at_80_columns(workdir: Path):
    from inspector.filters import FilterError, parse_filter

    typed = "sig:bogus,wrong"
    try:
        parse_filter(typed)
    except FilterError as exc:
        message = str(exc)
    assert len(message) > 80  # longer than the terminal is wide
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("slash", *typed)
        await wait_for(lambda: message in text_of(app.query_one("#filter-status")), pilot)
        await pilot.pause()
        assert squeezed(message) in squeezed(screen_text(app))


async def test_a_reopened_filter_keeps_its_text_and_is_edited_not_replaced(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await _two_captures(app, pilot)
        await pilot.press("slash", *"sig:invalid", "enter")
        await wait_for(lambda: app.focused is app.table and len(app.table.view) == 1, pilot)
        await pilot.press("slash")
        bar_input = app.query_one("#filter-input", Input)
        assert app.focused is bar_input and bar_input.value == "sig:invalid"
        await pilot.press(*" method:POST", "enter")
        await wait_for(lambda: app.focused is app.table, pilot)
        assert bar_input.value == "sig:invalid method:POST"
        assert app.main.filter_text == "sig:invalid method:POST" and len(app.table.view) == 1


# The command palette


def test_words_match_in_any_order_each_fuzzy():
    title = "Send sample stripe.payment_intent.payment_failed"
    for query in ("stripe fail", "fail stripe", "STRIPE failed", "strp fld", "payment stripe intent"):
        assert match_words(query, title) is not None, query
    for query in ("stripe refund", "github fail", ""):
        assert match_words(query, title) is None, query
    # A word found as typed at a word's start outranks the same letters scattered.
    assert match_words("fail", title).score > match_words("fld", title).score


async def _palette_hits(app, query: str) -> list[str]:
    provider = InspectorCommands(app.screen)
    return [hit.text async for hit in provider.search(query)]


async def test_the_palette_finds_stripe_payment_failed_from_stripe_fail(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        hits = await _palette_hits(app, "stripe fail")
        assert hits == ["Send sample stripe.payment_intent.payment_failed"]
        assert await _palette_hits(app, "sign resend") == ["Resend re-signed"]


async def test_every_palette_entry_is_found_by_its_words_in_reverse_order(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        titles = [title for title, _, _ in app.palette_entries(app.screen)]
        # Each sample, and again form-encoded for those whose provider also sends that.
        with_form = [s for s in samples.SAMPLES.values() if s.form]
        assert len([t for t in titles if t.startswith("Send sample ")]) == len(samples.SAMPLES) + len(with_form)
        for title in titles:
            words = re.findall(r"[A-Za-z0-9]+", title)
            assert title in await _palette_hits(app, " ".join(reversed(words))), title


# Edit & resend


async def _open_editor(app, pilot) -> EditResendScreen:
    await app.pipeline.handle(build_request("github.push", app.config), origin="live", now=NOW, wait=True)
    await wait_for(lambda: app.detail.capture is not None, pilot)
    await pilot.press("e")
    await wait_for(lambda: isinstance(app.screen, EditResendScreen), pilot)
    await pilot.pause()
    return app.screen


async def test_edit_and_resend_starts_on_the_first_field(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        editor = await _open_editor(app, pilot)
        assert app.focused is editor.query_one("#edit-method", Input)


async def test_a_header_error_goes_away_once_the_line_is_fixed_without_pressing_send(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        editor = await _open_editor(app, pilot)
        area = editor.query_one("#edit-headers", TextArea)
        error = editor.query_one("#edit-headers-error")
        area.text = area.text + "\nX-Broken"
        await pilot.press("ctrl+s")
        await wait_for(lambda: error.has_class("-visible"), pilot)
        assert "line" in text_of(error) and isinstance(app.screen, EditResendScreen)
        assert app.focused is area  # the cursor sits at the end of the bad line
        await pilot.press(*": yes")
        await wait_for(lambda: not error.has_class("-visible"), pilot)
        assert isinstance(app.screen, EditResendScreen)  # not sent: only checked
        assert area.text.endswith("\nX-Broken: yes")


async def test_a_target_url_error_goes_away_once_the_url_is_fixed(workdir: Path):
    app = make_app(workdir, serve=False)
    async with app.run_test(size=SMALL) as pilot:
        editor = await _open_editor(app, pilot)
        error = editor.query_one("#edit-error")
        to = editor.query_one("#edit-to", Input)
        to.value = "localhost:9"
        await pilot.press("ctrl+s")
        await wait_for(lambda: error.has_class("-visible"), pilot)
        assert "is not a URL" in text_of(error) and app.focused is to
        await pilot.press("home", *"http://")
        await wait_for(lambda: not error.has_class("-visible"), pilot)
        assert to.value == "http://localhost:9" and isinstance(app.screen, EditResendScreen)
        await settle(app)
