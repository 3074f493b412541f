"""`mocks.yaml`: what a node that cannot run on a laptop (a WebAssembly component, `http`,
`llm-*`, `provider.invoke`, …) returns, per flow and node: a fixed `output`, or a `script` in
the inspector's script language that computes one from the node's rendered `input`.

    <flow id>:
      <node id>:
        output: {text: hi}            # or
        script: '#{text: `Hi ${input.name}`}'
        outcome: on_error             # optional: the routing event

Errors name `file:line:column`; a script failure names its position inside the file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import script
from ..flow.loader import _kind, _pos
from ..flow.model import FlowProblem, Position
from ..flow.nodes import _offsets
from ..script import ScriptError
from . import yaml12

__all__ = ["MOCKS_FILE", "SCRIPT_NAMES", "Mock", "MockError", "Mocks", "load_mocks", "load_mocks_text"]

MOCKS_FILE = "mocks.yaml"
#: The names a mock script sees: the node's rendered input, the run's entry, and the node and flow ids.
SCRIPT_NAMES = ("input", "entry", "node_id", "flow_id")
_KEYS = ("output", "script", "outcome")
_MAX_MOCKS_BYTES = 1024 * 1024


class MockError(Exception):
    """A mock script that failed, at its position in the mocks file."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(f"{position}: {message}")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Mock:
    flow_id: str
    node_id: str
    position: Position
    output: Any = None
    program: script.Program | None = field(default=None, compare=False)
    outcome: str | None = None

    def produce(self, input_value: Any, entry: Any = None) -> tuple[Any, list[str]]:
        """(the node's output, the script's print lines); `MockError` when the script fails."""
        if self.program is None:
            output = copy.deepcopy(self.output)
            logs: list[str] = []
        else:
            scope = {"input": copy.deepcopy(input_value), "entry": copy.deepcopy(entry), "node_id": self.node_id, "flow_id": self.flow_id}
            try:
                result = self.program.run(scope)
            except ScriptError as exc:
                where = Position(self.position.file, exc.line or self.position.line, exc.column or self.position.column)
                raise MockError(f"mock script of {self.flow_id}/{self.node_id} failed: {exc.message}", where) from None
            output, logs = result.value, list(result.logs)
        if self.outcome is not None and isinstance(output, dict) and "outcome" not in output:
            output = {**output, "outcome": self.outcome}
        return output, logs


@dataclass(frozen=True)
class Mocks:
    """Every mock of a folder or pack, by (flow id, node id)."""

    file: str | None = None
    entries: dict[tuple[str, str], Mock] = field(default_factory=dict)

    def get(self, flow_id: str, node_id: str) -> Mock | None:
        return self.entries.get((flow_id, node_id))

    def __len__(self) -> int:
        return len(self.entries)


def load_mocks_text(text: str, file: str = MOCKS_FILE) -> tuple[Mocks, list[FlowProblem]]:
    """Parse a mocks file; entries with errors are left out, the rest load."""
    problems: list[FlowProblem] = []

    def error(where: yaml.Node | Position, message: str, severity: str = "error") -> None:
        problems.append(FlowProblem(where if isinstance(where, Position) else _pos(file, where), message, severity))

    try:
        root = yaml12.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        error(
            Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1),
            f"YAML syntax error: {exc.problem or exc.context}",
        )
        return Mocks(file), problems
    except yaml.YAMLError as exc:
        error(Position(file, 1, 1), f"YAML error: {exc}")
        return Mocks(file), problems
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
        return Mocks(file), problems
    try:
        yaml12.check_tree(root)
    except yaml12.NotJson as exc:
        error(exc.node, str(exc))
        return Mocks(file), problems
    lines = text.splitlines()
    entries: dict[tuple[str, str], Mock] = {}

    def mapping(node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            error(node, f"{what} must be a mapping, found {_kind(node)}")
            return None
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: set[str] = set()
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                error(k, f"{what}: keys must be plain names")
                continue
            if k.value in seen:
                error(k, f"duplicate key '{k.value}' in {what}; keep one")
                continue
            seen.add(k.value)
            out.append((k.value, k, v))
        return out

    flows = mapping(root, "the mocks file (flow id → node id → mock)")
    for flow_id, _, flow_node in flows or []:
        nodes = mapping(flow_node, f"mocks of flow '{flow_id}' (node id → mock)")
        for node_id, node_key, mock_node in nodes or []:
            what = f"mock {flow_id}/{node_id}"
            fields = mapping(mock_node, f"{what} (`output:` or `script:`)")
            if fields is None:
                continue
            values = {k: v for k, _, v in fields}
            for key, kn, _ in fields:
                if key not in _KEYS:
                    error(kn, f"unknown key '{key}' in {what} ignored (known: {', '.join(_KEYS)})", "warning")
            if ("output" in values) == ("script" in values):
                error(mock_node, f"{what} needs exactly one of `output:` (a fixed value) or `script:` (code computing it from `input`)")
                continue
            outcome = None
            if "outcome" in values:
                o = values["outcome"]
                if not (isinstance(o, yaml.ScalarNode) and o.tag.endswith(":str")):
                    error(o, f"`outcome` of {what} must be a string such as on_error")
                    continue
                outcome = o.value
            position = _pos(file, node_key)
            if "output" in values:
                try:
                    output = yaml12.construct(values["output"])
                except yaml12.NotJson as exc:
                    error(exc.node, f"{what}: {exc}")
                    continue
                entries[(flow_id, node_id)] = Mock(flow_id, node_id, position, output=output, outcome=outcome)
                continue
            code = values["script"]
            if not (isinstance(code, yaml.ScalarNode) and code.tag.endswith(":str")):
                error(code, f"`script` of {what} must be a string of code")
                continue
            line_offset, column_offset, indent_all = _offsets(code, code.value, lines)
            try:
                program = script.compile(code.value, file, line_offset, column_offset, indent_all_lines=indent_all)
            except ScriptError as exc:
                error(Position(file, exc.line or 1, exc.column or 1), f"{what}: {exc.message}")
                continue
            for warning in program.warnings(SCRIPT_NAMES):
                error(Position(file, warning.line or 1, warning.column or 1), f"{what}: {warning.message}", "warning")
            entries[(flow_id, node_id)] = Mock(flow_id, node_id, _pos(file, code), program=program, outcome=outcome)
    return Mocks(file, entries), problems


def load_mocks(path: str | Path, display: str | None = None) -> tuple[Mocks, list[FlowProblem]]:
    """A mocks file; a missing file is no mocks and no problem."""
    file = display or str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return Mocks(None), []
    except OSError as exc:
        return Mocks(file), [FlowProblem(Position(file, 1, 1), f"cannot read: {exc.strerror or exc}")]
    if len(raw) > _MAX_MOCKS_BYTES:
        return Mocks(file), [FlowProblem(Position(file, 1, 1), f"too large: more than {_MAX_MOCKS_BYTES // 1024:,} KiB; keep mocks small")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Mocks(file), [FlowProblem(Position(file, raw[: exc.start].count(b"\n") + 1, 1), "not UTF-8 text; save the file as UTF-8")]
    return load_mocks_text(text, file)
