"""show: everything about one capture."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import (
    format_run,
    masker,
    open_store,
    parse_id,
)
from .options import AddCommand
from .output import cell, dump, err, out, text_block

NAME = "show"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "everything about one capture")
    p.add_argument("id", metavar="ID", help="capture id (from list)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    return p


def handle(args: argparse.Namespace) -> int:
    cid = parse_id(args.id)
    store = open_store(args, readonly=True)
    if store is None:
        return 2
    try:
        capture = store.get(cid)
    finally:
        store.close()
    if capture is None:
        err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
        return 1
    # Flow outputs, logs and the answer can repeat a secret header's value (`print(headers)`).
    redactor = masker(args).for_capture(capture)
    data = redactor.detail(capture.detail_json(redactor))
    if args.json:
        out(dump(data))
        return 0
    show_text(data)
    return 0


def _form_document(d: dict) -> Any:
    """The JSON a form-encoded body carries in its `payload` field (GitHub's form setting,
    Slack's interactivity), or None."""
    from urllib.parse import parse_qsl

    from ..flow.engine import FORM_TYPE, form_json

    ctype = next((v for k, v in d["headers"] if k.lower() == "content-type"), "")
    if not d.get("body_text") or ctype.split(";")[0].strip().lower() != FORM_TYPE:
        return None
    return form_json(dict(parse_qsl(d["body_text"], keep_blank_values=True)))[0]


def show_text(d: dict) -> None:
    from ..flow.runs import runs_from_json

    out(
        f"capture {d['id']}  {cell(d['received_at'])}  origin={cell(d['origin'])}"
        + (f"  replay of {cell(d['replay_of'])}" if d["replay_of"] else "")
    )
    query = f"?{d['query']}" if d["query"] else ""
    out(f"{cell(d['method'])} {cell(d['path'] + query)}  from {cell(d['client'])}")
    out(f"tenant={cell(d['tenant'])}  event_type={cell(d['event_type'])}")
    for note in d.get("notes") or []:
        out(f"note: {cell(note)}")
    out("")
    out("headers:")
    for name, value in d["headers"]:
        out(f"  {cell(name)}: {cell(value)}")
    out("")
    size = d["body_size"]
    from ..flow.engine import FORM_JSON_NOTE

    document = _form_document(d)
    how = f", {FORM_JSON_NOTE}" if document is not None else ""
    out(f"body ({size} bytes{', truncated' if d['truncated'] else ''}{how}):")
    if d["body_text"] is not None:
        out(text_block(d["body_text"]) if d["body_text"] else "  (empty)")
    else:
        out(f"  (binary; base64) {d['body_base64'][:200]}")
    if document is not None:
        # The raw form is one long escaped line; what the sender meant, and what flows see as
        # event.payload, is the JSON inside it.
        out("payload (the JSON in form field `payload`, as flows see it in event.payload):")
        out(text_block(json.dumps(document, indent=2, ensure_ascii=False)))
    out("")
    sig = d["signature"]
    details = "".join(f"  {key}={cell(sig[key])}" for key in ("scheme", "algorithm", "header") if sig.get(key) is not None)
    out(f"signature: {cell(sig['status'])}{details}")
    if sig["reason"]:
        out(f"  {cell(sig['reason'])}")
    for hint in sig["hints"]:
        out(f"  hint: {cell(hint)}")
    resp = d["response"]
    if resp:
        out("")
        took = resp["duration_ms"]
        out(f"response: {cell(resp['status'])}" + (f"  ({took} ms)" if took is not None else ""))
        body = resp["body"]
        if body is not None:
            out("  " + (json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else text_block(body)))
    for run in runs_from_json(d["runs"]):
        if not run.shapeless:
            out("")
            out(format_run(run))
