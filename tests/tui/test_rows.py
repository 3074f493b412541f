"""Row summaries answer the filter's field terms exactly as full captures do."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from inspector.config import load_config
from inspector.filters import parse_filter
from inspector.flow import FlowSet
from inspector.model import Headers, Request
from inspector.store import Store
from inspector.tui.rows import Row, needs_store, provider_event, select

from .conftest import NOW, bad_github_request, build_request, ingest

TERMS = [
    "tenant:demo",
    "tenant:other",
    "type:github",
    "type:order.*",
    "type:*",
    "sig:valid",
    "sig:invalid,unsigned",
    "status:200",
    "status:4xx",
    "status:2xx",
    "flow:github",
    "flow:handle_*",
    "method:POST",
    "method:get",
    "origin:sample",
    "origin:live",
]


@pytest.fixture
async def captures(workdir: Path):
    config = load_config(workdir / "answers.example.json")
    store = Store(workdir / "s.sqlite3")
    requests = [
        (build_request(name, config, NOW + i), "sample" if i % 2 else "live")
        for i, name in enumerate(
            [
                "github.push",
                "github.ping",
                "stripe.payment_intent.succeeded",
                "shopify.orders.create",
                "generic.order.created",
                "generic.report.generate",
            ]
        )
    ]
    requests.append((bad_github_request(config), "live"))
    requests.append((Request("GET", "/nowhere", "", Headers(), b"", "127.0.0.1", NOW), "live"))
    out = await ingest(store, FlowSet.load("flows"), config, requests)
    store.close()
    return out


async def test_field_terms_agree_with_full_captures(captures):
    rows = [Row(c) for c in captures]
    for a, b in itertools.combinations(TERMS, 2):
        for text in (a, f"{a} {b}", f"-{a}", f"{a} -{b}"):
            flt = parse_filter(text)
            assert not needs_store(text)
            expected = [c.id for c in captures if flt(c)]
            assert [r.id for r in select(rows, flt.predicates)] == expected, text


def test_text_terms_need_the_store():
    for text in ("octocat", '"a phrase"', "sig:valid push", "-hello", "x-github-event:push"):
        assert needs_store(text), text
    for text in ("", "sig:valid", "-type:github status:4xx"):
        assert not needs_store(text), text


async def test_cells(captures):
    by_route = {Row(c).route: Row(c) for c in captures}
    push = Row(captures[0])
    assert (push.event, push.sig_mark, push.status_text, push.steps_text) == ("push", "✓", "200", "3")
    assert Row(captures[2]).event == "payment_intent.succeeded"
    assert Row(captures[3]).event == "orders/create"
    bad = Row(captures[6])
    assert (bad.sig_mark, bad.status_text, bad.steps_text) == ("✗", "401", "skip")
    lost = by_route["/nowhere"]
    assert (lost.event_type, lost.sig_mark, lost.status_text, lost.steps_text) == (None, "–", "404", "–")
    assert provider_event(captures[4]) == ""


def test_a_provider_event_from_bytes_that_are_not_utf8_shows_as_replacement_characters():
    """`X-GitHub-Event: caf\\xff` arrives as a surrogate escape; in a table cell it would print
    as `\\udcff` and push the row's later columns out of line."""
    from inspector.model import Capture, SignatureResult

    def capture(headers, body=b"{}", event_type="github"):
        req = Request("POST", f"/events/webhook/demo/{event_type}", "", Headers(headers), body, "t", NOW)
        return Capture(1, req, "demo", event_type, SignatureResult("valid"))

    assert provider_event(capture([("X-GitHub-Event", "caf\udcff")])) == "caf\ufffd"
    assert provider_event(capture([], b'{"type": "a\\ud800b"}', "stripe")) == "a\ufffdb"
    assert Row(capture([("X-GitHub-Event", "caf\udcff")])).event == "caf\ufffd"


async def test_a_row_takes_a_later_rows_changes_as_update_takes_the_captures(captures):
    """The table takes an update as a row made when it arrived (`Row.take`): the same fields
    as `Row.update` reads from the capture, for every pair of versions (a later version has
    another answer, runs and notes; the request is the same)."""
    for before, after in itertools.permutations(captures, 2):
        later = before.with_(response=after.response, runs=after.runs, notes=after.notes)
        updated, taken = Row(before), Row(before)
        updated.update(later)
        taken.take(Row(later))
        assert {name: getattr(taken, name) for name in Row.__slots__} == {name: getattr(updated, name) for name in Row.__slots__}


def test_in_shape_leaves_a_capture_in_shape_as_it_is_and_mends_the_rest():
    from inspector.flow.runs import FlowRun
    from inspector.model import Capture, Request, SignatureResult
    from inspector.tui.shapes import in_shape

    good = FlowRun.from_json({"id": 1, "flow": "a", "status": "ok", "path": ["n"]})
    odd = FlowRun.from_json("a run that is text")
    capture = Capture(id=3, request=Request("POST", "/x"), tenant=None, event_type=None, signature=SignatureResult("unsigned"))
    for runs in [(), (good,), (good, good)]:
        for notes in [(), ("a note",)]:
            shaped = capture.with_(runs=runs, notes=notes)
            assert in_shape(shaped) is shaped
    # A stored run that was no JSON object is left out wherever it sits; notes that are not
    # text become text, unless only the table reads the capture (deep=False).
    mended = in_shape(capture.with_(runs=(odd, good, odd), notes=("n", 7, None)))
    assert mended.runs == (good,) and mended.notes == ("n", "7", "")
    shallow = in_shape(capture.with_(runs=(good, odd), notes=(7,)), deep=False)
    assert shallow.runs == (good,) and shallow.notes == (7,)
    assert in_shape(capture.with_(notes=(7,)), deep=False).notes == (7,)
