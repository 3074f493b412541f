"""Generates one Python function for a side-effect-free expression (property paths,
comparisons, logic, arithmetic, pure built-ins), so a branch condition costs one Python
call instead of one per node.

The generated code raises `ScriptError` without positions. Because the expression has no
side effects, the function then re-evaluates it with its closure twin (compiled by
`compiler.Compiler` from the same tree), which raises the same error with its position,
starting again from the operation budget the function started with.

`generate_program` does the same for a whole script of `let`s and such expressions (or a
whole branch condition): `Program.run`/`evaluate` call it with the scope alone, with no
frame, and with a run Context made only if something needs one; on any failure they run
the general path instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from . import nodes as n
from .errors import ScriptError
from .operators import ARITHMETIC, comparable, contains, negate
from .operators import index as _index
from .stdlib import BUILTINS, apply_format, parse_format
from .values import (
    MAX_INT,
    MIN_INT,
    Context,
    charge_compare,
    joined,
    lookup,
    render,
    same,
    type_name,
)

Resolve = Callable[[str], Any]  # a name -> (slot, constant) | None, from the compiler's scope
Shadowed = Callable[[str, int], bool]  # whether `name(…)` with that many arguments is not the built-in

# Built-ins without side effects and without callbacks: safe to evaluate twice.
PURE_BUILTINS = frozenset(
    {
        "len",
        "is_empty",
        "contains",
        "starts_with",
        "ends_with",
        "index_of",
        "to_upper",
        "to_lower",
        "trim",
        "split",
        "replace",
        "sub_string",
        "chars",
        "to_string",
        "to_int",
        "to_float",
        "parse_int",
        "parse_float",
        "keys",
        "values",
        "join",
        "type_of",
        "to_json",
        "parse_json",
        "sha256",
        "base64_encode",
        "base64_decode",
        "format",
        "format!",
        "abs",
        "min",
        "max",
    }
)
_MAX_HEIGHT = 16  # keeps generated source far below CPython's parser nesting limits


class _Missing:
    __slots__ = ()


_M = _Missing()


def _unknown(name: str) -> NoReturn:
    raise ScriptError(f"unknown variable '{name}'")


def _bad_property(o: object, name: str) -> NoReturn:
    raise ScriptError(f"cannot read property '{name}' of {type_name(o)}")


def _not_bool(what: str, v: object) -> NoReturn:
    raise ScriptError(f"{what} must be a bool, not {type_name(v)}")


def _compare_slow(c: Context, op: str, a: object, b: object) -> bool:
    """Ordering anything but two numbers: two strings (long ones charged), else an error."""
    if type(a) is str and type(b) is str:
        charge_compare(c, a, b)
        return _ORDER[op](a, b)
    comparable(op, a, b)
    raise ScriptError(f"cannot compare using '{op}'")


_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _index_any(c, o, k, safe):
    t = type(o)
    if t is list and type(k) is int:
        size = len(o)
        i = k + size if k < 0 else k
        if 0 <= i < size:
            return o[i]
    return _index(c, o, k, safe)


def _new_context(C, g):
    c = C()
    c.globals = g
    return c


def _frame_slot(slot: int) -> str:
    return f"fr[{slot}]"


def _python_local(slot: int) -> str:
    return f"_v{slot}"


_HELPERS = {
    "_M": _M,
    "_SE": ScriptError,
    "_unknown": _unknown,
    "_lookup": lookup,
    "_bad_property": _bad_property,
    "_not_bool": _not_bool,
    "_compare": _compare_slow,
    "_index": _index_any,
    "_same": same,
    "_render": render,
    "_joined": joined,
    "_SIZED": (str, list, dict),
    "_contains": contains,
    "_negate": negate,
    "_NUM": (int, float),
    "_MIN": MIN_INT,
    "_MAX": MAX_INT,
    "_new": _new_context,
}
_HELPERS.update({f"_op{i}": func for i, func in enumerate(ARITHMETIC.values())})
_OP_NAMES = {op: f"_op{i}" for i, op in enumerate(ARITHMETIC)}


def height(node: n.Node) -> int:
    kids = n.children(node)
    return 1 + (max(height(k) for k in kids) if kids else 0)


class CodeGen:
    """Turns a pure expression tree into the source of one Python expression."""

    def __init__(
        self, resolve: Resolve, local: Callable[[int], str] | None = None, context: str = "c", free_text: str = "c.free_text"
    ) -> None:
        self.resolve = resolve  # name -> (slot, constant) | None, from the compiler's scope
        self.local = local or _frame_slot  # slot -> the Python expression that reads it
        self.c = context  # the Python expression for the run Context
        self.free_text = free_text  # the Python expression for the run's `Context.free_text`
        self.consts: dict[str, object] = {}
        self.temps = 0
        self.uses_context = False
        self.uses_globals = False
        self.charges = False  # calls something that may charge the operation budget

    @staticmethod
    def pure(node: Any, shadowed: Shadowed | None = None) -> bool:
        """Whether `node` has no side effects and can be generated. `shadowed(name, count)`
        tells whether a call `name(…)` with `count` arguments reaches something other than
        the built-in (a local variable or a script `fn`)."""
        pure = CodeGen.pure
        t = type(node)
        if t is n.Literal or t is n.Variable:
            return True
        if t is n.Property:
            return pure(node.target, shadowed)
        if t is n.Index:
            return pure(node.target, shadowed) and pure(node.index, shadowed)
        if t is n.Binary:
            if node.op in ("in", "!in") and isinstance(node.right, n.Range):
                return False
            return pure(node.left, shadowed) and pure(node.right, shadowed)
        if t is n.Unary:
            return pure(node.operand, shadowed)
        if t is n.Interpolated:
            return all(isinstance(p, str) or pure(p, shadowed) for p in node.parts)
        if t is n.Call:
            return (
                node.name in PURE_BUILTINS
                and not (shadowed is not None and shadowed(node.name, len(node.args)))
                and all(pure(a, shadowed) for a in node.args)
            )
        if t is n.MethodCall:
            return node.name in PURE_BUILTINS and pure(node.target, shadowed) and all(pure(a, shadowed) for a in node.args)
        if t is n.ArrayLiteral:
            return all(type(i) is n.Literal for i in node.items)
        return False

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def const(self, value: object) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def gen(self, node: n.Node) -> str:
        return getattr(self, "g_" + type(node).__name__)(node)

    def g_Literal(self, node: n.Literal) -> str:
        return repr(node.value)

    def g_Variable(self, node: n.Variable) -> str:
        found = self.resolve(node.name)
        if found is not None:
            return self.local(found[0])
        self.uses_globals = True
        v = self.temp()
        return f"({v} if ({v} := g.get({node.name!r}, _M)) is not _M else _unknown({node.name!r}))"

    def g_Property(self, node: n.Property) -> str:
        self.uses_context = True
        t, v = self.temp(), self.temp()
        key = repr(node.name)
        other = "None" if node.safe else f"_bad_property({t}, {key})"
        return (
            f"(({v} if ({v} := {t}.get({key}, _M)) is not _M else _lookup({self.c}, {t}, {key})) "
            f"if type({t} := {self.gen(node.target)}) is dict else {other})"
        )

    def g_Index(self, node: n.Index) -> str:
        self.uses_context = True
        target = self.gen(node.target)
        if isinstance(node.index, n.Literal) and type(node.index.value) is str:
            t, v = self.temp(), self.temp()
            key = repr(node.index.value)
            return (
                f"(({v} if ({v} := {t}.get({key}, _M)) is not _M else _lookup({self.c}, {t}, {key})) "
                f"if type({t} := {target}) is dict else _index({self.c}, {t}, {key}, {node.safe}))"
            )
        return f"_index({self.c}, {target}, {self.gen(node.index)}, {node.safe})"

    def g_Binary(self, node: n.Binary) -> str:
        op = node.op
        if op in ("==", "!="):
            lnode, rnode = node.left, node.right
            if isinstance(lnode, n.Literal) and not isinstance(rnode, n.Literal):
                lnode, rnode = rnode, lnode
            if isinstance(rnode, n.Literal) and type(rnode.value) is str and len(rnode.value) <= 4096:
                a = self.temp()
                test = f"(type({a} := {self.gen(lnode)}) is str and {a} == {rnode.value!r})"
            else:
                self.uses_context = True
                self.charges = True
                test = f"_same({self.c}, {self.gen(lnode)}, {self.gen(rnode)})"
            return test if op == "==" else f"(not {test})"
        if op in ("&&", "||"):
            a, b = self.temp(), self.temp()
            right = f"({b} if ({b} := {self.gen(node.right)}) is True or {b} is False else _not_bool('the right side of {op}', {b}))"
            if op == "&&":
                return (
                    f"({right} if ({a} := {self.gen(node.left)}) is True else "
                    f"(False if {a} is False else _not_bool('the left side of {op}', {a})))"
                )
            return (
                f"(True if ({a} := {self.gen(node.left)}) is True else "
                f"({right} if {a} is False else _not_bool('the left side of {op}', {a})))"
            )
        if op == "??":
            a = self.temp()
            return f"({self.gen(node.right)} if ({a} := {self.gen(node.left)}) is None else {a})"
        if op in ("in", "!in"):
            self.uses_context = True
            self.charges = True
            test = f"_contains({self.c}, {self.gen(node.left)}, {self.gen(node.right)})"
            return test if op == "in" else f"(not {test})"
        a, b = self.temp(), self.temp()
        left, right = self.gen(node.left), self.gen(node.right)
        if op in ("<", "<=", ">", ">="):
            self.uses_context = True
            self.charges = True
            return (
                f"({a} {op} {b} if (type({a} := {left}) in _NUM) & (type({b} := {right}) in _NUM) "
                f"else _compare({self.c}, {op!r}, {a}, {b}))"
            )
        self.uses_context = True
        self.charges = True
        helper = _OP_NAMES[op]
        if op in ("+", "-", "*"):
            r = self.temp()
            return (
                f"({r} if (type({a} := {left}) is int) & (type({b} := {right}) is int) "
                f"and _MIN <= ({r} := {a} {op} {b}) <= _MAX else {helper}({self.c}, {a}, {b}))"
            )
        return f"{helper}({self.c}, {left}, {right})"

    def g_Unary(self, node: n.Unary) -> str:
        operand = self.gen(node.operand)
        if node.op == "!":
            a = self.temp()
            return f"(False if ({a} := {operand}) is True else (True if {a} is False else _not_bool(\"'!'\", {a})))"
        if node.op == "-":
            return f"_negate({operand})"
        a = self.temp()
        return f"({a} if type({a} := {operand}) in _NUM else _not_bool('unary +', {a}))"

    def g_Interpolated(self, node: n.Interpolated) -> str:
        return self.joined([p if isinstance(p, str) else (self.text(self.gen(p)),) for p in node.parts])

    def text(self, value: str) -> str:
        """The text `{}` renders for the value of the Python expression `value`."""
        v = self.temp()
        return f"({v} if type({v} := {value}) is str else str({v}) if type({v}) is int else _render({v}, {self.c}))"

    def joined(self, parts: list[str | tuple[str]]) -> str:
        """`values.joined` of literal pieces (str) and Python expressions of text ((source,)),
        evaluated in order. Text shorter than the run's `free_text` is joined here: `joined`
        would neither charge nor check it."""
        self.uses_context = True
        self.charges = True  # rendering and joining are charged by size
        items, sizes, fixed = [], [], 0
        for p in parts:
            if type(p) is str:
                items.append(repr(p))
                fixed += len(p)
            else:
                r = self.temp()
                items.append(r)
                sizes.append(f"len({r} := {p[0]})")
        pieces = ", ".join(items)
        return f"(''.join(({pieces},)) if {' + '.join([*sizes, str(fixed)])} < {self.free_text} else _joined({self.c}, [{pieces}]))"

    def g_ArrayLiteral(self, node: n.ArrayLiteral) -> str:
        return "[" + ", ".join(self.gen(i) for i in node.items) + "]"

    def _builtin(self, name: str, args: list[str], arg_nodes: tuple) -> str:
        self.uses_context = True
        self.charges = True
        if name in ("format", "format!") and arg_nodes and isinstance(arg_nodes[0], n.Literal) and type(arg_nodes[0].value) is str:
            pieces = parse_format(arg_nodes[0].value)
            if len(pieces) // 2 == len(args) - 1:
                if len(args) == 2 and pieces[1] is render:
                    return self.joined([pieces[0], (self.text(args[1]),), pieces[2]])
                return f"{self.const(apply_format)}({self.c}, {self.const(pieces)}, ({', '.join(args[1:])},))"
        func = BUILTINS[name][0]
        if name == "len" and len(args) == 1:  # what `len` does with what it applies to
            v = self.temp()
            return f"(len({v}) if type({v} := {args[0]}) in _SIZED else {self.const(func)}({self.c}, {v}))"
        return f"{self.const(func)}({self.c}, {', '.join(args)})"

    def g_Call(self, node: n.Call) -> str:
        return self._builtin(node.name, [self.gen(a) for a in node.args], node.args)

    def g_MethodCall(self, node: n.MethodCall) -> str:
        args = [self.gen(a) for a in node.args]
        if node.safe:
            t = self.temp()
            call = self._builtin(node.name, [t] + args, ())
            return f"(None if ({t} := {self.gen(node.target)}) is None else {call})"
        return self._builtin(node.name, [self.gen(node.target)] + args, ())


def generate(node: n.Node, resolve: Resolve, slow: Callable[..., Any], name: str = "expression") -> Callable[..., Any] | None:
    """A Python function `f(fr)` for the pure expression `node`, or None when it does not
    qualify. `slow` is the closure twin used to re-raise errors with positions."""
    if height(node) > _MAX_HEIGHT:
        return None
    gen = CodeGen(resolve)
    try:
        body = gen.gen(node)
    except ScriptError:
        return None  # e.g. a bad format string: the closure path reports it
    prologue = []
    if gen.uses_context:
        prologue.append("    c = fr[0]")
    if gen.uses_globals:
        prologue.append("    g = fr[1]")
    # The closure twin starts again from the budget this function started with.
    restore = []
    if gen.charges:
        prologue.append("    b = c.budget")
        restore.append("        c.budget = b")
    source = "\n".join(
        [
            f"def {name}(fr):",
            *prologue,
            "    try:",
            f"        return {body}",
            "    except _SE:",
            *restore,
            "        return _slow(fr)",
        ]
    )
    namespace: dict[str, Any] = dict(_HELPERS)
    namespace.update(gen.consts)
    namespace["_slow"] = slow
    try:
        exec(compile(source, f"<script {name}>", "exec"), namespace)  # noqa: S102 - our own generated code
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    return namespace[name]


#: In a whole-program function the Context is made when first needed: most branch
#: conditions only read properties and never need one.
_LAZY_CONTEXT = "(c or (c := _new(C, g)))"


def generate_program(
    statements: list[tuple[Any, ...]], result: n.Node | None, shadowed: Shadowed | None = None
) -> Callable[..., Any] | None:
    """A Python function `f(g, C)` that runs a whole script made only of `let`s with pure
    values and pure expression statements, with the scope `g` as its globals and a Context
    of class `C` made only if needed, or None when the script does not qualify.

    `statements` are `("let", name, node | None)` or `("expr", node)` in order; `result` is
    the node of the script's value (or None: unit). The function raises whatever the
    expressions raise, positionless: being side-effect free, the script can then be run
    again on the general path, which reports the error with its position."""
    names: dict[str, int] = {}  # each `let` to the Python local that holds it

    def hidden(name: str, count: int) -> bool:  # a `let` or a script `fn` named like a built-in
        return name in names or (shadowed is not None and shadowed(name, count))

    def qualifies(node: n.Node) -> bool:
        return height(node) <= _MAX_HEIGHT and CodeGen.pure(node, hidden)

    gen = CodeGen(lambda name: (names[name], False) if name in names else None, _python_local, _LAZY_CONTEXT, "C.free_text")
    lines = ["def program(g, C):", "    c = None"]
    try:
        for statement in statements:
            node = statement[-1]
            if node is not None and not qualifies(node):
                return None
            if statement[0] == "let":
                value = "None" if node is None else gen.gen(node)
                slot = len(lines)  # a new local for each `let`, even of a name seen before
                names[statement[1]] = slot
                lines.append(f"    {_python_local(slot)} = {value}")
            else:
                lines.append(f"    {gen.gen(node)}")
        if result is not None and not qualifies(result):
            return None
        lines.append(f"    return {'None' if result is None else gen.gen(result)}")
    except ScriptError:
        return None  # e.g. a bad format string: the closure path reports it
    namespace: dict[str, Any] = dict(_HELPERS)
    namespace.update(gen.consts)
    try:
        exec(compile("\n".join(lines), "<script program>", "exec"), namespace)  # noqa: S102 - our own generated code
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None
    return namespace["program"]
