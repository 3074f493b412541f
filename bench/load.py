"""A small HTTP/1.1 keep-alive load generator (closed loop or fixed rate) for the benches.

Requests are pre-encoded bytes; responses are read by Content-Length. It runs in its own
process so that it does not share a core's GIL with the server being measured.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(len(data) * p / 100))]


def encode_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run_load(
    host: str,
    port: int,
    payload: bytes,
    *,
    concurrency: int = 32,
    seconds: float = 5.0,
    rate: float | None = None,
    max_requests: int = 2_000_000,
) -> LoadResult:
    """Closed loop (`rate` None): each connection sends as soon as it has its answer.
    Open loop (`rate` req/s): requests are due on a fixed schedule; latency counts from the
    due time, so a server that falls behind shows it (no coordinated omission)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    sent = 0
    start = time.perf_counter()
    deadline = start + seconds
    interval = (1.0 / rate) if rate else 0.0
    next_due = start

    async def worker() -> None:
        nonlocal errors, sent, next_due
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                now = time.perf_counter()
                if now >= deadline or sent >= max_requests:
                    return
                due = now
                if rate:
                    due = next_due
                    next_due += interval
                    if due >= deadline:
                        return
                    if due > now:
                        await asyncio.sleep(due - now)
                sent += 1
                try:
                    writer.write(payload)
                    status = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latencies.append((time.perf_counter() - due) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return LoadResult(len(latencies), errors, elapsed, latencies, statuses)
