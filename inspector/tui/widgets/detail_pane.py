"""The detail pane: one tab per aspect of the selected capture."""

from __future__ import annotations

from typing import Protocol, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import TabbedContent, TabPane

from ...model import Capture
from ..guard import describe
from ..shapes import printable
from .body_view import BodyView
from .context import ViewContext
from .flow_tree import FlowTree
from .headers_view import HeadersView
from .overview_view import OverviewView
from .response_view import ResponseView
from .signature_view import SignatureView

TABS = (
    ("overview", "Overview", OverviewView),
    ("headers", "Headers", HeadersView),
    ("body", "Body", BodyView),
    ("signature", "Signature", SignatureView),
    ("flow", "Flow", FlowTree),
    ("response", "Response", ResponseView),
)


class _CaptureView(Protocol):
    """What each of TABS' views does: show a capture."""

    def show(self, capture: Capture, ctx: ViewContext) -> None: ...


class DetailPane(Vertical):
    DEFAULT_CSS = """
    DetailPane {
        height: 1fr;
        border: round $primary 30%;
        border-title-color: $text-muted;
        & TabbedContent { height: 1fr; }
        & TabPane { padding: 0; height: 1fr; }
        & ContentSwitcher { height: 1fr; }
    }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.capture: Capture | None = None
        self._ctx: ViewContext | None = None
        self._stale: set[str] = set()  # tabs not drawn for `capture` yet (shown when opened)

    def compose(self) -> ComposeResult:
        with TabbedContent(id="detail-tabs"):
            for key, title, view in TABS:
                with TabPane(title, id=f"tab-{key}"):
                    yield view(id=f"view-{key}")

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#detail-tabs", TabbedContent)

    def show(self, capture: Capture, ctx: ViewContext, *, hidden: bool = True) -> None:
        """Show `capture` in every tab; `hidden=False`: in the open tab only, the others when
        they are opened (follow mode under load: the hidden tabs' widgets, the flow tree
        above all, cost a re-layout of the pane each time, for captures nobody looks at)."""
        self.capture, self._ctx = capture, ctx
        # Content, not a str: a title given as a str is read as markup, and a path may hold "[".
        self.border_title = Content(printable(f"#{capture.id} {capture.request.method} {capture.request.target}"))
        active = self.tabs.active
        self._stale = set()
        for key, _, _ in TABS:
            if hidden or active == f"tab-{key}":
                self._show_view(key, capture, ctx)
            else:
                self._stale.add(key)

    def _catch_up(self, pane_id: str | None) -> None:
        """Draw the tab `pane_id` if the capture shown was not drawn in it yet."""
        key = (pane_id or "").removeprefix("tab-")
        if key in self._stale and self.capture is not None and self._ctx is not None:
            self._stale.discard(key)
            self._show_view(key, self.capture, self._ctx)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._catch_up(event.pane.id)

    def _show_view(self, key: str, capture: Capture, ctx: ViewContext) -> None:
        view = cast(_CaptureView, self.query_one(f"#view-{key}"))  # one of TABS' views
        try:
            view.show(capture, ctx)
        except Exception as exc:  # one view failing must not take the others (or the app) down
            self.app.log.error(f"detail view {key} failed: {exc!r}")
            self.notify(f"could not show the {key} tab: {describe(exc)}", severity="error", markup=False)

    def refresh_view(self, key: str, ctx: ViewContext) -> None:
        if self.capture is not None:
            self._stale.discard(key)
            self._show_view(key, self.capture, ctx)

    def switch(self, step: int) -> None:
        keys = [f"tab-{k}" for k, _, _ in TABS]
        current = self.tabs.active
        index = keys.index(current) if current in keys else 0
        self.tabs.active = keys[(index + step) % len(keys)]
        self._catch_up(self.tabs.active)  # drawn before the next frame, not a message later
