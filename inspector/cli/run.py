"""run: a request through signatures and flows without HTTP; print the trace."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from .common import (
    format_run,
    open_config,
    open_flows,
    request_from_args,
)
from .options import AddCommand, headers_and_body
from .output import cell, dump, err, out

if TYPE_CHECKING:
    from ..model import Capture

NAME = "run"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "run a request through signatures and flows without HTTP; print the trace")
    headers_and_body(p)
    p.add_argument("--no-verify", action="store_true", help="skip the signature check")
    p.add_argument(
        "--ingress",
        action="store_true",
        help="send it to Greentic's ingress route /v1/events/ingress/webhook/TENANT/default/EVENT_TYPE, which runs "
        "Greentic-shaped flows (the default when --flows holds only those)",
    )
    return p


def handle(args: argparse.Namespace) -> int:
    import asyncio

    from ..pipeline import Pipeline
    from ..signatures import Masker

    config = open_config(args, quiet=True)
    if config is None:
        return 2
    from ..flow import Engine

    flows, _engine = open_flows(args, quiet=args.json)
    now = args.now if args.now is not None else time.time()
    request = request_from_args(args, now)
    if args.ingress or (flows.greentic_flows and not flows.flows):
        # Greentic-shaped flows (issue #20) answer on the v1 ingress route only.
        import dataclasses

        request = dataclasses.replace(request, path=f"/v1/events/ingress/webhook/{args.tenant}/default/{args.event_type}")
    pipeline = Pipeline(
        config,
        None,
        local_base=f"http://{args.host}:{args.port}",
        public_url=args.public_url,
        engine=Engine(flows, clock=lambda: now),
        clock=lambda: now,
        verify=not args.no_verify,
    )
    capture = asyncio.run(pipeline.handle(request, now=now, wait=True))
    response = capture.response
    redactor = Masker(config, reveal=args.reveal).for_capture(capture)
    runs = [run.redacted(redactor.value) for run in capture.runs]
    headers, body, raw = _unnumbered_answer(capture)
    data = {
        "event": {"tenant": capture.tenant, "event_type": capture.event_type, "method": request.method},
        "signature": capture.signature.to_json(),
        "response": {"status": response.status, "headers": [[n, redactor(n, v)] for n, v in headers], "body": redactor.value(body)}
        if response
        else None,
        "runs": [run.to_json() for run in runs],
    }
    ok = all(r.status == "ok" or (r.is_greentic and r.status == "waiting") for r in capture.runs)
    # Exit 0 would tell a script the event was handled; nothing ran. The reason is the
    # answer's own warning, which also names a flow file that failed to load.
    idle = None
    if not capture.runs:
        said = body if isinstance(body, dict) else {}
        if isinstance(said.get("warning"), str):
            idle = said["warning"]
        elif isinstance(said.get("error"), str):  # e.g. the provider is disabled
            idle = f"no flow ran: {said['error']}"
        else:
            idle = f"no flow is triggered by event type {capture.event_type}"
    if args.json:
        out(dump(data))
    else:
        sig = capture.signature
        out(f"signature: {sig.status}" + (f" ({sig.scheme})" if sig.scheme else "") + (f" — {sig.reason}" if sig.status != "valid" else ""))
        for hint in sig.hints:
            out(f"  hint: {hint}")
        for run in runs:
            out(format_run(run))
        if response:
            text = redactor.text(raw.decode("utf-8", "replace"))
            out(f"response: {response.status} {text[:500]}")
    if idle is not None:
        err(f"error: {cell(idle)}")
        return 1
    return 0 if ok else 1


def _unnumbered_answer(capture: Capture) -> tuple[list[tuple[str, str]], Any, bytes]:
    """The answer `run` shows, as headers, body value and body bytes. `run` stores nothing,
    so the capture id the pipeline numbered it with (X-Inspector-Capture, the "id" of the
    inspector's own JSON answers) names no capture and is left out; an answer a flow wrote
    is shown exactly, an "id" of its own included."""
    from ..model import json_text
    from ..pipeline import CAPTURE_HEADER

    response = capture.response
    if response is None:
        return [], None, b""
    headers = [(n, v) for n, v in response.headers if n.lower() != CAPTURE_HEADER.lower()]
    body = response.body_value()
    from_flow = any(run.answered for run in capture.runs)
    if from_flow or not isinstance(body, dict) or body.get("id") != capture.id:
        return headers, body, response.body
    body = {k: v for k, v in body.items() if k != "id"}
    return headers, body, json_text(body).encode()
