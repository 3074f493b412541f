"""The sub-commands of SPEC §10: parse → call the core → print. No decisions live here."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .config import Config, ConfigError, find_answers, load_config
from .filters import FilterError, parse_filter
from .model import Capture, Headers, Request, iso_time
from .pipeline import Pipeline
from .signatures import Masker
from .store import Store, StoreError


class UsageError(Exception):
    """Bad arguments: printed as a usage error, exit 2."""


def out(text: str = "") -> None:
    print(text, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


# Shared set-up


def answers_path(args) -> Path | None:
    return find_answers(args.answers)


def open_config(args, *, quiet: bool = False) -> Config | None:
    """Load answers.json; print where it came from and its warnings on stderr. None on error."""
    path = answers_path(args)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err(f"error: {problem}")
        return None
    if not quiet:
        err(f"answers: {path}" if path else "answers: none found (./answers.json, ./answers.example.json); no signature is checked — run `webhook-inspector init` to create one")
        for w in config.warnings:
            err(f"warning: {w}")
        for e in config.entry_errors:
            err(f"warning: {e} — requests using this entry get status `error`")
    return config


def open_store(args) -> Store | None:
    try:
        return Store(args.store, max_captures=args.max_captures)
    except StoreError as exc:
        err(f"error: {exc}")
        return None


def parse_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise UsageError(f"header {text!r} has no colon; write it as 'Name: value'")
    if any(c in name for c in " \t\r\n"):
        raise UsageError(f"header name {name!r} contains white space; write it as 'Name: value'")
    return name.strip(), value.strip()


def read_body_arg(args) -> bytes:
    if args.body is not None:
        return args.body.encode("utf-8")
    if args.body_file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(args.body_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read --body-file {args.body_file}: {exc.strerror or exc}")


def request_from_args(args, now: float) -> Request:
    headers = Headers(parse_header(h) for h in args.headers)
    method = args.method.upper()
    if not method.isalpha():
        raise UsageError(f"--method {args.method!r} is not an HTTP method")
    for segment, name in ((args.tenant, "--tenant"), (args.event_type, "--event-type")):
        from .pipeline import _ok

        if not _ok(segment):
            raise UsageError(f"{name} {segment!r}: use letters, digits, '.', '_' and '-' only")
    path = f"/events/webhook/{args.tenant}/{args.event_type}"
    return Request(method, path, "", headers, read_body_arg(args), "cli", now)


def summary_line(c: Capture) -> str:
    """`[202] POST /events/webhook/demo/github  sig=valid  flows=1  3.1ms`"""
    status = c.response.status if c.response else "---"
    took = c.response.duration_ms if c.response and c.response.duration_ms is not None else 0.0
    target = c.request.target
    if len(target) > 100:
        target = target[:99] + "…"
    parts = [f"[{status}] {c.request.method} {target}", f"sig={c.signature.status}", f"flows={len(c.runs)}", f"{took:.1f}ms"]
    if c.origin != "live":
        parts.append(f"origin={c.origin}" + (f" replay_of={c.replay_of}" if c.replay_of else ""))
    return "  ".join(parts)


# serve


def cmd_serve(args) -> int:
    config = open_config(args)
    if config is None:
        return 2
    store = open_store(args)
    if store is None:
        return 2
    try:
        return asyncio.run(_serve(args, config, store))
    finally:
        store.close()


async def _serve(args, config: Config, store: Store) -> int:
    from .receiver import PortInUse, Receiver

    pipeline = Pipeline(config, store, public_url=args.public_url)
    receiver = Receiver(pipeline, args.host, args.port)
    try:
        await receiver.start()
    except PortInUse as exc:
        err(f"error: {exc}")
        return 2
    except OSError as exc:
        err(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; check --host")
        return 2

    if args.json:
        out(json.dumps({"listening": receiver.url}))
        pipeline.listeners.append(lambda c: out(json.dumps(dict(c.summary_json(), duration_ms=c.response.duration_ms if c.response else None))))
    else:
        out(f"listening on {receiver.url}")
        err(f"webhook URL: {pipeline.webhook_url(args.tenant, '{event_type}')}")
        pipeline.listeners.append(lambda c: out(summary_line(c)))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
    finally:
        await receiver.stop()
    err("stopped")
    return 0


# check


def cmd_check(args) -> int:
    path = answers_path(args)
    failed = False
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            out(str(problem))
        config = None
        failed = True
    if config is not None:
        for problem in config.entry_errors:
            out(str(problem))
            failed = True
        for w in config.warnings:
            err(f"warning: {w}")
        if path is None:
            err("note: no answers.json found; nothing will be verified (run `webhook-inspector init`)")
    label = str(path) if path else "(none)"
    out(f"answers: {label}: {'invalid' if failed else 'ok'}")
    if config is not None:
        for entry in config.signatures:
            if not entry.problem:
                out(f"  signature `{entry.name}`: {entry.algorithm} in {entry.header or 'its default header'}")
        pipeline = Pipeline(config, None, local_base=f"http://{args.host}:{args.port}", public_url=args.public_url)
        out(f"webhook URL: {pipeline.webhook_url(args.tenant, '{event_type}')}")
    return 1 if failed else 0


# verify


def cmd_verify(args) -> int:
    config = open_config(args, quiet=args.json)
    if config is None:
        return 2
    now = args.now if args.now is not None else time.time()
    request = request_from_args(args, now)
    pipeline = Pipeline(config, None, local_base=f"http://{args.host}:{args.port}", public_url=args.public_url)
    url = args.url or pipeline.signed_url(request)
    from .signatures import verify_request

    result = verify_request(config, request, args.event_type, url, now)
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


# list / show


def _masker(args) -> Masker:
    try:
        config = load_config(answers_path(args))
    except ConfigError:
        config = None
    return Masker(config, reveal=args.reveal)


def cmd_list(args) -> int:
    try:
        keep = parse_filter(args.filter)
    except FilterError as exc:
        raise UsageError(f"--filter: {exc}")
    store = open_store(args)
    if store is None:
        return 2
    try:
        found: list[Capture] = []
        for capture in store.iter_newest():
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
    out(f"{'ID':>6}  {'RECEIVED':<23}  {'METHOD':<7} {'STATUS':>6}  {'SIGNATURE':<9}  {'EVENT':<28}  PATH")
    for c in found:
        event = f"{c.tenant}/{c.event_type}" if c.event_type else "-"
        status = c.response.status if c.response else "-"
        out(f"{c.id:>6}  {iso_time(c.request.received_at):<23}  {c.request.method:<7} {status:>6}  {c.signature.status:<9}  {event:<28}  {c.request.target}")
    return 0


def parse_id(text: str) -> int:
    text = text.strip().lstrip("#")
    if not text.isdigit():
        raise UsageError(f"{text!r} is not a capture id; ids are numbers, see `webhook-inspector list`")
    return int(text)


def cmd_show(args) -> int:
    cid = parse_id(args.id)
    store = open_store(args)
    if store is None:
        return 2
    try:
        capture = store.get(cid)
    finally:
        store.close()
    if capture is None:
        err(f"error: no capture {cid} in {args.store}; see `webhook-inspector list`")
        return 1
    data = capture.detail_json(_masker(args))
    if args.json:
        out(dump(data))
        return 0
    show_text(data)
    return 0


def show_text(d: dict) -> None:
    out(f"capture {d['id']}  {d['received_at']}  origin={d['origin']}" + (f"  replay of {d['replay_of']}" if d["replay_of"] else ""))
    query = f"?{d['query']}" if d["query"] else ""
    out(f"{d['method']} {d['path']}{query}  from {d['client']}")
    out(f"tenant={d['tenant']}  event_type={d['event_type']}")
    out("")
    out("headers:")
    for name, value in d["headers"]:
        out(f"  {name}: {value}")
    out("")
    size = d["body_size"]
    out(f"body ({size} bytes{', truncated' if d['truncated'] else ''}):")
    if d["body_text"] is not None:
        out(d["body_text"] if d["body_text"] else "  (empty)")
    else:
        out(f"  (binary; base64) {d['body_base64'][:200]}")
    out("")
    sig = d["signature"]
    out(f"signature: {sig['status']}  scheme={sig['scheme']}  algorithm={sig['algorithm']}  header={sig['header']}")
    if sig["reason"]:
        out(f"  {sig['reason']}")
    for hint in sig["hints"]:
        out(f"  hint: {hint}")
    resp = d["response"]
    if resp:
        out("")
        out(f"response: {resp['status']}  ({resp['duration_ms']} ms)")
        body = resp["body"]
        out("  " + (json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body))
    for run in d["runs"]:
        out(f"flow {run.get('flow')}: {run.get('status')}  path: {' → '.join(run.get('path') or [])}")


# init


def cmd_init(args) -> int:
    from .starter import write_starter

    try:
        written = write_starter(Path.cwd())
    except FileExistsError as exc:
        err(f"error: {exc}")
        return 2
    for path in written:
        out(f"wrote {path}")
    out("next: move the secrets in answers.json to environment variables (\"secret\": \"${GITHUB_WEBHOOK_SECRET}\"), then run `webhook-inspector`")
    return 0


def cmd_tui(args) -> int:
    # Until the TUI lands, the default command is the headless server.
    err("note: the TUI is not available yet; running `serve`")
    args.json = False
    return cmd_serve(args)


COMMANDS: dict[str, Callable[[Any], int]] = {
    "serve": cmd_serve,
    "check": cmd_check,
    "verify": cmd_verify,
    "list": cmd_list,
    "show": cmd_show,
    "init": cmd_init,
    "tui": cmd_tui,
}
