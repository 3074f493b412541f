"""The baseline for bench/ingest.py: an aiohttp handler that reads the body and answers 200,
on the event loop `serve` runs on (uvloop where it is installed), so the two differ only in
what the handler does."""

import asyncio
import sys
from pathlib import Path

from aiohttp import web


async def handle(request: web.BaseRequest) -> web.Response:
    await request.read()
    return web.Response(status=200, body=b'{"status": "accepted"}', content_type="application/json")


async def serve_forever(handle) -> None:
    """Answer with `handle` on a free port; print it as `serve` does."""
    server = web.Server(handle, access_log=None)
    runner = web.ServerRunner(server, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


def run(handle) -> None:
    """Serve on the loop `serve` runs on (uvloop where it is installed) until stopped."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from inspector.receiver import run_server

    try:
        run_server(serve_forever(handle))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    run(handle)
