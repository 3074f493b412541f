"""The README is the newcomer's manual: its links lead somewhere, and every command, option
and TUI key binding the program has is in it (issue 18 item 9: `v`, `[`, `]` and the `tui`
command were missing from the key table while the program had them)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _relative_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not t.startswith(("http://", "https://", "#", "mailto:"))]


def test_every_relative_link_of_the_readme_and_docs_leads_to_a_file():
    broken = [
        f"{path.relative_to(ROOT)} → {target}"
        for path in (README, *DOCS)
        for target in _relative_links(path)
        if not (path.parent / target.split("#")[0]).exists()
    ]
    assert DOCS, "docs/ holds the performance and reliability notes the README links to"
    assert not broken


def test_the_readme_links_the_performance_and_reliability_notes():
    links = _relative_links(README)
    assert "docs/performance.md" in links and "docs/reliability.md" in links


def _commands() -> dict[str, argparse.ArgumentParser]:
    from inspector.__main__ import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_a_row_in_the_readme_command_table():
    text = README.read_text(encoding="utf-8")
    missing = [name for name in _commands() if f"| `{name}" not in text]
    assert not missing


def test_every_option_of_every_command_is_named_in_the_readme():
    text = README.read_text(encoding="utf-8")
    # An option is named when one of its spellings is (`-H` for `--header`); options hidden
    # from --help are plumbing between processes, not for people.
    missing = sorted(
        {
            f"{name} {action.option_strings[-1]}"
            for name, parser in _commands().items()
            for action in parser._actions
            if action.option_strings
            and action.help is not argparse.SUPPRESS
            and not isinstance(action, argparse._HelpAction)
            and not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text) for o in action.option_strings)
        }
    )
    assert not missing


def test_every_tui_key_binding_id_is_in_the_readme():
    from inspector.tui.actions import known_binding_ids

    text = README.read_text(encoding="utf-8")
    missing = sorted(i for i in known_binding_ids() if f"`{i}`" not in text)
    assert not missing
