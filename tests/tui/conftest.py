"""Fixtures for the TUI tests: real config, real flows, a real SQLite store in tmp_path, and
an app built from those parts with a fixed clock and time zone."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from inspector import samples
from inspector.config import load_config
from inspector.flow import Engine, FlowSet
from inspector.flow.runs import FlowRun
from inspector.model import Capture, Request, Response
from inspector.pipeline import Pipeline
from inspector.store import Store

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


class FixedAddress:
    """Stands in for the receiver where a test needs a fixed address and no socket."""

    def __init__(self, pipeline: Pipeline, host: str, port: int):
        self.pipeline, self.host, self.port = pipeline, host, port or 8080

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.pipeline.local_base = self.url

    async def stop(self, grace: float = 0) -> None:
        return None


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (answers + flows) as the current directory, so shown paths are short."""
    shutil.copy(ROOT / "answers.example.json", tmp_path / "answers.example.json")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_app(workdir: Path, **kwargs: Any):
    """An app on the workdir's answers, flows and store; `kwargs` are TuiOptions and TuiParts
    fields (port=0, a fixed clock and UTC unless given)."""
    from dataclasses import fields

    from inspector.tui.app import InspectorApp, TuiOptions, TuiParts

    config = kwargs.pop("config", None) or load_config(workdir / "answers.example.json")
    flows = kwargs.pop("flows", None) or FlowSet.load("flows")
    store = kwargs.pop("store", None) or Store(workdir / ".inspector" / "captures.sqlite3")
    options: dict[str, Any] = dict(
        answers="answers.example.json",
        port=0,
        clock=lambda: NOW,
        tz=UTC,
        store_label=".inspector/captures.sqlite3",
        watch_flows=False,
    )
    options.update(kwargs)
    part_names = {f.name for f in fields(TuiParts)}
    parts = TuiParts(**{k: v for k, v in options.items() if k in part_names})
    app = InspectorApp(config, flows, store, TuiOptions(**{k: v for k, v in options.items() if k not in part_names}), parts)
    # No gliding tab underlines or scrolls: every key press would wait ~0.3 s for them, and
    # what a test checks (and a snapshot shows) is where they end.
    app.animation_level = "none"
    return app


def build_request(name: str, config, now: float = NOW, **changes: Any) -> Request:
    request, _ = samples.build(name, config, signed_url_base="http://127.0.0.1:8080", now=now, mark=False)
    return replace(request, **changes) if changes else request


def bad_github_request(config, now: float = NOW) -> Request:
    """A GitHub push whose body was changed after signing: signature `invalid`."""
    request = build_request("github.push", config, now)
    return replace(request, body=request.body.replace(b'"refs/heads/main"', b'"refs/heads/evil"'))


async def ingest(store: Store, flows: FlowSet, config, requests: list[tuple[Request, str]]) -> list[Capture]:
    """Captures made by the real pipeline, with their timings fixed so screenshots are exact."""
    pipeline = Pipeline(config, store, clock=lambda: NOW, engine=Engine(flows, clock=lambda: NOW))
    out = []
    for request, origin in requests:
        capture = await pipeline.handle(request, origin=origin, now=NOW, wait=True)
        runs = [_fixed_run(r) for r in capture.runs]
        response = capture.response
        if response is not None:
            response = Response(response.status, response.headers, response.body, 1.25)
        store.update(capture.id, runs=runs, response=response)
        out.append(capture.with_(runs=tuple(runs), response=response))
    store.flush()
    return out


def _fixed_run(run: FlowRun) -> FlowRun:
    return replace(run, duration_us=420, steps=tuple(replace(s, duration_us=35) for s in run.steps))


def seed_store(workdir: Path, names_and_requests: list[tuple[Request, str]]) -> Store:
    store = Store(workdir / ".inspector" / "captures.sqlite3")
    config = load_config(workdir / "answers.example.json")
    flows = FlowSet.load("flows")
    asyncio.run(ingest(store, flows, config, names_and_requests))
    return store


async def wait_for(condition: Callable[[], bool], pilot, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def text_of(widget) -> str:
    """What a Static (or a container of them) shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(width=200, record=True, color_system=None, force_terminal=False, file=io.StringIO())
    parts = []
    statics = [widget] if hasattr(widget, "visual") else list(widget.query("Static"))
    for static in statics:
        content = static.content if hasattr(static, "content") else static.render()
        if hasattr(content, "plain") and not hasattr(content, "__rich_console__"):
            content = content.plain  # textual Content (highlighted code)
        console.print(content)
    parts.append(console.export_text())
    return "\n".join(parts)


def tree_text(tree) -> str:
    lines = []

    def walk(node, depth: int) -> None:
        for child in node.children:
            lines.append("  " * depth + str(child.label.plain if hasattr(child.label, "plain") else child.label))
            walk(child, depth + 1)

    walk(tree.root, 0)
    return "\n".join(lines)


async def settle(app) -> None:
    """Wait for the app's workers; one replaced by a newer one (exclusive) is not an error.
    The store watcher lives as long as the app: it is not work to wait for."""
    await asyncio.gather(*[w.wait() for w in list(app.workers) if w.group != "store-watch"], return_exceptions=True)


def record_notifications(app) -> list[str]:
    """Every notification the app shows from now on (toasts go away; the list stays)."""
    seen: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        seen.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return seen


FAKE_NGROK = str(ROOT / "tests" / "fakes" / "ngrok")


@pytest.fixture
def fake_ngrok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """NgrokTunnels driving the fake agent (tests/fakes/ngrok) through pyngrok, with every path
    under tmp_path and no download possible; `mode` sets FAKE_NGROK_MODE. Agents left running
    are killed at the end."""
    import os
    from types import SimpleNamespace

    from inspector.tunnel import NgrokTunnel, _spawned

    if not os.access(FAKE_NGROK, os.X_OK):
        os.chmod(FAKE_NGROK, 0o755)
    monkeypatch.setenv("FAKE_NGROK_CALLS", str(tmp_path / "ngrok-calls.txt"))
    monkeypatch.delenv("FAKE_NGROK_MODE", raising=False)
    made: list[NgrokTunnel] = []

    def make() -> NgrokTunnel:
        # An authtoken in the agent's config: without one the tunnel stops before the agent runs.
        (tmp_path / "ngrok.yml").write_text('version: "3"\nagent:\n    authtoken: fake-token-from-the-config\n')
        tunnel = NgrokTunnel(
            env={"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path / "home")},
            ngrok_path=FAKE_NGROK,
            config_path=str(tmp_path / "ngrok.yml"),
            authtoken_paths=[],
            default_path=str(tmp_path / "pyngrok-default" / "ngrok"),
            download_url="http://127.0.0.1:9/nothing-listens-here.tgz",
            startup_timeout=5.0,
            poll_every=0.05,
        )
        made.append(tunnel)
        return tunnel

    yield SimpleNamespace(make=make, mode=lambda value: monkeypatch.setenv("FAKE_NGROK_MODE", value))
    for tunnel in made:
        proc = _spawned.get(tunnel.binary.path) if tunnel.binary else None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
