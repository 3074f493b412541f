"""A group commit writes its runs of inserts with one executemany (store/commit.py): every
row of a group still stands or falls alone, wherever the refused ones sit in it, with
updates between the inserts and refused rows side by side."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3

import pytest

from inspector.model import Response
from inspector.store import Store, StoreError
from tests.harness import reread
from tests.test_hostile_store import capture, run_with_output

BIG = 150_000  # over the length limit set below


def answer(cid: int) -> Response:
    return Response.json(200, {"id": cid})


# Each row of a group: "ok", "body" (its request is refused: the sender hears an error),
# "trace" (its trace is refused: stored without step outputs), "update" (a trace update of
# an earlier capture between the inserts).
KINDS = ("ok", "body", "trace", "update")
GROUPS = [("ok",) * 5, ("body",) * 3, ("trace", "trace", "ok")]
GROUPS += [("ok", "ok", "ok", kind, "ok", "ok") for kind in KINDS[1:]]
GROUPS += [kinds for kinds in itertools.product(KINDS, repeat=3) if kinds not in GROUPS]


@pytest.mark.parametrize("kinds", GROUPS, ids="-".join)
async def test_each_row_of_a_group_fails_alone_wherever_it_sits(tmp_path, kinds):
    path = tmp_path / "s.sqlite3"
    store = Store(path, quiet_stock=64)
    try:
        earlier = await store.add(capture(0), answer)
        store.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)
        await store.reserve_id()
        joined = []
        for n, kind in enumerate(kinds, 1):
            if kind == "update":
                joined.append((None, store.update_grouped(earlier.id, runs=[run_with_output(n)])))
            elif kind == "body":
                joined.append(store.insert_grouped(capture(n, body=b"B" * BIG), answer))
            elif kind == "trace":
                joined.append(store.insert_grouped(capture(n, runs=(run_with_output("x" * BIG),)), answer))
            else:
                joined.append(store.insert_grouped(capture(n), answer))
        results = await asyncio.gather(*(future for _, future in joined), return_exceptions=True)
    finally:
        store.close()
    for n, (kind, (stored, _), result) in enumerate(zip(kinds, joined, results, strict=True), 1):
        if kind == "body":
            assert isinstance(result, StoreError) and "too big" in str(result), (n, result)
            assert reread(path, stored.id) is None
            continue
        assert result is None, (n, kind, result)
        if kind == "update":
            continue
        row = reread(path, stored.id)
        assert row is not None and row.request.path == f"/events/webhook/demo/e{n}" and row.response.status == 200
        if kind == "trace":
            assert row.runs[0].to_json()["steps"][0]["output"] is None
            assert any("SQLite refused" in note for note in row.notes), row.notes
        else:
            assert row.notes == ()
    updates = [n for n, kind in enumerate(kinds, 1) if kind == "update"]
    if updates:  # the last update of the earlier capture is the one it keeps
        assert reread(path, earlier.id).runs[0].to_json()["steps"][0]["output"] == updates[-1]
