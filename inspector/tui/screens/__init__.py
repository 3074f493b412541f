"""Screens of the inspector: help, pickers, the copied-text view and the debugger."""
