"""Compiles the syntax tree into nested Python closures, one per node.

Every closure takes the frame `fr`: a list whose slot 0 is the run `Context`, slot 1 the
global scope (the flow's names), and the rest the local variables, resolved to slot
numbers here so no name is looked up at run time. Work is counted per block entry, loop
iteration and call, each charging the number of nodes it evaluates.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from . import nodes as n
from .codegen import CodeGen, generate, generate_program
from .errors import Limits, ScriptError
from .operators import ARITHMETIC, comparable, contains, negate, out_of_range
from .operators import index as index_value
from .stdlib import BUILTINS, apply_format, materialize_range, parse_format
from .values import (
    MAX_INT,
    MIN_INT,
    BreakSignal,
    Context,
    ContinueSignal,
    Fn,
    ReturnSignal,
    call_function,
    charge,
    charge_compare,
    check_items,
    joined,
    lookup,
    operation_limit,
    render,
    same,
    store,
    suggest,
    type_name,
)

# A compiled node: a closure over the frame (slot 0 the Context, slot 1 the globals).
Code = Callable[[list[Any]], Any]

_MISSING = object()
_TRIVIAL = (n.Literal, n.Variable)


class _Scope:
    """Compile-time names of one function body (the script, a `fn`, or a closure)."""

    def __init__(self, parent: _Scope | None, kind: str) -> None:
        self.parent = parent  # only closures see their parent's variables (captured)
        self.kind = kind
        self.blocks: list[dict[str, tuple[int, bool]]] = [{}]
        self.next_slot = 2
        self.captures: list[tuple[int, int]] = []  # (slot outside, slot inside)

    def declare(self, name: str, constant: bool) -> int:
        slot = self.next_slot
        self.next_slot += 1
        self.blocks[-1][name] = (slot, constant)
        return slot

    def resolve(self, name: str) -> tuple[int, bool] | None:
        for block in reversed(self.blocks):
            found = block.get(name)
            if found is not None:
                return found
        if self.kind == "closure" and self.parent is not None:
            outer = self.parent.resolve(name)
            if outer is not None:
                slot = self.next_slot
                self.next_slot += 1
                self.blocks[0][name] = (slot, outer[1])
                self.captures.append((outer[0], slot))
                return slot, outer[1]
        return None

    def lookup(self, name: str) -> bool:
        """Whether `name` is a variable here, without capturing it."""
        if any(name in block for block in self.blocks):
            return True
        return self.kind == "closure" and self.parent is not None and self.parent.lookup(name)

    def visible(self) -> set[str]:
        names = {name for block in self.blocks for name in block}
        if self.kind == "closure" and self.parent is not None:
            names |= self.parent.visible()
        return names


def weight(node: n.Node) -> int:
    """Nodes evaluated when `node` runs, not counting blocks and closure bodies (they
    count themselves when they run)."""
    total = 1
    for child in n.children(node):
        if isinstance(child, n.Block) or isinstance(node, n.Closure):
            continue
        total += weight(child)
    return total


class Compiler:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.functions: dict[str, dict[int, Fn]] = {}
        self.scope = _Scope(None, "script")
        self.assigns_globals = False
        self.fast = True
        # `f(g, C)` for a script or expression without side effects, generated whole (see
        # `codegen.generate_program`); None otherwise.
        self.program: Callable[..., Any] | None = None
        self.unresolved: list[tuple[str, str, int, int, tuple[str, ...]]] = []  # kind, name, line, col, candidates

    # ---- entry points ---------------------------------------------------------------------

    def compile_script(self, script: n.Script) -> tuple[Code, int, int]:
        for fn in script.functions:
            group = self.functions.setdefault(fn.name, {})
            if len(fn.params) in group:
                raise ScriptError(f"function '{fn.name}' with {len(fn.params)} parameter(s) is defined twice", fn.line, fn.column)
            group[len(fn.params)] = Fn(fn.name, len(fn.params), None, None)
        for fn in script.functions:
            value = self.functions[fn.name][len(fn.params)]
            saved = self.scope
            self.scope = _Scope(None, "fn")
            for param in fn.params:
                self.scope.declare(param, False)
            value.body = self.block(fn.body)
            value.template = [None] * self.scope.next_slot
            self.scope = saved
        # The top-level block's own nodes are charged up front by the run.
        body = self.block(script.body, charge=False)
        self.program = self._whole(script.body)
        return body, self.scope.next_slot, sum(weight(s) for s in script.body.statements)

    def compile_expression(self, node: n.Node) -> tuple[Code, int, int]:
        """(closure, frame size, weight): the caller charges `weight` before running it."""
        body = self.expr(node)
        self.program = generate_program([], node, self.shadowed)
        return body, self.scope.next_slot, weight(node)

    def _whole(self, block: n.Block) -> Callable[..., Any] | None:
        """The script as one generated function when it is only `let`s and expressions
        without side effects."""
        statements: list[tuple] = []
        for s in block.statements:
            if type(s) is n.Let:
                statements.append(("let", s.name, s.value))
            elif isinstance(s, (n.Assign, n.Break, n.Continue, n.Return)):
                return None
            else:
                statements.append(("expr", s))
        result = None
        if block.has_value:
            result = statements.pop()[1]
        return generate_program(statements, result, self.shadowed)

    def shadowed(self, name: str, count: int) -> bool:
        """Whether a call `name(…)` with `count` arguments reaches a variable or a script
        `fn` rather than the built-in of that name."""
        group = self.functions.get(name)
        return self.scope.lookup(name) or (group is not None and count in group)

    # ---- dispatch -----------------------------------------------------------------------------

    def expr(self, node: n.Node) -> Code:
        method = getattr(self, "c_" + type(node).__name__)
        if self.fast and type(node) not in _TRIVIAL and CodeGen.pure(node, self.shadowed):
            # One generated Python function for the whole side-effect-free subtree; its
            # closure twin (compiled without code generation) reports errors with positions.
            self.fast = False
            try:
                slow = method(node)
            finally:
                self.fast = True
            return generate(node, self.scope.resolve, slow) or slow
        return method(node)

    # ---- blocks and statements -----------------------------------------------------------------

    def block(self, node: n.Block, extra: int = 0, declare: Callable[[], object] | None = None, charge: bool = True) -> Code:
        """A block; `extra` adds to its charge (loop iterations), `declare` runs in its scope
        before the statements (loop variables)."""
        self.scope.blocks.append({})
        if declare is not None:
            declare()
        statements = [self.statement(s) for s in node.statements]
        self.scope.blocks.pop()
        w = sum(weight(s) for s in node.statements) + extra
        line, column = node.line, node.column
        has_value = node.has_value
        if not statements:
            if w == 0:
                return _unit
            statements = [_unit]
            has_value = False
        if not has_value:
            statements.append(_unit)
        if not charge:
            return _sequence(statements)
        if len(statements) == 1:
            only = statements[0]

            def block1(fr):
                c = fr[0]
                c.budget -= w
                if c.budget < 0:
                    raise operation_limit(c).at(line, column)
                return only(fr)

            return block1
        if len(statements) == 2:
            first, second = statements

            def block2(fr):
                c = fr[0]
                c.budget -= w
                if c.budget < 0:
                    raise operation_limit(c).at(line, column)
                first(fr)
                return second(fr)

            return block2
        head = tuple(statements[:-1])
        last = statements[-1]

        def block_n(fr):
            c = fr[0]
            c.budget -= w
            if c.budget < 0:
                raise operation_limit(c).at(line, column)
            for s in head:
                s(fr)
            return last(fr)

        return block_n

    def statement(self, node: n.Node) -> Code:
        if isinstance(node, n.Let):
            return self.s_let(node)
        if isinstance(node, n.Assign):
            return self.s_assign(node)
        if isinstance(node, n.Break):
            return self.s_break(node)
        if isinstance(node, n.Continue):
            return _continue
        if isinstance(node, n.Return):
            return self.s_return(node)
        return self.expr(node)

    def s_let(self, node: n.Let) -> Code:
        value = self.expr(node.value) if node.value is not None else None
        slot = self.scope.declare(node.name, node.constant)
        if value is None:

            def let_unit(fr):
                fr[slot] = None

            return let_unit

        def let(fr):
            fr[slot] = value(fr)

        return let

    def s_break(self, node: n.Break) -> Code:
        value = self.expr(node.value) if node.value is not None else _unit

        def break_(fr):
            raise BreakSignal(value(fr))

        return break_

    def s_return(self, node: n.Return) -> Code:
        value = self.expr(node.value) if node.value is not None else _unit

        def return_(fr):
            raise ReturnSignal(value(fr))

        return return_

    def s_assign(self, node: n.Assign) -> Code:
        op = node.op
        combine = ARITHMETIC[op[:-1]] if op != "=" else None
        value = self.expr(node.value)
        target = node.target
        line, column = node.line, node.column
        if isinstance(target, n.Variable):
            found = self.scope.resolve(target.name)
            if found is not None:
                slot, constant = found
                if constant:
                    raise ScriptError(
                        f"cannot assign to constant '{target.name}'; declare it with 'let' to change it",
                        target.line,
                        target.column,
                    )
                if combine is None:

                    def assign_local(fr):
                        fr[slot] = value(fr)

                    return assign_local
                if op == "+=":

                    def add_local(fr):
                        a = fr[slot]
                        b = value(fr)
                        if type(a) is int and type(b) is int:
                            r = a + b
                            if MIN_INT <= r <= MAX_INT:
                                fr[slot] = r
                                return
                        if type(a) is list:
                            c = fr[0]
                            if type(b) is list:
                                a.extend(store(c, b))  # type: ignore[arg-type]
                            else:
                                a.append(store(c, b))
                            try:
                                check_items(c, a)
                            except ScriptError as e:
                                e.at(line, column)
                                raise
                            return
                        try:
                            fr[slot] = combine(fr[0], a, b)
                        except ScriptError as e:
                            e.at(line, column)
                            raise

                    return add_local

                def update_local(fr):
                    b = value(fr)
                    try:
                        fr[slot] = combine(fr[0], fr[slot], b)
                    except ScriptError as e:
                        e.at(line, column)
                        raise

                return update_local
            name = target.name
            self.assigns_globals = True
            visible = tuple(self.scope.visible())
            self.unresolved.append(("variable", name, target.line, target.column, visible))

            def assign_global(fr):
                g = fr[1]
                if name not in g:
                    raise _unknown_variable(name, visible, g).at(target.line, target.column)
                b = value(fr)
                if combine is not None:
                    try:
                        b = combine(fr[0], g[name], b)
                    except ScriptError as e:
                        e.at(line, column)
                        raise
                g[name] = b

            return assign_global

        if isinstance(target, n.Property):
            obj = self.expr(target.target)
            key = target.name

            def assign_property(fr):
                o = obj(fr)
                b = value(fr)
                c = fr[0]
                try:
                    _set_key(c, o, key, b, combine, f"property '{key}'")
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return assign_property

        obj = self.expr(target.target)  # type: ignore[attr-defined] # an Index
        index = self.expr(target.index)  # type: ignore[attr-defined]

        def assign_index(fr):
            o = obj(fr)
            k = index(fr)
            b = value(fr)
            c = fr[0]
            try:
                if type(o) is list:
                    if type(k) is not int:
                        raise ScriptError(f"array indexes are integers, not {type_name(k)}")
                    size = len(o)
                    i = k + size if k < 0 else k
                    if not 0 <= i < size:
                        raise out_of_range(k, size, "array")
                    o[i] = store(c, combine(c, o[i], b) if combine is not None else b)
                elif type(o) is dict:
                    if type(k) is not str:
                        raise ScriptError(f"map keys are strings, not {type_name(k)}")
                    _set_key(c, o, k, b, combine, f"key '{k}'")
                elif type(o) is str:
                    raise ScriptError("strings cannot be changed in place; build a new one")
                else:
                    raise ScriptError(f"cannot assign into {type_name(o)} by index: only arrays and maps")
            except ScriptError as e:
                e.at(line, column)
                raise

        return assign_index

    # ---- expressions ---------------------------------------------------------------------------

    def c_Literal(self, node: n.Literal) -> Code:
        value = node.value
        if type(value) is str and len(value) * 4 > self.limits.max_string_bytes:
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > self.limits.max_string_bytes:
                raise ScriptError(
                    f"string size limit exceeded: a literal of {size:,} bytes > {self.limits.max_string_bytes:,} (max_string_bytes)",
                    node.line,
                    node.column,
                )
        return lambda fr: value

    def c_Interpolated(self, node: n.Interpolated) -> Code:
        parts = tuple(p if isinstance(p, str) else self.expr(p) for p in node.parts)
        line, column = node.line, node.column

        def interpolate(fr):
            c = fr[0]
            try:
                out = [p if type(p) is str else render(p(fr), c) for p in parts]  # type: ignore[operator]
                return joined(c, out)
            except ScriptError as e:
                e.at(line, column)
                raise

        return interpolate

    def c_Variable(self, node: n.Variable) -> Code:
        found = self.scope.resolve(node.name)
        if found is not None:
            return itemgetter(found[0])
        name = node.name
        visible = tuple(self.scope.visible())
        self.unresolved.append(("variable", name, node.line, node.column, visible))
        line, column = node.line, node.column

        def global_variable(fr):
            try:
                return fr[1][name]
            except KeyError:
                raise _unknown_variable(name, visible, fr[1]).at(line, column) from None

        return global_variable

    def c_ArrayLiteral(self, node: n.ArrayLiteral) -> Code:
        items = tuple(self.expr(item) for item in node.items)
        line, column = node.line, node.column
        if len(items) > self.limits.max_collection_items:
            raise ScriptError("array size limit exceeded in an array literal (max_collection_items)", line, column)

        def array(fr):
            c = fr[0]
            try:
                return [store(c, item(fr)) for item in items]
            except ScriptError as e:
                e.at(line, column)
                raise

        return array

    def c_MapLiteral(self, node: n.MapLiteral) -> Code:
        entries = tuple((key, self.expr(value)) for key, value in node.entries)
        line, column = node.line, node.column

        def map_(fr):
            c = fr[0]
            out = {}
            try:
                for key, value in entries:
                    out[key] = store(c, value(fr))
            except ScriptError as e:
                e.at(line, column)
                raise
            return out

        return map_

    def c_Unary(self, node: n.Unary) -> Code:
        operand = self.expr(node.operand)
        line, column = node.line, node.column
        if node.op == "!":

            def not_(fr):
                v = operand(fr)
                if v is True:
                    return False
                if v is False:
                    return True
                raise ScriptError(f"'!' applies to a bool, not {type_name(v)}", line, column)

            return not_
        if node.op == "-":

            def minus(fr):
                try:
                    return negate(operand(fr))
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return minus

        def plus(fr):
            v = operand(fr)
            if type(v) is int or type(v) is float:
                return v
            raise ScriptError(f"unary '+' applies to numbers, not {type_name(v)}", line, column)

        return plus

    def c_Range(self, node: n.Range) -> Code:
        bounds = self._range_bounds(node)
        line, column = node.line, node.column

        def range_(fr):
            a, b = bounds(fr)
            try:
                return materialize_range(fr[0], a, b)
            except ScriptError as e:
                e.at(line, column)
                raise

        return range_

    def _range_bounds(self, node: n.Range) -> Code:
        start = self.expr(node.start)
        end = self.expr(node.end)
        inclusive = 1 if node.inclusive else 0
        line, column = node.line, node.column

        def bounds(fr):
            a = start(fr)
            b = end(fr)
            if type(a) is not int or type(b) is not int:
                raise ScriptError(f"a range needs integer bounds, not {type_name(a)}..{type_name(b)}", line, column)
            return a, b + inclusive

        return bounds

    def c_Binary(self, node: n.Binary) -> Code:
        op = node.op
        line, column = node.line, node.column
        if op == "&&" or op == "||":
            return self._logical(node)
        if op == "??":
            left, right = self.expr(node.left), self.expr(node.right)

            def coalesce(fr):
                v = left(fr)
                return right(fr) if v is None else v

            return coalesce
        if op == "in" or op == "!in":
            return self._in(node)
        if op == "==" or op == "!=":
            return self._equality(node)
        left, right = self.expr(node.left), self.expr(node.right)
        if op in ("<", "<=", ">", ">="):
            return _COMPARISONS[op](left, right, line, column)
        combine = ARITHMETIC[op]
        if op == "+":

            def add(fr):
                a = left(fr)
                b = right(fr)
                if type(a) is int and type(b) is int:
                    r = a + b
                    if MIN_INT <= r <= MAX_INT:
                        return r
                try:
                    return combine(fr[0], a, b)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return add
        if op == "-" or op == "*":
            fast = (lambda a, b: a - b) if op == "-" else (lambda a, b: a * b)

            def arith(fr):
                a = left(fr)
                b = right(fr)
                if type(a) is int and type(b) is int:
                    r = fast(a, b)
                    if MIN_INT <= r <= MAX_INT:
                        return r
                try:
                    return combine(fr[0], a, b)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return arith

        def binary(fr):
            a = left(fr)
            b = right(fr)
            try:
                return combine(fr[0], a, b)
            except ScriptError as e:
                e.at(line, column)
                raise

        return binary

    def _logical(self, node: n.Binary) -> Code:
        left, right = self.expr(node.left), self.expr(node.right)
        op = node.op
        line, column = node.line, node.column
        stop = op == "||"  # the left value that decides the result alone

        def logical(fr):
            a = left(fr)
            if a is stop:
                return stop
            if a is not (not stop):
                raise ScriptError(f"the left side of '{op}' must be a bool, not {type_name(a)}", line, column)
            b = right(fr)
            if b is True or b is False:
                return b
            raise ScriptError(f"the right side of '{op}' must be a bool, not {type_name(b)}", line, column)

        return logical

    def _equality(self, node: n.Binary) -> Code:
        negated = node.op == "!="
        left_node, right_node = node.left, node.right
        if isinstance(left_node, n.Literal) and not isinstance(right_node, n.Literal):
            left_node, right_node = right_node, left_node
        left = self.expr(left_node)
        if isinstance(right_node, n.Literal) and type(right_node.value) is str and len(right_node.value) <= 4096:
            k = right_node.value
            if negated:

                def not_equal_str(fr):
                    v = left(fr)
                    return type(v) is not str or v != k

                return not_equal_str

            def equal_str(fr):
                v = left(fr)
                return type(v) is str and v == k

            return equal_str
        right = self.expr(right_node)
        line, column = node.line, node.column

        def equality(fr):
            a = left(fr)
            b = right(fr)
            try:
                return same(fr[0], a, b) is not negated
            except ScriptError as e:
                e.at(line, column)
                raise

        return equality

    def _in(self, node: n.Binary) -> Code:
        negated = node.op == "!in"
        item = self.expr(node.left)
        line, column = node.line, node.column
        if isinstance(node.right, n.Range):
            bounds = self._range_bounds(node.right)

            def in_range(fr):
                v = item(fr)
                a, b = bounds(fr)
                found = (type(v) is int or type(v) is float) and a <= v < b
                return found is not negated

            return in_range
        container = self.expr(node.right)

        def in_(fr):
            v = item(fr)
            where = container(fr)
            try:
                return contains(fr[0], v, where) is not negated
            except ScriptError as e:
                e.at(line, column)
                raise

        return in_

    def c_Property(self, node: n.Property) -> Code:
        target = self.expr(node.target)
        name = node.name
        safe = node.safe
        line, column = node.line, node.column

        def property_(fr):
            o = target(fr)
            if type(o) is dict:
                v = o.get(name, _MISSING)
                if v is _MISSING:
                    return lookup(fr[0], o, name)
                return v
            if safe:
                return None
            raise _property_error(o, name).at(line, column)

        return property_

    def c_Index(self, node: n.Index) -> Code:
        target = self.expr(node.target)
        safe = node.safe
        line, column = node.line, node.column
        if isinstance(node.index, n.Literal) and type(node.index.value) is str:
            key = node.index.value

            def index_key(fr):
                o = target(fr)
                if type(o) is dict:
                    v = o.get(key, _MISSING)
                    if v is _MISSING:
                        return lookup(fr[0], o, key)
                    return v
                try:
                    return index_value(fr[0], o, key, safe)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return index_key
        index = self.expr(node.index)

        def index_(fr):
            o = target(fr)
            k = index(fr)
            t = type(o)
            if t is list and type(k) is int:
                size = len(o)
                i = k + size if k < 0 else k
                if 0 <= i < size:
                    return o[i]
            try:
                return index_value(fr[0], o, k, safe)
            except ScriptError as e:
                e.at(line, column)
                raise

        return index_

    def c_Call(self, node: n.Call) -> Code:
        name = node.name
        line, column = node.line, node.column
        args = tuple(self.expr(a) for a in node.args)
        found = self.scope.resolve(name)
        if found is not None:
            slot = found[0]

            def call_variable(fr):
                fn = fr[slot]
                if type(fn) is not Fn:
                    raise ScriptError(f"'{name}' is a {type_name(fn)}, not a function, and cannot be called", line, column)
                values = [a(fr) for a in args]
                try:
                    return call_function(fr[0], fn, values)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return call_variable
        group = self.functions.get(name)
        if group is not None and len(args) in group:
            return self._call_script_fn(group[len(args)], args, line, column)
        if name in BUILTINS:
            return self._call_builtin(name, args, line, column, arg_nodes=node.args)
        if group is not None:
            counts = " or ".join(str(k) for k in sorted(group))
            message = f"function '{name}' takes {counts} argument(s), but {len(args)} were given"
            self.unresolved.append(("call", name, line, column, (message,)))
            return _fail(message, line, column)
        candidates = tuple(list(self.functions) + list(BUILTINS) + list(self.scope.visible()))
        self.unresolved.append(("function", name, line, column, candidates))

        def unknown_function(fr):
            raise ScriptError(f"unknown function '{name}'{suggest(name, candidates)}", line, column)

        return unknown_function

    def _call_script_fn(self, fn: Fn, args: tuple, line: int, column: int) -> Code:
        def call_fn(fr):
            values = [a(fr) for a in args]
            try:
                return call_function(fr[0], fn, values)
            except ScriptError as e:
                e.at(line, column)
                raise

        return call_fn

    def _call_builtin(
        self,
        name: str,
        args: tuple,
        line: int,
        column: int,
        target: Code | None = None,
        safe: bool = False,
        arg_nodes: tuple[n.Node, ...] = (),
    ) -> Code:
        func, low, high = BUILTINS[name]
        count = len(args) + (1 if target is not None else 0)
        if not low <= count <= high:
            from .stdlib import check_arity

            try:
                check_arity(name, count, low, high)
            except ScriptError as e:
                e.at(line, column)
                raise
        if (
            name in ("format", "format!")
            and target is None
            and arg_nodes
            and isinstance(arg_nodes[0], n.Literal)
            and type(arg_nodes[0].value) is str
        ):
            return self._format(arg_nodes[0], args[1:], line, column)
        if target is None:
            if len(args) == 1:
                only = args[0]

                def builtin1(fr):
                    a = only(fr)
                    try:
                        return func(fr[0], a)
                    except ScriptError as e:
                        e.at(line, column)
                        raise

                return builtin1

            def builtin_n(fr):
                values = [a(fr) for a in args]
                try:
                    return func(fr[0], *values)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return builtin_n
        if not args:

            def method0(fr):
                t = target(fr)
                if t is None and safe:
                    return None
                try:
                    return func(fr[0], t)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return method0

        def method_n(fr):
            t = target(fr)
            if t is None and safe:
                return None
            values = [a(fr) for a in args]
            try:
                return func(fr[0], t, *values)
            except ScriptError as e:
                e.at(line, column)
                raise

        return method_n

    def _format(self, template: n.Literal, args: tuple, line: int, column: int) -> Code:
        try:
            pieces = parse_format(template.value)  # type: ignore[arg-type]
        except ScriptError as e:
            e.at(template.line, template.column)
            raise
        wanted = len(pieces) // 2
        if wanted != len(args):
            raise ScriptError(
                f"format string has {wanted} placeholder{'s' if wanted != 1 else ''} "
                f"but {len(args)} argument{'s were' if len(args) != 1 else ' was'} given",
                line,
                column,
            )
        if len(args) == 1 and pieces[1] is render:
            before, after = pieces[0], pieces[2]
            only = args[0]

            def format1(fr):
                v = only(fr)
                c = fr[0]
                try:
                    text = v if type(v) is str else render(v, c)
                    if len(text) * 4 > c.limits.max_string_bytes:
                        return joined(c, [before, text, after])
                except ScriptError as e:
                    e.at(line, column)
                    raise
                return before + text + after

            return format1

        def format_(fr):
            values = tuple(a(fr) for a in args)
            try:
                return apply_format(fr[0], pieces, values)
            except ScriptError as e:
                e.at(line, column)
                raise

        return format_

    def c_MethodCall(self, node: n.MethodCall) -> Code:
        name = node.name
        line, column = node.line, node.column
        target = self.expr(node.target)
        args = tuple(self.expr(a) for a in node.args)
        safe = node.safe
        if name == "call":

            def call_method(fr):
                fn = target(fr)
                if fn is None and safe:
                    return None
                if type(fn) is not Fn:
                    raise ScriptError(f"call() applies to a function, not {type_name(fn)}", line, column)
                values = [a(fr) for a in args]
                try:
                    return call_function(fr[0], fn, values)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return call_method
        if name in BUILTINS:
            return self._call_builtin(name, args, line, column, target=target, safe=safe)
        group = self.functions.get(name)
        if group is not None and len(args) + 1 in group:
            fn = group[len(args) + 1]

            def call_fn_method(fr):
                t = target(fr)
                if t is None and safe:
                    return None
                values = [t] + [a(fr) for a in args]
                try:
                    return call_function(fr[0], fn, values)
                except ScriptError as e:
                    e.at(line, column)
                    raise

            return call_fn_method
        candidates = tuple(list(BUILTINS) + list(self.functions))
        self.unresolved.append(("method", name, line, column, candidates))

        def unknown_method(fr):
            t = target(fr)
            if t is None and safe:
                return None
            raise ScriptError(f"unknown method '{name}' on {type_name(t)}{suggest(name, candidates)}", line, column)

        return unknown_method

    def c_CallValue(self, node: n.CallValue) -> Code:
        callee = self.expr(node.callee)
        args = tuple(self.expr(a) for a in node.args)
        line, column = node.line, node.column

        def call_value(fr):
            fn = callee(fr)
            if type(fn) is not Fn:
                raise ScriptError(f"cannot call {type_name(fn)}: it is not a function", line, column)
            values = [a(fr) for a in args]
            try:
                return call_function(fr[0], fn, values)
            except ScriptError as e:
                e.at(line, column)
                raise

        return call_value

    def c_Closure(self, node: n.Closure) -> Code:
        outer = self.scope
        inner = _Scope(outer, "closure")
        for param in node.params:
            inner.declare(param, False)
        self.scope = inner
        try:
            body = self.expr(node.body)
            pure = CodeGen.pure(node.body, self.shadowed)
        finally:
            self.scope = outer
        w = weight(node.body) if not isinstance(node.body, n.Block) else 1
        quick = (body, w) if pure and 1 <= len(node.params) <= 2 else None
        captures = tuple(inner.captures)
        arity = len(node.params)
        size = inner.next_slot
        line, column = node.line, node.column

        def closure_body(fr):
            c = fr[0]
            c.budget -= w
            if c.budget < 0:
                raise operation_limit(c).at(line, column)
            return body(fr)

        if not captures:
            shared = Fn("<closure>", arity, closure_body, [None] * size, None, quick)
            return lambda fr: shared

        def make_closure(fr):
            template = [None] * size
            for outside, inside in captures:
                template[inside] = fr[outside]
            return Fn("<closure>", arity, closure_body, template, None, quick)

        return make_closure

    def c_Block(self, node: n.Block) -> Code:
        return self.block(node)

    def c_If(self, node: n.If) -> Code:
        condition = self.expr(node.condition)
        then = self.block(node.then)
        otherwise = self.expr(node.otherwise) if node.otherwise is not None else _unit
        cl, cc = node.condition.line, node.condition.column

        def if_(fr):
            v = condition(fr)
            if v is True:
                return then(fr)
            if v is False:
                return otherwise(fr)
            raise ScriptError(f"the condition of 'if' must be a bool, not {type_name(v)}", cl, cc)

        return if_

    def c_While(self, node: n.While) -> Code:
        condition = self.expr(node.condition)
        body = self.block(node.body, extra=1 + weight(node.condition))
        cl, cc = node.condition.line, node.condition.column

        def while_(fr):
            while True:
                v = condition(fr)
                if v is not True:
                    if v is False:
                        return None
                    raise ScriptError(f"the condition of 'while' must be a bool, not {type_name(v)}", cl, cc)
                try:
                    body(fr)
                except ContinueSignal:
                    pass
                except BreakSignal as b:
                    return b.value

        return while_

    def c_Loop(self, node: n.Loop) -> Code:
        body = self.block(node.body, extra=1)

        def loop(fr):
            while True:
                try:
                    body(fr)
                except ContinueSignal:
                    pass
                except BreakSignal as b:
                    return b.value

        return loop

    def c_For(self, node: n.For) -> Code:
        line, column = node.iterable.line, node.iterable.column
        if isinstance(node.iterable, n.Range):
            bounds = self._range_bounds(node.iterable)
            iterable = None
        else:
            bounds = None
            iterable = self.expr(node.iterable)
        slots: list[int] = []

        def declare():
            slots.append(self.scope.declare(node.name, False))
            if node.index_name is not None:
                slots.append(self.scope.declare(node.index_name, False))
            return slots

        body = self.block(node.body, extra=1, declare=declare)
        slot = slots[0]
        index_slot = slots[1] if len(slots) > 1 else None

        def for_(fr):
            if bounds is not None:
                a, b = bounds(fr)
                items: Any = range(a, b)
            else:
                seq = iterable(fr)  # type: ignore[misc]
                t = type(seq)
                if t is list:
                    items = list(seq)  # the body may change the array
                    if len(items) > 64:
                        try:
                            charge(fr[0], len(items) >> 4)
                        except ScriptError as e:
                            e.at(line, column)
                            raise
                elif t is str:
                    items = seq
                elif t is dict:
                    raise ScriptError("cannot loop over a map directly; loop over m.keys() or m.values()", line, column)
                else:
                    raise ScriptError(
                        f"cannot loop over {type_name(seq)}: 'for' takes an array, a range or a string",
                        line,
                        column,
                    )
            i = 0
            for x in items:
                fr[slot] = x
                if index_slot is not None:
                    fr[index_slot] = i
                    i += 1
                try:
                    body(fr)
                except ContinueSignal:
                    pass
                except BreakSignal as br:
                    return br.value
            return None

        return for_


# ---- run-time helpers ------------------------------------------------------------------------


def _unit(fr):
    return None


def _sequence(statements: list) -> Code:
    """A block that charges nothing itself (the top level: charged before the run)."""
    if len(statements) == 1:
        return statements[0]
    if len(statements) == 2:
        first, second = statements

        def sequence2(fr):
            first(fr)
            return second(fr)

        return sequence2
    head = tuple(statements[:-1])
    last = statements[-1]

    def sequence(fr):
        for s in head:
            s(fr)
        return last(fr)

    return sequence


def _continue(fr):
    raise ContinueSignal()


def _fail(message: str, line: int, column: int) -> Code:
    def fail(fr):
        raise ScriptError(message, line, column)

    return fail


def _unknown_variable(name: str, visible: tuple[str, ...], scope: dict) -> ScriptError:
    candidates = list(visible) + [k for k in scope if type(k) is str]
    return ScriptError(f"unknown variable '{name}'{suggest(name, candidates)}")


def _property_error(o: object, name: str) -> ScriptError:
    if o is None:
        return ScriptError(
            f"cannot read property '{name}' of (): the value is unit (missing); write '?.{name}' to get () instead, or '?? default'"
        )
    hint = f"; did you mean the method '.{name}()'?" if name in BUILTINS else ""
    return ScriptError(f"cannot read property '{name}' of {type_name(o)}: only maps have properties{hint}")


def _set_key(c: Context, o: object, key: str, value: object, combine: Any, what: str) -> None:
    if type(o) is not dict:
        if o is None:
            raise ScriptError(f"cannot set {what} on (): the value is unit (missing)")
        raise ScriptError(f"cannot set {what} on {type_name(o)}: only maps have properties")
    if id(o) in c.case_insensitive:
        key = key.lower()
    if combine is not None:
        value = combine(c, o.get(key), value)
    new = key not in o
    o[key] = store(c, value)
    if new and len(o) > c.limits.max_collection_items:
        check_items(c, o)


def _compare(op: str) -> Callable[..., Code]:
    import operator

    fast = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def make(left, right, line, column):
        def compare(fr):
            a = left(fr)
            b = right(fr)
            ta = type(a)
            tb = type(b)
            if (ta is int or ta is float) and (tb is int or tb is float):
                return fast(a, b)
            try:
                if ta is str and tb is str:
                    charge_compare(fr[0], a, b)
                else:
                    comparable(op, a, b)
            except ScriptError as e:
                e.at(line, column)
                raise
            return fast(a, b)

        return compare

    return make


_COMPARISONS = {op: _compare(op) for op in ("<", "<=", ">", ">=")}
