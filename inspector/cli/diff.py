"""diff: what differs between two captures, or a replay and its original."""

from __future__ import annotations

import argparse

from .common import masker, open_store, parse_id
from .options import AddCommand
from .output import cell, dump, err, out

NAME = "diff"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "what differs between two captures (B left out: A's original, when A is a replay); exit 1 when they differ")
    p.add_argument("a", metavar="A", help="capture id (from list)")
    p.add_argument("b", metavar="B", nargs="?", help="capture id (default: the capture A replays)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--all-headers", action="store_true", help="list volatile headers (date, delivery ids, signatures) one by one")
    return p


def handle(args: argparse.Namespace) -> int:
    from ..diff import VOLATILE, diff_captures, masked, shown

    a_id = parse_id(args.a)
    b_id = parse_id(args.b) if args.b is not None else None
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        a = store.get(a_id)
        if a is None:
            err(f"error: no capture {a_id} in {args.store}; see `webhook-inspector list`")
            return 2
        if b_id is None:
            if a.replay_of is None:
                err(f"error: capture {a_id} is no replay; name the capture to compare it with: `webhook-inspector diff {a_id} B`")
                return 2
            b_id = a.replay_of
        b = store.get(b_id)
        if b is None:
            why = f" (the capture {a_id} replays; it is gone from the store)" if args.b is None else ""
            err(f"error: no capture {b_id} in {args.store}{why}; see `webhook-inspector list`")
            return 2
    finally:
        store.close()
    mask = masker(args)
    found = diff_captures(a, b, all_headers=args.all_headers)
    found = masked(found, mask.for_capture(a), mask.for_capture(b))
    if args.json:
        out(dump({"equal": not found, "differences": [d.to_json() for d in found]}))
        return 1 if found else 0
    if not found:
        out(f"captures {a.id} and {b.id} are the same (ids, times and the client left aside)")
        return 0
    out(f"capture {a.id} (a) and {b.id} (b): {len(found)} difference{'s' if len(found) != 1 else ''}")
    for d in found:
        if d.where == VOLATILE:
            names = ", ".join(cell(n) for n in d.a)
            out(f"  headers that change with every delivery differ (--all-headers lists them): {names}")
            continue
        out(f"  {cell(d.where)}")
        out(f"    a: {cell(shown(d.a, 300))}")
        out(f"    b: {cell(shown(d.b, 300))}")
    return 1
