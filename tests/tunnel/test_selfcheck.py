"""The self-check (SPEC §8) and PublicUrl, against a real receiver: only the nonce in flight
answers, everything else is an ordinary captured 404, and a URL that does not reach us says why."""

from __future__ import annotations

import json
import socket

import aiohttp
from aiohttp import web

from inspector.receiver import SELFCHECK_PATH
from inspector.tunnel import PublicUrl, check_public_url, open_tunnel


def ticking(*times):
    it = iter(times)
    return lambda: next(it)


async def get(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as resp:
            return resp.status, await resp.read()


async def start_other_server(handler):
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


async def test_public_url_that_reaches_the_server_passes_with_exact_time(server):
    tunnel = PublicUrl(server.url + "/", clock=ticking(10.0, 10.182), nonce=lambda: "n0nce")
    status = await open_tunnel(tunnel, server.receiver)
    assert status.state == "up" and status.public_url == server.url
    assert status.detail == f"your tunnel must forward to {server.url}"
    assert status.selfcheck.line() == "self-check: ok (182 ms)"
    assert status.headline() == f"{server.url}  ✓ self-check 182 ms"
    assert server.receiver.selfcheck_nonces == {}  # nothing left in flight
    assert list(server.store.iter_newest()) == []  # self-checks are not captures


async def test_only_the_nonce_in_flight_answers_any_other_is_a_captured_404(server):
    server.receiver.selfcheck_nonces["the-right-one"] = False
    code, body = await get(server.url + SELFCHECK_PATH + "a-wrong-one")
    assert code == 404
    capture = server.store.get(json.loads(body)["id"])
    assert capture.request.path == "/__inspector/selfcheck/a-wrong-one" and capture.event_type is None
    code, body = await get(server.url + SELFCHECK_PATH + "the-right-one")
    assert code == 200 and json.loads(body) == {"selfcheck": "ok", "nonce": "the-right-one"}
    assert server.receiver.selfcheck_nonces["the-right-one"] is True
    # With nothing in flight, even a once-valid nonce is just an unrouted request.
    server.receiver.selfcheck_nonces.clear()
    code, _ = await get(server.url + SELFCHECK_PATH + "the-right-one")
    assert code == 404
    assert len(list(server.store.iter_newest())) == 2


async def test_another_server_answering_is_not_a_pass(server):
    async def other(request):
        return web.json_response({"nonce": "guess"}, status=200)

    runner, url = await start_other_server(other)
    try:
        result = await check_public_url(url, server.receiver.selfcheck_nonces, local_url=server.url, nonce="real")
    finally:
        await runner.cleanup()
    assert not result.ok and result.http_status == 200
    assert result.reason == f"{url} answered HTTP 200, but not from this inspector — another server or tunnel answers there"
    assert result.fix == f"make sure the tunnel forwards to {server.url}"
    assert result.line() == f"self-check: FAILED — {result.reason}"


async def test_ngrok_error_pages_are_named(server):
    async def edge(request):
        return web.Response(status=404, text="The endpoint is offline.\n\nERR_NGROK_3200\n", headers={"ngrok-error-code": "ERR_NGROK_3200"})

    runner, url = await start_other_server(edge)
    try:
        result = await check_public_url(url, server.receiver.selfcheck_nonces)
    finally:
        await runner.cleanup()
    assert result.reason == f"{url} answered HTTP 404 with ngrok error ERR_NGROK_3200: The endpoint is offline."


async def test_answer_changed_on_the_way_back(server):
    """The request reached us, but a proxy replaced the answer: said precisely."""

    async def rewriting_proxy(request):
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + request.raw_path) as resp:
                await resp.read()
        return web.Response(status=502, text="bad gateway")

    runner, url = await start_other_server(rewriting_proxy)
    try:
        result = await check_public_url(url, server.receiver.selfcheck_nonces)
    finally:
        await runner.cleanup()
    assert result.reason == "the request reached this inspector, but the answer came back changed (HTTP 502)"


async def test_nothing_listening_and_silence(server):
    refused = await check_public_url("http://127.0.0.1:9", server.receiver.selfcheck_nonces)
    assert not refused.ok and refused.reason.startswith("cannot connect to 127.0.0.1:9: ")

    with socket.socket() as silent:  # listens, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = await check_public_url(url, server.receiver.selfcheck_nonces, timeout=0.3)
    assert result.reason == f"no answer through {url} within 0.3 s"
    assert server.receiver.selfcheck_nonces == {}


async def test_public_url_that_is_not_a_url_fails_with_a_fix(server):
    tunnel = PublicUrl("abc.trycloudflare.com")
    seen = []
    tunnel.subscribe(seen.append)
    status = await open_tunnel(tunnel, server.receiver)
    assert status.state == "failed"
    assert status.reason == "--public-url 'abc.trycloudflare.com' is not a URL: it must start with https:// or http:// and name a host"
    assert "https://" in status.fix
    assert [s.state for s in seen] == ["failed"]  # announced on start, though it was failed from birth
    assert (
        PublicUrl("https://x.example/?a=1").status.reason
        == "--public-url 'https://x.example/?a=1' has a query or fragment; give the base URL only"
    )
