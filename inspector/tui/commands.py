"""The command palette provider: every action of the current screen (from actions.py, with
the key it is bound to now) and every sample by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import InspectorApp


class InspectorCommands(Provider):
    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("InspectorApp", self.app)
        return app.palette_entries(self.screen)

    async def discover(self) -> Hits:
        for title, help_text, run in self._entries():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
