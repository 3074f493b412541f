"""Every user action once: its binding (id, key, tooltip, footer label), its palette entry and
its line in the help screen all come from here. A new action is one entry + one method.

Keys are remappable by binding id (Textual keymaps), e.g. `{"send-sample": "ctrl+s"}` in
`.inspector/keymap.json`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class UserAction:
    id: str  # binding id, the name used in keymap.json
    key: str
    action: str  # action method, without `action_`
    label: str  # palette title and help screen
    help: str  # tooltip, palette help, help screen
    show: bool = True  # in the footer
    priority: bool = False
    key_display: str | None = None
    short: str | None = None  # the footer's label, when `label` is too long for it

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.short or self.label,
            show=self.show,
            key_display=self.key_display,
            priority=self.priority,
            tooltip=self.help,
            id=self.id,
        )


# The main screen. Every action has a footer entry, the most used first: what does not fit
# the width scrolls (mouse wheel over the footer), so debug and help come early enough to
# stay in sight at 80 columns. All are in the palette (ctrl+p) and help (?).
MAIN_ACTIONS: tuple[UserAction, ...] = (
    UserAction(
        "send-sample",
        "s",
        "send_sample",
        "Send sample",
        "Send a built-in sample event (GitHub, Stripe, Shopify, …), signed as answers.json says, through the pipeline",
        short="Sample",
    ),
    UserAction(
        "filter",
        "slash",
        "filter",
        "Filter",
        "Filter the table: tenant:X type:X sig:invalid status:4xx flow:NAME method:POST origin:replay -term; bare words search path, headers and body",
        key_display="/",
    ),
    UserAction(
        "debug", "d", "debug", "Debug", "Step through the selected capture's flow node by node, with breakpoints and the scope at each step"
    ),
    UserAction(
        "help",
        "question_mark",
        "help",
        "Help",
        "Every key binding explained, the filter language, and the current problems",
        key_display="?",
    ),
    UserAction(
        "resend",
        "R",
        "resend",
        "Resend",
        "Resend the selected capture as captured (same method, path, headers and body bytes) through the pipeline; the new capture is linked to it",
    ),
    UserAction(
        "resend-resigned",
        "S",
        "resend_resigned",
        "Resend re-signed",
        "Resend the selected capture with a fresh timestamp and signature for the scheme that applies (answers.json's secret), so timestamp checks pass",
        short="Re-signed",
    ),
    UserAction(
        "edit-resend",
        "e",
        "edit_resend",
        "Edit & resend",
        "Edit the method, path, headers and body of the selected capture, optionally re-sign, and resend it",
        short="Edit",
    ),
    UserAction(
        "tunnel",
        "t",
        "tunnel",
        "Tunnel",
        "The tunnel panel: its state, the public URL and every URL to paste into a sender, the self-check; start and stop it",
    ),
    UserAction("body-view", "v", "cycle_body_view", "Body view", "Body tab: switch between pretty, raw and hex", show=False),
    UserAction("next-tab", "right_square_bracket", "next_tab", "Next tab", "Show the next detail tab", show=False, key_display="]"),
    UserAction(
        "previous-tab", "left_square_bracket", "previous_tab", "Previous tab", "Show the previous detail tab", show=False, key_display="["
    ),
    UserAction("quit", "ctrl+q", "quit", "Quit", "Quit: stop the server, the tunnel and pending flow runs, then exit", priority=True),
    UserAction(
        "resend-to-url",
        "u",
        "resend_to_url",
        "Resend to URL",
        "Send the selected capture to another server (your app, a staging URL); its answer is stored as a capture of origin replay",
        short="To URL",
    ),
    UserAction(
        "copy-curl",
        "c",
        "copy_curl",
        "Copy as curl",
        "Copy the selected capture as a curl command (terminal clipboard, OSC 52) and show it",
        short="Curl",
    ),
    UserAction("export", "w", "export", "Export", "Write the selected capture to a file as curl, HTTPie, HAR 1.2 or JSON", short="Export"),
    UserAction(
        "follow",
        "f",
        "toggle_follow",
        "Follow",
        "Follow mode: select each new capture as it arrives (on by default; moving up turns it off)",
        short="Follow",
    ),
    UserAction(
        "reload-flows",
        "r",
        "reload_flows",
        "Reload flows",
        "Reload the flows folder now (changes are also picked up every second)",
        short="Reload",
    ),
    UserAction(
        "mark",
        "m",
        "mark",
        "Mark",
        "Mark the selected capture (again: unmark it); then D on another shows what differs between them",
        short="Mark",
    ),
    UserAction(
        "diff-marked",
        "D",
        "diff_marked",
        "Diff with marked",
        "Compare the selected capture with the marked one (m): request line and query, headers, body by JSON path, signature, answer, where each flow's runs part",
        short="Diff",
    ),
    UserAction(
        "rerun",
        "ctrl+r",
        "rerun",
        "Rerun",
        "Run the captures the table shows (its filter; the newest 100) through today's answers.json and flows: same, changed, fixed or regressed, with each capture's differences and both flow trees",
        short="Rerun",
    ),
    UserAction(
        "clear-view",
        "x",
        "clear_view",
        "Clear view",
        "Clear the view: hide every capture so far (they stay in the store); press again to show them",
        short="Clear",
    ),
)

DEBUGGER_ACTIONS: tuple[UserAction, ...] = (
    UserAction("debug-next", "n", "next_step", "Next", "Go to the next node evaluated"),
    UserAction("debug-back", "p", "previous_step", "Back", "Go back one node"),
    UserAction("debug-continue", "c", "continue_run", "Continue", "Run to the next breakpoint (or the end)"),
    UserAction(
        "debug-breakpoint", "b", "toggle_breakpoint", "Breakpoint", "Set or clear a breakpoint on the node highlighted in the node list"
    ),
    UserAction("debug-restart", "r", "restart", "Restart", "Run the flow again from the start, with the flow files as they are now"),
    UserAction("debug-close", "escape", "close", "Close", "Close the debugger", key_display="esc"),
)

TUNNEL_ACTIONS: tuple[UserAction, ...] = (
    UserAction(
        "tunnel-start",
        "s",
        "start",
        "Start tunnel",
        "Start the tunnel (ngrok, unless --public-url names one you run); the self-check follows once it is up",
        short="Start",
    ),
    UserAction("tunnel-stop", "x", "stop", "Stop tunnel", "Stop the tunnel; webhooks still reach the local address", short="Stop"),
    UserAction(
        "tunnel-selfcheck",
        "r",
        "self_check",
        "Self-check",
        "Send a request through the public URL and prove it comes back to this inspector",
    ),
    UserAction("tunnel-copy", "c", "copy_url", "Copy URL", "Copy the highlighted URL (terminal clipboard, OSC 52) and show it"),
    UserAction("tunnel-close", "escape", "close", "Close", "Close the tunnel panel", key_display="esc"),
)

NAVIGATION_HELP: tuple[tuple[str, str], ...] = (
    ("↑ ↓ / j k", "move in the request table (moving up turns follow off)"),
    ("PgUp PgDn Home", "page through the table, or jump to the first capture"),
    ("End", "jump to the newest capture and turn follow on"),
    ("click", "select a row, a tab, or a node; the mouse wheel scrolls"),
    ("tab / shift+tab", "move the focus between the table, the detail tabs and their content"),
    ("ctrl+p", "the command palette: every action and every sample by name"),
)


@functools.cache
def known_binding_ids() -> frozenset[str]:
    """Every binding id a keymap may name: the actions above and the bindings of the
    screens and widgets (closing a modal, moving in the table)."""
    from .screens import (
        copied_screen,
        debugger_screen,
        diff_screen,
        edit_resend,
        export_screen,
        flow_picker,
        help_screen,
        rerun_screen,
        resend_to_url,
        sample_picker,
        tunnel_screen,
    )
    from .widgets import filter_bar, request_table

    ids = {a.id for a in (*MAIN_ACTIONS, *DEBUGGER_ACTIONS, *TUNNEL_ACTIONS)}
    for module in (
        copied_screen,
        debugger_screen,
        diff_screen,
        edit_resend,
        export_screen,
        flow_picker,
        help_screen,
        rerun_screen,
        resend_to_url,
        sample_picker,
        tunnel_screen,
        filter_bar,
        request_table,
    ):
        for value in vars(module).values():
            for binding in getattr(value, "BINDINGS", None) or () if isinstance(value, type) else ():
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    return frozenset(ids)
