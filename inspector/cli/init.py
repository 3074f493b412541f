"""init: write answers.json (fresh secrets) and starter flows/ into this folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import AddCommand
from .output import err, out

NAME = "init"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    p = add(NAME, "write answers.json (fresh secrets) and starter flows/ into this folder")
    p.add_argument(
        "--greentic",
        action="store_true",
        help="write a starter Greentic source pack into pack/ instead (pack.yaml, two flows, sidecars, mocks.yaml)",
    )
    return p


def handle(args: argparse.Namespace) -> int:
    if getattr(args, "greentic", False):
        return _greentic()
    from ..starter import write_starter

    try:
        written = write_starter(Path.cwd())
    except FileExistsError as exc:
        err(f"error: {exc}")
        return 2
    except OSError as exc:
        err(
            f"error: cannot write the starter files into {Path.cwd()} ({exc.strerror or exc}: {exc.filename}); run init in a folder you can write to"
        )
        return 2
    from ..starter import HOW_TO_SET_PUBLIC_URL, STARTER_PUBLIC_BASE_URL, secret_notes, starter_answers

    for path in written:
        out(f"wrote {path}")
    # Who makes each secret differs by provider: pasting our generated Stripe secret into
    # Stripe is impossible, and keeping it means every real delivery fails as `invalid`.
    out('secrets, by who creates them (also in answers.json as each entry\'s "_secret"):')
    for line in secret_notes(starter_answers()):
        out(f"  {line}")
    out(
        f"public_base_url is a placeholder ({STARTER_PUBLIC_BASE_URL}), not a URL senders can reach: {HOW_TO_SET_PUBLIC_URL}; "
        "until then `check` and `serve` show the local URLs"
    )
    out(
        'next: move the secrets in answers.json to environment variables ("secret": "${GITHUB_WEBHOOK_SECRET}"), then run `webhook-inspector`'
    )
    return 0


def _greentic() -> int:
    from ..starter.greentic import PACK_FOLDER, write_greentic_starter

    try:
        written = write_greentic_starter(Path.cwd())
    except FileExistsError as exc:
        err(f"error: {exc}")
        return 2
    except OSError as exc:
        err(
            f"error: cannot write the starter pack into {Path.cwd()} ({exc.strerror or exc}: {exc.filename}); run init in a folder you can write to"
        )
        return 2
    for path in written:
        out(f"wrote {path}")
    out(
        f"next: `webhook-inspector serve --flows {PACK_FOLDER}`, then `webhook-inspector send greentic.order.created` "
        f"(it posts to /v1/events/ingress/webhook/demo); `webhook-inspector check --flows {PACK_FOLDER}` prints each flow's URL"
    )
    return 0
