"""What several commands share: usage errors, opening answers.json, flows and the store, reading request arguments, capture ids, where to send."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output import cell, err

if TYPE_CHECKING:
    from ..config import Config
    from ..discovery import Target
    from ..flow import Engine, FlowSet
    from ..flow.runs import FlowRun
    from ..model import Capture, Request
    from ..signatures import Masker
    from ..store import Store
    from ..tunnel import Tunnel


class UsageError(Exception):
    """Bad arguments: printed as a usage error, exit 2."""


# Shared set-up


def answers_path(args: argparse.Namespace) -> Path | None:
    from ..config import find_answers

    return find_answers(args.answers)


def open_config(args: argparse.Namespace, *, quiet: bool = False) -> Config | None:
    """Load answers.json; print where it came from and its warnings on stderr. None on error."""
    from ..config import ConfigError, load_config

    path = answers_path(args)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err(f"error: {problem}")
        return None
    if not quiet:
        err(
            f"answers: {path}"
            if path
            else "answers: none found (./answers.json, ./answers.example.json); no signature is checked — run `webhook-inspector init` to create one"
        )
        for w in config.warnings:
            err(f"warning: {w}")
        for e in config.entry_errors:
            err(f"warning: {e} — requests using this entry get status `error`")
    return config


def open_flows(args: argparse.Namespace, *, quiet: bool = False) -> tuple[FlowSet, Engine]:
    """Load --flows; print load problems on stderr. Returns (FlowSet, Engine)."""
    from ..flow import Engine, FlowSet

    flows = FlowSet.load(args.flows)
    if not quiet:
        report_flows(flows)
    return flows, Engine(flows)


def report_flows(flows: FlowSet) -> None:
    where = flows.directory
    if where is not None and not where.is_dir():
        err(f"flows: {where} is not a folder; no flow will run (pass --flows DIR, or `webhook-inspector init` for starter flows)")
        return
    bad = len({p.position.file for p in flows.errors})
    err(f"flows: {flows.loaded} loaded from {where}" + (f", {bad} file(s) with errors (skipped)" if bad else ""))
    for problem in flows.problems:
        err(f"{'error' if problem.severity == 'error' else 'warning'}: {problem.position}: {problem.message}")


class _NoCaptures:
    """What a read command sees where no store exists yet: nothing, and nothing created."""

    def get(self, capture_id: int) -> None:
        return None

    def iter_newest(self, *args: Any, **kw: Any) -> Iterator[Capture]:
        return iter(())

    iter_arrived = iter_newest

    def close(self) -> None:
        pass


def open_store(args: argparse.Namespace, *, server: bool = False, readonly: bool = False) -> Store | None:
    """`server`: the store of a server process (serve, the TUI): ids kept in stock, unless
    it shares the store with its --workers processes (see store.BUSY_GROUP). `readonly`: for
    list, show and export, which must not create, migrate or touch the file (a mistyped
    --store, another program's database); a missing store reads as empty, with a note."""
    from ..store import SERVER_STOCK, NoStore, Store, StoreError

    alone = (getattr(args, "workers", 1) or 1) <= 1 and getattr(args, "worker_socket", None) is None
    try:
        if readonly:
            return Store(args.store, readonly=True)
        return Store(args.store, max_captures=args.max_captures, quiet_stock=SERVER_STOCK if server and alone else 0)
    except NoStore as exc:
        err(f"note: {exc}")
        return _NoCaptures()  # type: ignore[return-value]
    except StoreError as exc:
        err(f"error: {exc}")
        return None


def check_http_url(option: str, url: str | None) -> str | None:
    """`url` when it is an http(s) URL naming a host; else a usage error."""
    if url is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError as exc:
        raise UsageError(f"{option} {cell(url)!r} is not a URL ({exc}); e.g. {option} http://127.0.0.1:8080") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} {cell(url)!r} is not an http:// or https:// URL naming a host; e.g. {option} http://127.0.0.1:8080")
    return url


def parse_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise UsageError(f"header {text!r} has no colon; write it as 'Name: value'")
    if any(c in name for c in " \t\r\n"):
        raise UsageError(f"header name {name!r} contains white space; write it as 'Name: value'")
    return name.strip(), value.strip()


def read_body_arg(args: argparse.Namespace) -> bytes:
    if args.body is not None:
        try:
            return args.body.encode("utf-8")
        except UnicodeEncodeError:
            pass
        # Bytes in argv that are not UTF-8 arrive as surrogate escapes: send the bytes given.
        try:
            return os.fsencode(args.body)
        except UnicodeEncodeError:
            raise UsageError("--body holds characters that cannot be sent as bytes; use --body-file F for exact bytes") from None
    if args.body_file == "-":
        if sys.stdin is None:
            raise UsageError("--body-file -: stdin is closed; pipe the body in, or give a file")
        return sys.stdin.buffer.read()
    try:
        return read_capped(args.body_file, MAX_BODY_FILE)
    except OSError as exc:
        raise UsageError(f"cannot read --body-file {args.body_file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"--body-file {args.body_file}: {exc}") from None


MAX_BODY_FILE = 64 << 20


def read_capped(path: str, limit: int) -> bytes:
    """A file's bytes, refusing more than `limit`: a device such as /dev/zero, or a file given
    by mistake, must not fill the memory (ValueError)."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"more than {limit >> 20} MiB; is it the right file?")
    return data


def request_from_args(args: argparse.Namespace, now: float) -> Request:
    from ..model import Headers, Request

    headers = Headers(parse_header(h) for h in args.headers)
    method = args.method.upper()
    if not (method.isascii() and method.isalpha()):
        raise UsageError(f"--method {args.method!r} is not an HTTP method")
    for segment, name in ((args.tenant, "--tenant"), (args.event_type, "--event-type")):
        from ..pipeline import _ok

        if not _ok(segment):
            raise UsageError(f"{name} {segment!r}: use letters, digits, '.', '_' and '-' only")
    path = f"/events/webhook/{args.tenant}/{args.event_type}"
    return Request(method, path, "", headers, read_body_arg(args), "cli", now)


def make_tunnel(args: argparse.Namespace) -> Tunnel:
    from ..tunnel import tunnel_from_options

    return tunnel_from_options(args.tunnel, args.public_url, args.ngrok_path)


def format_run(run: FlowRun) -> str:
    indent = "    " if run.parent_id else ""
    head = f"{indent}flow {cell(run.flow)} [{cell(run.status)}]"
    if run.parent_id:
        head += f" (async from run {cell(run.parent_id)} node {cell(run.via_node)})"
    took = run.duration_us
    lines = [head + (f"  {took / 1000:.2f} ms" if took is not None else "")]
    for step in run.steps:
        # A Greentic-shaped step (issue #20): the called flow it ran in, indented by depth.
        inner = f"{'  ' * (step.depth or 0)}{cell(step.flow)}/" if step.is_greentic and step.depth else ""
        line = f"{indent}  {inner}{cell(step.node)} ({cell(step.type)}) {cell(step.status)}"
        if step.is_greentic and step.next:
            line += f"  next: {cell(step.next)}"
        if step.mocked is not None:
            source = step.mocked.get("source")
            line += f"  [mocked: {cell(step.mocked.get('component'))}, {'output from ' + cell(source) if source else 'no entry in mocks.yaml: output {}'}]"
        if step.decision:
            conds = "; ".join(
                f"{cell(d.expression) if d.expression is not None or not step.is_greentic else '(default)'} → {'error: ' + cell(d.error) if d.failed else cell(d.value)}"
                for d in step.decision
            )
            line += f"  [{conds}]"
        e = step.error
        if e:
            at = f"{cell(run.file)}:{cell(e.line)}:{cell(e.column)}: " if e.line else ""
            line += f"  ERROR {at}{cell(e.message)}"
        elif step.output is not None:
            text = json.dumps(step.output, ensure_ascii=False)
            line += f"  → {text if len(text) < 120 else text[:119] + '…'}"
        if step.is_greentic and step.input not in (None, {}) and step.input != step.output:
            text = json.dumps(step.input, ensure_ascii=False)
            line += f"\n{indent}    {'  ' * (step.depth or 0)}input: {text if len(text) < 120 else text[:119] + '…'}"
        for log in step.logs:
            line += f"\n{indent}    log: {cell(log)}"
        lines.append(line)
    if run.is_greentic and run.status == "waiting":
        lines.append(f"{indent}  waiting: {cell(run.reason)}; resumes at {cell(run.resume_at)}")
    if run.error and not run.steps:
        lines.append(f"{indent}  ERROR {cell(run.error.message)}")
    return "\n".join(lines)


def send_target(args: argparse.Namespace) -> Target:
    """Where send, replay and export go (a discovery.Target): --to, an explicit --host/--port,
    the newest running server recorded next to --store, or the default address."""
    from ..discovery import resolve_target

    explicit = bool(getattr(args, "address_explicit", False))
    return resolve_target(args.store, to=args.to, host=args.host, port=args.port, explicit=explicit)


def recorded_public_url(where: Target) -> str | None:
    """The recorded server's live public URL: what URL-signing schemes are checked against there."""
    return where.record.public_url if where.record is not None else None


def unreachable(args: argparse.Namespace, where: Target) -> str:
    """The error when nothing answers at `where`: what was tried, why there, how to point elsewhere."""
    return f"nothing listens at {where.base} ({where.described(args.store)}); {where.advice()}"


def masker(args: argparse.Namespace) -> Masker:
    from ..config import ConfigError, load_config
    from ..signatures import Masker

    try:
        config = load_config(answers_path(args))
    except ConfigError:
        config = None
    return Masker(config, reveal=args.reveal)


MAX_ID = 2**63 - 1  # SQLite's largest integer


def parse_id(text: str) -> int:
    text = text.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()):
        raise UsageError(f"{cell(text)!r} is not a capture id; ids are numbers, see `webhook-inspector list`")
    # Checked on the text: int() refuses more than 4300 digits, SQLite more than 63 bits.
    digits = text.lstrip("0") or "0"
    if len(digits) > 19 or int(digits) > MAX_ID:
        raise UsageError(
            f"capture id {digits[:30]}{'…' if len(digits) > 30 else ''} is out of range (ids go up to {MAX_ID}); see `webhook-inspector list`"
        )
    return int(digits)
