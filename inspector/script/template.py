"""`{{ expr }}` templates in strings (SPEC §6): a string that is exactly one `{{ expr }}`
(whitespace around allowed) keeps the value's type; otherwise each value is rendered as
text the way `{}` renders it; a string with no `{{` is returned unchanged."""

from __future__ import annotations

from .compiler import Compiler
from .errors import DEFAULT_LIMITS, Limits, ScriptError, SourceMap
from .lexer import Lexer
from .parser import Parser
from .program import Program
from .values import render


class Template:
    """A compiled template: literal text and expression programs, in order."""

    __slots__ = ("text", "parts", "whole")

    def __init__(self, text: str, parts: tuple, whole: bool) -> None:
        self.text = text
        self.parts = parts  # str | Program
        self.whole = whole  # exactly one expression: keep its type

    def render(self, scope: dict, limits: Limits | None = None) -> object:
        # `evaluate` is `run(...).value` without the RunResult; a template's logs are dropped.
        if self.whole:
            return self.parts[0].evaluate(scope, limits)
        out = []
        for part in self.parts:
            out.append(part if type(part) is str else render(part.evaluate(scope, limits)))
        return "".join(out)


def compile_template(
    text: str,
    origin: str = "<template>",
    line_offset: int = 0,
    column_offset: int = 0,
    *,
    indent_all_lines: bool = False,
    limits: Limits | None = None,
) -> Template:
    """Compile a template once; raises `ScriptError` for a bad `{{ … }}`."""
    source_map = SourceMap(origin, line_offset, column_offset, indent_all_lines)
    limits = limits or DEFAULT_LIMITS
    parts: list[object] = []
    pos = 0
    line, line_start = 1, 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            if pos < len(text):
                parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        # Track the line and column where the expression begins.
        line += text.count("\n", pos, start + 2)
        newline = text.rfind("\n", 0, start + 2)
        if newline >= 0:
            line_start = newline + 1
        expr_start = start + 2
        end = _find_end(text, expr_start, line, expr_start - line_start + 1, source_map)
        program = _compile_part(text, expr_start, end, line, expr_start - line_start + 1, source_map, limits)
        parts.append(program)
        line += text.count("\n", expr_start, end + 2)
        newline = text.rfind("\n", 0, end + 2)
        if newline >= 0:
            line_start = newline + 1
        pos = end + 2
    programs = [p for p in parts if type(p) is not str]
    whole = len(programs) == 1 and all(type(p) is not str or p.strip() == "" for p in parts)
    if whole:
        parts = programs
    return Template(text, tuple(parts), whole)


def _find_end(text: str, pos: int, line: int, column: int, source_map: SourceMap) -> int:
    """Offset of the `}}` that closes the expression starting at `pos`, skipping strings
    and balanced braces (so `{{ #{a: #{b: 1}} }}` works)."""
    lexer = Lexer(text, pos, line, column)
    depth = 0
    try:
        while True:
            tok = lexer.next()
            if tok.kind == "eof":
                raise ScriptError("unterminated '{{' in template: expected '}}'", line, column - 2)
            if tok.kind in ("{", "#{"):
                depth += 1
            elif tok.kind == "}":
                if depth == 0:
                    if text.startswith("}}", tok.end - 1):
                        return tok.end - 1
                    raise ScriptError("unexpected '}' in template expression", tok.line, tok.column)
                depth -= 1
    except ScriptError as error:
        raise source_map.locate(error) from None


def _compile_part(text: str, start: int, end: int, line: int, column: int, source_map: SourceMap, limits: Limits) -> Program:
    try:
        parser = Parser(Lexer(text[:end], start, line, column), limits.max_nesting)
        if parser.tok.kind == "eof":
            raise parser.error("empty '{{ }}' in template: put an expression inside")
        node = parser.parse_expr()
        if parser.tok.kind != "eof":
            raise parser.error(f"expected '}}}}' to close the template expression, found {parser.tok.describe()}")
        compiler = Compiler(limits)
        body, size, weight = compiler.compile_expression(node)
    except ScriptError as error:
        raise source_map.locate(error) from None
    except RecursionError:
        raise source_map.locate(ScriptError("the template expression is nested too deeply", line, column)) from None
    return Program(text[start:end], source_map, body, size, compiler, weight)


_CACHE: dict[tuple, Template] = {}
_CACHE_SIZE = 2048


def render_template(
    text: str,
    scope: dict,
    limits: Limits | None = None,
    origin: str = "<template>",
    line_offset: int = 0,
    column_offset: int = 0,
    *,
    indent_all_lines: bool = False,
) -> object:
    """Render `text` against `scope`. Compiled templates are cached by text and origin.
    Raises `ScriptError` for a bad expression or a failing evaluation."""
    if type(text) is not str or "{{" not in text:
        return text
    key = (text, origin, line_offset, column_offset, indent_all_lines, limits.max_nesting if limits else 64)
    template = _CACHE.get(key)
    if template is None:
        template = compile_template(text, origin, line_offset, column_offset, indent_all_lines=indent_all_lines, limits=limits)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = template
    return template.render(scope, limits)
