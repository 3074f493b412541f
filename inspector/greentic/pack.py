"""Source packs and flow folders (docs/greentic-shape.md §5): `pack.yaml` lists the flows, each
`flows/<name>.ygtc.resolve.json` sidecar says which WebAssembly component a node runs, and an
optional `mocks.yaml` says what those nodes return here.

    bundle = load_bundle("path/to/pack")      # a pack (pack.yaml) or a folder of .ygtc files
    bundle.flows["default"], bundle.component("default", "notify"), bundle.problems
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from ..flow.loader import _did_you_mean, _kind, _pos
from ..flow.model import FlowProblem, Position
from . import yaml12
from .document import Flow, detect_file, load_file
from .mocks import MOCKS_FILE, Mocks, load_mocks

__all__ = [
    "PACK_FILE",
    "SOURCE_KINDS",
    "Bundle",
    "ComponentRef",
    "Pack",
    "PackFlow",
    "component_name",
    "is_pack",
    "load_bundle",
    "load_pack_manifest",
    "load_sidecar",
]

PACK_FILE = "pack.yaml"
#: The component source kinds a sidecar may name.
SOURCE_KINDS = ("local", "repo", "oci", "store")
_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ComponentRef:
    """Which component a node runs, as its sidecar says; `name` is what a trace shows."""

    node_id: str
    kind: str
    ref: str
    name: str
    position: Position
    digest: str | None = None
    component_id: str | None = None  # from the `.resolve.summary.json`, when there is one


@dataclass(frozen=True)
class PackFlow:
    """One `flows:` entry of pack.yaml."""

    id: str
    file: str
    entrypoints: tuple[str, ...]
    tags: tuple[str, ...]
    position: Position
    subscribes_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pack:
    root: str
    pack_id: str | None
    version: str | None
    kind: str | None
    name: str | None
    flows: tuple[PackFlow, ...]
    position: Position


@dataclass(frozen=True)
class Bundle:
    """The flows a folder or pack holds (by id, in file or pack order), the components their
    sidecars name, the mocks, and every problem found loading them."""

    root: str
    kind: Literal["pack", "folder"]
    flows: dict[str, Flow]
    components: dict[str, dict[str, ComponentRef]]
    mocks: Mocks
    problems: tuple[FlowProblem, ...]
    pack: Pack | None = None
    documented_files: tuple[str, ...] = ()  # files in the documented shape, for the other loader

    def component(self, flow_id: str, node_id: str) -> ComponentRef | None:
        return self.components.get(flow_id, {}).get(node_id)

    @property
    def errors(self) -> tuple[FlowProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[FlowProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def is_pack(folder: str | Path) -> bool:
    return (Path(folder) / PACK_FILE).is_file()


def component_name(source: dict[str, Any]) -> str:
    """The name to show for a sidecar source: a local path's folder (`…/templating.handlebars/component.wasm`)
    or file stem, else the ref's last segment without `:tag` or `@version`."""
    ref = str(source.get("path") or source.get("ref") or "")
    if source.get("kind") == "local":
        path = Path(ref.removeprefix("file://"))
        if path.stem == "component" and path.parent.name not in ("", ".", ".."):
            return path.parent.name
        return path.stem or ref
    last = ref.rstrip("/").rsplit("/", 1)[-1]
    for mark in ("@", ":"):
        if mark in last:
            last = last.split(mark, 1)[0]
    return last or ref


# ---------------------------------------------------------------- small YAML/JSON reading with positions


class _Reader:
    def __init__(self, file: str, problems: list[FlowProblem]) -> None:
        self.file = file
        self.problems = problems

    def value(self, node: yaml.Node) -> Any:
        try:
            return yaml12.construct(node)
        except yaml12.NotJson as exc:
            self.error(exc.node, str(exc))
            return None

    def error(self, where: yaml.Node | Position, message: str, severity: str = "error") -> None:
        self.problems.append(FlowProblem(where if isinstance(where, Position) else _pos(self.file, where), message, severity))

    def compose(self, text: str, is_json: bool) -> yaml.Node | None:
        if is_json:
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                self.error(Position(self.file, exc.lineno, exc.colno), f"JSON syntax error: {exc.msg}")
                return None
        try:
            root = yaml12.compose(text)
            if root is not None:
                yaml12.check_tree(root)
            return root
        except yaml12.NotJson as exc:
            self.error(exc.node, str(exc))
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            if is_json:  # valid JSON that YAML cannot read: positions are lost, values are not
                return yaml12.compose(json.dumps(json.loads(text)))
            self.error(
                Position(self.file, mark.line + 1, mark.column + 1) if mark else Position(self.file, 1, 1),
                f"YAML syntax error: {exc.problem or exc.context}",
            )
        except yaml.YAMLError as exc:
            self.error(Position(self.file, 1, 1), f"YAML error: {exc}")
        return None

    def fields(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping, found {_kind(node)}")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in out:
                    self.error(k, f"duplicate key '{k.value}' in {what}; keep one")
                    continue
                out[k.value] = (k, v)
        return out

    def string(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null") and not isinstance(node, yaml.MappingNode):
            if node.tag.endswith((":str", ":int", ":float")):
                return str(node.value)
        self.error(node, f"{what} must be a string, found {_kind(node)}")
        return None

    def strings(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        value = self.value(node)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(node, f"{what} must be a list of strings")
            return ()
        return tuple(value)


def _read(path: Path, file: str, problems: list[FlowProblem]) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(FlowProblem(Position(file, 1, 1), f"cannot read: {exc.strerror or exc}"))
        return None
    if len(raw) > _MAX_BYTES:
        problems.append(FlowProblem(Position(file, 1, 1), f"too large: more than {_MAX_BYTES // 1024:,} KiB"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(FlowProblem(Position(file, raw[: exc.start].count(b"\n") + 1, 1), "not UTF-8 text; save the file as UTF-8"))
        return None


# ---------------------------------------------------------------- pack.yaml


def load_pack_manifest(folder: str | Path, display: str | None = None) -> tuple[Pack | None, list[FlowProblem]]:
    """pack.yaml: `pack_id`, `version`, `kind`, and `flows: [{id, file, entrypoints, tags}]`."""
    root = Path(folder)
    file = display or str(root / PACK_FILE)
    problems: list[FlowProblem] = []
    text = _read(root / PACK_FILE, file, problems)
    if text is None:
        return None, problems
    reader = _Reader(file, problems)
    node = reader.compose(text, False)
    if node is None:
        if not problems:
            reader.error(Position(file, 1, 1), "pack.yaml is empty; it needs `pack_id` and `flows: [{id, file}]`")
        return None, problems
    top = reader.fields(node, "pack.yaml")
    if top is None:
        return None, problems
    labels: dict[str, str | None] = {}
    for key in ("pack_id", "version", "kind", "name"):
        labels[key] = reader.string(top[key][1], f"`{key}`") if key in top else None
    if "pack_id" not in top:
        reader.error(node, "pack.yaml has no `pack_id` (e.g. `pack_id: acme.orders`)", "warning")
    flows: list[PackFlow] = []
    if "flows" not in top:
        reader.error(node, "pack.yaml has no `flows:`; list them as `flows: [{id: default, file: flows/default.ygtc}]`")
    elif not isinstance(top["flows"][1], yaml.SequenceNode):
        reader.error(top["flows"][1], f"`flows` must be a list of {{id, file}}, found {_kind(top['flows'][1])}")
    else:
        seen: dict[str, Position] = {}
        for item in top["flows"][1].value:
            entry = reader.fields(item, "a `flows` entry")
            if entry is None:
                continue
            if "id" not in entry or "file" not in entry:
                reader.error(item, "a `flows` entry needs `id` and `file` (e.g. `{id: default, file: flows/default.ygtc}`)")
                continue
            flow_id = reader.string(entry["id"][1], "`id`")
            flow_file = reader.string(entry["file"][1], "`file`")
            if flow_id is None or flow_file is None:
                continue
            if flow_id in seen:
                reader.error(entry["id"][1], f"flow id '{flow_id}' is listed twice (first at line {seen[flow_id].line}); keep one")
                continue
            seen[flow_id] = _pos(file, item)
            entrypoints = reader.strings(entry["entrypoints"][1], "`entrypoints`") if "entrypoints" in entry else ()
            tags = reader.strings(entry["tags"][1], "`tags`") if "tags" in entry else ()
            subscribes = reader.strings(entry["subscribes_to"][1], "`subscribes_to`") if "subscribes_to" in entry else ()
            flows.append(PackFlow(flow_id, flow_file, entrypoints, tags, _pos(file, item), subscribes))
    pack = Pack(str(root), labels["pack_id"], labels["version"], labels["kind"], labels["name"], tuple(flows), _pos(file, node))
    return pack, problems


# ---------------------------------------------------------------- sidecars


def load_sidecar(path: str | Path, flow: Flow | None, display: str | None = None) -> tuple[dict[str, ComponentRef], list[FlowProblem]]:
    """A `*.ygtc.resolve.json`: node id → the component it runs. Its `.resolve.summary.json`,
    when present, adds each node's `component_id`."""
    sidecar = Path(path)
    file = display or str(sidecar)
    problems: list[FlowProblem] = []
    text = _read(sidecar, file, problems)
    if text is None:
        return {}, problems
    reader = _Reader(file, problems)
    node = reader.compose(text, True)
    if node is None:
        return {}, problems
    top = reader.fields(node, "the sidecar")
    if top is None:
        return {}, problems
    if "nodes" not in top:
        reader.error(node, 'the sidecar has no `nodes` (`{"nodes": {"<node id>": {"source": {"kind": "local", "path": "…"}}}}`)')
        return {}, problems
    nodes = reader.fields(top["nodes"][1], "`nodes`")
    summary = _summary_ids(sidecar.with_name(sidecar.name.removesuffix(".json") + ".summary.json"))
    known = flow.node_ids if flow is not None else ()
    out: dict[str, ComponentRef] = {}
    for node_id, (key, value) in (nodes or {}).items():
        if flow is not None and node_id not in known:
            reader.error(
                key,
                f"the sidecar maps node '{node_id}', which flow '{flow.id}' does not have{_did_you_mean(node_id, known)}; remove it or re-run `greentic-pack resolve`",
                "warning",
            )
        entry = reader.fields(value, f"sidecar entry '{node_id}'")
        if entry is None:
            continue
        if "source" not in entry:
            reader.error(value, f"sidecar entry '{node_id}' has no `source` ({{kind, path|ref}})")
            continue
        source_node = entry["source"][1]
        source = reader.value(source_node)
        if not isinstance(source, dict):
            reader.error(source_node, f"`source` of '{node_id}' must be a mapping, found {_kind(source_node)}")
            continue
        kind = source.get("kind")
        if kind not in SOURCE_KINDS:
            reader.error(source_node, f"`source.kind` of '{node_id}' must be one of {', '.join(SOURCE_KINDS)}, found {kind!r}")
            continue
        ref_key = "path" if kind == "local" else "ref"
        ref = source.get(ref_key)
        if not isinstance(ref, str) or not ref:
            reader.error(source_node, f"the `{kind}` source of '{node_id}' needs `{ref_key}`")
            continue
        if kind == "local" and not (sidecar.parent / ref.removeprefix("file://")).exists():
            reader.error(
                source_node,
                f"component file '{ref}' of node '{node_id}' does not exist (paths are relative to the flow's folder); the node is mocked anyway",
                "warning",
            )
        component_id = summary.get(node_id)
        out[node_id] = ComponentRef(
            node_id, kind, ref, component_id or component_name(source), _pos(file, key), source.get("digest"), component_id
        )
    return out, problems


def _summary_ids(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, dict):
        return {}
    return {k: v["component_id"] for k, v in nodes.items() if isinstance(v, dict) and isinstance(v.get("component_id"), str)}


# ---------------------------------------------------------------- bundles


def _display(path: Path) -> str:
    """Relative to the working folder when inside it (as the documented loader names files)."""
    absolute = path.absolute()
    cwd = Path.cwd()
    return os.path.relpath(absolute, cwd) if absolute.is_relative_to(cwd) else str(absolute)


def load_bundle(folder: str | Path, only: list[Path] | None = None) -> Bundle:
    """Every real-shaped flow of a pack (the files pack.yaml lists) or a folder (`*.ygtc` in
    the real shape; documented-shape files are listed in `documented_files` for the other
    loader), their sidecars and `mocks.yaml`. `only`: in a folder, load just these files
    (the caller has told the shapes apart already)."""
    root = Path(folder)
    problems: list[FlowProblem] = []
    flows: dict[str, Flow] = {}
    components: dict[str, dict[str, ComponentRef]] = {}
    documented: list[str] = []
    pack: Pack | None = None
    entries: list[tuple[Path, PackFlow | None]]
    if is_pack(root):
        pack, found = load_pack_manifest(root, _display(root / PACK_FILE))
        problems.extend(found)
        entries = [(root / pf.file, pf) for pf in pack.flows] if pack is not None else []
        kind: Literal["pack", "folder"] = "pack"
    else:
        entries = [(p, None) for p in (sorted(root.glob("*.ygtc")) if only is None else only) if p.is_file()]
        kind = "folder"
    for path, pack_flow in entries:
        display = _display(path)
        if pack_flow is not None and not path.is_file():
            problems.append(
                FlowProblem(
                    pack_flow.position,
                    f"flow '{pack_flow.id}' names file '{pack_flow.file}', which does not exist (paths are relative to pack.yaml)",
                )
            )
            continue
        if pack_flow is None and only is None and detect_file(path) == "documented":
            documented.append(display)
            continue
        result = load_file(path, display)
        problems.extend(result.problems)
        flow = result.flow
        if flow is None:
            continue
        if pack_flow is not None and pack_flow.id != flow.id:
            problems.append(
                FlowProblem(
                    flow.position,
                    f"pack.yaml lists this file as flow '{pack_flow.id}' but its `id` is '{flow.id}'; `flow.call` and the ingress use '{flow.id}'",
                    "warning",
                )
            )
        if flow.id in flows:
            problems.append(
                FlowProblem(flow.position, f"duplicate flow id '{flow.id}' (also in {flows[flow.id].file}); this file is skipped")
            )
            continue
        flows[flow.id] = flow
        sidecar = path.with_name(path.name + ".resolve.json")
        if sidecar.is_file():
            mapped, found = load_sidecar(sidecar, flow, _display(sidecar))
            problems.extend(found)
            components[flow.id] = mapped
    mocks_path = root / MOCKS_FILE
    mocks, found = load_mocks(mocks_path, _display(mocks_path))
    problems.extend(found)
    for (flow_id, node_id), mock in mocks.entries.items():
        flow = flows.get(flow_id)
        if flow is None:
            problems.append(
                FlowProblem(mock.position, f"mock for flow '{flow_id}', which is not loaded{_did_you_mean(flow_id, flows)}", "warning")
            )
        elif flow.node(node_id) is None:
            problems.append(
                FlowProblem(
                    mock.position,
                    f"mock for node '{node_id}', which flow '{flow_id}' does not have{_did_you_mean(node_id, flow.node_ids)}",
                    "warning",
                )
            )
    _check_calls(flows, problems)
    return Bundle(str(root), kind, flows, components, mocks, tuple(problems), pack, tuple(documented))


def _check_calls(flows: dict[str, Flow], problems: list[FlowProblem]) -> None:
    """A `flow.call`/`flow.goto` naming a flow that is not loaded (a literal id only)."""
    for flow in flows.values():
        for node in flow.nodes:
            if node.operation not in ("flow.call", "flow.goto") or not isinstance(node.config, dict):
                continue
            target = node.config.get("flow_id", node.config.get("flow"))
            if isinstance(target, str) and "{{" not in target and target not in flows:
                problems.append(
                    FlowProblem(
                        node.key_position(node.operation),
                        f"node '{node.id}' calls flow '{target}', which is not in this folder or pack{_did_you_mean(target, flows)} (flows: {', '.join(flows) or 'none'})",
                    )
                )
            elif target is None:
                problems.append(
                    FlowProblem(node.key_position(node.operation), f"node '{node.id}': `{node.operation}` needs `flow_id: <flow id>`")
                )
