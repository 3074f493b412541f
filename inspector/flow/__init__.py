"""Flows (`.ygtc`): loading with positions, the node types, and the engine that traces runs (SPEC §6).

The names below load on first use: `inspector.flow.runs` (the typed runs the store decodes)
must not pull in the engine and the script compiler, which would add about 0.25 s to every
command that only reads the store (`list`, `show`, `export`)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Answer, Engine, decode_body, event_scope, parse_payload
    from .loader import FlowSet, load_file, load_text
    from .model import Flow, FlowProblem, Node, Position, Trigger
    from .nodes import NODE_TYPES

_WHERE = {
    "Answer": "engine",
    "Engine": "engine",
    "decode_body": "engine",
    "event_scope": "engine",
    "parse_payload": "engine",
    "FlowSet": "loader",
    "load_file": "loader",
    "load_text": "loader",
    "Flow": "model",
    "FlowProblem": "model",
    "Node": "model",
    "Position": "model",
    "Trigger": "model",
    "NODE_TYPES": "nodes",
}

__all__ = [
    "NODE_TYPES",
    "Answer",
    "Engine",
    "Flow",
    "FlowProblem",
    "FlowSet",
    "Node",
    "Position",
    "Trigger",
    "decode_body",
    "event_scope",
    "load_file",
    "load_text",
    "parse_payload",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
