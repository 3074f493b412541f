"""The node types (SPEC §6). A new type is one class here, registered with `@node_type`.

Each type validates and compiles its `config` at load time (errors with positions in the
.ygtc file) and runs against a `StepContext` at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from .. import script
from ..script import ScriptError
from ..script.values import json_size_at_least, type_name
from .model import Node, Position
from .runs import Decision

_new_decision: Callable[..., Decision] = Decision._draft  # type: ignore[attr-defined]  # see runs._quick_init

if TYPE_CHECKING:  # pragma: no cover
    from .loader import _FileLoader
    from .runs import Step

NODE_TYPES: dict[str, NodeType] = {}

# A compiled part of a config value: (scope, limits) -> its value.
Render = Callable[[dict[str, Any], Any], Any]
# A node's config as the loader reads it: {key: (key node, value node)}.
Fields = dict[str, tuple[yaml.Node, yaml.Node]]
# The node ids a node refers to, for the loader to check: (id, where it is written, what it is).
Refs = list[tuple[str, yaml.Node, str]]


_Type = TypeVar("_Type", bound="type[NodeType]")


def node_type(cls: _Type) -> _Type:
    NODE_TYPES[cls.name] = cls()
    return cls


# Compiling code and templates with positions in the .ygtc file


def _offsets(node: yaml.ScalarNode, text: str, source_lines: list[str] | None = None) -> tuple[int, int, bool]:
    """(line_offset, column_offset, indent_all_lines) so that positions inside a scalar's
    text map to the file. `source_lines` are the file's lines, split once per file (the C
    parser's marks carry no buffer, and splitting it per scalar is quadratic)."""
    mark = node.start_mark
    if node.style in ("|", ">"):
        indent = 0
        lines = source_lines if source_lines is not None else mark.buffer.splitlines() if mark.buffer else []
        for raw in lines[mark.line + 1 :]:
            if raw.strip():
                indent = len(raw) - len(raw.lstrip(" "))
                break
        return mark.line + 1, indent, True
    quoted = 1 if node.style in ("'", '"') else 0
    return mark.line, mark.column + quoted, False


# How the JSON size of a rendered value (as script.values.json_size_at_least counts it) is
# known without walking all of it: (the size of its fixed parts, the keys or indexes of the
# parts rendered at run time). None: only a walk tells.
Sizing = tuple[int, tuple[Any, ...]] | None


class Renderable:
    """A config value whose strings may hold `{{ }}` templates, compiled once."""

    __slots__ = ("build", "static", "sizing")

    def __init__(self, build: Render, static: bool, sizing: Sizing = None) -> None:
        self.build = build
        self.static = static
        self.sizing = sizing

    def render(self, scope: dict[str, Any], limits: Any = None) -> Any:
        return self.build(scope, limits)


@dataclass
class LoadContext:
    file: str
    loader: _FileLoader

    def program(self, node: yaml.Node, what: str, *, expression: bool = False) -> script.Program | None:
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":str"):
            self.loader.error(node, f"{what} must be a string of code")
            return None
        text = node.value
        line_offset, column_offset, indent_all = _offsets(node, text, self.loader.lines)
        compile_ = script.compile_expression if expression else script.compile
        try:
            return compile_(text, self.file, line_offset, column_offset, indent_all_lines=indent_all)
        except ScriptError as exc:
            self.loader.error(Position(self.file, exc.line or 1, exc.column or 1), f"{what}: {exc.message}")
            return None

    def renderable(self, node: yaml.Node, what: str) -> Renderable | None:
        """Compile every `{{ }}` inside a config value; None (and an error) when one is bad."""
        ok = True
        top: list[tuple[Any, Any]] | None = None  # the parts of `node` when it is a mapping or a list

        def build(n: yaml.Node) -> Render | Any:
            nonlocal ok, top
            if isinstance(n, yaml.MappingNode):
                items = [(k.value, build(v)) for k, v in n.value]
                if n is node:
                    top = items
                if all(not callable(v) for _, v in items):
                    return {k: v for k, v in items}
                return _render_mapping(items)
            if isinstance(n, yaml.SequenceNode):
                items2 = [build(v) for v in n.value]
                if n is node:
                    top = list(enumerate(items2))
                if all(not callable(v) for v in items2):
                    return items2
                return _render_sequence(items2)
            value = self.loader.value(n)
            if isinstance(value, str) and "{{" in value and isinstance(n, yaml.ScalarNode):
                line_offset, column_offset, indent_all = _offsets(n, value, self.loader.lines)
                try:
                    template = script.compile_template(value, self.file, line_offset, column_offset, indent_all_lines=indent_all)
                except ScriptError as exc:
                    self.loader.error(Position(self.file, exc.line or 1, exc.column or 1), f"{what}: template: {exc.message}")
                    ok = False
                    return value
                # (scope, limits) -> value; a lone `{{ expr }}` is its program's value.
                return template.parts[0].evaluate if template.whole else template.render
            if not _json_safe(value):
                self.loader.error(
                    n, f"{what}: {type(value).__name__} values are not supported; use strings, numbers, booleans, lists and mappings"
                )
                ok = False
            return value

        built = build(node)
        if not ok:
            return None
        if callable(built):
            return Renderable(built, False, None if top is None else _sizing(top, isinstance(node, yaml.MappingNode)))
        return Renderable(_constant(built), True, (json_size_at_least(built, 1 << 62)[0], ()))


def _sizing(parts: list[tuple[Any, Any]], mapping: bool) -> Sizing:
    """The Sizing of a mapping's or list's rendered value from its parts ((key or index,
    value or renderer)): its frame (brackets, commas, quoted keys and colons) and fixed
    values counted as json_size_at_least counts them, the rendered parts left for run time."""
    if mapping and len({k for k, _ in parts}) != len(parts):
        return None  # a repeated key: the last one wins, the parts do not add up
    fixed = 1 + len(parts)
    if mapping:
        fixed += sum(len(k) + 3 for k, _ in parts)
    for _, value in parts:
        if not callable(value):
            fixed += json_size_at_least(value, 1 << 62)[0]
    return fixed, tuple(k for k, value in parts if callable(value))


def _constant(value: Any) -> Render:
    """A static config value's renderer: a fresh copy each time (a run may change it). A
    flat list or map (the usual static answer body, `{ok: true}`) is copied in one C call
    rather than walked in Python."""
    kind = type(value)
    if (kind is dict or kind is list) and not any(type(v) is dict or type(v) is list for v in (value.values() if kind is dict else value)):
        shallow = value.copy

        def render_flat(scope: dict[str, Any], limits: Any) -> Any:
            return shallow()

        return render_flat

    def render(scope: dict[str, Any], limits: Any) -> Any:
        return _copy(value)

    return render


# How a part of a config value is rendered: 0 as is (immutable), 1 called, 2 copied.
def _kind(value: Any) -> int:
    if callable(value):
        return 1
    return 2 if type(value) in (dict, list) else 0


def _render_mapping(items: list[tuple[str, Any]]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    parts = tuple((k, v, _kind(v)) for k, v in items)

    def render(scope: dict[str, Any], limits: Any) -> dict[str, Any]:
        out = {}
        for k, v, kind in parts:
            out[k] = v if kind == 0 else v(scope, limits) if kind == 1 else _copy(v)
        return out

    return render


def _render_sequence(items: list[Any]) -> Callable[[dict[str, Any], Any], list[Any]]:
    parts = tuple((v, _kind(v)) for v in items)

    def render(scope: dict[str, Any], limits: Any) -> list[Any]:
        return [v if kind == 0 else v(scope, limits) if kind == 1 else _copy(v) for v, kind in parts]

    return render


def _json_safe(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


def _copy(value: Any) -> Any:
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


# Running


class StepFailed(Exception):
    """A node failed; carries the message and, for code, its position."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, logs: list[str] | None = None):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column
        self.logs = logs or []

    @classmethod
    def from_script(cls, exc: ScriptError, what: str = "") -> StepFailed:
        prefix = f"{what}: " if what else ""
        return cls(prefix + exc.message, exc.line, exc.column, list(exc.logs))


class StepContext:
    """What a node sees and may do while it runs. The engine makes one per run (a subclass
    that implements `answer` and `queue_async`): methods of the context rather than closures
    given to it, so that a run allocates one object instead of a context, two closures and
    the cells they share."""

    __slots__ = ("scope", "flow_name", "depth", "logs", "limits", "offered_body", "offered_size")

    scope: dict[str, Any]
    flow_name: str
    depth: int  # how many async calls deep the run is
    logs: list[str]  # a step that logs leaves this list in the trace; the next one gets a new list
    limits: Any  # script.Limits for this run (None: the defaults)
    # What `answer` last measured: the body it was given and its JSON size at least, so the
    # step's output, which holds that body, is not measured again.
    offered_body: Any
    offered_size: int

    def answered(self) -> bool:
        """The request already has its answer."""
        raise NotImplementedError

    def answer(self, response: dict[str, Any], body_size: int | None = None) -> bool:
        """Offer `response` as the request's answer; True when it answered. `body_size`:
        the body's JSON size as json_size_at_least counts it, when the caller knows it."""
        raise NotImplementedError

    def queue_async(self, flow: str, payload: Any, state: dict[str, Any]) -> None:
        """Queue a run of `flow` to start once the request is answered."""
        raise NotImplementedError


# What a node's step gives the engine, as a plain tuple (one is made per step, and a tuple
# costs a fraction of an object with named fields):
#   (output, next node id or None, status, decision, size)
# `decision`: a branch's conditions tried (Decisions), else None. `size`: the output's JSON
# size as script.values.json_size_at_least counts it, when the node type knows it without
# walking the output (None: the engine measures it).
StepOutcome = tuple[Any, "str | None", str, Any, "int | None"]
# A node prepared to run: called with the run's context, gives its StepOutcome.
StepRunner = Callable[["StepContext"], StepOutcome]


@dataclass(frozen=True, slots=True)
class StepView:
    """How a step reads in the flow tree, the debugger and the printer, as its node type
    sees it: a word of its own (`answered 200`), and whether its output is worth showing
    (a branch's output repeats its decision)."""

    note: str | None = None
    tone: str = ""  # "ok" | "warn" | "": how the note is coloured
    shows_output: bool = True
    answered: bool | None = None  # for a node that can answer the sender: whether it did


_PLAIN = StepView()


class NodeType:
    name: str = ""
    config_keys: frozenset[str] = frozenset()

    def programs(self, node: Node) -> list[Any]:
        """The compiled programs of a loaded node, for `check`'s warnings."""
        return []

    def source(self, node: Node) -> tuple[str, str] | None:
        """(language, text) of the code the debugger shows for the node, when it is code."""
        return None

    def describe(self, step: Step) -> StepView:
        """How one of this type's steps reads (see StepView)."""
        return _PLAIN

    def load(self, node_id: str, fields: Fields, config: dict[str, Any], item: yaml.Node, ctx: LoadContext, refs: Refs) -> Any:
        for key, (k, _) in fields.items():
            if key not in self.config_keys:
                ctx.loader.warn(
                    k, f"unknown config key '{key}' for a {self.name} node (known: {', '.join(sorted(self.config_keys)) or 'none'})"
                )
        return None

    def runner(self, node: Node) -> StepRunner:
        """`node` prepared to run, once per loaded flow: a function of the run's context
        with what the node needs already looked up (see Flow.plan)."""
        return partial(self.run, node)

    def run(self, node: Node, ctx: StepContext) -> StepOutcome:  # pragma: no cover - abstract
        raise NotImplementedError


@node_type
class ScriptNode(NodeType):
    name = "script"
    config_keys = frozenset({"script"})

    def load(self, node_id: str, fields: Fields, config: dict[str, Any], item: yaml.Node, ctx: LoadContext, refs: Refs) -> Any:
        super().load(node_id, fields, config, item, ctx, refs)
        if "script" not in fields:
            ctx.loader.error(item, f"script node '{node_id}' has no `config.script`")
            return None
        return ctx.program(fields["script"][1], "script")

    def programs(self, node: Node) -> list[Any]:
        return [] if node.compiled is None else [node.compiled]

    def source(self, node: Node) -> tuple[str, str] | None:
        text = (node.config or {}).get("script")
        return ("rust", text.rstrip("\n")) if isinstance(text, str) else None

    def runner(self, node: Node) -> StepRunner:
        program = node.compiled
        next_id = node.next
        if program.silent:
            # Its value is all a run gives: no RunResult to make and take apart again.
            evaluate = program.evaluate

            def silent_step(ctx: StepContext) -> StepOutcome:
                try:
                    value = evaluate(ctx.scope, ctx.limits)
                except ScriptError as exc:
                    raise StepFailed.from_script(exc) from None
                return (value, next_id, "ok", None, None)

            return silent_step
        run = program.run

        def step(ctx: StepContext) -> StepOutcome:
            try:
                value, logs = run(ctx.scope, ctx.limits)  # a RunResult
            except ScriptError as exc:
                raise StepFailed.from_script(exc) from None
            if logs:
                ctx.logs.extend(logs)
            return (value, next_id, "ok", None, None)

        return step


@node_type
class BranchNode(NodeType):
    name = "branch"
    config_keys = frozenset({"conditions", "default"})

    def load(self, node_id: str, fields: Fields, config: dict[str, Any], item: yaml.Node, ctx: LoadContext, refs: Refs) -> Any:
        super().load(node_id, fields, config, item, ctx, refs)
        loader = ctx.loader
        conditions: list[tuple[str, script.Program, str, tuple[int, int]]] = []
        if "conditions" in fields:
            seq = fields["conditions"][1]
            if not isinstance(seq, yaml.SequenceNode):
                loader.error(seq, "`conditions` must be a list of {expression, next}")
                return None
            for cond in seq.value:
                parts = loader.mapping(cond, "a condition")
                if parts is None:
                    continue
                for key, (k, _) in parts.items():
                    if key not in ("expression", "next", "to"):
                        loader.warn(k, f"unknown condition key '{key}' ignored (known: expression, next)")
                if "expression" not in parts:
                    loader.error(cond, "condition without `expression`")
                    continue
                if "next" in parts and "to" in parts:
                    loader.error(parts["to"][0], "condition has both `next` and `to`; keep one")
                    continue
                target_key = "next" if "next" in parts else "to" if "to" in parts else None
                if target_key is None:
                    loader.error(cond, "condition without `next` (the node to go to when it is true)")
                    continue
                target = loader.string(parts[target_key][1], target_key, allow_numbers=True)
                expr_node = parts["expression"][1]
                program = ctx.program(expr_node, "condition", expression=True)
                # (a program comes only from a scalar: the isinstance is for the type checker)
                if target is None or program is None or not isinstance(expr_node, yaml.ScalarNode):
                    continue
                refs.append((target, parts[target_key][1], "condition `next`"))
                line_offset, column_offset, _ = _offsets(expr_node, expr_node.value, loader.lines)
                where = (line_offset + 1, column_offset + 1)
                conditions.append((expr_node.value, program, target, where))
        elif "default" not in fields:
            loader.error(item, f"branch node '{node_id}' has neither `conditions` nor `default`")
        default = None
        if "default" in fields:
            dnode = fields["default"][1]
            if not (isinstance(dnode, yaml.ScalarNode) and dnode.tag.endswith(":null")):
                default = loader.string(dnode, "default", allow_numbers=True)
                if default is not None:
                    refs.append((default, dnode, "`default`"))
        # What `run` walks: each program's `evaluate` bound once, and the size of the output
        # of each way out ({"matched", "next"}, fixed), counted once.
        plan = tuple(
            (expression, program.evaluate, target, where, json_size_at_least({"matched": expression, "next": target}, 1 << 62)[0])
            for expression, program, target, where in conditions
        )
        default_size = json_size_at_least({"matched": None, "next": default}, 1 << 62)[0]
        return {"conditions": tuple(conditions), "default": default, "plan": plan, "default_size": default_size}

    def programs(self, node: Node) -> list[Any]:
        compiled = node.compiled
        return [c[1] for c in compiled["conditions"]] if isinstance(compiled, dict) else []

    _VIEW = StepView(shows_output=False)

    def describe(self, step: Step) -> StepView:
        return self._VIEW  # its decision says what its output would

    def runner(self, node: Node) -> StepRunner:
        compiled = node.compiled
        default = compiled["default"]
        default_size = compiled.get("default_size")
        # A condition that gives a bool leaves one of two Decisions, and the conditions
        # before the one that is true were all false: so the record of a step that does not
        # fail is one of len(plan) + 1 tuples, made here once per loaded flow (Decisions are
        # frozen) instead of a Decision and a list per condition per step.
        falses: list[Decision] = []
        ways = []
        for expression, evaluate, target, where, size in compiled["plan"]:
            decided = (*falses, _new_decision(expression, target, True))
            ways.append((expression, evaluate, target, where, size, decided, tuple(falses)))
            falses.append(_new_decision(expression, target, False))
        all_false = tuple(falses)

        def step(ctx: StepContext) -> StepOutcome:
            scope, limits = ctx.scope, ctx.limits
            for expression, evaluate, target, where, size, decided, before in ways:
                try:
                    value = evaluate(scope, limits)
                except ScriptError as exc:
                    failed = StepFailed.from_script(exc, "condition")
                    failed.decision = (*before, Decision(expression, target, None, str(exc.message), True))  # type: ignore[attr-defined]
                    raise failed from None
                if value is True:
                    return ({"matched": expression, "next": target}, target, "ok", decided, size)
                if value is not False:
                    kind = type_name(value)
                    failed = StepFailed(
                        f"condition `{expression}` gave {kind} ({_short(value)}); a branch condition must be true or false — compare it, e.g. `x == 'push'`",
                        *where,
                    )
                    failed.decision = (*before, Decision(expression, target, None, f"the condition is {kind}, not a bool", True))  # type: ignore[attr-defined]
                    raise failed
            return ({"matched": None, "next": default}, default, "ok", all_false, default_size)

        return step


def _short(value: Any) -> str:
    # Only a glimpse is shown, so a huge value is described, never encoded whole.
    if (type(value) is list or type(value) is dict) and json_size_at_least(value, 4096)[0] > 4096:
        return f"{type_name(value)} of {len(value):,} items"
    if type(value) is str and len(value) > 4096:
        value = value[:64]
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


@node_type
class HttpResponseNode(NodeType):
    name = "http_response"
    config_keys = frozenset({"status", "body", "headers"})

    def load(self, node_id: str, fields: Fields, config: dict[str, Any], item: yaml.Node, ctx: LoadContext, refs: Refs) -> Any:
        super().load(node_id, fields, config, item, ctx, refs)
        out: dict[str, Any] = {}
        for key in ("status", "body", "headers"):
            if key in fields:
                r = ctx.renderable(fields[key][1], key)
                if r is None:
                    return None
                out[key] = r
        status = config.get("status", 200)
        if "status" in fields and not (isinstance(status, str) and "{{" in status):
            if isinstance(status, bool) or not isinstance(status, int) or not FINAL_STATUS[0] <= status <= FINAL_STATUS[1]:
                ctx.loader.error(
                    fields["status"][1],
                    f"`status` must be an HTTP status code {FINAL_STATUS[0]}–{FINAL_STATUS[1]} (a final answer), found {status!r}{_interim_hint(status)}",
                )
                return None
        headers = config.get("headers")
        if headers is not None and not isinstance(headers, dict):
            ctx.loader.error(fields["headers"][1], "`headers` must be a mapping of header name to value")
            return None
        # What `run` needs, worked out once: a constant status (a static one is checked
        # above), constant headers in their final form, and the renderers of the rest.
        status_r = out.get("status")
        headers_r = out.get("headers")
        body_r = out.get("body")
        static_status = 200 if status_r is None else status_r.render({}) if status_r.static else None
        static_headers = {} if headers_r is None else _response_headers(headers_r.render({}), check=False) if headers_r.static else None
        problem = _header_problem(static_headers if static_headers is not None else {str(k): "" for k in headers or {}})
        if problem:
            ctx.loader.error(fields["headers"][1], problem)
            return None
        out["plan"] = (
            static_status,
            None if static_status is not None or status_r is None else status_r.build,
            None if body_r is None else body_r.build,
            None if body_r is None else body_r.sizing,
            static_headers,
            None if static_headers is not None or headers_r is None else headers_r.build,
            # constant headers' share of the step output's size, counted once
            None if static_headers is None else json_size_at_least(static_headers, 1 << 62)[0],
        )
        return out

    _UNUSED = StepView("not used: the webhook was already answered", "warn", True, False)

    def describe(self, step: Step) -> StepView:
        output = step.output
        if not isinstance(output, dict):
            return _PLAIN
        if output.get("answered"):
            return StepView(f"answered {output.get('status')}", "ok", True, True)
        return self._UNUSED

    def runner(self, node: Node) -> StepRunner:
        static_status, status_r, body_r, body_sizing, static_headers, headers_r, static_headers_size = node.compiled["plan"]
        next_id = node.next

        def step(ctx: StepContext) -> StepOutcome:
            scope, limits = ctx.scope, ctx.limits
            try:
                status = static_status if status_r is None else status_r(scope, limits)
                body: Any = None if body_r is None else body_r(scope, limits)
                headers = None if headers_r is None else headers_r(scope, limits)
            except ScriptError as exc:
                raise StepFailed.from_script(exc, "template") from None
            if status_r is not None:
                if isinstance(status, str) and status.strip().isascii() and status.strip().isdigit():
                    status = int(status.strip())
                if isinstance(status, bool) or not isinstance(status, int) or not FINAL_STATUS[0] <= status <= FINAL_STATUS[1]:
                    raise StepFailed(
                        f"`status` rendered to {_short(status)}; it must be an HTTP status code {FINAL_STATUS[0]}–{FINAL_STATUS[1]} (a final answer){_interim_hint(status)}"
                    )
            headers_size = static_headers_size
            if headers_r is None:
                headers = dict(static_headers) if static_headers else {}
            elif not isinstance(headers, dict):
                raise StepFailed("`headers` must render to a mapping of header name to value")
            else:
                headers = _response_headers(headers)
                headers_size = None
            # The body's JSON size from its fixed parts' (counted at load) and its rendered
            # texts', so that `answer` need not walk it; None when a rendered part is a
            # list or map (measured by `answer` then, within the request's limit).
            body_size: int | None = None
            if body_sizing is not None:
                body_size, rendered = body_sizing
                for key in rendered:
                    part = body[key]
                    kind = type(part)
                    if kind is str:
                        body_size += len(part) + 2
                    elif kind is dict or kind is list or kind is tuple:
                        body_size = None
                        break
                    else:
                        body_size += 1
            response = {"status": status, "headers": headers, "body": body}
            ctx.offered_body = None
            used = ctx.answer(response, body_size)
            output = {"status": status, "headers": headers, "body": body, "answered": used}
            size = None
            if ctx.offered_body is body and body is not None and type(status) is int:
                # json_size_at_least of `output`, with the body's share as `answer` measured it
                # (the frame: braces, commas, the four keys quoted with colons, status and answered).
                if headers_size is None:
                    headers_size = json_size_at_least(headers, 1 << 62)[0]
                size = _OUTPUT_FRAME + ctx.offered_size + headers_size
            ctx.offered_body = None  # the body is the step's output now; do not keep it alive
            return (output, next_id, "ok" if used else "unused", None, size)

        return step


# An http_response output's JSON size without its headers and body (see HttpResponseNode.run).
_OUTPUT_FRAME = json_size_at_least({"status": 200, "headers": None, "body": None, "answered": True}, 1 << 62)[0] - 2


def node_type_of(name: str | None) -> NodeType:
    """The node type of that name; one that describes steps plainly for a name no type has
    (a trace read from a store another version wrote)."""
    found = NODE_TYPES.get(name) if type(name) is str else None
    return found if found is not None else _UNKNOWN


_UNKNOWN = NodeType()


def _response_headers(headers: dict[Any, Any], check: bool = True) -> dict[str, str]:
    out = {str(k): _header_text(v) for k, v in headers.items()}
    if check and (problem := _header_problem(out)):
        raise StepFailed(problem)
    return out


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# Every control character but HTAB: CR, LF and NUL end the header early (injection); the rest
# are not allowed in a field value (RFC 9110 §5.5) and clients reject or mangle the answer.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]")
# A 1xx is an interim answer: the client keeps waiting for the real one (101 would switch
# protocols). As the one answer a flow gives the sender, only a final status makes sense.
FINAL_STATUS = (200, 599)


def _interim_hint(status: Any) -> str:
    if isinstance(status, int) and not isinstance(status, bool) and 100 <= status < 200:
        return " (1xx statuses are interim answers; the sender would still wait for a final one)"
    return ""


def _header_problem(headers: dict[str, str]) -> str | None:
    """Why these response headers cannot go out in an HTTP answer, or None. A line break in a
    value would end the header and start another (header injection)."""
    for name, value in headers.items():
        if not _TOKEN.match(name):
            return f"response header name {name!r} is not an HTTP token: use letters, digits and !#$%&'*+-.^_`|~ only (no spaces or colons)"
        found = _CONTROL.search(value)
        if found:
            char = found.group()
            what = (
                "a line break or NUL, which would end the header early (header injection)"
                if char in "\r\n\x00"
                else "a control character, which HTTP header values cannot carry"
            )
            return (
                f"response header {name!r}: the value {_short(value)} contains {what} "
                f"(U+{ord(char):04X} at offset {found.start()}); remove it or send it in the body"
            )
    return None


def _header_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


MAX_ASYNC_DEPTH = 8


@node_type
class AsyncNode(NodeType):
    name = "async"
    config_keys = frozenset({"flow", "payload"})

    def load(self, node_id: str, fields: Fields, config: dict[str, Any], item: yaml.Node, ctx: LoadContext, refs: Refs) -> Any:
        super().load(node_id, fields, config, item, ctx, refs)
        if "flow" not in fields:
            ctx.loader.error(item, f"async node '{node_id}' has no `config.flow` (the name of the flow to run)")
            return None
        flow_name = ctx.loader.string(fields["flow"][1], "flow")
        if flow_name is None:
            return None
        out: dict[str, Any] = {
            "flow_name": flow_name,
            "flow_position": Position(ctx.file, fields["flow"][1].start_mark.line + 1, fields["flow"][1].start_mark.column + 1),
        }
        flow_r = ctx.renderable(fields["flow"][1], "flow")
        if flow_r is None:
            return None
        out["flow"] = flow_r
        if "payload" in fields:
            r = ctx.renderable(fields["payload"][1], "payload")
            if r is None:
                return None
            out["payload"] = r
        return out

    def run(self, node: Node, ctx: StepContext) -> StepOutcome:
        compiled = node.compiled
        try:
            flow = compiled["flow"].render(ctx.scope, ctx.limits)
            payload = (
                compiled["payload"].render(ctx.scope, ctx.limits) if "payload" in compiled else _copy(ctx.scope["event"].get("payload"))
            )
        except ScriptError as exc:
            raise StepFailed.from_script(exc, "template") from None
        if not isinstance(flow, str) or not flow:
            raise StepFailed(f"`flow` rendered to {_short(flow)}; it must be a flow name")
        if ctx.depth >= MAX_ASYNC_DEPTH:
            raise StepFailed(
                f"async depth limit: this run is already {ctx.depth} async calls deep (at most {MAX_ASYNC_DEPTH}); is flow '{flow}' calling itself?"
            )
        ctx.queue_async(flow, payload, ctx.scope.get("state") or {})
        return ({"flow": flow, "queued": True}, node.next, "ok", None, None)
