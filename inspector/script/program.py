"""The public face of the language: compile a script or an expression once, run it many times."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import itemgetter
from typing import Any

from .compiler import Compiler
from .errors import DEFAULT_LIMITS, Limits, ScriptError, SourceMap
from .lexer import Lexer
from .parser import Parser
from .values import Context, Fn, ReturnSignal, call_depth_limit, free_text, operation_limit, suggest

Clock = Callable[[], datetime]

#: The names a flow puts in scope (SPEC §6).
FLOW_SCOPE_NAMES = ("event", "headers", "payload", "prev", "nodes", "state")


class RunResult(tuple):
    """What one evaluation produced: `value` (JSON-shaped) and `logs` (the `print`/`debug`
    lines). A 2-tuple underneath, because building one is on every run's path."""

    __slots__ = ()

    def __new__(cls, value: object, logs: list[str] | None = None) -> RunResult:
        return tuple.__new__(cls, (value, logs if logs is not None else []))

    value = property(itemgetter(0), doc="The script's value: None, bool, int, float, str, list or dict.")
    logs = property(itemgetter(1), doc="Lines from print()/debug(), in order.")

    def __repr__(self) -> str:
        return f"RunResult(value={self[0]!r}, logs={self[1]!r})"


_new_result = tuple.__new__


class Program:
    """A compiled script or expression. Safe to share between threads: each `run` has
    its own state."""

    __slots__ = ("source", "origin", "_map", "_body", "_pad", "_weight", "_context", "_copy_scope", "_unresolved", "_limited", "_program")

    def __init__(self, source: str, source_map: SourceMap, body: Any, size: int, compiler: Compiler, weight: int = 0) -> None:
        self.source = source
        self.origin = source_map.origin
        self._map = source_map
        self._body = body
        self._pad = (None,) * (size - 2)
        self._weight = weight  # charged up front: the nodes every evaluation runs
        # A Context class per program carries its functions and default budget as class
        # attributes, so a run with default limits sets only its scope.
        self._context: type[Context] = type(
            "Context",
            (Context,),
            {
                "functions": compiler.functions,
                "budget": DEFAULT_LIMITS.max_operations - weight,
            },
        )
        # The whole program as one generated function `f(g, C)` when it has no side effects
        # (a branch condition, `let x = a.b; x`), tried first; any failure re-runs the
        # general path, which reports it with a position.
        self._program = compiler.program
        if weight > DEFAULT_LIMITS.max_operations:
            self._body = _over_budget
            self._program = None
        self._copy_scope = compiler.assigns_globals
        self._unresolved = tuple(dict.fromkeys(compiler.unresolved))
        # (limits, Context class with them set, or None until they are used twice in a row):
        # a flow run passes the same Limits object to every program, over and over.
        self._limited: tuple[Limits | None, type[Context] | None] = (None, None)

    def __repr__(self) -> str:
        return f"Program({self.origin!r})"

    @property
    def silent(self) -> bool:
        """The program cannot log: it has no side effects at all (it runs as one generated
        function first), so `run(...).logs` is always empty and `evaluate` tells all."""
        return self._program is not None

    def run(
        self,
        scope: dict[str, object] | None = None,
        limits: Limits | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> RunResult:
        """Evaluate with `scope` as the global names. Raises `ScriptError` (with `.logs`).

        Arrays and maps in `scope` are used in place: `state.x = 1` changes the caller's
        `state`. Assigning a whole global (`state = #{}`) changes only this run's view.
        `clock` returns the time `now()` reports (default: the current UTC time)."""
        program = self._program
        if program is not None and type(scope) is dict:
            # Side-effect free: no logs, no clock, nothing to undo if it fails.
            context: type[Context] | None
            if limits is None:
                context = self._context
            else:
                limited = self._limited
                context = limited[1] if limited[0] is limits else None
            if context is not None:
                try:
                    value = program(scope, context)
                except Exception:
                    return self._run(scope, limits, clock, True)
                if type(value) is not Fn:
                    return _new_result(RunResult, (value, []))
        return self._run(scope, limits, clock, True)

    def evaluate(self, scope: dict[str, object] | None = None, limits: Limits | None = None) -> object:
        """`run(scope, limits).value` without collecting logs: the cheapest way to test
        a branch condition."""
        program = self._program
        if program is not None and type(scope) is dict:
            context: type[Context] | None
            if limits is None:
                context = self._context
            else:
                limited = self._limited
                context = limited[1] if limited[0] is limits else None
            if context is not None:
                try:
                    value = program(scope, context)
                except Exception:
                    return self._run(scope, limits, None, False)
                if type(value) is not Fn:
                    return value
        return self._run(scope, limits, None, False)

    def _run(self, scope: Any, limits: Limits | None, clock: Clock | None, with_logs: bool) -> Any:
        """The general path of `run` (a RunResult) and `evaluate` (the value)."""
        if type(scope) is not dict:
            scope = {} if scope is None else dict(scope)
        if self._copy_scope:
            scope = dict(scope)
        if limits is None:
            c = self._context()
            c.globals = scope
            if clock is not None:
                c.clock = clock
        else:
            c = self._limited_context(limits, scope, clock)
        try:
            try:
                value = self._body([c, scope, *self._pad])
            except ReturnSignal as signal:
                value = signal.value
            if type(value) is Fn:
                raise ScriptError("a script cannot return a function (Fn); call it, or return its result instead")
        except Exception as exc:
            raise self._failure(c, exc) from None
        if not with_logs:
            return value
        logs = c.logs
        return _new_result(RunResult, (value, logs if logs is not None else []))

    def warnings(self, known_names: Iterable[str] = FLOW_SCOPE_NAMES) -> list[ScriptError]:
        """Static findings for `check`: names that are neither local, nor in `known_names`,
        nor functions. Each is a positioned `ScriptError` (returned, not raised); the same
        mistakes are runtime errors when reached."""
        known = set(known_names)
        found: list[ScriptError] = []
        for kind, name, line, column, extra in self._unresolved:
            if kind == "variable":
                if name in known:
                    continue
                message = f"unknown variable '{name}'{suggest(name, list(extra) + list(known))}"
            elif kind == "call":
                message = extra[0]
            else:
                message = f"unknown {kind} '{name}'{suggest(name, extra)}"
            found.append(self._map.locate(ScriptError(message, line, column)))
        return found

    def _limited_context(self, limits: Limits, scope: dict[str, object], clock: Clock | None) -> Context:
        limited = self._limited
        if limited[0] is limits and limited[1] is not None:
            c = limited[1]()
            c.globals = scope
            if clock is not None:
                c.clock = clock
            return c
        c = self._context()
        c.globals = scope
        self._configure(c, limits, clock)
        self._remember(limits)
        return c

    def _remember(self, limits: Limits) -> None:
        """After `_configure` succeeded: the second run in a row with these `limits` makes
        a Context class that has them (and the budget they leave) as class attributes."""
        limited = self._limited
        if limited[0] is not limits:
            self._limited = (limits, None)
        elif limited[1] is None:
            self._limited = (
                limits,
                type(
                    "Context",
                    (self._context,),
                    {
                        "limits": limits,
                        "free_text": free_text(limits),
                        "budget": limits.max_operations - self._weight,
                    },
                ),
            )

    def _configure(self, c: Context, limits: Limits | None, clock: Clock | None) -> None:
        if limits is not None:
            c.limits = limits
            c.free_text = free_text(limits)
            c.budget = limits.max_operations - self._weight
            if c.budget < 0:
                raise self._failure(c, operation_limit(c).at(1, 1))
        c.clock = clock

    def _failure(self, c: Context, exc: Exception) -> ScriptError:
        """The positioned `ScriptError` for whatever stopped a run."""
        if isinstance(exc, ScriptError):
            error = exc
        elif isinstance(exc, RecursionError):
            error = call_depth_limit(c)
            error.message += " (the evaluation is nested too deeply)"
        elif isinstance(exc, MemoryError):
            error = ScriptError("out of memory: the script built values that are too large")
        else:  # a bug in the interpreter: still never a Python exception
            error = ScriptError(f"internal error in the script interpreter: {type(exc).__name__}: {exc}")
        error.logs = c.logs if c.logs is not None else []
        return self._map.locate(error)


def _over_budget(fr):
    raise operation_limit(fr[0]).at(1, 1)


def _build(
    source: str, origin: str, line_offset: int, column_offset: int, indent_all_lines: bool, limits: Limits | None, expression: bool
) -> Program:
    source_map = SourceMap(origin, line_offset, column_offset, indent_all_lines)
    limits = limits or DEFAULT_LIMITS
    if type(source) is not str:
        raise source_map.locate(ScriptError(f"a script must be a string, not {type(source).__name__}", 1, 1))
    try:
        parser = Parser(Lexer(source), limits.max_nesting)
        compiler = Compiler(limits)
        if expression:
            if parser.tok.kind == "eof":
                raise parser.error("expected an expression, found nothing")
            node = parser.parse_expr()
            if parser.tok.kind == ";" and parser.peek2().kind == "eof":
                parser.advance()
            if parser.tok.kind != "eof":
                raise parser.error(f"expected the end of the expression, found {parser.tok.describe()}")
            body, size, weight = compiler.compile_expression(node)
        else:
            body, size, weight = compiler.compile_script(parser.parse_script())
    except ScriptError as error:
        raise source_map.locate(error) from None
    except RecursionError:
        raise source_map.locate(ScriptError("the script is nested too deeply to parse", 1, 1)) from None
    except Exception as exc:  # a bug in the parser: still never a Python exception
        raise source_map.locate(ScriptError(f"internal error in the script parser: {type(exc).__name__}: {exc}", 1, 1)) from None
    return Program(source, source_map, body, size, compiler, weight)


def compile(  # noqa: A001 - the public name the flow engine uses
    source: str,
    origin: str = "<script>",
    line_offset: int = 0,
    column_offset: int = 0,
    *,
    indent_all_lines: bool = False,
    limits: Limits | None = None,
) -> Program:
    """Compile a script (statements; its value is the last expression's).

    Positions: `line_offset` is added to every line. `column_offset` is added to columns
    of the script's first line only (a script that starts mid-line in a YAML file), or of
    every line when `indent_all_lines=True` (a YAML block scalar indented that much).
    Raises `ScriptError` on a syntax error."""
    return _build(source, origin, line_offset, column_offset, indent_all_lines, limits, expression=False)


def compile_expression(
    source: str,
    origin: str = "<expr>",
    line_offset: int = 0,
    column_offset: int = 0,
    *,
    indent_all_lines: bool = False,
    limits: Limits | None = None,
) -> Program:
    """Compile a single expression (a branch condition). Positions as in `compile`."""
    return _build(source, origin, line_offset, column_offset, indent_all_lines, limits, expression=True)
