"""send: a built-in sample event, or a fixture file, signed as answers.json says, to the running
inspector or another URL."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import (
    UsageError,
    check_http_url,
    open_config,
    recorded_public_url,
    send_target,
    unreachable,
)
from .options import AddCommand
from .output import err, out

if TYPE_CHECKING:
    from ..model import Request

NAME = "send"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "send a built-in sample event, signed as answers.json says, to the running inspector")
    p.add_argument("sample", nargs="?", metavar="SAMPLE", help="e.g. github.push (omit to list them)")
    p.add_argument("--to", metavar="URL", help="base URL to send to (default: http://HOST:PORT)")
    p.add_argument(
        "--fixture",
        metavar="FILE",
        help="send this fixture (export --format fixtures) re-signed with answers.json's secrets; a --to URL with a path is used as it is",
    )
    p.add_argument(
        "--form",
        action="store_true",
        help="send it form-encoded (application/x-www-form-urlencoded, the JSON in a `payload` field), as GitHub's form setting does",
    )
    return p


def handle(args: argparse.Namespace) -> int:
    from .. import samples

    if args.fixture is not None:
        if args.sample:
            raise UsageError(f"give a sample name or --fixture FILE, not both ({args.sample!r} and --fixture {args.fixture})")
        if getattr(args, "form", False):
            raise UsageError("--form applies to a built-in sample; a fixture is sent with the body it holds")
        return _send_fixture(args)
    if not args.sample:
        out("samples (webhook-inspector send NAME):")
        for s in (*samples.SAMPLES.values(), *samples.GREENTIC_SAMPLES.values()):
            out(f"  {s.name:<40} {s.description}" + ("  (also --form)" if s.form else ""))
        return 0
    try:
        sample = samples.get(args.sample)
    except samples.UnknownSample as exc:
        raise UsageError(str(exc)) from None
    form = getattr(args, "form", False)
    if form and not sample.form:
        raise UsageError(
            f"sample {sample.name} has no form-encoded version (its provider sends JSON only); "
            f"--form works with {', '.join(s.name for s in samples.SAMPLES.values() if s.form)}"
        )
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    check_http_url("--to", args.to)
    where = send_target(args)
    target = where.base
    signed_base = (args.public_url or recorded_public_url(where) or config.public_base_url or target).rstrip("/")
    request, entry = samples.build(args.sample, config, tenant=args.tenant, signed_url_base=signed_base, form=form)
    status, headers, body, error = http_send(target + request.target, request, unreachable=unreachable(args, where))
    if error:
        err(f"error: {error}")
        return 2
    how = f"signed with `{entry}`" if entry else "unsigned (no scheme in answers.json applies)"
    capture = headers.get("x-inspector-capture")
    out(f"sent {args.sample}{' form-encoded' if form else ''} to {target}{request.target} ({how})")
    out(f"← {status} {body.decode('utf-8', 'replace')[:1000]}")
    if capture:
        out(f"capture {capture}: webhook-inspector show {capture}")
    return 0 if 200 <= status < 300 else 1


def _send_fixture(args: argparse.Namespace) -> int:
    """A fixture to the running inspector (its path appended) or to --to: a URL with a path is
    the handler's own and is used as it is; a bare http://host:port gets the fixture's path."""
    import os
    from urllib.parse import urlsplit

    from ..fixtures import FixtureError, load_fixture
    from ..model import Request
    from ..replay import ReplayError, resign_request

    check_http_url("--to", args.to)
    if not os.path.isfile(args.fixture):
        what = "is a folder" if os.path.isdir(args.fixture) else "does not exist"
        raise UsageError(f"--fixture {args.fixture}: {what}; give a file written by `export ID --format fixtures --output DIR`")
    try:
        fixture = load_fixture(args.fixture)
    except FixtureError as exc:
        err(f"error: {exc}")
        return 1
    config = open_config(args, quiet=True)
    if config is None:
        return 2
    request = fixture.request
    where = send_target(args)
    exact = args.to is not None and urlsplit(args.to).path not in ("", "/")
    if exact:
        parts = urlsplit(args.to)
        origin = f"{parts.scheme}://{parts.netloc}"
        request = Request(request.method, parts.path, parts.query or request.query, request.headers, request.body, None, 0.0)
        signed_base = origin
        url = origin + request.target
    else:
        url = where.base.rstrip("/") + request.target
        signed_base = (
            where.base if args.to else (args.public_url or recorded_public_url(where) or config.public_base_url or where.base)
        ).rstrip("/")
    try:
        request, how = resign_request(request, config, fixture.event_type, signed_base)
    except ReplayError as exc:
        if fixture.scheme is not None:
            reason = str(exc).split("; resend it as captured")[0]
            err(f"error: {args.fixture}: it was signed with `{fixture.provider}` ({fixture.scheme}) and cannot be re-signed: {reason}")
            return 1
        how = "unsigned, as captured (no scheme in answers.json applies)"
    status, headers, body, error = http_send(url, request, unreachable=None if exact or args.to else unreachable(args, where))
    if error:
        err(f"error: {error}")
        return 2
    out(f"sent {args.fixture} ({fixture.provider} {fixture.event}) to {url} ({how})")
    out(f"← {status} {body.decode('utf-8', 'replace')[:1000]}")
    capture = headers.get("x-inspector-capture")
    if capture:
        out(f"capture {capture}: webhook-inspector show {capture}")
    return 0 if 200 <= status < 300 else 1


def http_send(
    url: str, request: Request, timeout: float = 30.0, *, unreachable: str | None = None
) -> tuple[int, dict[str, str], bytes, str | None]:
    """Send exact bytes, header names in their own case, with http.client (urllib would
    title-case them: X-GitHub-Event went out as X-Github-Event); (status, headers, body,
    error sentence). `unreachable`: the sentence when the connection is refused."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    skip = {"host", "content-length", "connection", "transfer-encoding"}
    if not parts.hostname:
        return 0, {}, b"", f"{url} names no host to send to"
    connection = (http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection)(
        parts.hostname, parts.port, timeout=timeout
    )
    try:
        connection.putrequest(request.method, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), skip_accept_encoding=True)
        for k, v in request.headers:
            if k.lower() not in skip:
                connection.putheader(k, v.encode("utf-8", "surrogateescape"))
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        resp = connection.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(), None
    except ConnectionRefusedError:
        return (
            0,
            {},
            b"",
            unreachable
            or f"nothing listens at {url.split('/events/')[0]}; start `webhook-inspector serve` (or the TUI) first, or pass --to URL",
        )
    except http.client.HTTPException as exc:
        return 0, {}, b"", f"{url} answered something that is not valid HTTP ({type(exc).__name__}: {exc})"
    except (TimeoutError, OSError) as exc:
        return 0, {}, b"", f"cannot reach {url}: {exc}"
    finally:
        connection.close()
