"""Build the TUI from the command line's options and run it (`webhook-inspector`, `… tui`).

Problems that would stop `serve` (an invalid answers.json, a store that cannot be opened, a
bad keymap, a --forward-to that is not a URL) are handed to the app, which shows them instead
of a traceback. The tunnel is chosen as `serve` chooses it; the app starts it once it listens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, find_answers, load_config
from ..flow import FlowSet
from ..server import ServeOptions, worker_argv
from ..store import SERVER_STOCK, Store, StoreError
from ..tunnel import tunnel_from_options

if TYPE_CHECKING:
    from .app import InspectorApp


def load_keymap(path: Path) -> tuple[dict[str, str], str | None]:
    if not path.is_file():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, f'{path}: not a keymap ({exc}); expected {{"binding-id": "key"}}'
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return {}, f'{path}: expected an object of binding id → key, e.g. {{"send-sample": "ctrl+s"}}'
    return data, None


def build_app(args: Any) -> tuple[InspectorApp, Store]:
    from .app import InspectorApp, TuiOptions, TuiParts

    problems: list[str] = []
    notices: list[str] = []
    answers = find_answers(args.answers)
    try:
        config = load_config(answers)
    except ConfigError as exc:
        config = None
        problems += [str(p) for p in exc.problems]
    if config is not None:
        notices += [f"answers.json: {w}" for w in config.warnings]
        problems += [f"{e} — requests using this entry get status `error`" for e in config.entry_errors]
    try:
        # A lone server keeps ids in stock; one that shares the store with its --workers
        # reserves each id when it comes, so quiet traffic stays in arrival order.
        stock = SERVER_STOCK if (getattr(args, "workers", 1) or 1) <= 1 else 0
        store = Store(args.store, max_captures=args.max_captures, quiet_stock=stock)
        label = str(args.store)
    except StoreError as exc:
        problems.append(f"{exc} — captures are kept in memory until you quit")
        store = Store(":memory:", max_captures=args.max_captures)
        label = "memory only"
    keymap_file = Path(args.store).parent / "keymap.json"
    keymap, keymap_problem = load_keymap(keymap_file)
    if keymap_problem:
        problems.append(keymap_problem)
    flows = FlowSet.load(args.flows)
    forward_to = getattr(args, "forward_to", None)
    if forward_to and not forward_to.startswith(("http://", "https://")):
        problems.append(f"--forward-to {forward_to!r} is not an http:// or https:// URL; not forwarding")
        forward_to = None
    if forward_to:
        from ..replay import forward_loop

        loop_reason = forward_loop(forward_to, args.host, args.port, (args.public_url, config.public_base_url if config else None))
        if loop_reason:
            problems.append(f"--forward-to {forward_to}: {loop_reason}; not forwarding")
            forward_to = None
    tunnel = tunnel_from_options(args.tunnel, args.public_url, args.ngrok_path)
    app = InspectorApp(
        config,
        flows,
        store,
        TuiOptions(
            answers=answers,
            problems=tuple(problems),
            host=args.host,
            port=args.port,
            tenant=args.tenant,
            reveal=args.reveal,
            keymap=keymap,
            keymap_file=str(keymap_file),
            store_label=label,
            notices=tuple(notices),
            forward_to=forward_to,
            workers=getattr(args, "workers", 1) or 1,
        ),
        TuiParts(
            tunnel=tunnel,
            ngrok_tunnel=lambda: tunnel_from_options("ngrok", None, args.ngrok_path),
            worker_command=lambda port: worker_argv(ServeOptions.from_args(args), port, report=True),
        ),
    )
    return app, store


def run_tui(args: Any) -> int:
    app, store = build_app(args)
    from ..receiver import run_server

    try:
        # On the loop serve runs on (uvloop where installed; WEBHOOK_INSPECTOR_LOOP=asyncio
        # for the standard one): measured in turns, 22-26 us less CPU per live capture than
        # asyncio's loop, the TUI's whole overhead over serve being about that size.
        run_server(app.run_async())
    finally:
        store.close()
    code = app.return_code
    return 0 if code is None else code
