"""One request in, one stored capture and one response out (SPEC §4).

The receiver, `run`, resend and samples all come through `Pipeline.handle`; nothing else
decides how a request is answered.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from json.encoder import encode_basestring_ascii as _json_string  # the C one json.dumps writes strings with
from typing import Any

from . import jsonfast
from .config import Config
from .flow import runs as runs_
from .flow.engine import Answer, Budget, OverBudget
from .flow.runs import FlowRun
from .model import FAILED_SIGNATURE, Capture, Headers, Request, Response, SignatureResult, unicode_text
from .routes import (  # noqa: F401  (ROUTE_SHAPE, Route, match_route: still importable from here)
    CAPTURE_HEADER,
    FORWARDED_BY,
    INTERNAL_HEADERS,
    REPLAY_HEADER,
    ROUTE_SHAPE,
    SAMPLE_HEADER,
    TARGET_CAPTURE_HEADER,
    Route,
    match_route,
    segment_ok,
    webhook_url,
)
from .signatures import verify_request
from .signatures.verify import QuickCheck, quick_checks

TRUNCATED_KEEP = 64 * 1024
# The note on a capture of a request HTTP's parser refused; `serve` shows such lines this way.
REJECTED_NOTE = "rejected before routing: "

log = logging.getLogger(__name__)
# json.dumps(value, ensure_ascii=False): the bytes a flow's answer has always had.
_encode_flow_body = jsonfast.standard_encoder(ensure_ascii=False)
# Text from request bytes that are not UTF-8 holds surrogate escapes (U+DC80–U+DCFF, one per
# byte); any other lone surrogate can come from a JSON payload ("\ud800").
_NOT_AN_ESCAPE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
_ok = segment_ok  # the name `cli` knew it by


def _text_bytes(text: str) -> bytes:
    """A text body as UTF-8; surrogate escapes go back to the bytes they stand for."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _NOT_AN_ESCAPE.sub("\ufffd", text).encode("utf-8", "surrogateescape")


CaptureListener = Callable[[Capture], None]
_JSON_TYPE = ("Content-Type", "application/json")
_NOT_VERIFIED = SignatureResult("unsigned", reason="Not checked (--no-verify).")


DRAIN_SECONDS = 10.0  # after a stop, flow runs still going this long end as `interrupted`
DRAIN_SECONDS_TUI = 3.0  # the TUI quits sooner; so do its workers


class Pipeline:
    """Turns requests into captures. `config` may be swapped at any time (reload)."""

    def __init__(
        self,
        config: Config,
        store: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        local_base: str = "http://127.0.0.1:8080",
        public_url: str | None = None,
        engine: Any = None,
        workers: int = 4,
        forward_to: str | None = None,
        forward_timeout: float = 10.0,
        forward_pool_size: int = 32,
        verify: bool = True,
    ):
        """Policy comes in here and nowhere else: the clock, `forward_to` (serve --forward-to:
        the target answers the sender, with `forward_timeout` seconds and at most
        `forward_pool_size` connections), and `verify=False` (run --no-verify: signatures are
        not checked). `config`, `engine` and `public_url` follow reloads and the tunnel."""
        self.config = config
        self.store = store
        self.engine = engine  # flow.Engine, or None when no flows are loaded
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[asyncio.Future] = set()
        self._recording: set[asyncio.Task] = set()  # traces being stored after their runs ended
        self._stopping = False
        self._ids = 0  # ids handed out when there is no store (`run`)
        self.forward_to = forward_to
        self.forward_timeout = forward_timeout
        self.forward_pool_size = forward_pool_size
        self.verifies = verify
        self.forward_mark = secrets.token_hex(8)  # tells a forwarded request coming back
        self._client: Any = None
        self.clock = clock
        self._quick_for: Config | None = None  # the config `_quick` was made from
        self._quick: dict[str, QuickCheck] = {}  # signatures.quick_checks(config)
        self.local_base = local_base
        self.public_url = public_url  # the tunnel's URL, when one is up
        self.listeners: list[CaptureListener] = []  # a capture was answered
        self.update_listeners: list[CaptureListener] = []  # its flow runs ended later

    # URLs

    @property
    def base_url(self) -> str:
        """Where senders reach us: the tunnel, else answers.json's public_base_url, else local."""
        return (self.public_url or self.config.public_base_url or self.local_base).rstrip("/")

    def webhook_url(self, tenant: str, event_type: str, base: str | None = None) -> str:
        return webhook_url(base or self.base_url, tenant, event_type)

    def signed_url(self, request: Request) -> str:
        return self.base_url + request.target

    # The request path

    def verify(self, request: Request, event_type: str | None, now: float | None = None) -> SignatureResult:
        if not self.verifies:
            return _NOT_VERIFIED
        if event_type is not None:
            # The usual signed webhook: its verdict without the URLs and the diagnosis.
            config = self.config
            if config is not self._quick_for:  # first request, or answers.json reloaded
                self._quick_for, self._quick = config, quick_checks(config)
            check = self._quick.get(event_type)
            if check is not None and (result := check(request)) is not None:
                return result
        return verify_request(self.config, request, event_type, self.signed_url(request), now, local_url=self.local_base + request.target)

    def prepare(self, request: Request, origin: str = "live") -> tuple[Request, str, int | None]:
        """Strip the inspector's own linking headers and read what they say."""
        replay_of: int | None = None
        headers = request.headers
        if REPLAY_HEADER in headers or SAMPLE_HEADER in headers:
            raw = (headers.get(REPLAY_HEADER) or "").strip()
            if raw.isascii() and raw.isdigit() and len(raw) < 19:
                replay_of = int(raw)
                origin = "replay"
            if SAMPLE_HEADER in headers:
                origin = "sample"
            request = Request(
                request.method,
                request.path,
                request.query,
                headers.without(*INTERNAL_HEADERS),
                request.body,
                request.client,
                request.received_at,
                request.truncated,
                request.size,
            )
        return request, origin, replay_of

    def decide(self, request: Request, now: float | None = None) -> tuple[Route | None, SignatureResult, Callable[[int], Response] | None]:
        """The answer that needs no flow: disabled, too large, unrouted, or a failed signature."""
        config = self.config
        route = match_route(request.path)
        if not config.enabled:
            sig = SignatureResult("unsigned", reason="Not checked: the provider is disabled (`enabled: false`).")
            return route, sig, lambda _id: Response.json(503, {"error": "events-webhook provider is disabled"})
        if request.truncated:
            sig = SignatureResult("unsigned", reason=f"Not checked: the body is larger than max_body_bytes ({config.max_body_bytes}).")
            limit = config.max_body_bytes
            return (
                route,
                sig,
                lambda cid: Response.json(
                    413,
                    {
                        "error": f"body larger than max_body_bytes ({limit} bytes)",
                        "hint": "raise events-webhook.max_body_bytes in answers.json",
                        "id": cid,
                    },
                ),
            )
        sig = self.verify(request, route.event_type if route else None, now)
        if route is None:
            example = self.webhook_url("demo", "order.created", self.local_base)
            method, target = request.method, request.path

            def not_found(cid: int) -> Response:
                return Response.json(
                    404,
                    {
                        "error": f"no webhook route for {method} {target}",
                        "hint": f"send webhooks to {ROUTE_SHAPE} (tenant and event_type: letters, digits, '.', '_', '-'), e.g. {example}",
                        "id": cid,
                    },
                )

            return None, sig, not_found
        if sig.status in FAILED_SIGNATURE and config.enforce:
            status, reason = sig.status, sig.reason
            return route, sig, lambda cid: Response.json(401, {"error": f"signature {status}", "reason": reason, "id": cid})
        return route, sig, None

    async def handle(
        self, request: Request, origin: str = "live", now: float | None = None, *, wait: bool = False, notes: tuple[str, ...] = ()
    ) -> Capture:
        """Capture `request` and decide its answer (SPEC §4). With `wait`, return only after
        every run, async children included, has ended (`run`, tests). `notes`: what the
        receiver saw go wrong while reading it (an upload cut short).

        Every request leaves by `_answer`: stored with its answer, told to the listeners,
        its later runs recorded. The mode only chooses where the flows run: inside the
        store's decision (inline), in a worker that decides the answer (a big compressed
        body, or inline work over its budget), or after the forward target answered."""
        started = time.perf_counter()
        request, origin, replay_of = self.prepare(request, origin)
        route, sig, early = self.decide(request, now)
        capture = Capture(
            id=None,
            request=request,
            tenant=route.tenant if route else None,
            event_type=route.event_type if route else None,
            signature=sig,
            origin=origin,
            replay_of=replay_of,
            notes=notes,
        )
        engine = self.engine
        triggered = engine.triggered(capture.event_type) if engine is not None and route is not None else []
        # Most flow sets have no broken file: no walk (and no list) to find none for this one.
        broken = engine.flows.broken_for(route.event_type) if engine is not None and route is not None and engine.flows.broken else []
        if broken:
            # Also when another flow answers: the file that was meant to run did not.
            capture = capture.with_(notes=capture.notes + tuple(b.note() for b in broken))
        if early is not None and triggered and sig.status in FAILED_SIGNATURE:
            capture = capture.with_(runs=tuple(engine.skipped_runs(capture, f"signature {sig.status}")))
        later = _Later(triggered)
        decide: Callable[[int], Response | Capture | None] | None
        if early is not None:
            decide = self._answering(early, started)
        elif self.forward_to and route is not None:
            decide = self._forwarding(capture, await self._forward(capture.request, self.forward_to), triggered, started, later)
        elif not triggered and (greentic := self._greentic(capture, later, started)) is not None:
            decide = greentic
        elif not triggered:
            accepted = self._accepted(route)
            decide = lambda cid: accepted(cid, started)  # noqa: E731
        elif _inflates_big(capture.request):
            # Inflating it (up to flow.engine.MAX_DECODED_BYTES) could take tens of
            # milliseconds: never on the event loop, where every other sender would wait.
            later.answer_in_worker = True
            decide = None
        else:
            decide = self._inlining(capture, started, triggered, later)
        return await self._answer(capture, decide, later, started, wait)

    async def _answer(
        self,
        capture: Capture,
        decide: Callable[[int], Response | Capture | None] | None,
        later: _Later,
        started: float,
        wait: bool,
    ) -> Capture:
        """The one way out of `handle` and `reject`, whatever the mode: store the capture with
        the answer `decide(id)` makes (committed before the answer can go out); when the flows
        could not decide it inline, a worker decides it and the row is updated (also
        committed before it goes out); tell the listeners once; record the runs that go on
        after the answer once they end."""
        numbered = self._store(capture, decide)
        if isinstance(numbered, Capture):
            stored = numbered
        elif isinstance(numbered, tuple):  # numbered now, committed when its group is
            stored = numbered[0]
            await numbered[1]
        else:
            stored = await numbered
        future: asyncio.Future | None = None
        known: Callable[[], list[FlowRun]] = list
        if later.answer_in_worker:
            stored, future, known = await self._answer_in_worker(stored, started, later.triggered)
        elif later.children is not None or later.rerun or later.greentic is not None:
            future, known = self._after_answer(stored, later)
        self._notify(stored)
        if future is not None:
            runs = await self._record_later(stored, future, known, wait)
            if runs is not None:
                stored = stored.with_(runs=tuple(runs))
        return stored

    def _greentic(self, capture: Capture, later: _Later, started: float) -> Callable[[int], Capture] | None:
        """A v1 ingress webhook that Greentic-shaped flows serve (issue #20) and no documented
        flow is triggered by: answered as Greentic answers, stored with the chosen flows as
        `running`, and run after the answer."""
        flows = self.engine.flows if self.engine is not None else None
        if flows is None or flows.greentic is None:  # what `serves` says first, without importing it
            return None
        from .greentic.glue import accepted, running_runs, serves

        if not serves(flows, capture.request.path):
            return None
        later.greentic = flows
        running = tuple(running_runs(flows, capture.request))
        return lambda cid: capture.with_(id=cid, response=self._finish(accepted(), cid, started), runs=running)

    def _answering(self, answer: Callable[[int], Response], started: float) -> Callable[[int], Response]:
        """An answer that needs no flow, made from the capture's id."""
        return lambda cid: self._finish(answer(cid), cid, started)

    @staticmethod
    def _finish(response: Response, cid: int, started: float) -> Response:
        duration = round((time.perf_counter() - started) * 1000, 3)
        headers = Headers.of(response.headers.items + ((CAPTURE_HEADER, str(cid)),))
        return Response(response.status, headers, response.body, duration)

    # Flows: SPEC §4 rules 2–4

    def _inlining(self, capture: Capture, started: float, triggered: list, later: _Later) -> Callable[[int], Capture | None]:
        """Most flows are small: try them right here, inside the transaction that stores the
        capture, so the request costs one commit and no thread hand-off. Flows that outgrow
        the inline budget leave no answer (None): a worker redoes them and answers by rules
        2–4. A failure raises, and `_store` keeps the request with a 500."""

        def decide(cid: int) -> Capture | None:
            attempt = self._inline(capture.with_(id=cid), cid, started, triggered)
            if attempt is None:
                later.answer_in_worker = True
                return None
            decided, (event, pending) = attempt
            if pending:
                later.children = (event, pending)
            return decided

        return decide

    def _forwarding(
        self, capture: Capture, forwarded: tuple[Response, str], triggered: list, started: float, later: _Later
    ) -> Callable[[int], Capture]:
        """SPEC §9 forward mode: the target's answer (`forwarded`: it and the note saying
        where it came from) goes back to the sender; flows still run and are traced, their
        http_response nodes recorded as unused. Inline while small, else in a worker later."""
        response, note = forwarded
        closed = Answer(lambda r, w: False, taken=True)

        def decide(cid: int) -> Capture:
            cap = capture.with_(id=cid)
            runs: tuple = ()
            if triggered:
                try:
                    event, done, pending = self.engine.run_triggered(cap, closed, budget=Budget())
                    runs = tuple(done)
                    if pending:
                        later.children = (event, pending)
                except OverBudget:
                    later.rerun = True
            return cap.with_(response=self._finish(response, cid, started), runs=runs, notes=cap.notes + (note,))

        return decide

    async def _forward(self, req: Request, target: str) -> tuple[Response, str]:
        """Send `req` to `target` (the forward target): its answer (or a 502/508 saying why
        there is none) and the capture's note about it."""
        import aiohttp

        from .replay import deliver, outgoing_headers, same_origin

        if self._client is None:
            # Bounded: a target that stops answering holds at most this many connections, and
            # each forward, its wait for a free connection included, ends at forward_timeout.
            connector = aiohttp.TCPConnector(limit=self.forward_pool_size, limit_per_host=self.forward_pool_size)
            self._client = aiohttp.ClientSession(auto_decompress=False, connector=connector)
        url = target.rstrip("/") + (("?" + req.query) if req.query else "") if "?" not in target else target
        # A request we forwarded came back (the target is this inspector under another name,
        # or its tunnel): sending it again would loop until every connection waits on itself.
        if self.forward_mark in req.headers.get_all(FORWARDED_BY) or (self.public_url and same_origin(url, self.public_url)):
            reason = f"--forward-to {target} leads back to this inspector; forward to the app that should answer instead"
            return Response.json(508, {"error": "forward loop", "target": url, "reason": reason}), f"not forwarded: {reason}"
        # Added beside any other inspector's mark, never in its place: two inspectors that
        # forward to each other each find their own mark when the request comes round.
        marked = Headers(outgoing_headers(req.headers).items + ((FORWARDED_BY, self.forward_mark),))
        outgoing = Request(req.method, req.path, req.query, marked, req.body)
        delivery = await deliver(outgoing, url, session=self._client, timeout=self.forward_timeout)
        if delivery.response is None:
            response = Response.json(502, {"error": "the forward target did not answer", "target": url, "reason": delivery.error})
            return response, f"forwarded to {url}: no answer ({delivery.error})"
        drop = {"transfer-encoding", "connection", "keep-alive", "content-length", "date", "server"}
        got = delivery.response
        # The sender must find exactly one X-Inspector-Capture, ours (added last by
        # _finish). A target's own (another inspector) keeps its id under another name.
        # aiohttp's server writes header text as UTF-8 and drops what is not: a
        # target's non-UTF-8 header byte goes out (and is stored) as U+FFFD.
        kept = [
            (TARGET_CAPTURE_HEADER if k.lower() == "x-inspector-capture" else k, v if v.isascii() else unicode_text(v))
            for k, v in got.headers
            if k.lower() not in drop
        ]
        return Response(got.status, Headers(kept), got.body), f"forwarded to {url}: {got.status} in {got.duration_ms} ms"

    def _after_answer(self, capture: Capture, later: _Later) -> tuple[asyncio.Future, Callable[[], list[FlowRun]]]:
        """Start the runs that go on once the answer is out, in a worker: the async children
        of the runs stored with `capture`, or (forward mode, over the inline budget) every
        triggered flow. Returns their future and what is known should the engine fail."""
        if later.greentic is not None:  # issue #20: Greentic-shaped flows run after their answer
            from .greentic.glue import run_for_request

            flows, request, clock = later.greentic, capture.request, self.clock
            return self._in_worker(lambda: run_for_request(flows, request, clock=clock)), list
        closed = Answer(lambda response, where: False, taken=True)  # the sender has its answer
        engine = self.engine
        if later.children is None:
            return self._in_worker(lambda: engine.run_all(capture, closed)), list
        event, pending = later.children
        parents = [r for r in capture.runs if r.status != "queued"]
        return self._in_worker(lambda: engine.run_children(event, parents, pending, closed)), lambda: parents

    def _in_worker(self, work: Callable[[], list[FlowRun]]) -> asyncio.Future:
        """Run flow work on the pool, tracked so that `drain` waits for it."""
        future = asyncio.get_running_loop().run_in_executor(self._executor(), work)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def _record_later(
        self, capture: Capture, future: asyncio.Future, known: Callable[[], list[FlowRun]], wait: bool
    ) -> list[FlowRun] | None:
        """When worker runs end, store their trace on the capture (in a group commit, so the
        loop never waits for another writer's lock) and then tell the update listeners. With
        `wait`, do it now and return the runs; else when the future is done (`drain` waits)."""

        def runs_of(fut: asyncio.Future) -> list[FlowRun]:
            try:
                return fut.result()
            except Exception as exc:  # the engine itself failed: keep what is known
                return known() + [runs_.broken(exc)]

        async def record(runs: list[FlowRun]) -> list[FlowRun]:
            if self.store is not None:
                await self.store.update_grouped(capture.id, runs=runs)
            self._notify(capture.with_(runs=tuple(runs)), self.update_listeners)
            return runs

        if wait:
            await asyncio.wait([future])
            return await record(runs_of(future))

        def finished(fut: asyncio.Future) -> None:
            task = asyncio.ensure_future(record(runs_of(fut)))
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)
            task.add_done_callback(_report_failure)

        future.add_done_callback(finished)
        return None

    async def close(self) -> None:
        """Release the forward client and the worker pool (after `drain`)."""
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def _inline(self, capture: Capture, cid: int, started: float, triggered: list) -> tuple[Capture, tuple] | None:
        """The triggered flows of `capture` (numbered `cid`) on the loop, within a `Budget`:
        the capture with its answer and runs, and (event, async children queued); None
        when the work outgrew the budget."""
        first: list[tuple[str, Any]] = []

        def on_answer(response: dict, where: dict) -> bool:
            if first:
                return False
            first.append(("flow", (response, where)))
            return True

        def on_error(run: FlowRun) -> None:
            if not first:
                first.append(("error", run))

        try:
            event, runs, pending = self.engine.run_triggered(
                capture, Answer(on_answer), on_error=on_error, budget=Budget(), triggered=triggered
            )
        except OverBudget:
            return None
        kind, payload = first[0] if first else ("done", None)
        if kind == "flow" and payload is not None:  # the usual answer: made once, with our header and its duration
            response = response_from_flow(payload[0], cid, started)
        else:
            response = self._finish(self._flow_response(kind, payload, cid), cid, started)
        if pending:
            runs += [runs_.queued(c.flow, c.parent_id) for c in pending]
        return capture.with_(response=response, runs=tuple(runs)), (event, pending)

    async def _answer_in_worker(
        self, capture: Capture, started: float, triggered: list
    ) -> tuple[Capture, asyncio.Future, Callable[[], list[FlowRun]]]:
        """Run the flows of a stored capture in a worker and answer by rules 2–4: the first
        http_response, a failed run, or the runs ending, whichever comes first, and a 202
        at the ack deadline. The row is updated with the answer and the runs so far before
        this returns; async children start only then. Returns the answered capture, the
        future of every run and the runs known should the engine fail."""
        loop = asyncio.get_running_loop()
        engine = self.engine
        cid = capture.id
        assert cid is not None  # stored: `_store` numbered it
        decision = _Decision(loop)
        answered = threading.Event()
        snapshot: list[list[FlowRun]] = [[]]

        def running_runs(done: list[FlowRun]) -> list[FlowRun]:
            started = len([r for r in done if r.parent_id is None])
            return done + [runs_.running(flow.name, flow.file) for flow, _trigger in triggered[started:]]

        def on_answer(response: dict, where: dict) -> bool:
            return decision.decide("flow", (response, where))

        def on_error(run: FlowRun) -> None:
            decision.decide("error", run)

        def before_children() -> None:
            decision.decide("done", None)
            answered.wait(timeout=max(self.config.ack_timeout_seconds, 1) + 5)

        def on_run(runs: list[FlowRun]) -> None:
            snapshot[0] = list(runs)

        def work() -> list[FlowRun]:
            runs = engine.run_all(capture, Answer(on_answer), before_children=before_children, on_run=on_run, on_error=on_error)
            decision.decide("done", None)
            return runs

        future = self._in_worker(work)
        timeout = self.config.ack_timeout_seconds
        try:
            kind, payload = await asyncio.wait_for(asyncio.shield(decision.future), timeout)
        except TimeoutError:
            if decision.decide("deadline", None):
                kind, payload = "deadline", None
            else:
                kind, payload = await decision.future
        response = self._flow_response(kind, payload, cid)
        response = self._finish(response, cid, started)
        runs_now = running_runs(snapshot[0])
        capture = capture.with_(response=response, runs=tuple(runs_now))
        if self.store is not None:
            await self.store.update_grouped(cid, response=response, runs=runs_now)
        answered.set()
        return capture, future, lambda: snapshot[0]

    def _flow_response(self, kind: str, payload: Any, cid: int) -> Response:
        if kind == "flow":
            data, where = payload
            return response_from_flow(data)
        if kind == "error":
            run: FlowRun = payload
            err = run.error
            node = err.node if err else None
            message = err.message if err else None
            where = f"{run.file}:{err.line}:{err.column}" if err and err.line else run.file
            return Response.json(
                500,
                {
                    "error": f"flow '{run.flow}' failed at node '{node}': {message}",
                    "flow": run.flow,
                    "node": node,
                    "message": message,
                    "at": where,
                    "id": cid,
                },
            )
        if kind == "deadline":
            return Response.json(202, {"status": "accepted", "id": cid})
        return Response.json(200, {"status": "accepted", "id": cid})

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="flow")
        return self._pool

    async def drain(self, timeout: float = 10.0) -> int:
        """Let flow runs (async children included) finish; after `timeout` they are told to
        stop and end as `interrupted`. Returns how many were still running at the deadline."""
        pending = list(self._pending)
        not_done: set = set()
        if pending:
            _done, not_done = await asyncio.wait(pending, timeout=timeout)
            if not_done:
                self._stopping = True
                if self.engine is not None:
                    self.engine.cancelled = lambda: True
                await asyncio.wait(not_done, timeout=5)
            await asyncio.sleep(0)  # let done-callbacks start storing the final traces
        if self._recording:  # those stores: group commits, quick
            await asyncio.wait(list(self._recording), timeout=5)
        return len(not_done)

    def _accepted(self, route: Route | None) -> Callable[[int, float], Response]:
        """SPEC §4 rules 5 and 6 (the flow engine adds 2–4): the answer to capture `cid` of a
        request handled since `started`, as `_finish` leaves it. Flow files that failed to
        load and may be meant for this event type are named: the sender's log is often the
        only place a person looks."""
        event_type = route.event_type if route else ""
        warning = f"no flow is triggered by event type {event_type}"
        broken = self.engine.flows.broken_for(event_type) if self.engine is not None and route is not None else []
        if broken:
            shown = [b.reason() for b in broken[:3]]
            if len(broken) > 3:
                shown.append(f"and {len(broken) - 3} more (`webhook-inspector check` lists them)")
            warning += ": " + "; ".join(shown) + "; fix it and it reloads"
        # Response.json(200, {"status": "accepted", "id": cid, "warning": warning}) as
        # `_finish` copies it, made once: json.dumps's text of that dict is this template
        # with the warning written by the same C function json.dumps writes strings with.
        # `accepted_answer` is the long way (tests/test_pipeline_answers.py compares them).
        head = '{"status": "accepted", "id": '
        tail = ', "warning": ' + _json_string(warning) + "}"

        def answer(cid: int, started: float) -> Response:
            if type(cid) is not int:  # never from a store; the long way for anything else
                return self._finish(accepted_answer(cid, warning), cid, started)
            text = str(cid)
            return Response(
                200,
                Headers.of((_JSON_TYPE, (CAPTURE_HEADER, text))),
                (head + text + tail).encode(),
                round((time.perf_counter() - started) * 1000, 3),
            )

        return answer

    def _store(
        self, capture: Capture, respond: Callable[[int], Response | Capture | None] | None
    ) -> Capture | tuple[Capture, Awaitable[None]] | Awaitable[Capture]:
        """Number the capture, decide its answer with `respond(id)`, store both: the capture
        when there is no store, else the numbered capture and the commit to await, or what
        to await for the capture (not a coroutine of its own: one frame less to enter and
        resume on every request). If deciding fails (a bug of ours), the request is still
        stored, with a 500 that says why."""

        def decide(cid: int) -> Response | Capture | None:
            if respond is None:
                return None
            try:
                return respond(cid)
            except Exception as exc:
                log.exception("deciding the answer to capture %s failed", cid)
                why = f"{type(exc).__name__}: {exc}"
                response = Response.json(
                    500, {"error": f"the inspector failed while answering; the request is kept as #{cid}", "detail": why, "id": cid}
                )
                response = self._finish(response, cid, time.perf_counter())
                return capture.with_(response=response, notes=capture.notes + (f"internal error while answering: {why}",))

        store = self.store
        if store is None:
            self._ids += 1
            result = decide(self._ids)
            if isinstance(result, Capture):
                return result.with_(id=self._ids)
            return capture.with_(id=self._ids, response=result)
        # Most requests: numbered from the stock of ids and joined to the open group, the
        # future of its commit to await (no coroutine of the store's to enter and resume).
        grouped = getattr(store, "add_grouped", None)
        numbered = grouped(capture, decide, self._unstorable) if grouped is not None else None
        return numbered if numbered is not None else store.add(capture, decide, self._unstorable)

    def _unstorable(self, cid: int, why: str) -> Response:
        """The answer when the decided capture cannot be stored (see GroupCommit._add)."""
        log.error("capture %s: %s", cid, why)
        response = Response.json(
            500, {"error": f"the inspector could not store this request as decided; it is kept as #{cid}", "detail": why, "id": cid}
        )
        return self._finish(response, cid, time.perf_counter())

    async def reject(self, request: Request, reason: str) -> Capture:
        """A request HTTP's parser refused, as far as the receiver could read it: stored
        unrouted and unverified, with the parser's reason as a note, and answered 400."""
        started = time.perf_counter()
        sig = SignatureResult("unsigned", reason="Not checked: the request was rejected before routing (malformed HTTP).")
        capture = Capture(id=None, request=request, tenant=None, event_type=None, signature=sig, notes=(REJECTED_NOTE + reason,))

        def respond(cid: int) -> Response:
            return Response.json(400, {"error": "malformed HTTP request", "reason": reason, "id": cid})

        return await self._answer(capture, self._answering(respond, started), _Later([]), started, False)

    def _notify(self, capture: Capture, listeners: list[CaptureListener] | None = None) -> None:
        for listener in list(self.listeners if listeners is None else listeners):
            try:
                listener(capture)
            except Exception:  # a broken listener must not break the request path
                pass


# A compressed body larger than this is decoded for flows in a worker, not inline: deflate
# inflates up to 1032:1, and inflating runs at roughly 4 ms per MiB here (measured), so 512
# bytes cost the loop at most ~2 ms, while a 1 MiB bomb (cut at 16 MiB) takes ~70 ms.
INLINE_COMPRESSED_MAX = 512


def accepted_answer(cid: int, warning: str) -> Response:
    """The answer of SPEC §4 rule 6 before `Pipeline._finish`, the long way (see _accepted)."""
    return Response.json(200, {"status": "accepted", "id": cid, "warning": warning})


def _inflates_big(request: Request) -> bool:
    if len(request.body) <= INLINE_COMPRESSED_MAX:
        return False
    encoding = request.headers.get("content-encoding")
    return encoding is not None and encoding.strip().lower() not in ("", "identity")


class _Later:
    """What deciding a capture's answer leaves for after its row is committed: the answer
    itself, when the flows must decide it in a worker; the async children of runs done
    inline; or (forward mode, over the inline budget) the flows again in a worker."""

    __slots__ = ("triggered", "answer_in_worker", "children", "rerun", "greentic")

    def __init__(self, triggered: list):
        self.triggered = triggered
        self.answer_in_worker = False
        self.children: tuple[dict[str, Any], list] | None = None  # (event, pending children)
        self.rerun = False
        self.greentic: Any = None  # the FlowSet whose Greentic-shaped flows run after the answer


class _Decision:
    """Who answers the sender: the first of a flow's http_response, a failed run, the ack
    deadline, or the runs ending. Decided once, from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.future: asyncio.Future = loop.create_future()
        self._lock = threading.Lock()
        self.kind: str | None = None

    def decide(self, kind: str, payload: Any) -> bool:
        with self._lock:
            if self.kind is not None:
                return False
            self.kind = kind
        if threading.current_thread() is threading.main_thread() and _loop_is_current(self.loop):
            self.future.set_result((kind, payload))
        else:
            self.loop.call_soon_threadsafe(_set, self.future, (kind, payload))
        return True


def _loop_is_current(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _set(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def response_from_flow(data: dict[str, Any], capture_id: int | None = None, started: float = 0.0) -> Response:
    """An http_response node's {status, headers, body} as an HTTP answer: a JSON value is
    sent as JSON, a string as text/plain, nothing as an empty body. With `capture_id`, the
    answer as `Pipeline._finish` makes it (its X-Inspector-Capture last, the milliseconds
    since `started`), without a first Response to copy."""
    body = data.get("body")
    given = data.get("headers")
    if given:
        headers = [(str(k), v if v.isascii() else unicode_text(v)) for k, v in given.items()]
        has_type = any(k.lower() == "content-type" for k, _ in headers)
    else:  # most answers set none
        headers, has_type = [], False
    if body is None:
        raw = b""
    elif isinstance(body, str):
        raw = _text_bytes(body)
        if not has_type:
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
    else:
        text = _encode_flow_body(body)
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:  # surrogates sit only inside JSON strings
            raw = unicode_text(text).encode("utf-8")
        if not has_type:
            headers.append(("Content-Type", "application/json"))
    # The pairs are (str, str) already: no copy through Headers' checks.
    status = int(data.get("status", 200))
    if capture_id is None:
        return Response(status, Headers.of(tuple(headers)), raw)
    headers.append((CAPTURE_HEADER, str(capture_id)))
    return Response(status, Headers.of(tuple(headers)), raw, round((time.perf_counter() - started) * 1000, 3))


def request_from_parts(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | Headers,
    body: bytes,
    received_at: float,
    client: str | None = None,
) -> Request:
    path, _, query = target.partition("?")
    hdrs = headers if isinstance(headers, Headers) else Headers(headers)
    return Request(method.upper(), path or "/", query, hdrs, body, client, received_at)


def _report_failure(task: asyncio.Task) -> None:
    """A trace stored after the answer could not be committed: say so on the loop's
    exception handler (stderr), as for any background failure."""
    if not task.cancelled() and task.exception() is not None:
        asyncio.get_running_loop().call_exception_handler(
            {"message": "could not store the flow runs of a capture", "exception": task.exception(), "task": task}
        )
