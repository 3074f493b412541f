"""import: a HAR file or the ngrok agent's /api/requests/http JSON, as captures."""

from __future__ import annotations

import argparse
import time

from ..model import Capture
from ..pipeline import Pipeline
from .common import (
    open_config,
    open_store,
    read_capped,
)
from .options import AddCommand
from .output import err, out

NAME = "import"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "import a HAR file or the ngrok agent's /api/requests/http JSON as captures")
    p.add_argument("file", metavar="FILE")
    return p


MAX_IMPORT_FILE = 256 << 20


def handle(args) -> int:
    from ..export import ImportFailed, read_import

    try:
        raw = read_capped(args.file, MAX_IMPORT_FILE)
    except OSError as exc:
        err(f"error: cannot read {args.file}: {exc.strerror or exc}")
        return 2
    except ValueError as exc:
        err(f"error: {args.file}: {exc}")
        return 2
    try:
        kind, items = read_import(raw, time.time())
    except ImportFailed as exc:
        err(f"error: {args.file}: {exc}")
        return 1
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    store = open_store(args)
    if store is None:
        return 2
    pipeline = Pipeline(config, None, public_url=args.public_url)
    from ..pipeline import match_route

    ids = []
    try:
        for request, response in items:
            route = match_route(request.path)
            sig = pipeline.verify(request, route.event_type if route else None, request.received_at)
            capture = Capture(
                None,
                request,
                route.tenant if route else None,
                route.event_type if route else None,
                sig,
                response,
                (),
                "import",
                None,
                (f"imported from {args.file} ({kind})",),
            )
            ids.append(store.insert(capture).id)
    finally:
        store.close()
    out(f"imported {len(ids)} request(s) from {args.file} ({kind})" + (f": captures {ids[0]}–{ids[-1]}" if ids else ""))
    return 0
