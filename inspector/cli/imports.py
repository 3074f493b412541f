"""import: a HAR file, the ngrok agent's /api/requests/http JSON, our JSON export, a fixture or
a redacted bundle, as captures; `--resign` signs them with this answers.json's secrets."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from .common import (
    open_config,
    open_store,
    read_capped,
)
from .options import AddCommand
from .output import err, out

if TYPE_CHECKING:
    from ..config import Config
    from ..model import Request

NAME = "import"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "import a HAR file, the ngrok agent's /api/requests/http JSON, our JSON export, a fixture or a bundle as captures")
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--resign",
        action="store_true",
        help="sign each request with this answers.json's secrets at its own received time (a bundle carries no signatures)",
    )
    return p


MAX_IMPORT_FILE = 256 << 20


def handle(args: argparse.Namespace) -> int:
    from ..export import ImportFailed, read_imported
    from ..model import Capture
    from ..pipeline import Pipeline

    try:
        raw = read_capped(args.file, MAX_IMPORT_FILE)
    except OSError as exc:
        err(f"error: cannot read {args.file}: {exc.strerror or exc}")
        return 2
    except ValueError as exc:
        err(f"error: {args.file}: {exc}")
        return 2
    try:
        kind, items = read_imported(raw, time.time())
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
    unsigned = 0
    try:
        for n, item in enumerate(items):
            request = item.request
            route = match_route(request.path)
            event_type = route.event_type if route else None
            notes = [f"imported from {args.file} ({kind})"]
            if args.resign:
                request, note = _resign(request, config, event_type, pipeline.base_url, item.scheme, n)
                notes.append(note)
            elif kind == "bundle" and item.scheme:
                unsigned += 1
            sig = pipeline.verify(request, event_type, request.received_at)
            capture = Capture(
                None,
                request,
                route.tenant if route else None,
                event_type,
                sig,
                item.response,
                tuple(item.runs),
                "import",
                None,
                tuple(notes),
            )
            ids.append(store.insert(capture).id)
    finally:
        store.close()
    out(f"imported {len(ids)} request(s) from {args.file} ({kind})" + (f": captures {ids[0]}–{ids[-1]}" if ids else ""))
    if unsigned:
        err(
            f"note: the bundle carries no signatures, so {unsigned} capture(s) that were signed now show `missing`; "
            "import with --resign to sign them with your answers.json secrets"
        )
    return 0


def _resign(request: Request, config: Config, event_type: str | None, base: str, scheme: str | None, n: int) -> tuple[Request, str]:
    """The request signed with this answers.json's secrets, and the note to keep; one it cannot
    sign stays as it was, with a note, and a warning when it had been signed where it came from."""
    from ..bundle import resign
    from ..replay import ReplayError

    try:
        return resign(request, config, event_type, base)
    except ReplayError as exc:
        reason = str(exc).split("; resend it as captured")[0]
        if scheme:
            err(f"warning: request {n + 1} was signed with `{scheme}` where it was captured but is not re-signed: {reason}")
        return request, f"not re-signed: {reason}"
