"""The live request table: a virtual list that renders only the rows on screen, so 100,000
captures open, scroll and filter without freezing (a DataTable would build every row)."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from math import ceil
from time import perf_counter
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from ..guard import GuardedPump, describe, report
from ..rows import Row, time_text
from ..shapes import printable

# (title, width, align, flexible): flexible columns share what is left of the width.
COLUMNS: tuple[tuple[str, int, str, bool], ...] = (
    ("#", 6, "right", False),
    ("time", 12, "left", False),
    ("method", 6, "left", False),
    ("tenant/event_type", 16, "left", True),
    ("provider event", 12, "left", True),
    ("sig", 3, "center", False),
    ("status", 6, "right", False),
    ("steps", 5, "right", False),
    ("duration", 9, "right", False),
)


def fit(text: str, width: int, align: str = "left") -> str:
    """`text` in exactly `width` cells: cut with "…", or padded."""
    if width <= 0:
        return ""
    cells = len(text) if text.isascii() and text.isprintable() else cell_len(text)
    if cells > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else "…"
    pad = width - cells
    if align == "right":
        return " " * pad + text
    if align == "center":
        left = pad // 2
        return " " * left + text + " " * (pad - left)
    return text + " " * pad


class RequestTable(GuardedPump, ScrollView, can_focus=True):
    """Rows are `Row` summaries in id order; `view` is the filtered subset shown."""

    DEFAULT_CSS = """
    RequestTable {
        background: $surface;
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        scrollbar-size-vertical: 1;
        scrollbar-background: $surface;
        scrollbar-background-hover: $surface;
        scrollbar-background-active: $surface;
        overflow-x: hidden;
        overflow-y: scroll;
        &:focus { border: round $primary; border-title-color: $text; }
        & > .request-table--header { text-style: bold; color: $text-muted; }
        & > .request-table--cursor { background: $primary 30%; text-style: bold; }
        & > .request-table--cursor-blur { background: $primary 15%; }
        & > .request-table--ok { color: $success; }
        & > .request-table--bad { color: $error; }
        & > .request-table--warn { color: $warning; }
        & > .request-table--dim { color: $text-muted; }
        & > .request-table--replay { color: $accent; }
    }
    """

    COMPONENT_CLASSES = {
        "request-table--header",
        "request-table--cursor",
        "request-table--cursor-blur",
        "request-table--ok",
        "request-table--bad",
        "request-table--warn",
        "request-table--dim",
        "request-table--replay",
    }

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table-up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table-page-down"),
        Binding("home", "first", "First", show=False, id="table-first"),
        Binding("end", "last", "Last (and follow)", show=False, id="table-last"),
    ]

    follow: reactive[bool] = reactive(True, init=False)

    @dataclass
    class Highlighted(Message):
        """The cursor moved to the capture `capture_id` (None: nothing to show)."""

        table: RequestTable
        capture_id: int | None
        user: bool = False  # moved by the user (not by follow mode or a filter)

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RequestTable.Highlighted)

    @dataclass
    class FollowChanged(Message):
        table: RequestTable
        follow: bool

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.tz = tz
        self.rows: list[Row] = []  # every row, oldest first
        self.by_id: dict[int, Row] = {}
        self.view: list[Row] = []
        self.cursor = -1
        self._widths: tuple[int, ...] = ()
        self._styles: dict[str, Style] = {}
        # The cells' styles on each row background (plain, cursor, cursor without focus).
        self._palettes: dict[tuple[Style, bool, bool], _Palette] = {}
        # What every line of one render shares (see render_lines); None between renders.
        self._frame: _Frame | None = None
        self._thumb_drawn: tuple[int, int, int] | None = None  # the scrollbar as last redrawn
        self._holding_scrollbar = False
        # Rendered rows by capture id: a row is drawn once, then reused as it scrolls.
        self._strips: dict[int, tuple[tuple, Strip]] = {}
        self._reported: set[int] = set()  # rows whose drawing failed, told once each
        self.first_paint: float | None = None  # perf_counter of the first frame with rows
        self.painted_at = 0.0  # perf_counter of the last line rendered

    # Data

    @property
    def current(self) -> Row | None:
        return self.view[self.cursor] if 0 <= self.cursor < len(self.view) else None

    def row(self, capture_id: int) -> Row | None:
        return self.by_id.get(capture_id)

    def append(self, rows: list[Row], visible: list[bool]) -> None:
        """New captures, in id order. Usually their ids are higher than any held; one that
        another process numbered lower (serve --workers under load) goes to its place."""
        # More rows move the thumb up, following the newest moves it back down: the scrollbar
        # is redrawn once, if it moved, when both are done.
        self._holding_scrollbar = True
        try:
            self._append(rows, visible)
        finally:
            self._holding_scrollbar = False
            if self.show_vertical_scrollbar:
                self._redraw_scrollbar()

    def append_newest(self, rows: list[Row]) -> None:
        """New captures, all shown, in rising id order and every id above the highest held:
        what a take brings while captures stream in. The same as `append(rows, [True] * n)`,
        without placing each row on its own (a take under load brings a thousand)."""
        self._holding_scrollbar = True
        try:
            self.by_id.update({row.id: row for row in rows})
            self.rows.extend(rows)
            self.view.extend(rows)
            self._placed(0)
        finally:
            self._holding_scrollbar = False
            if self.show_vertical_scrollbar:
                self._redraw_scrollbar()

    def _append(self, rows: list[Row], visible: list[bool]) -> None:
        above = 0  # shown rows that went above the cursor's
        for row, show in zip(rows, visible, strict=True):
            if row.id in self.by_id:
                continue
            self.by_id[row.id] = row
            if self.rows and row.id < self.rows[-1].id:
                bisect.insort(self.rows, row, key=_row_id)
                if show:
                    at = bisect.bisect(self.view, row.id, key=_row_id)
                    self.view.insert(at, row)
                    if at <= self.cursor:
                        self.cursor += 1
                        above += 1
                continue
            self.rows.append(row)
            if show:
                self.view.append(row)
        self._placed(above)

    def _placed(self, above: int) -> None:
        """After rows were added (`above`: shown ones that went above the cursor's row)."""
        self._resized()
        if above and not self.follow:
            # The rows on screen stay where they are, as in `prepend`.
            self.scroll_to(y=self.scroll_y + above, animate=False, immediate=True)
        if self.follow and self.view:
            self._move(len(self.view) - 1, user=False)
        elif self.cursor < 0 and self.view:
            self._move(len(self.view) - 1, user=False)
        self.refresh()

    def prepend(self, rows: list[Row], match: Callable[[Row], bool] | None) -> None:
        """Older captures from the store, newest first. `match` None: not shown for now."""
        fresh = [r for r in reversed(rows) if r.id not in self.by_id]
        if not fresh:
            return
        for r in fresh:
            self.by_id[r.id] = r
        shown = [r for r in fresh if match(r)] if match is not None else []
        above = len(shown)  # shown rows that go above the cursor's
        if self.rows and fresh[-1].id > self.rows[0].id:
            # Rows came live while this page was read, some numbered below the page's newest.
            current = self.current
            self.rows = sorted(self.rows + fresh, key=_row_id)
            self.view = sorted(self.view + shown, key=_row_id)
            if current is not None:
                above = sum(1 for r in shown if r.id < current.id)
        else:
            self.rows[:0] = fresh
            if shown:
                self.view[:0] = shown
        self._resized()
        if above and self.cursor >= 0:
            # The rows on screen stay where they are: the new ones are above them.
            self.cursor += above
            self.scroll_to(y=self.scroll_y + above, animate=False, immediate=True)
        if self.cursor < 0 and self.view:
            self._move(len(self.view) - 1, user=False)
        self.refresh()

    def trim(self, keep: int) -> None:
        """Forget all but the newest `keep` rows."""
        if len(self.rows) <= keep:
            return
        dropped = self.rows[: len(self.rows) - keep]
        self.rows = self.rows[len(self.rows) - keep :]
        for row in dropped:
            self.by_id.pop(row.id, None)
            self._strips.pop(row.id, None)
        oldest = self.rows[0].id
        gone = 0
        while gone < len(self.view) and self.view[gone].id < oldest:
            gone += 1
        if gone:
            current = self.current
            self.view = self.view[gone:]
            self.cursor = max(self.cursor - gone, 0) if current is not None and current.id >= oldest else len(self.view) - 1
            self._resized()
            self.refresh()

    def set_view(self, rows: list[Row]) -> None:
        """Show `rows` (in id order); the cursor stays on its capture when it is still shown."""
        keep = self.current.id if self.current else None
        self.view = rows
        self._resized()
        index = -1
        if keep is not None and not self.follow:
            index = _find(rows, keep)
        if index < 0 and rows:
            index = len(rows) - 1
        self.cursor = -1
        self._move(index, user=False)
        self.refresh()

    def refresh_row(self, row: Row) -> None:
        self._strips.pop(row.id, None)
        self.refresh()

    def clear_rows(self) -> None:
        self.rows, self.by_id, self.view = [], {}, []
        self.cursor = -1
        self._resized()
        self.post_message(self.Highlighted(self, None))
        self.refresh()

    # Cursor

    def _move(self, index: int, *, user: bool) -> None:
        if not self.view:
            if self.cursor != -1:
                self.cursor = -1
                self.post_message(self.Highlighted(self, None))
            return
        index = max(0, min(index, len(self.view) - 1))
        changed = index != self.cursor
        self.cursor = index
        self._scroll_to_cursor()
        if user:
            follow = index == len(self.view) - 1 and self.follow
            if self.follow != follow:
                self.follow = follow
        if changed:
            self.post_message(self.Highlighted(self, self.view[index].id, user))
        self.refresh()

    def select_id(self, capture_id: int) -> bool:
        index = _find(self.view, capture_id)
        if index < 0:
            return False
        self._move(index, user=True)
        return True

    def _scroll_to_cursor(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta if self.cursor >= 0 else len(self.view) - 1, user=True)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(self.size.height - 2, 1), user=True)

    def action_first(self) -> None:
        self._move(0, user=True)

    def action_last(self) -> None:
        self.follow = True
        self._move(len(self.view) - 1, user=False)

    def watch_follow(self, follow: bool) -> None:
        if follow and self.view:
            self._move(len(self.view) - 1, user=False)
        self.post_message(self.FollowChanged(self, follow))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        self._move(int(self.scroll_y) + offset.y - 1, user=True)

    def on_resize(self, event: events.Resize) -> None:
        self._resized()
        # A shorter window must not leave the selected row below the fold: the detail pane
        # shows it, so the table does too.
        if 0 <= self.cursor < len(self.view):
            self._scroll_to_cursor()

    # Rendering

    def _resized(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        size = Size(width, len(self.view) + 1)
        if size != self.virtual_size:
            if size.width != self.virtual_size.width:
                self.virtual_size = size
            else:
                # Only the row count changed. The table's own size is set by CSS and its
                # scrollbar is always shown, so no layout of the screen is needed: a burst of
                # captures then costs a repaint, not a re-layout of every widget.
                self.set_reactive(RequestTable.virtual_size, size)
                self._refresh_scrollbars()
                if self.show_vertical_scrollbar:
                    self._set_scrollbar(virtual=size.height, window=self.container_size.height - self.scrollbar_size_horizontal)
                self.scroll_y = self.validate_scroll_y(self.scroll_y)
                self.refresh()
        self._widths = _layout(width)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # As ScrollView's, with the scrollbar redrawn only when its thumb moves.
        if self.show_vertical_scrollbar:
            self._set_scrollbar(position=new_value)
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)

    def _set_scrollbar(self, *, virtual: int | None = None, window: int | None = None, position: float | None = None) -> None:
        """New figures for the scrollbar. Textual redraws it on every change, which under load
        is every take (more rows, the cursor following the newest) while its thumb, drawn in
        eighths of a cell, mostly stays where it was: it is redrawn when the thumb moves."""
        bar = self.vertical_scrollbar
        if virtual is not None:
            bar.set_reactive(ScrollBar.window_virtual_size, virtual)
        if window is not None:
            bar.set_reactive(ScrollBar.window_size, window)
        if position is not None:
            bar.set_reactive(ScrollBar.position, bar.validate_position(position))
        if not self._holding_scrollbar:
            self._redraw_scrollbar()

    def _redraw_scrollbar(self) -> None:
        thumb = _thumb(self.vertical_scrollbar)
        if thumb != self._thumb_drawn:
            self._thumb_drawn = thumb
            self.vertical_scrollbar.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._palettes = {}
        self._strips = {}

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"request-table--{name}", partial=True)
        return style

    def render_lines(self, crop: Region) -> list[Strip]:
        # Textual asks for every line of the table in one call, once per frame that redraws
        # it (under load, every take): what the lines share is worked out here, once.
        self._frame = self._frame_now()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_now(self) -> _Frame:
        width = self.scrollable_content_region.width
        if not self._widths or sum(self._widths) + len(self._widths) > width + 1:
            self._widths = _layout(width)
        return _Frame(width, self.rich_style, self.has_focus, int(self.scroll_y))

    def render_line(self, y: int) -> Strip:
        self.painted_at = perf_counter()
        frame = self._frame or self._frame_now()
        width, base = frame.width, frame.base
        if y == 0:
            text = " " + " ".join(fit(title, w, align) for (title, _, align, _), w in zip(COLUMNS, self._widths, strict=True))
            return Strip([Segment(fit(text, width), base + self._style("header"))], width)
        index = frame.top + y - 1
        if index >= len(self.view):
            return Strip.blank(width, base)
        if self.first_paint is None:
            self.first_paint = self.painted_at
        row = self.view[index]
        key = (index == self.cursor, frame.focus, width, self._widths)
        cached = self._strips.get(row.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            strip = self._render_row(row, key[0], width, base)
        except Exception as exc:  # one row that cannot be drawn must not take the table down
            strip = self._broken_row(row, exc, width, base)
        if len(self._strips) > 2048:
            self._strips.clear()
        self._strips[row.id] = (key, strip)
        return strip

    def _palette(self, base: Style, is_cursor: bool) -> _Palette:
        key = (base, is_cursor, self.has_focus)
        palette = self._palettes.get(key)
        if palette is None:
            if is_cursor:
                base = base + self._style("cursor" if self.has_focus else "cursor-blur")
            on = {name: base + self._style(name) for name in ("ok", "bad", "warn", "dim", "replay")}
            palette = _Palette(base, on["ok"], on["bad"], on["warn"], on["dim"], on["replay"], base + Style(bold=True), base + Style())
            if len(self._palettes) > 64:  # styles only change with the theme
                self._palettes.clear()
            self._palettes[key] = palette
        return palette

    def _render_row(self, row: Row, is_cursor: bool, width: int, base: Style) -> Strip:
        p = self._palette(base, is_cursor)
        ok, bad, warn, dim, plain = p.ok, p.bad, p.warn, p.dim, p.plain
        when = time_text(row.received_at, self.tz)
        sig = row.sig_mark
        sig_style = ok if sig == "✓" else bad if sig == "✗" else dim
        status = row.response.status if row.response is not None else 0
        status_style = (
            ok if 200 <= status < 300 else warn if 300 <= status < 500 and status != 401 else bad if status or row.no_answer else dim
        )
        steps_style = bad if row.run_failed or (row.broken_flow and not row.runs) else dim if not row.runs else plain
        route_style = plain if row.event_type is not None else warn
        # A resend is marked in the id column (↻); Overview names the capture it replays.
        id_cell = (f"↻{row.id}", p.replay) if row.replay_of is not None else (str(row.id), dim)
        cells = (
            id_cell,
            (when, dim),
            (row.method, p.bold),
            (row.route, route_style),
            (row.event, plain),
            (sig, sig_style),
            (row.status_text, status_style),
            (row.steps_text, steps_style),
            (row.duration_text, dim),
        )
        gap = Segment(" ", p.base)
        segments = [gap]
        used = 1
        for (text, style), (_, _, align, _), w in zip(cells, COLUMNS, self._widths, strict=True):
            segments.append(Segment(fit(printable(text), w, align), style))
            segments.append(gap)
            used += max(w, 0) + 1  # fit gives each cell exactly its width
        if used < width:
            segments.append(Segment(" " * (width - used), p.base))
        elif used > width:
            return Strip(segments, used).crop(0, width)
        return Strip(segments, width)

    def _broken_row(self, row: Row, exc: Exception, width: int, base: Style) -> Strip:
        if row.id not in self._reported:
            self._reported.add(row.id)
            report(self, f"drawing row #{row.id}", exc)
        text = fit(f" {row.id}  cannot show this row: {describe(exc)}", width)
        return Strip([Segment(text, base + self._style("bad"))], width)


def _thumb(bar: ScrollBar) -> tuple[int, int, int]:
    """Where a vertical scrollbar draws its thumb: its length, and the thumb's first and last
    eighth of a cell (as textual.scrollbar.ScrollBarRender.render_bar works them out)."""
    size = bar.size.height
    virtual = ceil(bar.window_virtual_size)
    window = ceil(bar.window_size) if bar.window_size < bar.window_virtual_size else 0
    if not (window and size and virtual and size != virtual):
        return size, -1, -1
    thumb = max(1, window / (virtual / size))
    position = (size - thumb) * (bar.position / (virtual - window))
    start = int(position * 8)
    return size, start, start + ceil(thumb * 8)


class _Frame(NamedTuple):
    width: int
    base: Style
    focus: bool
    top: int  # the first row shown (the scroll position)


class _Palette(NamedTuple):
    """A row's background (`base`) and each cell style on it."""

    base: Style
    ok: Style
    bad: Style
    warn: Style
    dim: Style
    replay: Style
    bold: Style
    plain: Style


def _layout(width: int) -> tuple[int, ...]:
    fixed = sum(w for _, w, _, flex in COLUMNS if not flex)
    gaps = len(COLUMNS) + 1
    flexible = [c for c in COLUMNS if c[3]]
    spare = max(width - fixed - gaps, sum(c[1] for c in flexible))
    # tenant/event_type takes 60 % of what is left, the provider event the rest.
    first = max(flexible[0][1], int(spare * 0.6))
    second = max(flexible[1][1], spare - first)
    return tuple(w if not flex else first if title == flexible[0][0] else second for title, w, _, flex in COLUMNS)


def _row_id(row: Row) -> int:
    return row.id


def _find(rows: list[Row], capture_id: int) -> int:
    """Index of `capture_id` in id-ordered `rows` (binary search), -1 when absent."""
    at = bisect.bisect_left(rows, capture_id, key=_row_id)
    return at if at < len(rows) and rows[at].id == capture_id else -1
