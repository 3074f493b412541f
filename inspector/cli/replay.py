"""replay: resend a capture — as captured, re-signed or edited — to the inspector or --to URL."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from .common import (
    UsageError,
    check_http_url,
    open_config,
    open_store,
    parse_id,
    read_body_arg,
    recorded_public_url,
    send_target,
)
from .options import MAX_TIMES, AddCommand, seconds, times
from .output import dump, err, out

if TYPE_CHECKING:
    from ..replay import Edits

NAME = "replay"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "resend a capture — as captured, re-signed or edited — to the inspector or --to URL")
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--to",
        metavar="URL",
        help="another target's base URL (the capture's path is appended); its answer is stored as a capture of origin replay",
    )
    p.add_argument("--resign", action="store_true", help="fresh timestamp and signature for the scheme that applies")
    p.add_argument("--times", type=times, default=1, metavar="N", help=f"send N times, up to {MAX_TIMES} (idempotency tests)")
    p.add_argument("--timeout", type=seconds, default=10.0, metavar="S", help="seconds to wait for an answer (default 10)")
    p.add_argument("--method", metavar="M", help="edit: another method")
    p.add_argument("--path", metavar="PATH", help="edit: another path (and query)")
    p.add_argument(
        "-H", "--header", action="append", default=[], dest="headers", metavar="'Name: value'", help="edit: set a header (repeatable)"
    )
    p.add_argument("--remove-header", action="append", default=[], metavar="NAME", help="edit: drop a header (repeatable)")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--body", metavar="S", help="edit: another body (text)")
    body.add_argument("--body-file", metavar="F", help="edit: another body from a file ('-' for stdin)")
    p.add_argument("--json", action="store_true")
    return p


def handle(args: argparse.Namespace) -> int:
    import asyncio

    from ..resend import ResendOrder, Running, resend
    from ..signatures import Masker

    cid = parse_id(args.id)
    edits = _edits(args)
    check_http_url("--to", args.to)
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    # Only a replay --to stores what it sends; to the inspector, the inspector stores it.
    store = open_store(args, readonly=not args.to)
    if store is None:
        return 2
    try:
        original = store.get(cid)
        if original is None:
            err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
            return 1
        where = send_target(args)
        # The running inspector checks signatures against its public URL, when it has one.
        signed_base = args.public_url or recorded_public_url(where) or config.public_base_url or where.base
        order = ResendOrder(resign=args.resign, edits=None if edits.empty else edits, to=args.to.rstrip("/") if args.to else None)
        outcomes = asyncio.run(
            resend(
                original,
                order,
                inspector=Running(where.base, signed_base),
                store=store if args.to else None,
                config=config,
                now=time.time(),
                timeout=args.timeout,
                times=args.times,
            )
        )
    finally:
        store.close()
    if outcomes[0].refused:
        err(f"error: capture {cid}: {outcomes[0].error}")
        return 1
    note = outcomes[0].signing
    sent = [(o, o.delivery) for o in outcomes if o.delivery is not None]
    ok = all(d.response is not None and 200 <= d.response.status < 300 for _, d in sent)
    # A target's answer can echo what it was sent (the Authorization header) or set a cookie.
    shown = Masker(config, reveal=args.reveal).for_capture(original)
    if args.json:
        answers = []
        for o, d in sent:
            answer = d.to_json()
            answer["capture_id"] = o.capture_id
            if answer.get("headers") is not None:
                answer["headers"] = [[n, shown(n, v)] for n, v in answer["headers"]]
            answer["body"] = shown.value(answer.get("body"))
            answers.append(answer)
        out(dump({"replay_of": cid, "captures": [o.capture_id for o in outcomes], "answers": answers, "signing": note}))
    else:
        how = note or "as captured"
        for o, d in sent:
            if d.response is None:
                out(
                    f"replay of {cid} ({how}) → {d.url}: FAILED — {d.error}"
                    + (f" (recorded as capture {o.capture_id})" if o.capture_id else "")
                )
                if not args.to:
                    err(f"  tried {where.base}: {where.described(args.store)}; {where.advice()}")
            else:
                r = d.response
                body = shown.text(r.body.decode("utf-8", "replace"))
                out(
                    f"replay of {cid} ({how}) → {d.url}: {r.status} in {r.duration_ms} ms"
                    + (f" → capture {o.capture_id}" if o.capture_id else "")
                )
                if body:
                    out(f"  {body[:300]}")
    unrecorded = [o for o in outcomes if args.to and o.sent and o.capture is None]
    for o in unrecorded:
        err(f"error: replay of {cid} → {o.url}: {o.error}; pass --store PATH to record in another file")
    if unrecorded:
        return 2
    return 0 if ok else 1


def _edits(args: argparse.Namespace) -> Edits:
    from ..replay import Edits, ReplayError, parse_header_line

    try:
        headers = tuple(parse_header_line(h) for h in args.headers)
    except ReplayError as exc:
        raise UsageError(str(exc)) from None
    body = None
    if args.body is not None or args.body_file is not None:
        body = read_body_arg(args)
    return Edits(args.method, args.path, headers, tuple(args.remove_header), body)
