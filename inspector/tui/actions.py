"""Every user action once: its binding (id, key, tooltip, footer label), its palette entry and
its line in the help screen all come from here. A new action is one entry + one method.

Keys are remappable by binding id (Textual keymaps), e.g. `{"send-sample": "ctrl+s"}` in
`.inspector/keymap.json`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class UserAction:
    id: str  # binding id, the name used in keymap.json
    key: str
    action: str  # action method, without `action_`
    label: str  # footer and palette title
    help: str  # tooltip, palette help, help screen
    show: bool = True  # in the footer
    priority: bool = False
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.label, show=self.show, key_display=self.key_display,
                       priority=self.priority, tooltip=self.help, id=self.id)


# The main screen. Resend, edit & resend, resend to URL and the tunnel panel arrive with later
# versions: each will be one entry here and one `action_…` method on InspectorApp.
MAIN_ACTIONS: tuple[UserAction, ...] = (
    UserAction("send-sample", "s", "send_sample", "Sample", "Send a built-in sample event (GitHub, Stripe, Shopify, …), signed as answers.json says, through the pipeline"),
    UserAction("filter", "slash", "filter", "Filter", "Filter the table: tenant:X type:X sig:invalid status:4xx flow:NAME method:POST origin:sample -term; bare words search path, headers and body", key_display="/"),
    UserAction("follow", "f", "toggle_follow", "Follow", "Follow mode: select each new capture as it arrives (on by default; moving up turns it off)"),
    UserAction("copy-curl", "c", "copy_curl", "Copy curl", "Copy the selected capture as a curl command (terminal clipboard, OSC 52) and show it"),
    UserAction("debug", "d", "debug", "Debug", "Step through the selected capture's flow node by node, with breakpoints and the scope at each step"),
    UserAction("reload-flows", "r", "reload_flows", "Reload", "Reload the flows folder now (changes are also picked up every second)"),
    UserAction("clear-view", "x", "clear_view", "Clear", "Clear the view: hide every capture so far (they stay in the store); press again to show them"),
    UserAction("body-view", "v", "cycle_body_view", "Body view", "Body tab: switch between pretty, raw and hex", show=False),
    UserAction("next-tab", "right_square_bracket", "next_tab", "Next tab", "Show the next detail tab", show=False, key_display="]"),
    UserAction("previous-tab", "left_square_bracket", "previous_tab", "Previous tab", "Show the previous detail tab", show=False, key_display="["),
    UserAction("help", "question_mark", "help", "Help", "Every key binding explained, the filter language, and the current problems", key_display="?"),
    UserAction("quit", "ctrl+q", "quit", "Quit", "Quit: stop the server and pending flow runs, then exit", priority=True),
)

DEBUGGER_ACTIONS: tuple[UserAction, ...] = (
    UserAction("debug-next", "n", "next_step", "Next", "Go to the next node evaluated"),
    UserAction("debug-back", "p", "previous_step", "Back", "Go back one node"),
    UserAction("debug-continue", "c", "continue_run", "Continue", "Run to the next breakpoint (or the end)"),
    UserAction("debug-breakpoint", "b", "toggle_breakpoint", "Breakpoint", "Set or clear a breakpoint on the node highlighted in the node list"),
    UserAction("debug-restart", "r", "restart", "Restart", "Run the flow again from the start, with the flow files as they are now"),
    UserAction("debug-close", "escape", "close", "Close", "Close the debugger", key_display="esc"),
)

NAVIGATION_HELP: tuple[tuple[str, str], ...] = (
    ("↑ ↓ / j k", "move in the request table (moving up turns follow off)"),
    ("PgUp PgDn Home", "page through the table, or jump to the first capture"),
    ("End", "jump to the newest capture and turn follow on"),
    ("click", "select a row, a tab, or a node; the mouse wheel scrolls"),
    ("tab / shift+tab", "move the focus between the table, the detail tabs and their content"),
    ("ctrl+p", "the command palette: every action and every sample by name"),
)
