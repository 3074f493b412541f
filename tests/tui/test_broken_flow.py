"""A request meant for a flow file that failed to load: its row is marked and Overview says
which file and where (issue #18.4), through the real server the TUI runs."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from inspector.flow import FlowSet
from inspector.tui.rows import BROKEN_FLOW_MARK
from tests.flow.test_broken_flow_named import BROKEN_REFUND, WHERE, WHY

from .conftest import make_app, text_of, tree_text, wait_for

SIZE = (100, 30)


async def test_the_row_is_marked_and_overview_names_the_file_and_position(workdir: Path):
    (workdir / "flows" / "refund.ygtc").write_text(BROKEN_REFUND)
    app = make_app(workdir, flows=FlowSet.load("flows"))
    async with app.run_test(size=SIZE) as pilot:
        async with aiohttp.ClientSession() as session:
            async with session.post(app.listening + "/events/webhook/demo/refund.created", json={"amount": 5}) as resp:
                answer = await resp.json()
            async with session.post(app.listening + "/events/webhook/demo/customer.created", json={}) as resp:
                await resp.read()
        assert WHERE in answer["warning"]
        await wait_for(lambda: len(app.table.view) == 2, pilot)
        rows = {row.event_type: row for row in app.table.view}
        assert rows["refund.created"].steps_text == BROKEN_FLOW_MARK
        assert rows["customer.created"].steps_text == "–"  # no flow is meant for it: nothing to mark
        app.table.select_id(rows["refund.created"].id)
        await wait_for(lambda: app.detail.capture is not None and app.detail.capture.event_type == "refund.created", pilot)
        overview = " ".join(text_of(app.detail.query_one("#view-overview")).split())
        assert "no flow ran: a flow file that may be meant for it failed to load" in overview
        assert f"{WHERE}: {WHY} — fix it and it reloads" in overview
        assert "note flow file failed to load" not in overview  # not said twice
        flow = tree_text(app.detail.query_one("#view-flow"))
        assert f"flow file failed to load: {WHERE}: {WHY}" in flow
        await pilot.press("ctrl+q")
    assert app.return_code == 0
