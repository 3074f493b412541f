"""A Static that shows a str as it is. Textual reads a str given to a Static as markup, when
it is drawn: a path, a header or a reason holding "[/b]" then fails the whole screen's render
(which exits the app), and "[@click=app.quit]" would be a live link. Our text is data."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


class PlainStatic(Static):
    def __init__(self, content: Any = "", *, markup: bool = False, **kwargs: Any):
        super().__init__(content, markup=markup, **kwargs)
