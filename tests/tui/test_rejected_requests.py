"""Requests the HTTP parser refuses show in the TUI: a 400 row with the reason in its detail,
and a line in the problems bar that counts them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from inspector.tui.widgets.problems_bar import ProblemsBar

from .conftest import make_app, text_of, wait_for

SIZE = (120, 30)


async def send_raw(url: str, raw: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_a_refused_request_is_a_row_and_counted_in_the_problems_bar(workdir: Path):
    app = make_app(workdir)
    async with app.run_test(size=SIZE) as pilot:
        raw = (
            b"POST /events/webhook/demo/x HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(130))
            + b"Content-Length: 0\r\n\r\n"
        )
        answer = await send_raw(app.listening, raw)
        assert b" 400 " in answer.split(b"\r\n", 1)[0]
        await wait_for(lambda: len(app.table.view) == 1, pilot, timeout=2.0)
        row = app.table.view[0]
        assert (row.method, row.route, row.status_text) == ("POST", "/events/webhook/demo/x", "400")
        bar = app.query_one(ProblemsBar)
        await wait_for(lambda: bar.has_class("-visible") and "malformed HTTP" in text_of(bar), pilot, timeout=2.0)
        assert "1 request refused as malformed HTTP" in text_of(bar) and "more than 128 headers" in text_of(bar)
        await send_raw(app.listening, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        await wait_for(lambda: "2 requests refused" in text_of(bar), pilot, timeout=2.0)
        assert "TLS" in text_of(bar)
        await pilot.press("ctrl+q")
    assert app.return_code == 0
