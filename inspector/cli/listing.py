"""list: captured requests, newest first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import (
    UsageError,
    open_store,
)
from .options import AddCommand, positive
from .output import cell, dump, out

if TYPE_CHECKING:
    from ..model import Capture

NAME = "list"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "list captured requests, newest first")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.add_argument("--limit", type=positive, default=50, metavar="N", help="at most N captures (default: 50)")
    p.add_argument("--filter", metavar="EXPR", default="", help="e.g. 'sig:invalid type:order.* -status:2xx'")
    return p


def handle(args: argparse.Namespace) -> int:
    from ..filters import FilterError, parse_filter
    from ..model import iso_time

    try:
        keep = parse_filter(args.filter)
    except FilterError as exc:
        raise UsageError(f"--filter: {exc}") from None
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        found: list[Capture] = []
        for capture in store.iter_arrived():
            if keep(capture):
                found.append(capture)
                if len(found) >= args.limit:
                    break
    finally:
        store.close()
    if args.json:
        out(dump([c.summary_json() for c in found]))
        return 0
    if not found:
        out("no captures" + (f" match {args.filter!r}" if args.filter else " yet"))
        return 0
    rows = [
        (
            str(c.id),
            iso_time(c.request.received_at),
            cell(c.request.method),
            cell(c.response.status) if c.response else "-",
            cell(c.signature.status),
            cell(f"{c.tenant}/{c.event_type}") if c.event_type else "-",
            cell(c.request.target),
        )
        for c in found
    ]
    # Columns grow to their widest cell (an imported method, a time past year 9999), so
    # one odd capture never shifts the columns of its row.
    head = ("ID", "RECEIVED", "METHOD", "STATUS", "SIGNATURE", "EVENT", "PATH")
    least = (6, 23, 7, 6, 9, 28, 0)
    w = [max([n] + [len(r[i]) for r in rows]) for i, n in enumerate(least)]
    for r in [head, *rows]:
        out(f"{r[0]:>{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}} {r[3]:>{w[3]}}  {r[4]:<{w[4]}}  {r[5]:<{w[5]}}  {r[6]}")
    return 0
