"""verify: check a request's signature as the server would, without a server."""

from __future__ import annotations

import argparse
import time

from .common import (
    open_config,
    request_from_args,
)
from .options import AddCommand, headers_and_body
from .output import dump, out

NAME = "verify"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "check a request's signature as the server would, without a server")
    headers_and_body(p)
    p.add_argument("--url", metavar="URL", help="the URL the sender called (for URL-signing schemes)")
    return p


def handle(args: argparse.Namespace) -> int:
    from ..pipeline import Pipeline

    config = open_config(args, quiet=args.json)
    if config is None:
        return 2
    now = args.now if args.now is not None else time.time()
    request = request_from_args(args, now)
    pipeline = Pipeline(config, None, local_base=f"http://{args.host}:{args.port}", public_url=args.public_url)
    url = args.url or pipeline.signed_url(request)
    from ..signatures import verify_request

    result = verify_request(config, request, args.event_type, url, now, local_url=f"http://{args.host}:{args.port}{request.target}")
    if args.json:
        out(dump(result.to_json()))
    else:
        out(f"{result.status}: {result.reason}")
        if result.scheme:
            out(f"  scheme {result.scheme} ({result.algorithm}), header {result.header}")
        if result.received is not None:
            out(f"  received: {result.received}")
        if result.expected is not None and result.status != "valid":
            out(f"  expected: {result.expected}")
        for hint in result.hints:
            out(f"  hint: {hint}")
    return 0 if result.status == "valid" else 1
