"""The main screen (SPEC §11): the captures table, the filter bar, the history, the detail
tabs, and the actions on the selected capture. The app (app.py) keeps what outlives a screen:
the server session, the store and its watcher, the workers, the tunnel, reloads, quitting;
it hands this screen every capture that arrives (`capture_arrived`) and draws the header.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer
from textual.worker import get_current_worker

from ... import heap, samples
from ...export import export, to_curl, write_private
from ...filters import Filter, FilterError, parse_filter
from ...model import Capture
from ...resend import ResendOrder, ResendOutcome, carry_out, problem
from ...signatures import scheme_for
from ...store import Store, StoreError
from ...tunnel import public_base_url_note
from .. import compare
from ..actions import MAIN_ACTIONS
from ..guard import GuardedPump, describe, guarded_callback
from ..messages import CapturesPending, HistoryBatch, HistoryDone, ResendDone, SampleSent, SearchProgress
from ..rows import Row, needs_store, select
from ..shapes import deep_safe, in_shape
from ..widgets.body_view import MODES
from ..widgets.context import ViewContext
from ..widgets.detail_pane import DetailPane
from ..widgets.filter_bar import FilterBar
from ..widgets.problems_bar import ProblemsBar
from ..widgets.request_table import RequestTable
from ..widgets.status_header import StatusHeader
from ..widgets.welcome import Welcome
from .copied_screen import CopiedScreen
from .edit_resend import EditResendScreen
from .export_screen import ExportScreen
from .flow_picker import FlowPicker
from .resend_to_url import ResendToUrlScreen
from .sample_picker import SampleChoice, SamplePicker, sample_choices

if TYPE_CHECKING:
    from ..app import InspectorApp

TAKE_INTERVAL = 0.08  # new captures reach the table within this (plus one frame): ≤ 100 ms
# While captures stream in (the last take found at least BUSY_BATCH of them), takes come this
# far apart: each take is one redraw of the table, its border and the screen's other children
# (≈ 2–3 ms), which at 12 takes a second was about a tenth of the TUI's extra CPU per request
# at full load. Rows still appear within this plus one frame (≤ 250 ms); a capture after a
# quiet moment is taken at once.
TAKE_INTERVAL_BUSY = 0.2
BUSY_BATCH = 8
# Under load every take redraws the table; the header's count and the detail pane following
# the newest capture are drawn in that same frame when they are due (each frame re-renders
# the screen's direct children, so a redraw of its own costs about as much as the table's).
# Their timers stand in when no take comes, this long after they are due.
TAKE_SPARE = TAKE_INTERVAL_BUSY + 0.04
HISTORY_FIRST_BATCH = 200  # small, so the first rows paint at once
HISTORY_BATCH = 2000
# The detail pane re-renders at most this often: at once for the user's own moves, and at a
# calmer pace when follow mode moves it for every capture of a burst.
DETAIL_INTERVAL_USER = 0.05
DETAIL_INTERVAL_UPDATE = 0.25  # the capture shown got its flow runs' results
DETAIL_INTERVAL_FOLLOW = 1.0
# The actions that act on this screen; help and quit work everywhere.
SCREEN_ONLY = frozenset(a.action for a in MAIN_ACTIONS if a.id not in ("quit", "help"))


class MainScreen(GuardedPump, Screen[None]):
    """Every main-screen action is bound here, so the footer lists them in MAIN_ACTIONS'
    order; help, quit, the tunnel panel and reloading flows are the app's (help and quit work
    on every screen), and the methods below hand them over."""

    AUTO_FOCUS = "#requests"  # the table has the keys, from the start and when a modal closes
    # ctrl+q first, where Textual's App binds it: the footer has always begun with Quit.
    BINDINGS: ClassVar[list[BindingType]] = [a.binding() for a in sorted(MAIN_ACTIONS, key=lambda a: a.id != "quit")]
    ACTIONS = MAIN_ACTIONS

    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.tz = tz
        self.body_mode = MODES[0]
        self.total = 0  # captures in the store, as far as we know
        self.history_loaded = 0
        self.history_done = False
        # Live captures wait here as rows until the table takes them (see capture_arrived).
        self._incoming: list[tuple[Row, bool]] = []  # (row, first report of it)
        # Every one of them a first report, in rising id order (the usual stream): see _take_captures.
        self._incoming_rising = True
        # The captures in full a take may need: the newest (follow mode shows it), the one the
        # detail pane shows, and every one while a text search needs bodies to match.
        self._newest: Capture | None = None
        self._held: dict[int, Capture] = {}
        self.batches_taken = 0  # how many times the table took the buffer (bursts collapse)
        self._taken_at = 0.0
        self._busy = False  # the last take found BUSY_BATCH captures or more
        self._table_title = self._table_subtitle = ""
        self._take_due = False
        self._pending_posted = False
        # Filter state: `filter` is the core's predicate; text searches read the store.
        self.filter_text = ""
        self.filter: Filter = parse_filter("")
        self.filter_in_store = False
        self._search_generation = 0
        self._search_hits: set[int] = set()
        self.searching = False  # a text search is reading the store
        self._at_clear: set[int] | None = None  # ids in the table then, while history still loads
        self.watermark = 0  # `clear view` hides ids up to here…
        # …except these: captures that arrived after the clear with an id at or below it
        # (`--workers`: another worker numbered them first but reported them later).
        self._late: set[int] = set()
        # The detail pane
        self._detail_id: int | None = None
        self._detail_capture: Capture | None = None
        self._detail_due = False
        self._detail_due_at = 0.0
        self._detail_token = 0
        self._detail_last = 0.0
        self._select_when_seen: int | None = None
        self.mounted = asyncio.Event()  # the app starts the server once the widgets are here
        self.marked_id: int | None = None  # `m`: the capture `D` compares with (tui/compare.py)

    def on_mount(self) -> None:
        self.mounted.set()

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="status")
        yield ProblemsBar(id="problems")
        yield FilterBar(id="filter")
        # Hidden until it has rows (update_lower): a table hidden after it was shown loses
        # the focus the app gives it at start.
        yield RequestTable(tz=self.tz, id="requests", classes="-empty")
        with ContentSwitcher(initial="welcome", id="lower"):
            yield Welcome(id="welcome")
            yield DetailPane(id="detail")
        yield Footer()

    @property
    def inspector(self) -> InspectorApp:
        return cast("InspectorApp", self.app)

    @property
    def table(self) -> RequestTable:
        return self.query_one("#requests", RequestTable)

    @property
    def detail(self) -> DetailPane:
        return self.query_one("#detail", DetailPane)

    @property
    def _quitting(self) -> bool:
        return self.inspector._quitting

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Under a modal or the debugger this screen's footer, still drawn below, shows only the
        # keys that work there: help and quit (the app's).
        if action in SCREEN_ONLY:
            return self.app.screen is self
        return True

    def stop_searching(self) -> None:
        """Quitting: a search still reading the store stops at its next capture."""
        self._search_generation += 1

    # The app's actions, bound here so the footer keeps MAIN_ACTIONS' order.

    def action_help(self) -> None:
        self.inspector.action_help()

    async def action_quit(self) -> None:
        await self.inspector.action_quit()

    def action_tunnel(self) -> None:
        self.inspector.action_tunnel()

    def action_reload_flows(self) -> None:
        self.inspector.action_reload_flows()

    # Welcome and counts

    def update_lower(self) -> None:
        switcher = self.query_one("#lower", ContentSwitcher)
        table = self.table
        empty = not table.rows
        filtered_empty = bool(table.rows) and not table.view and bool(self.filter_text)
        cleared = bool(table.rows) and not table.view and not self.filter_text
        table.set_class(empty and not self.filter_text, "-empty")
        if empty or filtered_empty or cleared:
            base = self.inspector.public_url
            urls = self.inspector.trigger_urls(base)
            public_note = public_base_url_note(self.inspector.config.public_base_url, base) if base else self.inspector.public_base_note()
            example = self.inspector.pipeline.webhook_url(self.inspector.tenant, "order.created", base or self.inspector.local_base)
            self.query_one(Welcome).show(
                urls,
                sample_key=self.inspector.key_for("send-sample", "s"),
                help_key=self.inspector.key_for("help", "?"),
                listening=self.inspector.listening,
                public_note=public_note,
                example_url=example,
                filtered=filtered_empty or (empty and bool(self.filter_text)),
                cleared_note=(
                    f"View cleared: captures up to #{self.watermark} are hidden (still in the store); "
                    f"press {self.inspector.key_for('clear-view', 'x')} to show them."
                )
                if cleared and self.watermark
                else None,
                tunnel_note=self.inspector.tunnel_note(),
                public=base is not None,
            )
            switcher.current = "welcome"
        else:
            switcher.current = "detail"

    def update_counts(self) -> None:
        table = self.table
        count = len(table.rows)
        parts = [f"{count:,} capture{'s' if count != 1 else ''}"]
        if not self.history_done:
            parts.append(f"loading history {self.history_loaded:,}/{self.total:,}…" if self.total else "loading history…")
        if self.filter_text or self.watermark:
            parts.append(f"{len(table.view):,} shown")
        if self.watermark:
            parts.append(f"cleared up to #{self.watermark}")
        title = " · ".join(parts)
        subtitle = "follow on" if table.follow else "follow off (f)"
        # Setting a border title repaints the table; do it only when the text changes.
        if title != self._table_title:
            self._table_title = table.border_title = title
        if subtitle != self._table_subtitle:
            self._table_subtitle = table.border_subtitle = subtitle

    # Live captures: the pipeline calls these on the event loop; the table takes the whole
    # buffer once per CapturesPending (a burst collapses into one message).

    def capture_arrived(self, capture: Capture, first: bool = True) -> None:
        """A capture stored (`first`) or updated (a trace that ended after the answer). The
        app hands them over (InspectorApp._capture_arrived), from the pipeline and the store
        watcher; it checks that it is not quitting).

        Its row is made here, while the capture is fresh, and the capture itself is let go
        unless a take may need it (`_held`): holding every capture until the next take (up to
        TAKE_INTERVAL_BUSY) kept hundreds of objects per request alive past the collector's
        young pass, which promoted them, and freed them later from a cold cache."""
        cid = capture.id
        if cid is None:  # never stored: nothing to show
            return
        capture = in_shape(capture)
        incoming = self._incoming
        if self._incoming_rising and (not first or (incoming and cid <= incoming[-1][0].id)):
            self._incoming_rising = False
        incoming.append((Row(capture), first))
        newest = self._newest
        if newest is None or cid >= (newest.id or 0):
            self._newest = capture
        if cid == self._detail_id or self.filter_in_store:
            self._held[cid] = capture
        # One message until the table takes the buffer: a burst costs one message, not one
        # per capture (and a message still queued is replaced by the next, `can_replace`).
        if not self._pending_posted:
            self._pending_posted = True
            self.post_message(CapturesPending())

    def on_captures_pending(self, message: CapturesPending) -> None:
        # Take the buffer at most every TAKE_INTERVAL (TAKE_INTERVAL_BUSY under load): each
        # take is one repaint.
        wait = (TAKE_INTERVAL_BUSY if self._busy else TAKE_INTERVAL) - (time.monotonic() - self._taken_at)
        if wait > 0:
            if not self._take_due:
                self._take_due = True
                self.set_timer(wait, self._take_captures)
            return
        self._take_captures()

    @guarded_callback("showing new captures")
    def _take_captures(self) -> None:
        self._take_due = False
        self._pending_posted = False
        self._taken_at = time.monotonic()
        batch, self._incoming = self._incoming, []
        rising, self._incoming_rising = self._incoming_rising, True
        held, self._held = self._held, {}
        newest, self._newest = self._newest, None
        if newest is not None and newest.id is not None:
            held.setdefault(newest.id, newest)
        self._busy = len(batch) >= BUSY_BATCH
        if not batch or self._quitting:
            return
        self.batches_taken += 1
        table = self.table
        was_empty = not table.view
        if rising and not self.filter.predicates and not self.filter_in_store and self._beyond_table(batch[0][0].id):
            # The usual take while captures stream in: every row new to the table, shown, and
            # after all it holds. What _take_each does, a thousand rows at once.
            self.total += len(batch)
            table.append_newest([row for row, _ in batch])
            detail = self._detail_id
            if detail is not None and batch[0][0].id <= detail <= batch[-1][0].id and any(row.id == detail for row, _ in batch):
                self._detail_changed(detail, held)
            added, refilter = True, False
        else:
            added, refilter = self._take_each(batch, held)
        # The store keeps the newest max_captures; so does the table.
        if added and len(table.rows) > self.inspector.store.max_captures + 1000:
            table.trim(self.inspector.store.max_captures)
        if refilter:
            self._rebuild_view()
        if self._select_when_seen is not None and table.select_id(self._select_when_seen):
            self._select_when_seen = None
        if refilter or (was_empty and table.view):
            self.update_lower()
        self.update_counts()
        current = table.current
        if current is not None and current.id != self._detail_id:
            # The cursor is on another capture (follow mode, the first rows): the pane follows
            # the one on screen at the end of this take, from the capture in hand.
            self._detail_id = current.id
            self._detail_capture = held.get(current.id)
            self._schedule_detail(DETAIL_INTERVAL_FOLLOW)
        if self._detail_due and time.monotonic() >= self._detail_due_at:
            self._show_detail()
        if added:
            self.inspector.schedule_header()
        self.inspector.header_if_due()

    def _beyond_table(self, capture_id: int) -> bool:
        """Above every id the table holds and the `clear view` watermark."""
        rows = self.table.rows
        return capture_id > self.watermark and (not rows or capture_id > rows[-1].id)

    def _take_each(self, batch: list[tuple[Row, bool]], held: dict[int, Capture]) -> tuple[bool, bool]:
        """Put a take's rows in the table one by one: updates of rows it holds, rows in any
        id order, filters, `clear view`. Returns (rows were added, the view needs rebuilding)."""
        table = self.table
        latest: dict[int, tuple[Row, bool]] = {}
        for fresh, first in batch:
            # An update replaces the first version; it is still the first report.
            earlier = latest.get(fresh.id)
            latest[fresh.id] = (fresh, first or (earlier is not None and earlier[1]))
        new: list[tuple[Row, bool]] = []
        refilter = False
        unfiltered = not self.filter.predicates  # every capture matches: no call for each
        for cid, (fresh, first) in latest.items():
            row = table.row(cid)
            if row is None:
                if cid <= self.watermark:
                    self._late.add(cid)
                shown = self._after_clear(cid) and (unfiltered or self._matches_fresh(fresh, held))
                if shown and self.filter_in_store:
                    self._search_hits.add(cid)
                new.append((fresh, shown))
            else:
                was = self._matches_row(row)
                row.take(fresh)
                table.refresh_row(row)
                if not self.filter_in_store and self.filter.predicates and was != self._matches_row(row):
                    refilter = True
                if first and self._read_after_clear(cid):
                    # A history page read before the clear brought it in after; its worker
                    # reports it only now: it is new to the user, as in the branch above.
                    self._late.add(cid)
                    if self.filter_in_store and self._matches_fresh(fresh, held):
                        self._search_hits.add(cid)
                    refilter = True
            if cid == self._detail_id:
                self._detail_changed(cid, held)
        if new:
            new.sort(key=lambda pair: pair[0].id)
            self.total += len(new)
            table.append([r for r, _ in new], [v for _, v in new])
        return bool(new), refilter

    def _detail_changed(self, capture_id: int, held: dict[int, Capture]) -> None:
        """The capture the detail pane shows came in a take (new, or updated)."""
        # None (not held: the pane moved to it after it arrived): read from the store.
        self._detail_capture = held.get(capture_id)
        self._schedule_detail(DETAIL_INTERVAL_UPDATE)

    # History: read from the store in a thread, newest first, in batches

    def _reader(self) -> tuple[Store, bool]:
        """A second connection for threads, so reads never share the writer's transaction."""
        if str(self.inspector.store.path) == ":memory:":
            return self.inspector.store, False
        return Store(self.inspector.store.path, max_captures=self.inspector.store.max_captures), True

    @work(thread=True, exclusive=True, group="history", name="loading the history", exit_on_error=False)
    def load_history(self) -> None:
        worker = get_current_worker()
        try:
            reader, own = self._reader()
        except StoreError as exc:
            self.post_message(HistoryDone(0, str(exc)))
            return
        loaded = 0
        try:
            total = reader.count()
            self.app.call_from_thread(self._set_total, total)
            batch: list[Row] = []
            size = HISTORY_FIRST_BATCH
            for capture in reader.iter_newest(batch=HISTORY_BATCH):
                if worker.is_cancelled or self._quitting:
                    return
                batch.append(Row(capture))  # Row puts the runs it reads in shape
                if len(batch) >= size:
                    loaded += len(batch)
                    self.post_message(HistoryBatch(batch, loaded, total))
                    batch, size = [], HISTORY_BATCH
            if batch:
                loaded += len(batch)
                self.post_message(HistoryBatch(batch, loaded, total))
            self.post_message(HistoryDone(loaded))
        except (sqlite3.Error, StoreError) as exc:
            self.post_message(HistoryDone(loaded, f"could not read the store {self.inspector.store_label}: {exc}"))
        finally:
            if own:
                reader.close()

    def _set_total(self, total: int) -> None:
        self.total = max(self.total, total)
        self.update_counts()

    def on_history_batch(self, message: HistoryBatch) -> None:
        table = self.table
        first = not table.rows
        if self.filter_in_store:
            hits = self._search_hits  # the search reads the store itself; show what it found

            def match(row: Row) -> bool:
                return row.id in hits
        else:
            match = self._row_visible
        table.prepend(message.rows, match)
        self.history_loaded = message.loaded
        if first:
            self.inspector.update_chrome()
        else:
            self.update_counts()

    def on_history_done(self, message: HistoryDone) -> None:
        self.history_done = True
        heap.settle()  # the history rows, out of the cycle collector's view (app._freeze_gc)
        if message.error:
            self.inspector.startup_problems.append(message.error)
        self.total = max(self.total, len(self.table.rows))
        self.inspector.update_chrome()

    # Filtering

    def _matches(self, capture: Capture) -> bool:
        try:
            return self.filter(capture)
        except Exception:
            return False

    def _matches_fresh(self, row: Row, held: dict[int, Capture]) -> bool:
        """Whether a capture that just arrived matches the filter. Field terms read its row;
        a text search reads the capture, held for it since the search began. One that came
        before the search began is in the store the search reads: shown once it finds it."""
        if not self.filter_in_store:
            return self._matches_row(row)
        capture = held.get(row.id)
        if capture is None:
            return row.id in self._search_hits
        return self._matches(capture)

    def _matches_row(self, row: Row) -> bool:
        try:
            return bool(select([row], self.filter.predicates))
        except Exception:
            return False

    def _after_clear(self, capture_id: int) -> bool:
        """Not hidden by `clear view`."""
        return capture_id > self.watermark or capture_id in self._late

    def _read_after_clear(self, capture_id: int) -> bool:
        """A row hidden by `clear view` that was not in the table when it was cleared (a
        history page still being read brought it in)."""
        return (
            capture_id <= self.watermark
            and capture_id not in self._late
            and self._at_clear is not None
            and capture_id not in self._at_clear
        )

    def _row_visible(self, row: Row) -> bool:
        return self._after_clear(row.id) and self._matches_row(row)

    def on_filter_bar_changed(self, message: FilterBar.Changed) -> None:
        self.set_filter(message.text, final=message.final)

    def set_filter(self, text: str, *, final: bool = True) -> bool:
        """Apply a filter (SPEC §10 language). Field terms filter the rows in memory at once;
        text searches read the store in a thread and fill the table as they find matches."""
        bar = self.query_one(FilterBar)
        text = text.strip()
        try:
            flt = parse_filter(text)
        except FilterError as exc:
            bar.status(str(exc), error=True)
            return False
        in_store = needs_store(text)
        if in_store and not final:
            bar.status("enter searches path, headers and bodies")
            return False
        if text == self.filter_text and in_store == self.filter_in_store and not final:
            return True
        self.filter_text, self.filter, self.filter_in_store = text, flt, in_store
        self._search_generation += 1
        if in_store:
            self._search_hits = set()
            self.searching = True
            self.table.set_view([])
            bar.status("searching…")
            self._search(self._search_generation, flt)
        else:
            started = time.perf_counter()
            self._apply_filter_rows()
            took = (time.perf_counter() - started) * 1000
            bar.status(f"{len(self.table.view):,} of {len(self.table.rows):,} · {took:.0f} ms" if text else "")
        self.update_lower()
        self.update_counts()
        return True

    def _rebuild_view(self) -> None:
        if self.filter_in_store:
            self.table.set_view([r for r in self.table.rows if r.id in self._search_hits and self._after_clear(r.id)])
        else:
            self._apply_filter_rows()

    def _apply_filter_rows(self) -> None:
        rows = self.table.rows
        if self.watermark:
            rows = [r for r in rows if self._after_clear(r.id)]
        try:
            view = select(rows, self.filter.predicates)
        except Exception as exc:  # a term that cannot judge a row must not take the UI down
            self.query_one(FilterBar).status(f"filter failed: {exc}", error=True)
            return
        self.table.set_view(view)

    @work(thread=True, exclusive=True, group="search", name="searching the store", exit_on_error=False)
    def _search(self, generation: int, flt: Filter) -> None:
        worker = get_current_worker()
        try:
            reader, own = self._reader()
        except StoreError as exc:
            self.post_message(SearchProgress(generation, [], 0, True, str(exc)))
            return
        scanned, hits = 0, []
        last = time.monotonic()
        try:
            for capture in reader.iter_newest(batch=HISTORY_BATCH):
                if worker.is_cancelled or generation != self._search_generation:
                    return
                scanned += 1
                if capture.id is not None and self._after_clear(capture.id) and flt(capture):
                    hits.append(capture.id)
                if time.monotonic() - last > 0.25:
                    self.post_message(SearchProgress(generation, hits, scanned))
                    hits, last = [], time.monotonic()
            self.post_message(SearchProgress(generation, hits, scanned, True))
        except (sqlite3.Error, StoreError) as exc:
            self.post_message(SearchProgress(generation, hits, scanned, True, f"search stopped: {exc}"))
        finally:
            if own:
                reader.close()

    def on_search_progress(self, message: SearchProgress) -> None:
        if message.generation != self._search_generation:
            return
        self.searching = not message.done
        self._search_hits.update(message.hits)
        hits = self._search_hits
        self.table.set_view([r for r in self.table.rows if r.id in hits])
        bar = self.query_one(FilterBar)
        if message.error:
            bar.status(message.error, error=True)
        else:
            state = "" if message.done else "searching… "
            found = len(self.table.view)
            bar.status(f"{state}{found:,} match{'es' if found != 1 else ''} · {message.scanned:,} searched")
        self.update_lower()
        self.update_counts()

    # The detail pane

    def on_request_table_highlighted(self, message: RequestTable.Highlighted) -> None:
        if message.capture_id == self._detail_id and message.capture_id is not None and not message.user:
            return  # the take that moved the cursor has the pane following it already
        if message.capture_id != self._detail_id:
            self._detail_id = message.capture_id
            self._detail_capture = None
        self._schedule_detail(DETAIL_INTERVAL_USER if message.user else DETAIL_INTERVAL_FOLLOW)

    def on_request_table_follow_changed(self, message: RequestTable.FollowChanged) -> None:
        if self.app.screen_stack:  # not while the app is closing
            self.update_counts()

    def _schedule_detail(self, interval: float = DETAIL_INTERVAL_FOLLOW) -> None:
        """Show the capture `_detail_id` once `interval` has passed since the pane was last
        drawn: at once if it has, else the user's moves by a timer, and follow mode and
        updates by the next take (TAKE_SPARE)."""
        now = time.monotonic()
        wait = max(0.0, interval - (now - self._detail_last))
        due = now + wait
        if self._detail_due and due >= self._detail_due_at:
            return
        self._detail_due = True
        self._detail_due_at = due
        self._detail_token += 1
        token = self._detail_token

        def show() -> None:
            if token == self._detail_token and self.app.screen_stack:  # not once the app closed
                self._show_detail()

        if wait <= 0:
            self.call_later(self.inspector._guarded("showing the capture", show))
        else:
            later = wait if interval <= DETAIL_INTERVAL_USER else wait + TAKE_SPARE
            self.set_timer(later, self.inspector._guarded("showing the capture", show))

    def _view_context(self, capture: Capture | None = None) -> ViewContext:
        if capture is None:
            return ViewContext(mask=self.inspector.masker, tz=self.inspector.tz, body_mode=self.body_mode)
        redactor = self.inspector.masker.for_capture(capture)
        return ViewContext(mask=redactor, redact=deep_safe(redactor.value), tz=self.inspector.tz, body_mode=self.body_mode)

    @guarded_callback("showing the capture")
    def _show_detail(self) -> None:
        self._detail_due = False
        self._detail_token += 1  # what was scheduled is shown now
        self._detail_last = time.monotonic()
        cid = self._detail_id
        if cid is None:
            self.update_lower()
            return
        capture = self._detail_capture if self._detail_capture is not None and self._detail_capture.id == cid else None
        if capture is None:
            try:
                capture = self.inspector.store.get(cid)
            except (sqlite3.Error, StoreError) as exc:
                self.inspector.notify(f"could not read capture #{cid}: {exc}", severity="error")
                return
            if capture is None:
                self.inspector.notify(
                    f"capture #{cid} is no longer in the store (retention keeps the newest {self.inspector.store.max_captures:,})",
                    severity="warning",
                )
                return
            self._detail_capture = capture = in_shape(capture)
        # Under load only the open tab follows; the others are drawn when opened.
        self.detail.show(capture, self._view_context(capture), hidden=not self._busy)
        self.update_lower()

    def selected_capture(self) -> Capture | None:
        """The capture under the cursor, in full (for actions: copy, debug, later resend)."""
        row = self.table.current
        if row is None:
            return None
        if self._detail_capture is not None and self._detail_capture.id == row.id:
            return self._detail_capture
        try:
            capture = self.inspector.store.get(row.id)
        except (sqlite3.Error, StoreError) as exc:
            self.inspector.notify(f"could not read capture #{row.id}: {exc}", severity="error")
            return None
        return in_shape(capture) if capture is not None else None

    def _need_capture(self) -> Capture | None:
        capture = self.selected_capture()
        if capture is None:
            self.inspector.notify(
                f"no capture selected — press {self.inspector.key_for('send-sample', 's')} to send a sample", severity="warning"
            )
        return capture

    def action_send_sample(self) -> None:
        entries = []
        for choice in sample_choices():
            try:
                _, entry = samples.build(
                    choice.name,
                    self.inspector.config,
                    tenant=self.inspector.tenant,
                    signed_url_base=self.inspector.pipeline.base_url,
                    now=self.inspector.clock(),
                    form=choice.form,
                )
            except Exception:
                entry = None
            entries.append((choice, entry))
        self.app.push_screen(SamplePicker(entries), self._picked_sample)

    def _picked_sample(self, choice: SampleChoice | None) -> None:
        if choice:
            self.send_sample(choice.name, form=choice.form)

    def send_sample(self, name: str, *, form: bool = False) -> None:
        self.run_worker(self._send_sample(name, form), group="samples", exclusive=False, exit_on_error=False, name="sending a sample")

    async def _send_sample(self, name: str, form: bool = False) -> None:
        """Through the pipeline directly (no HTTP): the same path a request takes. `form`: as
        `send NAME --form` sends it, built by the same samples.build."""
        label = SampleChoice(name, form).label
        try:
            now = self.inspector.clock()
            request, entry = samples.build(
                name,
                self.inspector.config,
                tenant=self.inspector.tenant,
                signed_url_base=self.inspector.pipeline.base_url,
                now=now,
                form=form,
            )
            capture = await self.inspector.pipeline.handle(request, origin="sample", now=now)
        except Exception as exc:
            self.post_message(SampleSent(label, None, None, None, f"{type(exc).__name__}: {exc}"))
            return
        self._select_when_seen = capture.id
        status = capture.response.status if capture.response else None
        self.post_message(SampleSent(label, capture.id, status, entry))

    def on_sample_sent(self, message: SampleSent) -> None:
        if message.error:
            self.inspector.notify(f"sample {message.name} could not be sent: {message.error}", severity="error")
            return
        how = f"signed with {message.entry}" if message.entry else "unsigned"
        self.inspector.notify(f"sent {message.name} ({how}) → {message.status} · #{message.capture_id}", timeout=4)
        if message.capture_id is not None and self.table.select_id(message.capture_id):
            self._select_when_seen = None

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_toggle_follow(self) -> None:
        table = self.table
        table.follow = not table.follow
        self.inspector.notify("follow on: new captures are selected as they arrive" if table.follow else "follow off", timeout=2)

    def action_clear_view(self) -> None:
        table = self.table
        self._late = set()
        self._at_clear = None
        if self.watermark:
            self.watermark = 0
            self.inspector.notify("showing every capture again", timeout=2)
        else:
            if self._incoming:  # arrived before the key: hidden with the rest
                self._take_captures()
            self.watermark = max((r.id for r in table.rows), default=0)
            if not self.history_done:  # pages read before now may still bring rows in
                self._at_clear = {r.id for r in table.rows}
            self.inspector.notify(
                f"view cleared (captures up to #{self.watermark} stay in the store); press {self.inspector.key_for('clear-view', 'x')} again to show them",
                timeout=4,
            )
        if self.filter_in_store:
            self.set_filter(self.filter_text)
        else:
            self._apply_filter_rows()
        self.update_lower()
        self.update_counts()

    def action_copy_curl(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        text = to_curl(capture, self.inspector.local_base, self.inspector.masker)
        self.app.copy_to_clipboard(text)
        self.app.push_screen(CopiedScreen(f"#{capture.id} as curl", text))

    # Resend (SPEC §9): through the pipeline to this inspector, or to another URL; each in a
    # worker so a slow target never stalls the UI, each outcome shown, never raised.

    def action_resend(self) -> None:
        self._resend_selected(ResendOrder())

    def action_resend_resigned(self) -> None:
        self._resend_selected(ResendOrder(resign=True))

    def _resend_selected(self, order: ResendOrder) -> None:
        capture = self._need_capture()
        if capture is not None:
            self.resend(capture, order)

    def action_edit_resend(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        sig = capture.signature
        scheme = scheme_for(sig.algorithm) if sig.algorithm else None
        resign = sig.scheme is not None and scheme is not None and scheme.signs  # an edited body breaks the old signature
        screen = EditResendScreen(capture, self.inspector.masker, partial(self._order_problem, capture), resign=resign)
        self.app.push_screen(screen, lambda order: self.resend(capture, order) if order else None)

    def action_resend_to_url(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return

        def chosen(order: ResendOrder | None) -> None:
            if order is not None:
                self.inspector.last_resend_url = order.to or ""
                self.resend(capture, order)

        self.app.push_screen(ResendToUrlScreen(capture, partial(self._order_problem, capture), url=self.inspector.last_resend_url), chosen)

    def _order_problem(self, capture: Capture, order: ResendOrder) -> str | None:
        return problem(capture, order, pipeline=self.inspector.pipeline, config=self.inspector.pipeline.config, now=self.inspector.clock())

    def resend(self, capture: Capture, order: ResendOrder) -> None:
        if order.to:
            self.inspector.notify(f"sending #{capture.id} to {order.to}… (waits up to {self.inspector.resend_timeout:g} s)", timeout=3)
        self.run_worker(self._resend(capture, order), group="resend", exclusive=False, exit_on_error=False)

    async def _resend(self, capture: Capture, order: ResendOrder) -> None:
        try:
            outcome = await carry_out(
                capture,
                order,
                pipeline=self.inspector.pipeline,
                store=self.inspector.store,
                config=self.inspector.pipeline.config,
                now=self.inspector.clock(),
                timeout=self.inspector.resend_timeout,
            )
        except Exception as exc:  # carry_out says what went wrong itself; this is the last net
            outcome = ResendOutcome(capture.id or 0, order, error=f"{type(exc).__name__}: {exc}")
        if outcome.capture is not None:
            self._select_when_seen = outcome.capture.id
            if outcome.url:  # stored here, not by the pipeline: the table hears of it from us
                self.inspector._capture_arrived(outcome.capture)
        self.post_message(ResendDone(outcome))

    def on_resend_done(self, message: ResendDone) -> None:
        outcome = message.outcome
        severity = "error" if outcome.capture is None else "warning" if outcome.failed else "information"
        self.inspector.notify(outcome.message(), severity=severity, timeout=10 if outcome.failed else 5)
        if outcome.capture is not None and outcome.capture.id is not None and self.table.select_id(outcome.capture.id):
            self._select_when_seen = None

    # Export

    def action_export(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        written: dict[str, Any] = {}

        def write(fmt: str, path: str) -> str | None:
            target = Path(path).expanduser()
            try:
                text = export([capture], fmt, self.inspector.local_base, self.inspector.masker)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_private(str(target), text)  # owner-only: exports can hold secrets
            except OSError as exc:
                return f"cannot write {path}: {exc.strerror or exc}"
            except (ValueError, RecursionError) as exc:  # text the file cannot take (e.g. UnicodeEncodeError)
                return f"cannot export #{capture.id} as {fmt}: {describe(exc)}"
            written.update(fmt=fmt, path=target.resolve())
            return None

        def done(path: str | None) -> None:
            if path is not None and written:
                self.inspector.notify(f"wrote #{capture.id} as {written['fmt']} to {written['path']}", timeout=8)

        self.app.push_screen(ExportScreen(capture.id or 0, self.inspector.export_dir, write, masked=not self.inspector.reveal), done)

    def action_cycle_body_view(self) -> None:
        self.body_mode = MODES[(MODES.index(self.body_mode) + 1) % len(MODES)]
        self.detail.refresh_view("body", self._view_context())
        self.detail.tabs.active = "tab-body"

    def action_next_tab(self) -> None:
        self.detail.switch(1)

    def action_previous_tab(self) -> None:
        self.detail.switch(-1)

    # Comparisons (issue #19): tui/compare.py

    def action_mark(self) -> None:
        compare.mark(self)

    def action_diff_marked(self) -> None:
        compare.diff_marked(self)

    def action_rerun(self) -> None:
        compare.open_rerun(self.inspector)

    def action_debug(self) -> None:
        capture = self._need_capture()
        if capture is None:
            return
        names: list[str] = []
        for run in capture.runs:
            if not run.parent_id and run.flow and run.flow not in names:
                names.append(run.flow)
        for flow, _ in self.inspector.engine.triggered(capture.event_type):
            if flow.name not in names:
                names.append(flow.name)
        # A Greentic-shaped flow (issue #20) is looked up by its id; the debugger re-runs it too.
        found = [(n, self.inspector.flows.by_name(n) or self.inspector.flows.greentic_flow(n)) for n in names]
        loaded = [n for n, flow in found if flow is not None]
        if not loaded:
            why = (
                f"no flow is triggered by event type {capture.event_type}"
                if capture.event_type
                else "this request matched no webhook route"
            )
            if names:
                why = f"flow {', '.join(names)} is not loaded now (see the problems above)"
            self.inspector.notify(f"nothing to debug: {why}", severity="warning")
            return
        if len(loaded) == 1:
            self.inspector.open_debugger(capture, loaded[0])
            return
        choices = [(n, flow.file) for n, flow in found if flow is not None]
        self.app.push_screen(FlowPicker(choices), lambda name: self.inspector.open_debugger(capture, name) if name else None)
