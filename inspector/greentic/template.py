"""Render node config the way Greentic's runner does (docs/greentic-shape.md §4): an exact
`{{path}}` keeps the value's type, a missing path is `""`, other strings go through a small
Handlebars renderer with handlebars-rust's value rendering and no HTML escaping.

    render_value({"to": "{{entry.user}}", "text": "hi {{entry.name}}"}, context)
    template_context(entry, prev=..., outputs=..., vars=..., now=...)

Pure functions; the only error is `TemplateError`, positioned inside the template text.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "CONTEXT_NAMES",
    "MAX_OUTPUT_CHARS",
    "Template",
    "TemplateError",
    "check_template",
    "entry_view",
    "exact_path",
    "lookup_path",
    "node_view",
    "now_namespace",
    "parse_template",
    "render_string",
    "render_value",
    "resolve_pointer",
    "stringify",
    "template_context",
    "template_paths",
]

#: The names a node's templates can read (the runner's `template_context`).
CONTEXT_NAMES = ("entry", "in", "prev", "node", "state", "vars", "now")
#: A rendered string longer than this is an error (an `{{#each}}` inside an `{{#each}}` over big lists).
MAX_OUTPUT_CHARS = 1 << 20
_MAX_NESTING = 64
_MISSING = object()


class TemplateError(Exception):
    """A template that cannot be parsed or rendered, at `line:column` of its text (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


def _where(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _error(text: str, offset: int, message: str) -> TemplateError:
    line, column = _where(text, offset)
    return TemplateError(message, line, column)


# ---------------------------------------------------------------- exact paths (§4.1 step 2)


def exact_path(text: str) -> list[str | int] | None:
    """The segments of a runner path (`a.b[0]["k"]`, a leading `this` dropped), None when
    `text` is not one. `[digits]` is an index, other brackets are keys."""
    segments: list[str | int] = []
    i, n = 0, len(text)
    if not text.strip():
        return None
    while True:
        j = i
        while j < n and text[j] not in ".[]":
            j += 1
        name = text[i:j].strip()
        if name:
            segments.append(name)
        i = j
        had_bracket = False
        while i < n and text[i] == "[":
            close = text.find("]", i + 1)
            if close < 0:
                return None
            inner = text[i + 1 : close].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "\"'":
                segments.append(inner[1:-1])
            elif inner.isdigit():
                segments.append(int(inner))
            elif inner:
                segments.append(inner)
            else:
                return None
            had_bracket = True
            i = close + 1
        if not name and not had_bracket:
            return None
        if i >= n:
            break
        if text[i] != ".":
            return None
        i += 1
        if i >= n:
            return None
    if segments and segments[0] == "this":
        segments = segments[1:]
    return segments


def lookup_path(value: Any, segments: list[str | int]) -> tuple[bool, Any]:
    """(found, the value at `segments`): keys into objects, indexes into lists."""
    found = _walk(value, segments)
    return (False, None) if found is _MISSING else (True, found)


def _walk(value: Any, segments: list[str | int]) -> Any:
    for seg in segments:
        if isinstance(value, dict):
            key = str(seg)
            if key not in value:
                return _MISSING
            value = value[key]
        elif isinstance(value, list) and (isinstance(seg, int) or (isinstance(seg, str) and seg.isdigit())):
            index = int(seg)
            if index >= len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def resolve_pointer(context: Any, pointer: str) -> Any:
    """A JSON pointer (`/a/0/b`, `~1` and `~0` escapes) into `context`; a missing one is a
    `TemplateError` with the runner's wording."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    found = _walk(context, list(parts))
    if found is _MISSING:
        raise TemplateError(f"mapping path `{pointer}` not found")
    return copy.deepcopy(found)


# ---------------------------------------------------------------- the Handlebars subset (§4.1 step 3)


@dataclass(frozen=True)
class _Path:
    parents: int  # how many `../`
    data: bool  # an `@name`
    segments: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Call:
    name: str
    params: tuple[Any, ...]
    offset: int


@dataclass(frozen=True)
class _Var:
    expr: Any
    offset: int


@dataclass
class _Block:
    name: str
    params: tuple[Any, ...]
    block_params: tuple[str, ...]
    offset: int
    body: list[Any] = field(default_factory=list)
    inverse: list[Any] | None = None


_HELPERS_SIMPLE = {"lookup", "log", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or", "not", "len"}
_HELPERS_BLOCK = {"if", "unless", "each", "with"}
_TOKEN = re.compile(r"""\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s()]+))""")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")
_BLOCK_PARAMS = re.compile(r"\s+as\s+\|\s*([^|]*?)\s*\|\s*\Z")


@dataclass(frozen=True)
class Template:
    """A parsed mixed-string template; `render(context)` gives the string."""

    text: str
    parts: tuple[Any, ...]

    def render(self, context: Any) -> str:
        out = _Output(self.text)
        _render_parts(self.parts, _Frame(context, None, {}, {}), out, context)
        return "".join(out.chunks)

    def paths(self) -> list[tuple[tuple[str, ...], int]]:
        """Every root-relative path the template reads, with its offset (for `check`)."""
        found: list[tuple[tuple[str, ...], int]] = []

        def expr(e: Any, block_params: set[str]) -> None:
            if isinstance(e, _Path) and not e.data and e.parents == 0 and e.segments and e.segments[0] not in block_params:
                found.append((e.segments, e.offset))
            elif isinstance(e, _Call):
                for p in e.params:
                    expr(p, block_params)

        def walk(parts: Any, block_params: set[str], depth: int) -> None:
            for part in parts:
                if isinstance(part, _Var):
                    expr(part.expr, block_params)
                elif isinstance(part, _Block):
                    for p in part.params:
                        expr(p, block_params)
                    # Inside each/with/sections paths are relative to the new context.
                    inner_depth = depth + (1 if part.name not in ("if", "unless") else 0)
                    inner = block_params | set(part.block_params)
                    if inner_depth == 0:
                        walk(part.body, inner, inner_depth)
                    if part.inverse is not None and depth == 0:
                        walk(part.inverse, block_params, depth)

        walk(self.parts, set(), 0)
        return found


# Tags that vanish with their line when alone on it ("standalone"): block open and close,
# `{{else}}`/`{{^}}`, comments.
_STANDALONE = re.compile(r"[#^/!]|else(\s|$)")


def _standalone_line(text: str, start: int, after: int) -> tuple[int, int] | None:
    """(where the tag's line starts, where the next line starts) when the tag at
    text[start:after] is the only thing on its line but spaces and tabs; else None."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip(" \t"):
        return None
    line_end = text.find("\n", after)
    rest = text[after:] if line_end < 0 else text[after:line_end]
    if rest.rstrip("\r").strip(" \t"):
        return None
    return line_start, len(text) if line_end < 0 else line_end + 1


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def parse(self) -> tuple[Any, ...]:
        text = self.text
        root: list[Any] = []
        stack: list[tuple[_Block, list[Any], bool]] = []  # (block, list being filled, chained-else)
        current = root
        i = 0
        pending_strip = False
        n = len(text)
        while i < n:
            start = text.find("{{", i)
            escaped = start > 0 and text[start - 1] == "\\" and not (start > 1 and text[start - 2] == "\\")
            if start < 0:
                self._text(current, text[i:], pending_strip, False)
                break
            if escaped:
                self._text(current, text[i : start - 1] + "{{", pending_strip, False)
                pending_strip = False
                i = start + 2
                continue
            triple = text.startswith("{{{", start)
            if text.startswith("{{!--", start):
                end = text.find("--}}", start + 5)
                close_len = 4
            elif triple:
                end = text.find("}}}", start + 3)
                close_len = 3
            else:
                end = text.find("}}", start + 2)
                close_len = 2
            if end < 0:
                raise _error(text, start, "unclosed `{{`: add the matching `}}`")
            inner = text[start + (3 if triple else 2) : end]
            strip_before = inner.startswith("~")
            strip_after = inner.endswith("~")
            if strip_before:
                inner = inner[1:]
            if strip_after:
                inner = inner[:-1]
            after = end + close_len
            line = _standalone_line(text, start, after) if not triple and _STANDALONE.match(inner.strip()) else None
            if line is not None:
                # A block tag, `{{else}}` or comment alone on its line: the line goes, its
                # indent and its newline with it (handlebars-rust since 4.0, as handlebars.js).
                self._text(current, text[i : line[0]], pending_strip, strip_before)
                after = line[1]
            else:
                self._text(current, text[i:start], pending_strip, strip_before)
            pending_strip = strip_after
            i = after
            body_offset = start + (3 if triple else 2) + (1 if strip_before else 0)
            stripped = inner.strip()
            if not stripped:
                raise _error(text, start, "empty `{{}}`: put a path inside, e.g. `{{entry.name}}`")
            if stripped.startswith("!"):
                continue
            if triple or stripped.startswith("&"):
                expr_text = stripped[1:] if stripped.startswith("&") and not triple else stripped
                current.append(_Var(self._expression(expr_text, body_offset), start))
                continue
            head = stripped[0]
            if head == "#" or (head == "^" and stripped != "^"):
                if stripped.startswith("#>") or stripped.startswith("#*"):
                    raise _error(text, start, "partial blocks and decorators are not available in the runner")
                if len(stack) >= _MAX_NESTING:
                    raise _error(text, start, f"blocks nested deeper than {_MAX_NESTING}")
                block = self._block(stripped[1:], body_offset + inner.index(head) + 1, start)
                if head == "^":
                    block.inverse = block.body
                    block.body = []
                    stack.append((block, block.inverse, False))
                else:
                    stack.append((block, block.body, False))
                current.append(block)
                current = block.inverse if head == "^" and block.inverse is not None else block.body
                continue
            if head == "/":
                name = stripped[1:].strip()
                while stack and stack[-1][2]:  # close chained `else if` blocks with their parent
                    stack.pop()
                if not stack:
                    raise _error(text, start, f"`{{{{/{name}}}}}` closes no open block; remove it")
                block, _, _ = stack.pop()
                if name != block.name:
                    where = _where(text, block.offset)
                    raise _error(
                        text,
                        start,
                        f"`{{{{/{name}}}}}` closes `{{{{#{block.name}}}}}` (opened at {where[0]}:{where[1]}); write `{{{{/{block.name}}}}}`",
                    )
                current = stack[-1][1] if stack else root
                continue
            if stripped == "else" or stripped == "^" or stripped.startswith("else "):
                if not stack:
                    raise _error(text, start, "`{{else}}` outside a block")
                block, _, _ = stack[-1]
                if block.inverse is not None and current is block.inverse:
                    raise _error(text, start, f"a second `{{{{else}}}}` in `{{{{#{block.name}}}}}`")
                block.inverse = []
                stack[-1] = (block, block.inverse, stack[-1][2])
                current = block.inverse
                rest = stripped[4:].strip() if stripped.startswith("else") else ""
                if rest:  # `{{else if x}}`: a block inside the inverse, closed with its parent
                    chained = self._block(rest, body_offset + inner.index(rest), start)
                    chained.name = block.name if chained.name == block.name else chained.name
                    current.append(chained)
                    stack.append((chained, chained.body, True))
                    current = chained.body
                continue
            if head == ">":
                raise _error(text, start, "partials (`{{> name}}`) are not available in the runner")
            current.append(_Var(self._expression(stripped, body_offset + (len(inner) - len(inner.lstrip()))), start))
        if stack:
            block = next(b for b, _, chained in reversed(stack) if not chained)
            raise _error(text, block.offset, f"`{{{{#{block.name}}}}}` is never closed; add `{{{{/{block.name}}}}}`")
        return tuple(root)

    def _text(self, current: list[Any], chunk: str, strip_left: bool, strip_right: bool) -> None:
        if strip_left:
            chunk = chunk.lstrip()
        if strip_right:
            chunk = chunk.rstrip()
        if chunk:
            current.append(chunk)

    def _block(self, body: str, offset: int, start: int) -> _Block:
        block_params: tuple[str, ...] = ()
        m = _BLOCK_PARAMS.search(body)
        if m:
            block_params = tuple(m.group(1).split())
            body = body[: m.start()]
        tokens = self._tokens(body, offset)
        if not tokens:
            raise _error(self.text, start, "a block needs a helper name, e.g. `{{#if entry.ok}}`")
        name_token, name_offset = tokens[0]
        if not isinstance(name_token, str) or name_token.startswith(("'", '"')):
            raise _error(self.text, name_offset, "a block needs a helper name, e.g. `{{#if entry.ok}}`")
        params = tuple(self._operand(t, o) for t, o in tokens[1:])
        if name_token in _HELPERS_BLOCK and len(params) != 1:
            raise _error(self.text, start, f"`{{{{#{name_token}}}}}` takes exactly one parameter, found {len(params)}")
        if name_token not in _HELPERS_BLOCK and params:
            raise _error(self.text, name_offset, f"unknown block helper '{name_token}' (known: {', '.join(sorted(_HELPERS_BLOCK))})")
        return _Block(name_token, params, block_params, start)

    def _tokens(self, body: str, offset: int) -> list[tuple[Any, int]]:
        """Top-level tokens: strings (words), ('lit', value) for quoted strings, or lists for `( … )`."""
        out: list[tuple[Any, int]] = []
        stack: list[list[tuple[Any, int]]] = [out]
        opens: list[int] = []
        pos = 0
        while pos < len(body):
            m = _TOKEN.match(body, pos)
            if m is None or m.end() == pos:
                if body[pos:].strip():
                    raise _error(self.text, offset + pos, f"cannot read `{body[pos:].strip()}`")
                break
            where = offset + m.start(m.lastindex or 0)
            if m.group(1):
                sub: list[tuple[Any, int]] = []
                stack[-1].append((sub, where))
                stack.append(sub)
                opens.append(where)
            elif m.group(2):
                if len(stack) == 1:
                    raise _error(self.text, where, "`)` without `(`")
                stack.pop()
                opens.pop()
            elif m.group(3) is not None or m.group(4) is not None:
                raw = m.group(3) if m.group(3) is not None else m.group(4)
                stack[-1].append((("lit", re.sub(r"\\(.)", r"\1", raw)), where))
            else:
                stack[-1].append((m.group(5), where))
            pos = m.end()
            if len(stack) > _MAX_NESTING:
                raise _error(self.text, where, f"sub-expressions nested deeper than {_MAX_NESTING}")
        if len(stack) > 1:
            raise _error(self.text, opens[-1], "`(` is never closed; add `)`")
        return out

    def _expression(self, body: str, offset: int) -> Any:
        tokens = self._tokens(body, offset)
        if not tokens:
            raise _error(self.text, offset, "empty expression")
        return self._call_or_operand(tokens, offset)

    def _call_or_operand(self, tokens: list[tuple[Any, int]], offset: int) -> Any:
        head, head_offset = tokens[0]
        if len(tokens) == 1:
            return self._operand(head, head_offset)
        if not isinstance(head, str):
            raise _error(self.text, head_offset, "a helper call must start with the helper's name")
        if head not in _HELPERS_SIMPLE:
            raise _error(
                self.text,
                head_offset,
                f"unknown helper '{head}' (the runner registers none; built in: {', '.join(sorted(_HELPERS_SIMPLE))})",
            )
        if "=" in head:
            raise _error(self.text, head_offset, "hash arguments (`key=value`) are not supported here")
        params = tuple(self._operand(t, o) for t, o in tokens[1:] if not (isinstance(t, str) and "=" in t and not t.startswith(("'", '"'))))
        return _Call(head, params, head_offset)

    def _operand(self, token: Any, offset: int) -> Any:
        if isinstance(token, list):
            if not token:
                raise _error(self.text, offset, "empty `()`")
            return self._call_or_operand(token, offset)
        if isinstance(token, tuple):
            return _Literal(token[1])
        if token in ("true", "false"):
            return _Literal(token == "true")
        if token in ("null", "undefined"):
            return _Literal(None)
        if _NUMBER.match(token):
            number = float(token)
            return _Literal(int(number) if number.is_integer() and "." not in token and "e" not in token.lower() else number)
        return self._path(token, offset)

    def _path(self, token: str, offset: int) -> _Path:
        data = token.startswith("@")
        rest = token[1:] if data else token
        parents = 0
        while rest.startswith("../"):
            parents += 1
            rest = rest[3:]
        segments: list[str] = []
        i = 0
        while i < len(rest):
            if rest[i] == "[":
                close = rest.find("]", i)
                if close < 0:
                    raise _error(self.text, offset + i, f"`[` without `]` in `{token}`")
                segments.append(rest[i + 1 : close])
                i = close + 1
            else:
                j = i
                while j < len(rest) and rest[j] not in "./[":
                    j += 1
                if j > i:
                    segments.append(rest[i:j])
                i = j
            if i < len(rest):
                if rest[i] in "./":
                    i += 1
                    if i >= len(rest):
                        raise _error(self.text, offset + i, f"`{token}` ends with a separator")
                elif rest[i] != "[":
                    raise _error(self.text, offset + i, f"cannot read `{token}`")
        if segments and segments[0] in ("this", ".") and not data:
            segments = segments[1:]
        elif token == ".":
            segments = []
        return _Path(parents, data, tuple(segments), offset)


def parse_template(text: str) -> Template:
    """Parse a mixed-string template; `TemplateError` with line and column when malformed."""
    return Template(text, _Parser(text).parse())


# ---------------------------------------------------------------- rendering


@dataclass
class _Frame:
    value: Any
    parent: _Frame | None
    data: dict[str, Any]
    params: dict[str, Any]


class _Output:
    __slots__ = ("text", "chunks", "size")

    def __init__(self, text: str) -> None:
        self.text = text
        self.chunks: list[str] = []
        self.size = 0

    def write(self, chunk: str, offset: int) -> None:
        self.size += len(chunk)
        if self.size > MAX_OUTPUT_CHARS:
            raise _error(self.text, offset, f"the rendered text grows past {MAX_OUTPUT_CHARS:,} characters (MAX_OUTPUT_CHARS)")
        self.chunks.append(chunk)


def stringify(value: Any) -> str:
    """A value as handlebars-rust writes it into text: null as empty, objects as `[object]`,
    lists as `[a, b, ]`."""
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else ""
    if isinstance(value, dict):
        return "[object]"
    if isinstance(value, list | tuple):
        return "[" + "".join(stringify(v) + ", " for v in value) + "]"
    return str(value)


def _truthy(value: Any) -> bool:
    if value is None or value is _MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, float):  # handlebars-rust: `is_normal`, so 0, NaN and subnormals are false
        return math.isfinite(value) and abs(value) >= sys.float_info.min
    if isinstance(value, str | list | tuple | dict):  # an empty object is false too
        return len(value) > 0
    return True


def _resolve(expr: Any, frame: _Frame, root: Any, out: _Output) -> Any:
    if isinstance(expr, _Literal):
        return expr.value
    if isinstance(expr, _Call):
        return _call(expr, [_resolve(p, frame, root, out) for p in expr.params], out)
    path: _Path = expr
    if path.data:
        if path.segments and path.segments[0] == "root":
            return _walk(root, list(path.segments[1:]))
        target: _Frame | None = frame
        for _ in range(path.parents):
            target = target.parent if target is not None and target.parent is not None else target
        while target is not None:
            if path.segments and path.segments[0] in target.data:
                return _walk(target.data[path.segments[0]], list(path.segments[1:]))
            target = target.parent
        return _MISSING
    target = frame
    for _ in range(path.parents):
        if target.parent is not None:
            target = target.parent
    if path.parents == 0 and path.segments:
        walker: _Frame | None = target
        while walker is not None:  # block params are visible in nested blocks
            if path.segments[0] in walker.params:
                return _walk(walker.params[path.segments[0]], list(path.segments[1:]))
            walker = walker.parent
    return _walk(target.value, list(path.segments))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _compare(name: str, a: Any, b: Any) -> bool:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        if isinstance(a, str) and isinstance(b, str):
            x_s, y_s = a, b
            return {"gt": x_s > y_s, "gte": x_s >= y_s, "lt": x_s < y_s, "lte": x_s <= y_s}[name]
        return False
    return {"gt": x > y, "gte": x >= y, "lt": x < y, "lte": x <= y}[name]


def _call(call: _Call, args: list[Any], out: _Output) -> Any:
    name = call.name
    args = [None if a is _MISSING else a for a in args]

    def need(count: int) -> None:
        if len(args) != count:
            raise _error(out.text, call.offset, f"helper '{name}' takes {count} parameter(s), found {len(args)}")

    if name == "lookup":
        need(2)
        key = args[1]
        found = _walk(args[0], [key if isinstance(key, int) and not isinstance(key, bool) else stringify(key)])
        return None if found is _MISSING else found
    if name == "log":
        return None
    if name in ("eq", "ne"):
        need(2)
        x, y = _number(args[0]), _number(args[1])
        same = x == y if x is not None and y is not None else (args[0] == args[1] and type(args[0]) is type(args[1]))
        return same if name == "eq" else not same
    if name in ("gt", "gte", "lt", "lte"):
        need(2)
        return _compare(name, args[0], args[1])
    if name == "and":
        return all(_truthy(a) for a in args) if args else False
    if name == "or":
        return any(_truthy(a) for a in args)
    if name == "not":
        need(1)
        return not _truthy(args[0])
    if name == "len":
        need(1)
        return len(args[0]) if isinstance(args[0], str | list | dict) else 0
    raise _error(out.text, call.offset, f"unknown helper '{name}'")


def _render_parts(parts: Any, frame: _Frame, out: _Output, root: Any) -> None:
    for part in parts:
        if isinstance(part, str):
            out.write(part, 0)
        elif isinstance(part, _Var):
            value = _resolve(part.expr, frame, root, out)
            out.write(stringify(value), part.offset)
        else:
            _render_block(part, frame, out, root)


def _render_block(block: _Block, frame: _Frame, out: _Output, root: Any) -> None:
    name = block.name
    if name in _HELPERS_BLOCK:
        value = _resolve(block.params[0], frame, root, out)
    else:  # a mustache section: `{{#path}}…{{/path}}`
        value = _resolve(_Parser(name)._path(name, block.offset), frame, root, out)
    if name == "if" or name == "unless":
        chosen = _truthy(value) != (name == "unless")
        _render_parts(block.body if chosen else (block.inverse or ()), frame, out, root)
        return
    if name == "with":
        if _truthy(value):
            params = dict(zip(block.block_params, [value], strict=False))
            _render_parts(block.body, _Frame(value, frame, {}, params), out, root)
        else:
            _render_parts(block.inverse or (), frame, out, root)
        return
    if isinstance(value, list | dict) and (name == "each" or isinstance(value, list)):
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        if not items:
            _render_parts(block.inverse or (), frame, out, root)
            return
        last = len(items) - 1
        for index, (key, item) in enumerate(items):
            data = {"index": index, "first": index == 0, "last": index == last}
            if isinstance(value, dict):
                data["key"] = key
            params = dict(zip(block.block_params, [item, key], strict=False))
            _render_parts(block.body, _Frame(item, frame, data, params), out, root)
        return
    if name == "each":  # not iterable
        _render_parts(block.inverse or (), frame, out, root)
        return
    if _truthy(value):
        _render_parts(block.body, _Frame(value, frame, {}, {}), out, root)
    else:
        _render_parts(block.inverse or (), frame, out, root)


# ---------------------------------------------------------------- the runner's string rule and value walk


def _exact_expression(text: str) -> list[str | int] | None:
    trimmed = text.strip()
    if not (trimmed.startswith("{{") and trimmed.endswith("}}")):
        return None
    inner = trimmed.lstrip("{").rstrip("}").strip()
    if not inner:
        return None
    return exact_path(inner)


def render_string(text: str, context: Any, *, pointer: bool = False) -> Any:
    """One config string, rendered as the runner does (§4.1): a JSON pointer in pointer mode,
    an exact `{{path}}` (type kept, missing → ""), a Handlebars text, or the string itself."""
    if pointer and text.startswith("/") and "{{" not in text:
        return resolve_pointer(context, text)
    segments = _exact_expression(text)
    if segments is not None:
        found = _walk(context, segments)
        return "" if found is _MISSING else copy.deepcopy(found)
    if "{{" not in text:
        return text
    return parse_template(text).render(context)


def render_value(value: Any, context: Any, *, pointer: bool = False) -> Any:
    """The whole input mapping rendered: strings rendered, lists and maps walked (keys kept),
    other values copied."""
    if isinstance(value, str):
        return render_string(value, context, pointer=pointer)
    if isinstance(value, dict):
        return {k: render_value(v, context, pointer=pointer) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context, pointer=pointer) for v in value]
    return copy.deepcopy(value)


def check_template(text: str) -> TemplateError | None:
    """What the runner would fail on when rendering `text` (None when it renders)."""
    if _exact_expression(text) is not None or "{{" not in text:
        return None
    try:
        parse_template(text)
    except TemplateError as exc:
        return exc
    return None


def template_paths(text: str) -> list[tuple[tuple[str, ...], int]]:
    """The root paths a string reads, each with its offset in the text; [] when it has none
    or does not parse."""
    segments = _exact_expression(text)
    if segments is not None:
        return [(tuple(str(s) for s in segments), text.find("{{") + 2)]
    if "{{" not in text:
        return []
    try:
        return parse_template(text).paths()
    except TemplateError:
        return []


# ---------------------------------------------------------------- the context (§4.3)


def entry_view(entry: Any) -> Any:
    """The run's entry as templates see it: `input` aliased to the whole object when absent,
    and submitted form fields (`metadata`, `input.metadata`) merged into the top level
    without overwriting a key."""
    if not isinstance(entry, dict):
        return copy.deepcopy(entry)
    view = copy.deepcopy(entry)
    if "input" not in view:
        view["input"] = copy.deepcopy(entry)
    for source in (entry.get("metadata"), entry.get("input", {}).get("metadata") if isinstance(entry.get("input"), dict) else None):
        if isinstance(source, dict):
            for key, value in source.items():
                view.setdefault(key, copy.deepcopy(value))
    return view


def node_view(output: Any, errors: list[Any] | None = None) -> Any:
    """What `node.<id>` shows: an object's fields plus `data` and `errors`; any other value as is."""
    # Shared, not copied: rendering and conditions only read the context, and every value
    # they hand out is copied (render_string, resolve_pointer).
    if isinstance(output, dict):
        view = dict(output)
        view.setdefault("data", output)
        view.setdefault("errors", list(errors or []))
        return view
    return output


def now_namespace(instant: datetime) -> dict[str, Any]:
    """`now`: `{iso, epoch_ms, date}` for one instant (UTC, milliseconds, `Z`)."""
    when = instant.astimezone(UTC)
    epoch_ms = (when - _EPOCH) // _MILLISECOND
    date = f"{when.year:04d}-{when.month:02d}-{when.day:02d}"
    return {
        "iso": f"{date}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}.{when.microsecond // 1000:03d}Z",
        "epoch_ms": epoch_ms,
        "date": date,
    }


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def template_context(
    entry: Any,
    *,
    prev: Any = None,
    outputs: Mapping[str, Any] | None = None,
    state: Mapping[str, Any] | None = None,
    vars: Mapping[str, Any] | None = None,  # noqa: A002 - the runner's name
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    view: Any = None,
) -> dict[str, Any]:
    """The names a node's templates see: entry/in, prev ({} when None), node views, the run's
    bookkeeping as `state`, vars and now. `view` is `entry_view(entry)` when the caller has it
    already (a run computes it once; rendering never changes the context)."""
    view = entry_view(entry) if view is None else view
    instant = now or (clock() if clock else datetime.now(UTC))
    return {
        "entry": view,
        "in": view,
        "prev": {} if prev is None else copy.deepcopy(prev),
        "node": {k: node_view(v) for k, v in (outputs or {}).items()},
        "state": dict(state or {}),
        "vars": dict(vars or {}),
        "now": now_namespace(instant),
    }
