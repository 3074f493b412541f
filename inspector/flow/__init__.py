"""Flows (`.ygtc`): loading with positions, the node types, and the engine that traces runs (SPEC §6)."""

from .engine import Answer, Engine, decode_body, event_scope, parse_payload
from .loader import FlowSet, load_file, load_text
from .model import Flow, FlowProblem, Node, Position, Trigger
from .nodes import NODE_TYPES

__all__ = [
    "Answer",
    "Engine",
    "Flow",
    "FlowProblem",
    "FlowSet",
    "NODE_TYPES",
    "Node",
    "Position",
    "Trigger",
    "decode_body",
    "event_scope",
    "load_file",
    "load_text",
    "parse_payload",
]
