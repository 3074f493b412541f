"""check: validate answers.json and the flows; print each trigger's webhook URL."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .common import (
    answers_path,
    make_tunnel,
    open_flows,
)
from .options import AddCommand
from .output import err, out

if TYPE_CHECKING:
    from ..config import Config
    from ..flow.model import Node
    from ..pipeline import Pipeline

NAME = "check"


def add_parser(add: AddCommand) -> argparse.ArgumentParser:
    return add(NAME, "validate answers.json and the flows; print each trigger's webhook URL")


def handle(args: argparse.Namespace) -> int:
    from ..config import Config, ConfigError, load_config
    from ..pipeline import Pipeline

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

    flows, _ = open_flows(args, quiet=True)
    for flow_problem in flows.errors:
        out(str(flow_problem))
    for flow_problem in flows.warnings:
        err(str(flow_problem))
    from ..script import FLOW_SCOPE_NAMES

    for flow in flows.flows:
        for node in flow.nodes:
            for program in _programs(node):
                for warning in getattr(program, "warnings", lambda names: [])(FLOW_SCOPE_NAMES):
                    err(f"{warning}  (warning: node '{node.id}' fails here when it runs)")
    if flows.directory is not None and not flows.directory.is_dir():
        if getattr(args, "flows_explicit", True):
            out(f"{flows.directory}: not a folder; pass --flows DIR")
            failed = True
        else:
            err(f"note: no ./{flows.directory} folder, so no flow runs; `webhook-inspector init` writes starter flows")
    failed = failed or bool(flows.errors)
    bad_files = {p.position.file for p in flows.errors}
    out(f"flows: {flows.loaded} ok" + (f", {len(bad_files)} invalid" if bad_files else "") + f" ({flows.directory})")
    pipeline = Pipeline(config or Config(), None, local_base=f"http://{args.host}:{args.port}")
    failed = show_public_url(args, config, pipeline) or failed
    from ..tunnel import trigger_urls

    # Greentic-shaped flows' ingress URLs come with their other lines below
    urls = [t for t in trigger_urls(flows, pipeline, args.tenant) if t.trigger_type != "ingress"]
    for t in urls:
        out(f"  {t.flow} ← {t.trigger_type} {t.event_type}: {t.url}")
    if flows.greentic_flows:
        from ..greentic.glue import flow_lines

        out("greentic flows" + (" (source pack)" if flows.is_pack else "") + ":")
        for line in flow_lines(flows, pipeline.base_url, args.tenant):
            out(line)
    elif not urls:
        out(f"webhook URL: {pipeline.webhook_url(args.tenant, '{event_type}')}")
    return 1 if failed else 0


def _programs(node: Node) -> list[Any]:
    from ..flow.nodes import node_type_of

    return node_type_of(node.type).programs(node)


def show_public_url(args: argparse.Namespace, config: Config | None, pipeline: Pipeline) -> bool:
    """`check`'s line on where senders reach us (sets `pipeline.public_url` for the URLs that
    follow). True when the tunnel options themselves are wrong."""
    from ..starter import how_to_set_public_url, is_placeholder_url
    from ..tunnel import public_base_url_note
    from ..tunnel.base import PublicUrl

    tunnel = make_tunnel(args)
    status = tunnel.status
    configured = config.public_base_url.rstrip("/") if config and config.public_base_url else None
    if status.state == "failed":
        out(f"public url: {status.reason}")
        if status.fix:
            err(f"  fix: {status.fix}")
        return True
    if isinstance(tunnel, PublicUrl):
        pipeline.public_url = tunnel.url.strip().rstrip("/")
        out(f"public url: {pipeline.public_url} (--public-url)")
        note = public_base_url_note(configured, pipeline.public_url)
        if note:
            err(f"note: {note}")
    elif tunnel.kind == "ngrok":
        out(f"public url: assigned by ngrok when `serve` or the TUI starts the tunnel; until then the URLs below use {pipeline.base_url}")
    elif configured and is_placeholder_url(configured):
        # Pasting the placeholder into GitHub would send every delivery nowhere.
        out(f"public url: none yet — public_base_url in answers.json ({configured}) is a placeholder; the URLs below are local")
        err(f"note: {how_to_set_public_url(pipeline.local_base)}")
        pipeline.public_url = pipeline.local_base
    elif configured:
        out(f"public url: {configured} (public_base_url in answers.json)")
    else:
        out(f"public url: none — webhooks reach {pipeline.local_base} only")
        if status.fix:
            err(f"note: {status.fix}")
    return False
