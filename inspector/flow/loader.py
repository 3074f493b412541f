"""Load `.ygtc` files: YAML with positions, every SPEC §6 validation at `file:line:column`.

An invalid flow is reported and skipped; the others load. `FlowSet.refresh()` reloads the
folder when a file was added, changed or removed.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import BrokenFlow, Flow, FlowProblem, Node, Position, Trigger
from .nodes import NODE_TYPES, LoadContext, Refs

TRIGGER_TYPES = ("event",)
# A flow file is a few KiB; a 10,000-node flow is about 800 KiB. Larger files are refused
# before parsing: the YAML parser needs seconds per MiB and memory many times the text.
MAX_FLOW_BYTES = 1024 * 1024
# YAML nodes a file may hold once its aliases are expanded. PyYAML shares an aliased node,
# but everything that walks the values afterwards (validation, templates, copies per run)
# sees the expansion: nine levels of nine aliases ("billion laughs") make 10^9 nodes.
MAX_EXPANDED_NODES = 500_000
# libyaml composes about ten times faster; the pure-Python parser words its errors the
# way our messages expect, so a file that fails to parse is parsed again with it when small.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
_REPARSE_ERRORS_BELOW = 64 * 1024
_FLOW_KEYS = {"name", "version", "description", "nodes", "triggers"}
_NODE_KEYS = {"id", "type", "config", "next", "to"}
_TRIGGER_KEYS = {"type", "event_type", "target"}
# `event_type: x` anywhere in a file whose YAML does not parse: a broken file still says
# which webhooks it is meant for, so a request for one can name the file (BrokenFlow).
_EVENT_TYPE_KEY = re.compile(r"""["']?\bevent_type["']?[ \t]*:""")
_EVENT_TYPE_TEXT = re.compile(_EVENT_TYPE_KEY.pattern + r"""[ \t]*(?:"([^"\n]+)"|'([^'\n]+)'|([^\s#,{}\[\]"']+))""")


def _scanned_event_types(text: str) -> tuple[str, ...] | None:
    """The trigger event types a text states, read line by line; None when it has an
    `event_type:` key without a value that can be read (code such as `event.event_type` is
    not a key)."""
    found = [next(g for g in m.groups() if g) for m in _EVENT_TYPE_TEXT.finditer(text)]
    if len(found) < len(_EVENT_TYPE_KEY.findall(text)):
        return None
    return tuple(found)


def _tree_event_types(root: yaml.Node) -> tuple[str, ...] | None:
    """The trigger event types of a parsed file, whatever else is wrong with it; None when
    its `triggers` cannot be read."""
    if not isinstance(root, yaml.MappingNode):
        return None
    triggers = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "triggers"), None)
    if triggers is None or (isinstance(triggers, yaml.ScalarNode) and triggers.tag.endswith(":null")):
        return ()  # no triggers: only an async node can call it, and that caller reports it
    if not isinstance(triggers, yaml.SequenceNode):
        return None
    out = []
    for item in triggers.value:
        value = (
            next((v for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value == "event_type"), None)
            if isinstance(item, yaml.MappingNode)
            else None
        )
        if not isinstance(value, yaml.ScalarNode) or not value.value:
            return None
        out.append(value.value)
    return tuple(out)


class _Invalid(Exception):
    """Stops validating one file after errors that make the rest meaningless."""


CONTAINS_ITSELF = -1  # the size _expansion_problem gives a value that contains itself


def _expansion_problem(root: yaml.Node) -> tuple[yaml.Node, int] | None:
    """(the smallest node whose aliases expand past MAX_EXPANDED_NODES, its expanded size),
    or (a node that contains itself through an alias, CONTAINS_ITSELF), or None. Linear in
    the distinct nodes: each is sized once, an alias reuses the size."""
    sizes: dict[int, int] = {}
    # Nodes whose children are being sized. Everything popped while a node is here was pushed
    # after it, so is inside it: meeting it again means it contains itself (`&a [*a]`).
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if not children_done and key in open_:
            return node, CONTAINS_ITSELF
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            sizes[key] = 1
            continue
        if not children_done:
            open_.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_.discard(key)
        size = 1 + sum(sizes.get(id(child), 0) for child in children)
        if size > MAX_EXPANDED_NODES:
            return node, size
        sizes[key] = size
    return None


def _pos(file: str, node: yaml.Node) -> Position:
    mark = node.start_mark
    return Position(file, mark.line + 1, mark.column + 1)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "null": "nothing (null)"}.get(tag, tag)


class _FileLoader:
    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.problems: list[FlowProblem] = []
        self._constructor = yaml.SafeLoader("")
        self._lines: list[str] | None = None
        # What the file would serve once fixed (BrokenFlow); read before validation stops.
        self.event_types: tuple[str, ...] | None = None
        # Every node id the file declares, also of nodes dropped for their own errors: a
        # `next` or `target` naming one is not a second error.
        self._declared: set[str] = set()

    @property
    def lines(self) -> list[str]:
        """The file's lines, split once (block scalars need the indent of their first line)."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def error(self, node_or_pos: Any, message: str) -> None:
        pos = node_or_pos if isinstance(node_or_pos, Position) else _pos(self.file, node_or_pos)
        self.problems.append(FlowProblem(pos, message, "error"))

    def warn(self, node: yaml.Node, message: str) -> None:
        self.problems.append(FlowProblem(_pos(self.file, node), message, "warning"))

    def value(self, node: yaml.Node) -> Any:
        """The plain Python value of a YAML subtree (duplicate keys are checked separately)."""
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """{key: (key node, value node)}; duplicate keys and non-string keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping, found {_kind(node)}")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, f"{what}: keys must be plain names")
                continue
            key = key_node.value
            if key == "<<":
                self.error(key_node, f"{what}: YAML merge keys (<<) are not supported; write the keys out")
                continue
            if key in out:
                first = _pos(self.file, out[key][0])
                self.error(key_node, f"duplicate key '{key}' in {what} (first at line {first.line})")
                continue
            out[key] = (key_node, value_node)
        self._check_nested_duplicates(node)
        return out

    def _check_nested_duplicates(self, node: yaml.Node) -> None:
        # Mappings inside values we take as data (config bodies) must not hide duplicates either.
        stack = [v for _, v in node.value] if isinstance(node, yaml.MappingNode) else []
        while stack:
            n = stack.pop()
            if isinstance(n, yaml.MappingNode):
                seen: dict[str, yaml.Node] = {}
                for k, v in n.value:
                    if isinstance(k, yaml.ScalarNode) and k.value in seen and id(n) not in self._dup_checked:
                        self.error(k, f"duplicate key '{k.value}' (first at line {seen[k.value].start_mark.line + 1})")
                    elif isinstance(k, yaml.ScalarNode):
                        seen[k.value] = k
                    stack.append(v)
                self._dup_checked.add(id(n))
            elif isinstance(n, yaml.SequenceNode):
                stack.extend(n.value)

    _dup_checked: set[int]

    def string(self, node: yaml.Node, what: str, *, allow_numbers: bool = False) -> str | None:
        if isinstance(node, yaml.ScalarNode):
            tag = node.tag.rsplit(":", 1)[-1]
            if tag == "str" or (allow_numbers and tag in ("int", "float")):
                text: str = node.value  # a scalar's value is its text
                return text
        self.error(node, f"{what} must be a string, found {_kind(node)}")
        return None

    # The file

    def load(self) -> Flow | None:
        self._dup_checked = set()
        size = len(self.text.encode("utf-8", "surrogatepass")) if len(self.text) * 4 > MAX_FLOW_BYTES else 0
        if size > MAX_FLOW_BYTES:
            self.error(
                Position(self.file, 1, 1),
                f"too large: {size:,} bytes, more than a flow file may hold "
                f"({MAX_FLOW_BYTES // 1024:,} KiB, MAX_FLOW_BYTES); keep data out of flows and split big ones",
            )
            return None
        try:
            try:
                documents = list(yaml.compose_all(self.text, Loader=_FAST_LOADER or yaml.SafeLoader))
            except yaml.YAMLError:
                if _FAST_LOADER is None or len(self.text) >= _REPARSE_ERRORS_BELOW:
                    raise
                documents = list(yaml.compose_all(self.text, Loader=yaml.SafeLoader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = Position(self.file, mark.line + 1, mark.column + 1) if mark else Position(self.file, 1, 1)
            self.event_types = _scanned_event_types(self.text)
            message = f"YAML syntax error: {exc.problem or exc.context}"
            if "\t" in (exc.problem or "") or "'\\t'" in str(exc):
                message += " (indent with spaces, not tabs)"
            self.error(where, message)
            return None
        except yaml.YAMLError as exc:
            self.event_types = _scanned_event_types(self.text)
            self.error(Position(self.file, 1, 1), f"YAML error: {exc}")
            return None
        if not documents or documents[0] is None:
            self.event_types = ()
            self.error(Position(self.file, 1, 1), "the file is empty; a flow needs at least `nodes:`")
            return None
        if len(documents) > 1:
            self.error(documents[1], "a .ygtc file holds one flow; remove the second YAML document (after ---)")
            return None
        bomb = _expansion_problem(documents[0])
        # Walking an alias bomb's tree is what must not happen; its text says as much.
        self.event_types = _scanned_event_types(self.text) if bomb is not None else _tree_event_types(documents[0])
        if bomb is not None and bomb[1] == CONTAINS_ITSELF:
            self.error(
                bomb[0],
                "this value contains itself through a YAML alias (such as `nodes: &a [*a]`), "
                "so it never ends; write the value out instead of the alias",
            )
            return None
        if bomb is not None:
            node, expanded = bomb
            self.error(
                node,
                f"YAML aliases expand this to more than {MAX_EXPANDED_NODES:,} nodes "
                f'(MAX_EXPANDED_NODES; an alias bomb such as "billion laughs"?); write the values out '
                "or use fewer nested aliases",
            )
            return None
        try:
            return self.flow(documents[0])
        except _Invalid:
            return None

    def flow(self, root: yaml.Node) -> Flow | None:
        top = self.mapping(root, "the flow")
        if top is None:
            raise _Invalid
        for key, (k, _) in top.items():
            if key not in _FLOW_KEYS:
                self.warn(k, f"unknown key '{key}' ignored (known: {', '.join(sorted(_FLOW_KEYS))})")
        name = Path(self.file).stem
        if "name" in top:
            name = self.string(top["name"][1], "name") or name
        version = self.string(top["version"][1], "version", allow_numbers=True) if "version" in top else None
        description = self.string(top["description"][1], "description") if "description" in top else None
        if "nodes" not in top:
            self.error(root, "missing `nodes:` (a list of {id, type, config, next})")
            raise _Invalid
        nodes_node = top["nodes"][1]
        if not isinstance(nodes_node, yaml.SequenceNode):
            self.error(nodes_node, f"`nodes` must be a list, found {_kind(nodes_node)}")
            raise _Invalid
        if not nodes_node.value:
            self.error(nodes_node, "`nodes` is empty; a flow needs at least one node")
            raise _Invalid
        ctx = LoadContext(self.file, self)
        nodes: list[Node] = []
        first_seen: dict[str, Position] = {}
        refs: Refs = []  # (node id named, where, what names it)
        for item in nodes_node.value:
            node = self.node(item, ctx, refs)
            if node is None:
                continue
            if node.id in first_seen:
                self.error(item, f"duplicate node id '{node.id}' (first at line {first_seen[node.id].line})")
                continue
            first_seen[node.id] = node.position
            nodes.append(node)
        triggers: list[Trigger] = []
        if "triggers" in top:
            triggers = self.triggers(top["triggers"][1], refs)
        known = {n.id for n in nodes} | self._declared
        for target, where, what in refs:
            if target not in known and not any(p.severity == "error" and p.position == _pos(self.file, where) for p in self.problems):
                self.error(
                    where, f"{what} '{target}' names no node{_did_you_mean(target, known)} (nodes: {', '.join(sorted(known)) or 'none'})"
                )
        if any(p.severity == "error" for p in self.problems):
            return None
        return Flow(name, self.file, version, description, tuple(nodes), tuple(triggers), _pos(self.file, root))

    def node(self, item: yaml.Node, ctx: LoadContext, refs: Refs) -> Node | None:
        fields = self.mapping(item, "a node")
        if fields is None:
            return None
        for key, (k, _) in fields.items():
            if key not in _NODE_KEYS:
                self.warn(k, f"unknown node key '{key}' ignored (known: {', '.join(sorted(_NODE_KEYS))})")
        if "id" not in fields:
            self.error(item, "node without `id`")
            return None
        node_id = self.string(fields["id"][1], "id", allow_numbers=True)
        if node_id is None:
            return None
        self._declared.add(node_id)
        if "type" not in fields:
            self.error(item, f"node '{node_id}' has no `type` (one of: {', '.join(NODE_TYPES)})")
            return None
        type_node = fields["type"][1]
        type_name = self.string(type_node, "type")
        if type_name is None:
            return None
        node_type = NODE_TYPES.get(type_name)
        if node_type is None:
            self.error(type_node, f"unknown node type '{type_name}'{_did_you_mean(type_name, NODE_TYPES)} (known: {', '.join(NODE_TYPES)})")
            return None
        next_id = None
        if "next" in fields and "to" in fields:
            self.error(fields["to"][0], f"node '{node_id}' has both `next` and `to`; they mean the same, keep one")
        for key in ("next", "to"):
            if key in fields:
                value_node = fields[key][1]
                if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                    continue
                next_id = self.string(value_node, key, allow_numbers=True)
                if next_id is not None:
                    refs.append((next_id, value_node, f"`{key}`"))
        config_fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        config_node = fields["config"][1] if "config" in fields else None
        if config_node is not None and not (isinstance(config_node, yaml.ScalarNode) and config_node.tag.endswith(":null")):
            got = self.mapping(config_node, f"config of node '{node_id}'")
            if got is None:
                return None
            config_fields = got
        config = {key: self.value(v) for key, (_, v) in config_fields.items()}
        position = _pos(self.file, item)
        before = len([p for p in self.problems if p.severity == "error"])
        compiled = node_type.load(node_id, config_fields, config, item, ctx, refs)
        if len([p for p in self.problems if p.severity == "error"]) > before:
            return None
        return Node(node_id, type_name, config, next_id, position, compiled)

    def triggers(self, node: yaml.Node, refs: Refs) -> list[Trigger]:
        if not isinstance(node, yaml.SequenceNode):
            if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
                return []
            self.error(node, f"`triggers` must be a list, found {_kind(node)}")
            return []
        out = []
        for item in node.value:
            fields = self.mapping(item, "a trigger")
            if fields is None:
                continue
            for key, (k, _) in fields.items():
                if key not in _TRIGGER_KEYS:
                    self.warn(k, f"unknown trigger key '{key}' ignored (known: {', '.join(sorted(_TRIGGER_KEYS))})")
            type_name = "event"
            if "type" in fields:
                type_name = self.string(fields["type"][1], "trigger type") or "event"
                if type_name not in TRIGGER_TYPES:
                    self.error(fields["type"][1], f"unknown trigger type '{type_name}' (known: {', '.join(TRIGGER_TYPES)})")
                    continue
            if "event_type" not in fields:
                self.error(item, 'trigger without `event_type` (e.g. "order.created", "order.*" or "*")')
                continue
            event_type = self.string(fields["event_type"][1], "event_type", allow_numbers=True)
            if event_type is None:
                continue
            target = ""
            if "target" in fields:
                target = self.string(fields["target"][1], "target", allow_numbers=True) or ""
                if target:
                    refs.append((target, fields["target"][1], "trigger target"))
            out.append(Trigger.make(type_name, event_type, target, _pos(self.file, item)))
        return out


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def load_file(path: Path, display: str | None = None) -> tuple[Flow | None, list[FlowProblem]]:
    flow, problems, _ = _load_path(path, display)
    return flow, problems


def _load_path(path: Path, display: str | None = None) -> tuple[Flow | None, list[FlowProblem], tuple[str, ...] | None]:
    """(the flow or None, its problems, the event types a file that failed would serve)."""
    file = display or str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FLOW_BYTES + 1)  # never more: the file may be any size
    except OSError as exc:
        return None, [FlowProblem(Position(file, 1, 1), f"cannot read: {exc.strerror or exc}")], None
    if len(raw) > MAX_FLOW_BYTES:
        try:
            size = f"{path.stat().st_size:,} bytes"
        except OSError:
            size = "more bytes"
        return (
            None,
            [
                FlowProblem(
                    Position(file, 1, 1),
                    f"too large: {size}, more than a flow file may hold "
                    f"({MAX_FLOW_BYTES // 1024:,} KiB, MAX_FLOW_BYTES); keep data out of flows and split big ones",
                )
            ],
            None,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [FlowProblem(Position(file, line, 1), "not UTF-8 text; save the file as UTF-8")], None
    loader = _FileLoader(file, text)
    flow = loader.load()
    return flow, loader.problems, loader.event_types


def load_text(text: str, file: str = "flow.ygtc") -> tuple[Flow | None, list[FlowProblem]]:
    loader = _FileLoader(file, text)
    return loader.load(), loader.problems


# A file in Greentic's own shape (issue #20) has `nodes` as a mapping, or a top-level `type`.
# These cheap tests on the text pick the files worth a full parse to tell (detect_shape); a
# documented flow of any size is never parsed twice.
_TOP_TYPE = re.compile(r"^type[ \t]*:", re.MULTILINE)
_TOP_NODES = re.compile(r"^nodes[ \t]*:[ \t]*(\{|(#.*)?$)", re.MULTILINE)
_SIGNIFICANT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


def _maybe_greentic(text: str) -> bool:
    if _TOP_TYPE.search(text):
        return True
    found = _TOP_NODES.search(text)
    if found is None:
        return False
    if found.group(1) == "{":
        return True
    following = _SIGNIFICANT.search(text, found.end())
    return following is not None and not text[following.end() - 1 :].startswith("-")


def _read_text(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_FLOW_BYTES + 1).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def is_greentic_file(path: Path) -> bool:
    """Whether a `.ygtc` file is in Greentic's own shape (the other loader reads it)."""
    text = _read_text(path)
    if text is None or len(text) > MAX_FLOW_BYTES or not _maybe_greentic(text):
        return False
    from ..greentic.document import detect_shape

    return detect_shape(text) == "greentic"


# What else decides how a folder loads: a pack's manifest, sidecars, mocks (issue #20).
_GREENTIC_SUFFIXES = (".resolve.json", ".resolve.summary.json")

# What the folder looked like at the last load: (path, mtime in ns, size) of every watched file.
Stamp = tuple[tuple[str, int, int], ...]


@dataclass
class FlowSet:
    """Every flow of a folder, in file order, with what went wrong loading them.

    Flows in Greentic's own shape (issue #20) load beside the documented ones into `greentic`
    (an `inspector.greentic.pack.Bundle`): `*.ygtc` files whose shape says so, or every flow a
    source pack lists when the folder has a `pack.yaml`, with sidecars and `mocks.yaml`. Their
    problems are in `problems` with the others."""

    directory: Path | None
    flows: list[Flow] = field(default_factory=list)
    problems: list[FlowProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    broken: list[BrokenFlow] = field(default_factory=list)  # files skipped, for `broken_for`
    _stamp: Stamp = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    generation: int = 0
    greentic: Any = None  # inspector.greentic.pack.Bundle, or None when no such flow is there

    @classmethod
    def load(cls, directory: str | Path | None) -> FlowSet:
        fs = cls(Path(directory) if directory else None)
        fs.reload()
        return fs

    @property
    def errors(self) -> list[FlowProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[FlowProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def is_pack(self) -> bool:
        return self.directory is not None and (self.directory / "pack.yaml").is_file()

    @property
    def greentic_flows(self) -> list[Any]:
        """The loaded flows in Greentic's shape (`inspector.greentic.document.Flow`)."""
        return list(self.greentic.flows.values()) if self.greentic is not None else []

    @property
    def loaded(self) -> int:
        """How many flows loaded, of both shapes (what `serve`, `check` and the TUI count)."""
        return len(self.flows) + (len(self.greentic.flows) if self.greentic is not None else 0)

    def _paths(self) -> list[Path]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.ygtc") if p.is_file())

    def _watched(self) -> list[Path]:
        """Every file whose change reloads the set: the flows, and a pack's manifest, its flow
        files wherever they are, their sidecars and mocks.yaml."""
        if self.directory is None or not self.directory.is_dir():
            return []
        if self.is_pack:
            found = [p for p in self.directory.rglob("*") if p.suffix in (".ygtc", ".json") and p.is_file()]
            found.append(self.directory / "pack.yaml")
        else:
            found = self._paths() + [p for p in self.directory.glob("*.ygtc.resolve*.json") if p.is_file()]
        found.append(self.directory / "mocks.yaml")
        return sorted(found)

    def _current_stamp(self) -> Stamp:
        out: list[tuple[str, int, int]] = []
        for p in self._watched():
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def changed(self) -> bool:
        return self._current_stamp() != self._stamp

    def refresh(self) -> bool:
        """Reload when the folder changed; True when it did."""
        if not self.changed():
            return False
        self.reload()
        return True

    def reload(self) -> None:
        stamp = self._current_stamp()
        flows: list[Flow] = []
        problems: list[FlowProblem] = []
        files: list[str] = []
        broken: list[BrokenFlow] = []
        names: dict[str, Flow] = {}
        greentic_paths: list[Path] = []
        pack = self.is_pack
        for path in [] if pack else self._paths():
            display = os.path.relpath(path) if not path.is_absolute() or str(path).startswith(os.getcwd()) else str(path)
            files.append(display)
            if is_greentic_file(path):
                greentic_paths.append(path)
                continue
            flow, found, event_types = _load_path(path, display)
            problems.extend(found)
            if flow is None:
                first = next((p for p in found if p.severity == "error"), None)
                if first is not None:
                    broken.append(BrokenFlow(display, first, event_types))
                continue
            if flow.name in names:
                duplicate = FlowProblem(
                    flow.position, f"duplicate flow name '{flow.name}' (also in {names[flow.name].file}); this file is skipped"
                )
                problems.append(duplicate)
                broken.append(BrokenFlow(display, duplicate, tuple(t.event_type for t in flow.triggers)))
                continue
            names[flow.name] = flow
            flows.append(flow)
        # Cross-flow references: an async node naming no flow still loads (its other paths
        # work) but is an error for `check` and fails in the trace when reached.
        for flow in flows:
            for node in flow.nodes:
                target = node.compiled.get("flow_name") if isinstance(node.compiled, dict) else None
                if target is not None and target not in names and "{{" not in target:
                    problems.append(
                        FlowProblem(
                            node.compiled["flow_position"],
                            f"async node '{node.id}' calls flow '{target}', which is not loaded{_did_you_mean(target, names)} (flows: {', '.join(names) or 'none'})",
                        )
                    )
        bundle = None
        if self.directory is not None and (pack or greentic_paths):
            from ..greentic.pack import load_bundle

            bundle = load_bundle(self.directory, only=None if pack else greentic_paths)
            problems.extend(bundle.problems)
            if pack:
                files.extend(f.file for f in bundle.flows.values())
        with self._lock:
            self.flows, self.problems, self.files, self.broken, self._stamp = flows, problems, files, broken, stamp
            self.greentic = bundle
            self.generation += 1

    def greentic_flow(self, flow_id: str) -> Any:
        """The Greentic-shaped flow with this id (`inspector.greentic.document.Flow`), or None."""
        return self.greentic.flows.get(flow_id) if self.greentic is not None else None

    def by_name(self, name: str) -> Flow | None:
        for f in self.flows:
            if f.name == name:
                return f
        return None

    def broken_for(self, event_type: str) -> list[BrokenFlow]:
        """The files that failed to load and may be meant for `event_type` (BrokenFlow)."""
        return [b for b in self.broken if b.may_serve(event_type)]

    def triggered(self, event_type: str) -> list[tuple[Flow, Trigger]]:
        out = []
        for flow in self.flows:
            trigger = flow.trigger_for(event_type)
            if trigger is not None:
                out.append((flow, trigger))
        return out
