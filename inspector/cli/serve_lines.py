"""serve's face on the server session: what happens, as SPEC §10's lines. A module of its own
because it subclasses the server's SessionEvents: serve imports it when it runs, not every
command's start-up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..server import SessionEvents
from .common import report_flows
from .output import err


class ServeLines(SessionEvents):
    """`serve`'s face on the server session: what happens, as the lines SPEC §10 names
    (stderr for notes, warnings and reloads; stdout, through `TunnelPrinter`, for the tunnel)."""

    def __init__(self) -> None:
        self.printer: Callable[[Any], None] | None = None

    def warning(self, text: str) -> None:
        err(f"warning: {text}")

    def worker_line(self, text: str) -> None:
        err(text)

    def tunnel_changed(self, status: Any) -> None:
        if self.printer is not None:
            self.printer(status)

    def flows_reloaded(self, flows: Any) -> None:
        err("flows changed; reloaded")
        report_flows(flows)

    def answers_reloaded(self, path: Path, config: Config) -> None:
        err(f"answers: {path} changed; reloaded")
        for w in config.warnings:
            err(f"warning: {w}")

    def answers_failed(self, path: Path, problems: list[str]) -> None:
        for problem in problems:
            err(f"error: {problem}")
        err("answers: keeping the previous configuration until the file is fixed")

    def watch_trouble(self, why: str, every: float) -> None:
        err(
            f"warning: could not check flows and answers.json for changes ({why}); "
            f"serving goes on with what is loaded, and the check is retried every {every:g} s"
        )

    def watch_recovered(self) -> None:
        err("note: flows and answers.json are watched again")

    def interrupted(self, left: int) -> None:
        err(f"stopped: {left} flow run(s) did not finish in time and are recorded as interrupted")
