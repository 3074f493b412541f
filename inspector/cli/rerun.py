"""rerun: captures through today's answers.json and flows, compared with what was recorded."""

from __future__ import annotations

import argparse
from typing import Any

from .common import UsageError, masker, open_config, open_flows, open_store, parse_id
from .options import AddCommand, positive
from .output import cell, dump, err, out

NAME = "rerun"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(
        NAME,
        "run captures again through today's answers.json and flows (nothing stored, no network) and say what changed;"
        " exit 1 if anything regressed",
    )
    p.add_argument("ids", metavar="ID", nargs="*", help="capture ids (default: the newest that match --filter)")
    p.add_argument("--filter", metavar="EXPR", default="", help="as list --filter, e.g. 'type:github -status:4xx'")
    p.add_argument("--limit", type=positive, default=100, metavar="N", help="at most N captures (default: 100)")
    p.add_argument(
        "--ignore",
        metavar="PATH",
        action="append",
        default=[],
        help="a difference that does not count, e.g. response.body.created_at or flows.github.path (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document")
    return p


def handle(args: argparse.Namespace) -> int:
    from ..filters import FilterError, parse_filter
    from ..rerun import IgnoreError, Rerunner, parse_ignore, summarize

    try:
        ignore = [parse_ignore(path) for path in args.ignore]
    except IgnoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        keep = parse_filter(args.filter)
    except FilterError as exc:
        raise UsageError(f"--filter: {exc}") from None
    ids = [parse_id(text) for text in args.ids]
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    flows, _engine = open_flows(args, quiet=args.json)
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        if ids:
            captures = []
            for cid in dict.fromkeys(ids):
                capture = store.get(cid)
                if capture is None:
                    err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
                    return 2
                if keep(capture):
                    captures.append(capture)
        else:
            captures = []
            for capture in store.iter_arrived():
                if keep(capture):
                    captures.append(capture)
                    if len(captures) >= args.limit:
                        break
    finally:
        store.close()
    if not captures and (args.filter or ids):
        named = f" among {', '.join(map(str, ids))}" if ids else f" in {args.store}"
        err(f"error: no capture matches --filter {args.filter!r}{named}; see `webhook-inspector list --filter {args.filter!r}`")
        return 2
    if not captures:
        err(f"note: no captures in {args.store} yet; nothing to rerun")
    results = Rerunner(config, flows, ignore=ignore, local_base=f"http://{args.host}:{args.port}", public_url=args.public_url).rerun(
        captures
    )
    summary = summarize(results)
    mask = masker(args)
    if args.json:
        shown = []
        for r in results:
            redact = mask.for_capture(r.before)
            shown.append(redact.value(r.to_json()))
        out(dump({"results": shown, "summary": summary.to_json()}))
    else:
        print_table(results, mask)
        out(summary.line())
    return 1 if summary.regressed else 0


def _status(capture: Any) -> str:
    return str(capture.response.status) if capture.response is not None else "-"


def print_table(results: list, mask: Any) -> None:
    from ..diff import shown

    rows = []
    for r in results:
        c = r.before
        redact = mask.for_capture(c)
        failed = next((run for run in r.after.runs if run.failed and run.error is not None), None) if r.verdict == "regressed" else None
        if failed is not None and failed.error is not None:
            # What broke says more than the first difference (the 500 it caused).
            e = failed.error
            what = f"flow {failed.flow} failed at {e.node or '?'}: {e.where(failed.file)}{redact.text(e.message or '')}"
            if len(r.differences) > 1:
                what += f"  ({len(r.differences)} differences)"
        elif r.differences:
            first = r.differences[0]
            what = f"{first.where}: {shown(redact.value(first.a), 60)} → {shown(redact.value(first.b), 60)}"
            if len(r.differences) > 1:
                what += f"  (+{len(r.differences) - 1} more)"
        else:
            what = ""
        event = f"{c.tenant}/{c.event_type}" if c.event_type else c.request.path
        rows.append((str(c.id), r.verdict, cell(event), f"{_status(c)} → {_status(r.after)}", cell(what)))
    if not rows:
        return
    head = ("ID", "VERDICT", "EVENT", "ANSWER", "DIFFERENCES")
    w = [max([len(head[i])] + [len(row[i]) for row in rows]) for i in range(4)]
    for row in [head, *rows]:
        out(f"{row[0]:>{w[0]}}  {row[1]:<{w[1]}}  {row[2]:<{w[2]}}  {row[3]:<{w[3]}}  {row[4]}".rstrip())
