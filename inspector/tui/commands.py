"""The command palette provider: every action of the current screen (from actions.py, with
the key it is bound to now) and every sample by name, the form-encoded variants as
`Send sample github.push (form)`.

A query matches by words, in any order: `stripe fail` finds
`Send sample stripe.payment_intent.payment_failed`. Textual's matcher takes the query as one
run of characters in order (the space included), so a second word that comes first in the
title, or a dotted name typed with a space, found nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

if TYPE_CHECKING:
    from .app import InspectorApp


@dataclass(frozen=True)
class WordMatch:
    score: float  # in (0, 1]: higher is better
    offsets: tuple[int, ...]  # the title's characters that matched, for highlighting


def _word_starts(title: str) -> set[int]:
    return {i for i, ch in enumerate(title) if ch.isalnum() and (i == 0 or not title[i - 1].isalnum())}


def _match_word(word: str, title: str, starts: set[int]) -> tuple[float, list[int]] | None:
    """One typed word against a title (both lower-case): a run of characters at a word's start
    is best, a run anywhere next, the word's letters in order (fuzzy) last."""
    at = title.find(word)
    first = None
    while at >= 0:
        if at in starts:
            return 1.0, list(range(at, at + len(word)))
        first = at if first is None else first
        at = title.find(word, at + 1)
    if first is not None:
        return 0.7, list(range(first, first + len(word)))
    offsets, position = [], 0
    for ch in word:
        position = title.find(ch, position)
        if position < 0:
            return None
        offsets.append(position)
        position += 1
    # Letters far apart are a weak match: score by how tightly they sit.
    spread = offsets[-1] - offsets[0] + 1
    return 0.4 * len(word) / spread, offsets


def match_words(query: str, title: str) -> WordMatch | None:
    """Every word of `query` must match `title` (case-insensitive, any order); None if one does not."""
    words = query.lower().split()
    if not words:
        return None
    lowered = title.lower()
    starts = _word_starts(lowered)
    total, offsets = 0.0, set()
    for word in words:
        found = _match_word(word, lowered, starts)
        if found is None:
            return None
        total += found[0]
        offsets.update(found[1])
    return WordMatch(total / len(words), tuple(sorted(offsets)))


class InspectorCommands(Provider):
    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = cast("InspectorApp", self.app)
        return app.palette_entries(self.screen)

    async def discover(self) -> Hits:
        for title, help_text, run in self._entries():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        style = self.match_style or "bold underline"
        for title, help_text, run in self._entries():
            found = match_words(query, title)
            if found is None:
                continue
            display = Content(title)
            for offset in found.offsets:
                display = display.stylize(style, offset, offset + 1)
            yield Hit(found.score, display, run, text=title, help=help_text)
