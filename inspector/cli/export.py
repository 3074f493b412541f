"""export: captures as curl, HTTPie, HAR 1.2 or JSON."""

from __future__ import annotations

import argparse

from ..model import Capture, unicode_text
from .common import (
    check_http_url,
    masker,
    open_store,
    parse_id,
    send_target,
)
from .options import AddCommand
from .output import err, write_out

NAME = "export"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "write captures as curl, HTTPie, HAR 1.2 or JSON")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--format", choices=("curl", "httpie", "har", "json"), default="curl")
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--to", metavar="URL", help="base URL the commands target (default http://HOST:PORT)")
    return p


def handle(args) -> int:
    from ..export import export, write_private

    ids = [parse_id(i) for i in args.ids]
    check_http_url("--to", args.to)
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        captures = []
        for cid in ids:
            c = store.get(cid)
            if c is None:
                err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
                return 1
            captures.append(c)
    finally:
        store.close()
    text = export(captures, args.format, export_base(args), masker(args))
    if args.output:
        try:
            write_private(args.output, unicode_text(text))
        except OSError as exc:
            err(f"error: cannot write {args.output}: {exc.strerror or exc}")
            return 2
        err(f"wrote {len(captures)} capture(s) as {args.format} to {args.output}")
    else:
        write_out(text, json_doc=args.format in ("har", "json"))
    return 0


def export_base(args):
    """Where exported commands send: --to or an explicit --host/--port for all; else each
    capture's own local address (its Host header, when that names this machine), else the
    running server recorded next to the store, else the default address."""
    from ..export import arrival_base

    where = send_target(args)
    if where.how in ("--to", "--host/--port"):
        return where.base

    def base(capture: Capture) -> str:
        return arrival_base(capture) or where.base

    return base
