"""Load a real Greentic `.ygtc` flow (nodes as a map, one operation key per node) into frozen
values with a `file:line:column` for every node, key and arm, and report what Greentic's loader
and compiler refuse, plus what its runner would silently ignore (docs/greentic-shape.md §1-§4, §7).

    result = load_text(text, "flows/order.ygtc")     # or load_file(path)
    result.flow.nodes[0].operation, result.problems
    detect_shape(text)                              # "greentic", "documented" or None
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

# The documented shape's loader owns the YAML position helpers; importing them keeps one
# notion of a position and of an alias bomb.
from ..flow.loader import MAX_FLOW_BYTES, _did_you_mean, _kind, _pos
from ..flow.model import FlowProblem, Position
from ..flow.nodes import _offsets
from . import yaml12
from .conditions import OPERATORS, parse_condition
from .template import CONTEXT_NAMES, check_template, template_paths

__all__ = [
    "FLOW_TYPES",
    "RESERVED_KEYS",
    "Arm",
    "Flow",
    "LoadResult",
    "Node",
    "Shape",
    "detect_shape",
    "detect_file",
    "load_file",
    "load_text",
]

#: The flow types Greentic compiles (`map_flow_type`); `event` and `events` are one kind.
FLOW_TYPES = ("messaging", "event", "events", "component-config", "job", "http")
# Accepted by the JSON schema's enum, refused when compiled.
_SCHEMA_ONLY_TYPES = ("webhook", "timer", "websocket", "pubsub")
#: Node keys that are not the operation: the union of the loader's, the IR's and compile's lists.
RESERVED_KEYS = (
    "routing",
    "telemetry",
    "output",
    "in_map",
    "out_map",
    "err_map",
    "retry",
    "timeout",
    "when",
    "annotations",
    "meta",
    "operation",
    "conversational",
)
# Reserved keys compile does not skip: after the operation key, compile takes them as the operation.
_COMPILE_TAKES = ("retry", "timeout", "when", "annotations", "meta", "telemetry")
_ARM_KEYS = ("to", "out", "reply", "status", "condition", "on_message")
_NODE_ID = re.compile(r"[A-Za-z_][\w-]*\Z")
_OPERATION = re.compile(r"[A-Za-z_][\w.:/@-]*\Z")
# What the runner's native operations read from their payload (any one of the names).
_NATIVE_FIELDS: dict[str, tuple[str, ...]] = {
    "flow.call": ("flow_id", "flow"),
    "flow.goto": ("flow_id", "flow"),
    "state.get": ("key",),
    "state.set": ("key",),
    "var.set": ("name",),
    "session.wait": (),
}
_FLOW_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@/-]*\Z")

Shape = Literal["greentic", "documented"]


@dataclass(frozen=True)
class Arm:
    """One routing arm; `positions` has the arm's own keys, `ignored` the keys the runner ignores."""

    to: str | None
    out: bool | None
    reply: bool | None
    status: str | None
    condition: str | None
    on_message: bool | None
    position: Position
    positions: dict[str, Position] = field(default_factory=dict, compare=False)
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Node:
    """A node: its operation key and payload, the reserved keys, and routing.

    `routing` is None (absent), "out", "reply" or a tuple of arms. `keys` holds every key in
    file order with its position; `config` is the operation's payload as written."""

    id: str
    operation: str
    config: Any
    routing: str | tuple[Arm, ...] | None
    position: Position
    sibling_operation: str | None = None
    in_map: Any = None
    out_map: Any = None
    err_map: Any = None
    reserved: dict[str, Any] = field(default_factory=dict)
    keys: tuple[tuple[str, Position], ...] = ()
    other_operations: tuple[str, ...] = ()  # schema_version 1: earlier operation keys (the last wins)

    def key_position(self, key: str) -> Position:
        return next((p for k, p in self.keys if k == key), self.position)

    @property
    def input_mapping(self) -> Any:
        """What the runner renders before the node runs: `in_map`, else the payload, else {}."""
        if self.in_map is not None:
            return self.in_map
        return self.config if self.config is not None else {}

    @property
    def arms(self) -> tuple[Arm, ...]:
        return self.routing if isinstance(self.routing, tuple) else ()


@dataclass(frozen=True)
class Flow:
    """A real-shaped flow; `entry` is where a run starts (`start`, else `in`, else the first node)."""

    id: str
    type: str
    file: str
    position: Position
    nodes: tuple[Node, ...]
    entry: str | None
    title: str | None = None
    description: str | None = None
    start: str | None = None
    entrypoints: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    schema_version: int = 2
    tags: tuple[str, ...] = ()
    keys: tuple[tuple[str, Position], ...] = ()

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes)


@dataclass(frozen=True)
class LoadResult:
    flow: Flow | None
    problems: tuple[FlowProblem, ...]

    @property
    def errors(self) -> tuple[FlowProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[FlowProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


# ---------------------------------------------------------------- which shape a file has


def _shape_of(root: yaml.Node | None) -> Shape | None:
    if not isinstance(root, yaml.MappingNode):
        return None
    keys = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    if isinstance(keys.get("nodes"), yaml.MappingNode):
        return "greentic"
    if isinstance(keys.get("nodes"), yaml.SequenceNode):
        return "documented"
    if "type" in keys and "triggers" not in keys and "name" not in keys:
        return "greentic"
    return "documented"


def detect_shape(text: str) -> Shape | None:
    """ "greentic" when `nodes` is a mapping (or, without nodes, the file has `type` and no
    `triggers`/`name`), "documented" otherwise; None when the text is not one YAML mapping
    (whichever loader reads it will say why)."""
    try:
        root = yaml12.compose(text)
    except yaml.YAMLError:
        return None
    return _shape_of(root)


def detect_file(path: str | Path) -> Shape | None:
    try:
        raw = Path(path).read_bytes()[: MAX_FLOW_BYTES + 1]
        return detect_shape(raw.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------- loading


class _Stop(Exception):
    """Validation cannot go on (the top level is unusable)."""


class _Loader:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.lines = text.splitlines()
        self.problems: list[FlowProblem] = []

    def pos(self, node: yaml.Node) -> Position:
        return _pos(self.file, node)

    def error(self, where: yaml.Node | Position, message: str) -> None:
        self.problems.append(FlowProblem(where if isinstance(where, Position) else self.pos(where), message, "error"))

    def warn(self, where: yaml.Node | Position, message: str) -> None:
        self.problems.append(FlowProblem(where if isinstance(where, Position) else self.pos(where), message, "warning"))

    def value(self, node: yaml.Node) -> Any:
        """The JSON value of a subtree as Greentic reads it (YAML 1.2); None and an error otherwise."""
        try:
            return yaml12.construct(node)
        except yaml12.NotJson as exc:
            self.error(exc.node, str(exc))
            return None

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """[(key, key node, value node)] in file order; duplicates and odd keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping, found {_kind(node)}")
            return None
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: dict[str, yaml.Node] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                self.error(k, f"{what}: keys must be plain names")
                continue
            if k.value == "<<":
                self.error(k, f"{what}: YAML merge keys (<<) are not supported; write the keys out")
                continue
            if k.value in seen:
                self.error(k, f"duplicate key '{k.value}' in {what} (first at line {seen[k.value].start_mark.line + 1}); keep one")
                continue
            seen[k.value] = k
            out.append((k.value, k, v))
        return out

    def nested_duplicates(self, node: yaml.Node) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, yaml.MappingNode):
                seen: dict[str, yaml.Node] = {}
                for k, v in n.value:
                    if isinstance(k, yaml.ScalarNode):
                        if k.value in seen:
                            self.error(k, f"duplicate key '{k.value}' (first at line {seen[k.value].start_mark.line + 1}); keep one")
                        seen[k.value] = k
                    stack.append(v)
            elif isinstance(n, yaml.SequenceNode):
                stack.extend(n.value)

    def string(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":str", ":int")):
            return str(node.value)
        self.error(node, f"{what} must be a string, found {_kind(node)}")
        return None

    # -------------------------------------------------------------- the document

    def load(self) -> Flow | None:
        if len(self.text) * 4 > MAX_FLOW_BYTES and len(self.text.encode("utf-8", "surrogatepass")) > MAX_FLOW_BYTES:
            self.error(Position(self.file, 1, 1), f"too large: more than {MAX_FLOW_BYTES // 1024:,} KiB (MAX_FLOW_BYTES); split the flow")
            return None
        try:
            documents = yaml12.compose_all(self.text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = Position(self.file, mark.line + 1, mark.column + 1) if mark else Position(self.file, 1, 1)
            self.error(where, f"YAML syntax error: {exc.problem or exc.context}")
            return None
        except yaml.YAMLError as exc:
            self.error(Position(self.file, 1, 1), f"YAML error: {exc}")
            return None
        if not documents or documents[0] is None:
            self.error(Position(self.file, 1, 1), "the file is empty; a flow needs `id`, `type` and `nodes`")
            return None
        if len(documents) > 1:
            self.error(documents[1], "a .ygtc file holds one flow; remove the second YAML document (after ---)")
            return None
        try:
            yaml12.check_tree(documents[0])
        except yaml12.NotJson as exc:
            self.error(exc.node, str(exc))
            return None
        try:
            return self.flow(documents[0])
        except _Stop:
            return None

    def flow(self, root: yaml.Node) -> Flow | None:
        top = self.mapping(root, "the flow")
        if top is None:
            raise _Stop
        fields = {k: (kn, vn) for k, kn, vn in top}
        keys = tuple((k, self.pos(kn)) for k, kn, _ in top)
        flow_id = self.flow_id(root, fields)
        flow_type = self.flow_type(root, fields)
        schema_version = 2
        if "schema_version" in fields:
            node = fields["schema_version"][1]
            value = self.value(node)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self.error(node, f"`schema_version` must be a whole number of at least 1, found {_kind(node)}; leave it out for 2")
            else:
                schema_version = value
        title = self.optional_string(fields, "title")
        description = self.optional_string(fields, "description")
        start = self.optional_string(fields, "start")
        entrypoints = self.optional_mapping(fields, "entrypoints")
        parameters = self.optional_mapping(fields, "parameters")
        tags: tuple[str, ...] = ()
        if "tags" in fields:
            value = self.value(fields["tags"][1])
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                self.error(fields["tags"][1], "`tags` must be a list of strings")
            else:
                tags = tuple(value)
        nodes_node = fields["nodes"][1] if "nodes" in fields else None
        node_entries: list[tuple[str, yaml.Node, yaml.Node]] = []
        if nodes_node is None or (isinstance(nodes_node, yaml.ScalarNode) and nodes_node.tag.endswith(":null")):
            self.warn(
                root if nodes_node is None else nodes_node,
                "the flow has no nodes: Greentic loads it, and every run fails with 'no start node'",
            )
        elif isinstance(nodes_node, yaml.SequenceNode):
            self.error(
                nodes_node,
                "`nodes` must be a mapping from node id to node (a list is the documented shape, which needs `name` and `triggers`)",
            )
        else:
            got = self.mapping(nodes_node, "`nodes`")
            node_entries = got or []
            if got is not None and not got:
                self.warn(nodes_node, "`nodes` is empty: every run fails with 'no start node'")
        declared = [k for k, _, _ in node_entries]
        nodes: list[Node] = []
        for node_id, key_node, value_node in node_entries:
            loaded = self.node(node_id, key_node, value_node, schema_version)
            if loaded is not None:
                nodes.append(loaded)
        for loaded in nodes:
            self.check_routing(loaded, declared)
        if start is not None and start not in declared and declared:
            self.warn(
                fields["start"][1],
                f"`start` names no node '{start}'{_did_you_mean(start, declared)}: Greentic loads this and every run fails with 'node {start} not found'",
            )
        entry = start if start is not None else ("in" if "in" in declared else (declared[0] if declared else None))
        if flow_id is None or flow_type is None or any(p.severity == "error" for p in self.problems):
            return None
        return Flow(
            id=flow_id,
            type=flow_type,
            file=self.file,
            position=self.pos(root),
            nodes=tuple(nodes),
            entry=entry,
            title=title,
            description=description,
            start=start,
            entrypoints=entrypoints,
            parameters=parameters,
            schema_version=schema_version,
            tags=tags,
            keys=keys,
        )

    def flow_id(self, root: yaml.Node, fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> str | None:
        if "id" not in fields:
            self.error(root, "missing `id:` (the flow's id, e.g. `id: on_order`)")
            return None
        value = self.string(fields["id"][1], "`id`")
        if value is not None and not _FLOW_ID.match(value):
            self.error(fields["id"][1], f"invalid flow id '{value}': use letters, digits, `_`, `-` and `.`")
            return None
        return value

    def flow_type(self, root: yaml.Node, fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> str | None:
        if "type" not in fields:
            self.error(root, f"missing `type:` (one of: {', '.join(FLOW_TYPES)})")
            return None
        node = fields["type"][1]
        value = self.string(node, "`type`")
        if value is None:
            return None
        if value not in FLOW_TYPES:
            extra = " (the JSON schema lists it, but Greentic's compiler refuses it)" if value in _SCHEMA_ONLY_TYPES else ""
            self.error(node, f"unknown flow type '{value}'{extra}{_did_you_mean(value, FLOW_TYPES)}; use one of: {', '.join(FLOW_TYPES)}")
            return None
        return value

    def optional_string(self, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str) -> str | None:
        if key not in fields:
            return None
        node = fields[key][1]
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return None
        return self.string(node, f"`{key}`")

    def optional_mapping(self, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str) -> dict[str, Any]:
        if key not in fields:
            return {}
        node = fields[key][1]
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"`{key}` must be a mapping, found {_kind(node)}")
            return {}
        self.mapping(node, f"`{key}`")
        self.nested_duplicates(node)
        value = self.value(node)
        return value if isinstance(value, dict) else {}

    # -------------------------------------------------------------- nodes

    def node(self, node_id: str, key_node: yaml.Node, value_node: yaml.Node, schema_version: int) -> Node | None:
        if not _NODE_ID.match(node_id):
            self.error(key_node, f"invalid node id '{node_id}': start with a letter or `_`, then letters, digits, `_` or `-`")
        entries = self.mapping(value_node, f"node '{node_id}'")
        if entries is None:
            return None
        self.nested_duplicates(value_node)
        keys = tuple((k, self.pos(kn)) for k, kn, _ in entries)
        operations = [(k, kn, vn) for k, kn, vn in entries if k not in RESERVED_KEYS]
        found = ", ".join(k for k, _, _ in operations) or "none"
        if schema_version >= 2:
            counted = [k for k, _, _ in operations]
            ok = len(counted) == 1 or (len(counted) == 2 and "component.exec" in counted)
            if not ok:
                hint = ""
                if any(k == "next" for k in counted):
                    hint = "; `next:` is not a Greentic key, it counts as a second operation: route with `routing: [{to: <node>}]`"
                elif not counted:
                    hint = "; add the operation, e.g. `emit.log: {message: hi}`"
                else:
                    hint = "; split it into one node per operation, chained with `routing`"
                self.error(value_node, f"node '{node_id}' must contain exactly one operation key (found: {found}){hint}")
                return None
            chosen = next((o for o in operations if o[0] == "component.exec"), operations[0])
            others = tuple(k for k, _, _ in operations if k != chosen[0])
        else:
            if not operations:
                self.error(
                    value_node,
                    f"node '{node_id}' has no operation key (Greentic's compiler says 'missing operation key'); add one, e.g. `emit.log: {{message: hi}}`",
                )
                return None
            chosen = operations[-1]
            others = tuple(k for k, _, _ in operations[:-1])
            if others:
                self.warn(
                    chosen[1],
                    f"node '{node_id}' has several operation keys ({found}); with schema_version 1 the last one, '{chosen[0]}', is the one that runs",
                )
        operation, op_key_node, op_value_node = chosen
        if not _OPERATION.match(operation):
            self.error(
                op_key_node,
                f"node '{node_id}': '{operation}' is not an operation name (letters, digits, `_`, `.` and `-`, e.g. `emit.log`)",
            )
            return None
        self.check_operation_shape(node_id, operation, op_key_node, op_value_node)
        op_index = next(i for i, (k, _, _) in enumerate(entries) if k == operation)
        for index, (key, kn, _) in enumerate(entries):
            if index > op_index and key in _COMPILE_TAKES:
                self.warn(
                    kn,
                    f"'{key}' comes after the operation key '{operation}': Greentic's compiler takes the last key as the operation; move it above '{operation}'",
                )
        fields = {k: vn for k, _, vn in entries}
        config = self.value(op_value_node)
        self.check_templates(op_value_node, f"node '{node_id}'")
        sibling = None
        if "operation" in fields:
            sibling = self.string(fields["operation"], "`operation`")
        routing = self.routing(node_id, fields["routing"]) if "routing" in fields else None
        maps: dict[str, Any] = {}
        for name in ("in_map", "out_map", "err_map"):
            if name in fields:
                maps[name] = self.value(fields[name])
                self.check_templates(fields[name], f"`{name}` of node '{node_id}'")
        if "output" in fields and "out_map" not in maps:
            maps["out_map"] = self.value(fields["output"])
        reserved = {k: self.value(vn) for k, vn in fields.items() if k in RESERVED_KEYS and k not in ("routing", "operation")}
        return Node(
            id=node_id,
            operation=operation,
            config=config,
            routing=routing,
            position=self.pos(key_node),
            sibling_operation=sibling,
            in_map=maps.get("in_map"),
            out_map=maps.get("out_map"),
            err_map=maps.get("err_map"),
            reserved=reserved,
            keys=keys,
            other_operations=others,
        )

    def check_operation_shape(self, node_id: str, operation: str, key: yaml.Node, value: yaml.Node) -> None:
        """The payload fields the runner's native operations need (it fails the node otherwise)."""
        needs = _NATIVE_FIELDS.get(operation)
        if needs is None:
            return
        if operation == "session.wait" and isinstance(value, yaml.ScalarNode) and value.tag.endswith(":str"):
            return
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            fields: set[str] = set()
        elif not isinstance(value, yaml.MappingNode):
            self.error(value, f"node '{node_id}': `{operation}` takes a mapping ({', '.join(needs) or 'reason'}), found {_kind(value)}")
            return
        else:
            fields = {k.value for k, _ in value.value if isinstance(k, yaml.ScalarNode)}
        if needs and not any(n in fields for n in needs):
            example = {"flow.call": "flow_id: other_flow", "flow.goto": "flow_id: other_flow", "var.set": "name: x, value: 1"}.get(
                operation, "key: counter"
            )
            self.error(key, f"node '{node_id}': `{operation}` needs `{needs[0]}` (e.g. `{operation}: {{{example}}}`)")

    def check_templates(self, node: yaml.Node, what: str) -> None:
        """Template syntax errors (the runner fails the node), and warnings for text the runner
        renders empty: several expressions between an opening `{{` and a closing `}}`, and
        paths outside its context."""
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, yaml.MappingNode):
                stack.extend(v for _, v in n.value)
                continue
            if isinstance(n, yaml.SequenceNode):
                stack.extend(n.value)
                continue
            if not (isinstance(n, yaml.ScalarNode) and n.tag.endswith(":str") and "{{" in n.value):
                continue
            text = n.value
            problem = check_template(text)
            if problem is not None:
                self.error(self.inside(n, problem.line, problem.column), f"{what}: template: {problem.message}")
                continue
            trimmed = text.strip()
            if trimmed.startswith("{{") and trimmed.endswith("}}") and (trimmed.count("{{") > 1 or trimmed[2:3] in "#^/!"):
                self.warn(
                    n,
                    f'{what}: this text starts with `{{{{` and ends with `}}}}`, so the runner reads all of it as one path and renders ""; put text before or after, e.g. a space',
                )
                continue
            for segments, offset in template_paths(text):
                head = segments[0] if segments else ""
                if head and head not in CONTEXT_NAMES:
                    line = text.count("\n", 0, offset) + 1
                    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
                    self.warn(
                        self.inside(n, line, column),
                        f"{what}: '{head}' is not in the runner's template context ({', '.join(CONTEXT_NAMES)}); it renders empty"
                        + ("; read earlier outputs as `node.<id>.…`" if head not in ("parameters", "flow") else ""),
                    )

    def inside(self, node: yaml.ScalarNode, line: int, column: int) -> Position:
        """The file position of `line:column` inside a scalar's text."""
        line_offset, column_offset, indent_all = _offsets(node, node.value, self.lines)
        file_column = column + column_offset if (line == 1 or indent_all) else column
        return Position(self.file, line_offset + line, file_column)

    # -------------------------------------------------------------- routing

    def routing(self, node_id: str, node: yaml.Node) -> str | tuple[Arm, ...] | None:
        if isinstance(node, yaml.ScalarNode):
            if node.tag.endswith(":null"):
                return None
            if node.value in ("out", "reply"):
                return node.value
            self.error(
                node,
                f"invalid routing shorthand '{node.value}' in node '{node_id}'; write `out`, `reply` or a list of arms like `- to: next_node`",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            self.error(
                node, f"routing of node '{node_id}' must be `out`, `reply` or a list of arms; write `- to: …` (a dash before each arm)"
            )
            return None
        arms: list[Arm] = []
        for item in node.value:
            entries = self.mapping(item, f"a routing arm of node '{node_id}'")
            if entries is None:
                continue
            values: dict[str, Any] = {}
            positions: dict[str, Position] = {}
            ignored: list[str] = []
            for key, kn, vn in entries:
                positions[key] = self.pos(kn)
                if key not in _ARM_KEYS:
                    ignored.append(key)
                    hint = (
                        "; the runner ignores it: write `to:` instead"
                        if key == "next"
                        else f"; the runner ignores it (arm keys: {', '.join(_ARM_KEYS)})"
                    )
                    self.warn(kn, f"unknown key '{key}' in a routing arm of node '{node_id}'{hint}")
                    continue
                value = self.value(vn)
                want: type = bool if key in ("out", "reply", "on_message") else str
                if want is str and isinstance(vn, yaml.ScalarNode) and value is not None:
                    # Greentic reads YAML 1.2: `to: no` and `to: 3` name nodes "no" and "3".
                    value = vn.value
                if value is not None and not isinstance(value, want):
                    self.error(vn, f"`{key}` of a routing arm must be {'true or false' if want is bool else 'a string'}, found {_kind(vn)}")
                    continue
                values[key] = value
            arms.append(
                Arm(
                    to=values.get("to"),
                    out=values.get("out"),
                    reply=values.get("reply"),
                    status=values.get("status"),
                    condition=values.get("condition"),
                    on_message=values.get("on_message"),
                    position=self.pos(item),
                    positions=positions,
                    ignored=tuple(ignored),
                )
            )
        return tuple(arms)

    def check_routing(self, node: Node, declared: list[str]) -> None:
        arms = node.arms
        if not arms:
            return
        conditional = any(a.condition is not None or a.on_message for a in arms)
        for arm in arms:
            where = arm.positions.get("to", arm.position)
            if arm.to is not None and arm.to != "out" and arm.to not in declared:
                self.error(
                    where,
                    f"routing arm of node '{node.id}' names a missing node '{arm.to}'{_did_you_mean(arm.to, declared)} (nodes: {', '.join(declared)})",
                )
            elif arm.to == "out" and conditional:
                self.error(
                    where,
                    f"`to: out` inside a conditional routing list of node '{node.id}': Greentic's compiler refuses it; end with `- out: true` as its own arm, or route to a node",
                )
            if arm.condition is not None:
                self.check_condition(node, arm)
        if conditional:
            default_seen: int | None = None
            for index, arm in enumerate(arms):
                if default_seen is not None:
                    self.warn(
                        arm.position,
                        f"node '{node.id}': this arm comes after the default arm (arm {default_seen + 1}, no condition) and is never reached; move the default last",
                    )
                    break
                if arm.condition is None and arm.to is not None and not arm.on_message:
                    default_seen = index
                if arm.condition is None and arm.to is None and (arm.out or arm.reply or arm.status is not None):
                    self.warn(
                        arm.position,
                        f"node '{node.id}': the runner ignores `out`/`reply`/`status` arms in a conditional list; when no condition matches the run waits at this node",
                    )
                if arm.status is not None and arm.condition is not None:
                    self.warn(arm.positions.get("status", arm.position), f"node '{node.id}': the runner never reads `status` on an arm")
                if arm.on_message and arm.condition is None:
                    self.warn(
                        arm.positions.get("on_message", arm.position),
                        f"node '{node.id}': the runner ignores `on_message`; this arm is taken like a default",
                    )
        elif len(arms) >= 2:
            plain = [a for a in arms if a.to is not None and not a.out and not a.reply and a.status is None]
            if len(plain) == len(arms) and len(plain) >= 2:
                self.warn(
                    arms[0].position,
                    f"node '{node.id}' has {len(plain)} plain `to` arms: the runner goes to the last one ('{plain[-1].to}') only; add conditions or keep one arm",
                )
            elif any(a.status is not None for a in arms):
                self.warn(
                    arms[0].position, f"node '{node.id}': the runner never reads `status` on an arm; it takes the last arm without one"
                )

    def check_condition(self, node: Node, arm: Arm) -> None:
        text = arm.condition or ""
        where = arm.positions.get("condition", arm.position)
        parsed = parse_condition(text)
        if "{{" in text:
            always = "true" if parsed is not None and parsed.operator == "!=" else "false"
            self.warn(
                where,
                f"node '{node.id}': condition `{text}` uses `{{{{…}}}}`, which conditions do not render: it never matches (always {always}); write the bare path, e.g. `entry.x == \"a\"`",
            )
        elif parsed is None:
            self.warn(
                where,
                f"node '{node.id}': condition `{text}` has no operator ({', '.join(o.strip() for o in OPERATORS)}) and is always false",
            )
        elif "'" in parsed.value and parsed.value.startswith("'"):
            self.warn(
                where,
                f"node '{node.id}': condition `{text}`: the runner keeps single quotes, so this compares with the text {parsed.value}; use double quotes",
            )
        elif not parsed.path:
            self.warn(where, f"node '{node.id}': condition `{text}` has nothing left of `{parsed.operator}`: it never matches")


def load_text(text: str, file: str = "flow.ygtc") -> LoadResult:
    """Load one real-shaped flow from text; the flow is None when any error was found."""
    loader = _Loader(file, text)
    flow = loader.load()
    return LoadResult(flow, tuple(loader.problems))


def load_file(path: str | Path, display: str | None = None) -> LoadResult:
    file = display or str(path)
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_FLOW_BYTES + 1)
    except OSError as exc:
        return LoadResult(None, (FlowProblem(Position(file, 1, 1), f"cannot read: {exc.strerror or exc}"),))
    if len(raw) > MAX_FLOW_BYTES:
        return LoadResult(
            None,
            (FlowProblem(Position(file, 1, 1), f"too large: more than {MAX_FLOW_BYTES // 1024:,} KiB (MAX_FLOW_BYTES); split the flow"),),
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return LoadResult(None, (FlowProblem(Position(file, line, 1), "not UTF-8 text; save the file as UTF-8"),))
    return load_text(text, file)
