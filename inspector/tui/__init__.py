"""The terminal UI (SPEC §11). The only package of the inspector that imports Textual."""

from .launch import build_app, run_tui

__all__ = ["build_app", "run_tui"]
