"""export: captures as curl, HTTPie, HAR 1.2 or JSON; as fixture files for the user's own tests;
as a redacted bundle a teammate imports."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from .common import (
    UsageError,
    check_http_url,
    masker,
    open_config,
    open_store,
    parse_id,
    send_target,
)
from .options import AddCommand
from .output import err, out, write_out

if TYPE_CHECKING:
    from ..bundle import RedactPath
    from ..config import Config
    from ..model import Capture

NAME = "export"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "write captures as curl, HTTPie, HAR 1.2, JSON, fixture files or a redacted bundle")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--format", choices=("curl", "httpie", "har", "json", "fixtures", "bundle"), default="curl")
    p.add_argument("--output", metavar="FILE", help="write here instead of stdout (fixtures: the folder, required)")
    p.add_argument(
        "--redact",
        action="store_true",
        help="bundle: remove secret-bearing headers and signature values (a bundle always does; this says so)",
    )
    p.add_argument(
        "--redact-path",
        action="append",
        default=[],
        metavar="PATH",
        help="bundle: replace this JSON body value by a marker, e.g. '$.customer.email' (repeatable)",
    )
    p.add_argument("--to", metavar="URL", help="base URL the commands target (default http://HOST:PORT)")
    return p


def handle(args: argparse.Namespace) -> int:
    from ..export import export, write_private
    from ..model import unicode_text

    ids = [parse_id(i) for i in args.ids]
    check_http_url("--to", args.to)
    paths = _check_options(args)
    config = None
    if args.format == "bundle":
        # The secrets a bundle must leave out are answers.json's: a file that does not load
        # cannot say which they are.
        config = open_config(args, quiet=True)
        if config is None:
            return 2
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
    if args.format == "fixtures":
        return _fixtures(args, captures)
    if config is not None:  # --format bundle
        return _bundle(args, captures, config, paths)
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


def _check_options(args: argparse.Namespace) -> list[RedactPath]:
    """The redaction options make sense for a bundle only; each path must parse."""
    from ..bundle import BundleError, parse_path

    if args.format != "bundle" and (args.redact or args.redact_path):
        option = "--redact-path" if args.redact_path else "--redact"
        raise UsageError(
            f"{option} applies to --format bundle (other formats mask secrets, see --reveal); add --format bundle or drop {option}"
        )
    if args.format == "bundle" and args.reveal:
        raise UsageError("--reveal cannot be used with --format bundle: a bundle is for sharing and never holds secrets; drop --reveal")
    if args.format == "fixtures" and not args.output:
        raise UsageError("--format fixtures writes one file per capture: give the folder with --output DIR")
    try:
        return [parse_path(p) for p in args.redact_path]
    except BundleError as exc:
        raise UsageError(str(exc)) from None


def _fixtures(args: argparse.Namespace, captures: list[Capture]) -> int:
    from ..fixtures import FixtureError, write_fixtures

    try:
        written = write_fixtures(captures, args.output, masker(args))
    except FixtureError as exc:
        err(f"error: {exc}")
        return 2 if str(exc).startswith("--output") else 1
    for path in written:
        out(str(path))
    err(f"wrote {len(written)} fixture(s) to {args.output}")
    return 0


def _bundle(args: argparse.Namespace, captures: list[Capture], config: Config, paths: list[RedactPath]) -> int:
    import time

    from ..bundle import BundleError, to_bundle
    from ..export import write_private
    from ..signatures import Masker

    try:
        written = to_bundle(captures, Masker(config), paths, now=time.time())
    except BundleError as exc:
        err(f"error: {exc}")
        return 1
    for path, count in written.replaced.items():
        if not count:
            err(f"warning: --redact-path {path} matched nothing in these captures' JSON bodies; nothing was replaced for it")
    if args.output:
        try:
            write_private(args.output, written.text)
        except OSError as exc:
            err(f"error: cannot write {args.output}: {exc.strerror or exc}")
            return 2
        err(
            f"wrote {len(captures)} capture(s) as a redacted bundle to {args.output}; "
            "import it with `webhook-inspector import FILE --resign` (signed with the importer's own secrets)"
        )
    else:
        write_out(written.text, json_doc=True)
    return 0


def export_base(args: argparse.Namespace) -> str | Callable[[Capture], str]:
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
