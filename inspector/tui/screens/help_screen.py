"""Help: every binding of the screen it was opened from (with the key it has now), the
filter language, how to remap keys, and the problems found at start-up."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen

from ..actions import NAVIGATION_HELP, UserAction
from ..shapes import cells
from ..widgets.plain import PlainStatic

FILTER_HELP = (
    ("tenant:demo", "the tenant segment of the URL (globs: *, ?)"),
    ("type:order.*", "the event_type segment (glob)"),
    ("sig:invalid", "signature status: valid invalid missing malformed expired unsigned error (a,b for either)"),
    ("status:4xx", "the response status, exact (404) or a class (4xx)"),
    ("flow:github", "a flow that ran (glob)"),
    ("method:POST", "the HTTP method"),
    ("origin:sample", "live, replay, sample or import"),
    ("-term", "negates a term: -sig:valid"),
    ('word "a phrase"', "searches the path, the headers and the body (reads the store)"),
    ("enter", "applies the filter and keeps it: / reopens it with its text"),
    ("esc", "clears the filter being typed and shows every capture again"),
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > Vertical {
            width: 92%;
            max-width: 110;
            height: 90%;
            border: round $primary;
            background: $surface;
            border-title-color: $text;
        }
        & VerticalScroll { padding: 0 1; }
        & #help-hint { dock: bottom; height: 1; color: $text-muted; padding: 0 1; }
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", tooltip="Close the help", id="help-close"),
    ]

    def __init__(self, actions: list[tuple[str, UserAction, bool]], problems: list[str], keymap_file: str | None, title: str = "Help"):
        super().__init__()
        self.actions = actions  # (key shown, action, enabled)
        self.problems = problems
        self.keymap_file = keymap_file
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            with VerticalScroll():
                yield PlainStatic(self._content(), id="help-text")
            yield PlainStatic("esc close · ↑↓ scroll", id="help-hint")

    def _content(self) -> Group:
        keys = Table(box=None, padding=(0, 2, 0, 0), show_header=True, header_style="bold", expand=True)
        keys.add_column("key", style="bold cyan", no_wrap=True)
        keys.add_column("action", no_wrap=True)
        keys.add_column("what it does", ratio=1)
        keys.add_column("id", style="dim", no_wrap=True)
        for key, action, enabled in self.actions:
            keys.add_row(*cells(key, Text(action.label, style="" if enabled else "dim"), action.help, action.id))
        nav = Table(box=None, padding=(0, 2, 0, 0), show_header=False, expand=True)
        nav.add_column(style="bold cyan", no_wrap=True)
        nav.add_column(ratio=1)
        for key, text in NAVIGATION_HELP:
            nav.add_row(*cells(key, text))
        filt = Table(box=None, padding=(0, 2, 0, 0), show_header=False, expand=True)
        filt.add_column(style="bold cyan", no_wrap=True)
        filt.add_column(ratio=1)
        for term, text in FILTER_HELP:
            filt.add_row(*cells(term, text))
        parts: list[RenderableType] = [
            Text("Keys", style="bold underline"),
            keys,
            Text(""),
            Text("Moving around", style="bold underline"),
            nav,
            Text(""),
            Text("Filter language (/) — space-separated terms, all must hold", style="bold underline"),
            filt,
            Text(""),
            Text("Remapping keys", style="bold underline"),
            Text(
                f"Put binding ids and keys in {self.keymap_file or '.inspector/keymap.json'}, e.g. "
                '{"send-sample": "ctrl+s", "debug": "g"}, and restart.'
            ),
        ]
        if self.problems:
            parts += [Text(""), Text("Problems", style="bold underline red")]
            parts += [Text(f"✗ {p}") for p in self.problems]
        return Group(*parts)
