"""The main screen's comparisons (issue #19): `m` marks a capture and `D` on another opens
their diff; the Rerun screen runs the captures the table shows (its filter) through today's
answers.json and flows; after a flow reload the header offers that rerun. The screens are in
screens/diff_screen.py and screens/rerun_screen.py; the work is the core's (inspector.diff,
inspector.rerun)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import Capture
from ..rerun import DEFAULT_LIMIT, Rerunner, Result

if TYPE_CHECKING:
    from .app import InspectorApp
    from .screens.main import MainScreen


def mark(screen: MainScreen) -> None:
    app = screen.inspector
    row = screen.table.current
    if row is None:
        app.notify(f"no capture selected — press {app.key_for('send-sample', 's')} to send a sample", severity="warning")
        return
    if screen.marked_id == row.id:
        screen.marked_id = None
        app.notify(f"capture #{row.id} unmarked", timeout=3)
        return
    screen.marked_id = row.id
    app.notify(f"capture #{row.id} marked: select another and press {app.key_for('diff-marked', 'D')} to compare them", timeout=4)


def diff_marked(screen: MainScreen) -> None:
    from .screens.diff_screen import DiffScreen

    app = screen.inspector
    if screen.marked_id is None:
        app.notify(
            f"mark a capture first: select it and press {app.key_for('mark', 'm')}, then {app.key_for('diff-marked', 'D')} on another",
            severity="warning",
        )
        return
    current = screen.selected_capture()
    if current is None:
        return
    marked = app.store.get(screen.marked_id)
    if marked is None:
        app.notify(f"capture #{screen.marked_id} is no longer in the store; mark another", severity="warning")
        screen.marked_id = None
        return
    app.push_screen(DiffScreen(marked, current, app.masker))


def rerun_ids(screen: MainScreen) -> list[int]:
    """The captures a rerun takes: those the table shows (its filter, a clear), newest first,
    at most DEFAULT_LIMIT, as `webhook-inspector rerun --filter` takes them."""
    return [row.id for row in reversed(screen.table.view[-DEFAULT_LIMIT:])]


def open_rerun(app: InspectorApp) -> None:
    from .screens.rerun_screen import RerunScreen

    screen = app.main
    ids = rerun_ids(screen)
    app.rerun_offer = False
    app.update_chrome()

    def load() -> list[Capture]:
        reader, own = screen._reader()
        try:
            return [c for c in map(reader.get, ids) if c is not None]
        finally:
            if own:
                reader.close()

    def rerun(captures: Sequence[Capture]) -> list[Result]:
        # Today's answers.json and flows, as the app has them now (reloads included).
        return Rerunner(app.config, app.flows, local_base=app.local_base, public_url=app.public_url).rerun(captures)

    what = f"filter: {screen.filter_text}" if screen.filter_text else "the captures the table shows"
    if len(screen.table.view) > len(ids):
        what += f", the newest {len(ids)}"
    app.push_screen(RerunScreen(load, rerun, masker=app.masker, what=what))


def offer_text(app: InspectorApp) -> str | None:
    """The header's offer after a flow reload: `ctrl+r rerun 12 captures`."""
    if not app.rerun_offer:
        return None
    n = min(len(app.main.table.view), DEFAULT_LIMIT)
    if not n:
        return None
    return f"{app.key_for('rerun', 'ctrl+r')} rerun {n} capture{'s' if n != 1 else ''} through them"
