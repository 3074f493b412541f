"""A take that only brings new captures in rising id order, above all the table holds, with no
filter (the stream under load) puts them in at once (`RequestTable.append_newest`). It must
leave the screen exactly as putting them in one by one does (`MainScreen._take_each`): the same
rows, view, cursor, counts and detail pane, whatever came before and after it (updates, ids out
of order, `clear view`, filters, a row the user moved to)."""

from __future__ import annotations

from pathlib import Path

from inspector.store import Store

from .conftest import build_request, ingest, make_app, settle

SIZE = (100, 30)


def _state(app) -> dict:
    main, table = app.main, app.table
    return {
        "rows": [r.id for r in table.rows],
        "view": [r.id for r in table.view],
        "by_id": sorted(table.by_id),
        "cursor": table.cursor,
        "follow": table.follow,
        "total": main.total,
        "detail": main._detail_id,
        "detail_capture": main._detail_capture.id if main._detail_capture is not None else None,
        "late": sorted(main._late),
        "watermark": main.watermark,
        "counts": (main._table_title, main._table_subtitle),
    }


async def _scenario(workdir: Path, general_only: bool) -> tuple[list[dict], int]:
    """The same arrivals and keys; the state after each take, and how many takes went the
    quick way."""
    app = make_app(workdir, serve=False, load_history=False)
    quick = 0
    append_newest = None
    states = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        table = app.table
        original = table.append_newest

        def counting(rows):
            nonlocal quick
            quick += 1
            return original(rows)

        table.append_newest = counting  # type: ignore[method-assign]
        append_newest = counting
        if general_only:
            app.main._beyond_table = lambda capture_id: False  # type: ignore[method-assign]
        store = Store(":memory:")
        pushes = await ingest(store, app.flows, app.config, [(build_request("github.push", app.config), "live")] * 3)
        stripe = await ingest(store, app.flows, app.config, [(build_request("stripe.payment_intent.succeeded", app.config), "live")])

        def cap(capture_id: int, kind: int = 0):
            source = stripe[0] if kind == 1 else pushes[capture_id % len(pushes)]
            return source.with_(id=capture_id)

        async def take(*arrivals) -> None:
            for capture_id, first, kind in arrivals:
                app._capture_arrived(cap(capture_id, kind), first)
            app.main._take_captures()
            await pilot.pause()
            states.append(_state(app))

        await take((1, True, 0), (2, True, 0), (3, True, 1))  # the first rows
        await take(*[(i, True, i % 2) for i in range(4, 40)])  # the stream
        await take((41, True, 0), (2, False, 0), (42, True, 0))  # an update among new ones
        await take((45, True, 0), (43, True, 0), (44, True, 1))  # ids out of order
        await take((46, True, 0), (46, True, 0))  # reported twice
        await take((30, True, 0))  # below the highest held (another worker numbered it first)
        app.main.action_clear_view()
        await pilot.pause()
        await take((47, True, 0), (48, True, 1))  # after `clear view`
        app.main.action_clear_view()  # and shown again
        await pilot.pause()
        await take(*[(i, True, 0) for i in range(49, 60)])
        assert app.main.set_filter("type:stripe")
        await pilot.pause()
        await take((60, True, 1), (61, True, 0), (62, True, 1))  # a filter stands
        assert app.main.set_filter("")
        await pilot.pause()
        table.action_first()  # the user moves to a row: follow is off
        await pilot.pause()
        await take((63, True, 0), (64, True, 1))
        table.action_last()  # back to following the newest
        await pilot.pause()
        app.main._detail_id = 67  # the pane waits for a capture still to come
        await take((65, True, 0), (66, True, 1), (67, True, 0))
        await take((67, False, 0))
    assert append_newest is not None
    return states, quick


async def test_a_take_of_new_rising_rows_leaves_the_screen_as_one_by_one_does(workdir: Path):
    quick_states, quick = await _scenario(workdir, general_only=False)
    general_states, none = await _scenario(workdir, general_only=True)
    assert none == 0
    assert quick >= 4, "the quick way was not taken where it should be"
    for step, (got, want) in enumerate(zip(quick_states, general_states, strict=True)):
        assert got == want, f"after take {step + 1}"
