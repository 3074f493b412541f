"""Parses tokens into the syntax tree of `nodes`, with Rhai's operator precedence.

Nesting (parentheses, blocks, operands, chained operators) is bounded by
`Limits.max_nesting`, so no input can exhaust Python's stack.
"""

from __future__ import annotations

from . import nodes as n
from .errors import ScriptError
from .lexer import Lexer, Token

MAX_INT = (1 << 63) - 1
MIN_INT = -(1 << 63)

# Rhai's table (https://rhai.rs/book/engine/precedence.html): higher binds tighter.
BINARY_PRECEDENCE = {
    "||": 30,
    "|": 30,
    "^": 30,
    "&&": 60,
    "&": 60,
    "==": 90,
    "!=": 90,
    "in": 110,
    "!in": 110,
    "<": 130,
    "<=": 130,
    ">": 130,
    ">=": 130,
    "??": 135,
    "..": 140,
    "..=": 140,
    "+": 150,
    "-": 150,
    "*": 180,
    "/": 180,
    "%": 180,
    "**": 190,
    "<<": 210,
    ">>": 210,
}
RIGHT_ASSOCIATIVE = frozenset({"**"})
ASSIGNMENT_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "**=", "<<=", ">>=", "&=", "|=", "^="})
_BLOCK_LIKE = frozenset({"if", "while", "loop", "for", "{"})
_NAME_KINDS = frozenset({"ident"}) | frozenset(
    {"let", "const", "if", "else", "while", "loop", "for", "in", "break", "continue", "return", "fn", "true", "false"}
)


class Parser:
    def __init__(self, lexer: Lexer | _TokenList, max_nesting: int, depth: int = 0) -> None:
        self.lexer = lexer
        lexer.max_nesting = max_nesting
        self.max_nesting = max_nesting
        self.depth = depth
        self.tok = lexer.next()
        self.ahead: Token | None = None
        self.prev: Token = self.tok
        self.loops = 0  # loops enclosing the current point, within the current function
        self.in_function = False

    # ---- token cursor ---------------------------------------------------------------

    def advance(self) -> Token:
        tok = self.tok
        self.prev = tok
        if self.ahead is not None:
            self.tok, self.ahead = self.ahead, None
        else:
            self.tok = self.lexer.next()
        return tok

    def peek2(self) -> Token:
        if self.ahead is None:
            self.ahead = self.lexer.next()
        return self.ahead

    def error(self, message: str, tok: Token | None = None) -> ScriptError:
        tok = tok or self.tok
        return ScriptError(message, tok.line, tok.column)

    def expect(self, kind: str, context: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected '{kind}' {context}, found {self.tok.describe()}")
        return self.advance()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.max_nesting:
            raise self.error(
                f"nesting limit exceeded: the code is nested more than {self.max_nesting} levels deep "
                "(max_nesting); split it into functions or variables"
            )

    # ---- programs, blocks, statements --------------------------------------------------

    def parse_script(self) -> n.Script:
        first = self.tok
        functions: list[n.FnDef] = []
        statements, has_value = self.parse_statements("eof", functions)
        body = n.Block(first.line, first.column, tuple(statements), has_value)
        return n.Script(first.line, first.column, body, tuple(functions))

    def parse_statements(self, end: str, functions: list[n.FnDef] | None) -> tuple[list[n.Node], bool]:
        statements: list[n.Node] = []
        has_value = False
        while True:
            kind = self.tok.kind
            if kind == end:
                return statements, has_value
            if kind == ";":
                self.advance()
                has_value = False
                continue
            if kind == "eof":
                raise self.error(f"expected '{end}' to close the block, found the end of the script")
            if kind == "fn":
                if functions is None:
                    raise self.error("'fn' definitions are only allowed at the top level of a script")
                functions.append(self.parse_fn())
                has_value = False
                continue
            statement = self.parse_statement()
            statements.append(statement)
            if self.tok.kind == ";":
                self.advance()
                has_value = False
            elif self.tok.kind == "eof" and end != "eof":
                raise self.error(f"expected '{end}' to close the block, found the end of the script")
            elif self.tok.kind == end:
                has_value = not isinstance(statement, (n.Let, n.Assign))
            elif self.prev.kind == "}":
                has_value = False
            else:
                raise self.error(f"expected ';' between statements, found {self.tok.describe()}")

    def parse_block(self) -> n.Block:
        start = self.expect("{", "to start a block")
        self.enter()
        statements, has_value = self.parse_statements("}", None)
        self.advance()
        self.depth -= 1
        return n.Block(start.line, start.column, tuple(statements), has_value)

    def parse_fn(self) -> n.FnDef:
        start = self.advance()
        name = self.expect("ident", "after 'fn'")
        params = self.parse_params("(", ")")
        saved = self.loops, self.in_function
        self.loops, self.in_function = 0, True
        body = self.parse_block()
        self.loops, self.in_function = saved
        return n.FnDef(start.line, start.column, name.value, params, body)

    def parse_params(self, open_kind: str, close_kind: str) -> tuple[str, ...]:
        self.expect(open_kind, "before the parameters")
        params: list[str] = []
        while self.tok.kind != close_kind:
            tok = self.expect("ident", "as a parameter name")
            if tok.value in params:
                raise self.error(f"duplicate parameter '{tok.value}'", tok)
            params.append(tok.value)
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != close_kind:
                raise self.error(f"expected ',' or '{close_kind}' in the parameter list, found {self.tok.describe()}")
        self.advance()
        return tuple(params)

    def parse_statement(self) -> n.Node:
        tok = self.tok
        kind = tok.kind
        if kind == "let" or kind == "const":
            self.advance()
            name = self.expect("ident", f"after '{kind}'")
            value = None
            if self.tok.kind == "=":
                self.advance()
                value = self.parse_expr()
            elif kind == "const":
                raise self.error(f"expected '=' after 'const {name.value}': a constant needs a value")
            return n.Let(tok.line, tok.column, name.value, value, kind == "const")
        if kind == "return":
            self.advance()
            value = None if self.tok.kind in (";", "}", "eof") else self.parse_expr()
            return n.Return(tok.line, tok.column, value)
        if kind == "break":
            if not self.loops:
                raise self.error("'break' outside of a loop")
            self.advance()
            value = None if self.tok.kind in (";", "}", "eof") else self.parse_expr()
            return n.Break(tok.line, tok.column, value)
        if kind == "continue":
            if not self.loops:
                raise self.error("'continue' outside of a loop")
            self.advance()
            return n.Continue(tok.line, tok.column)
        if kind in _BLOCK_LIKE:
            # A statement that starts with a block-like expression ends with its '}':
            # `if c { … }` on one line and `[1, 2]` on the next are two statements.
            self.enter()
            expr = self.parse_block_like()
            self.depth -= 1
            return expr
        expr = self.parse_expr()
        if self.tok.kind in ASSIGNMENT_OPS:
            op = self.advance()
            if not isinstance(expr, (n.Variable, n.Property, n.Index)) or getattr(expr, "safe", False):
                raise self.error(
                    f"cannot assign to this expression: the left of '{op.kind}' must be a variable, a property (a.b) or an index (a[i])",
                    op,
                )
            value = self.parse_expr()
            return n.Assign(op.line, op.column, expr, op.kind, value)
        return expr

    # ---- expressions ------------------------------------------------------------------

    def parse_expr(self, min_precedence: int = 0) -> n.Node:
        self.enter()
        left = self.parse_unary()
        chained = 0
        while True:
            tok = self.tok
            op = tok.kind
            if op == "!" and self.peek2().kind == "in":
                op = "!in"
            elif op not in BINARY_PRECEDENCE:
                break
            precedence = BINARY_PRECEDENCE[op]
            if precedence < min_precedence:
                break
            self.advance()
            if op == "!in":
                self.advance()
            chained += 1
            self.enter()  # each chained operator deepens the tree by one
            right = self.parse_expr(precedence if op in RIGHT_ASSOCIATIVE else precedence + 1)
            if op == ".." or op == "..=":
                left = n.Range(tok.line, tok.column, left, right, op == "..=")
            else:
                left = n.Binary(tok.line, tok.column, op, left, right)
        self.depth -= chained + 1
        return left

    def parse_unary(self) -> n.Node:
        tok = self.tok
        if tok.kind in ("-", "+", "!"):
            self.advance()
            if tok.kind == "-" and self.tok.kind == "int" and self.tok.value == MAX_INT + 1:
                lit = self.advance()
                return self.parse_postfix(n.Literal(tok.line, tok.column, MIN_INT), lit)
            self.enter()
            operand = self.parse_unary()
            self.depth -= 1
            if isinstance(operand, n.Literal) and tok.kind != "!":
                value = operand.value
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return n.Literal(tok.line, tok.column, -value if tok.kind == "-" else value)
            return n.Unary(tok.line, tok.column, tok.kind, operand)
        return self.parse_postfix(self.parse_primary(), None)

    def parse_postfix(self, expr: n.Node, first: Token | None) -> n.Node:
        chained = 0
        while True:
            tok = self.tok
            kind = tok.kind
            if kind == "." or kind == "?.":
                self.advance()
                name = self.tok
                if name.kind not in _NAME_KINDS:
                    raise self.error(f"expected a property or method name after '{kind}', found {name.describe()}")
                self.advance()
                if self.tok.kind == "(":
                    args = self.parse_args()
                    expr = n.MethodCall(name.line, name.column, expr, name.value, args, kind == "?.")
                else:
                    expr = n.Property(name.line, name.column, expr, name.value, kind == "?.")
            elif kind == "[" or kind == "?[":
                self.advance()
                index = self.parse_expr()
                self.expect("]", "to close the index")
                expr = n.Index(tok.line, tok.column, expr, index, kind == "?[")
            elif kind == "(" and tok.line == self.prev.line and not isinstance(expr, n.Literal):
                args = self.parse_args()
                expr = n.CallValue(tok.line, tok.column, expr, args)
            else:
                break
            chained += 1
            self.enter()
        self.depth -= chained
        return expr

    def parse_args(self) -> tuple[n.Node, ...]:
        self.expect("(", "to start the arguments")
        args: list[n.Node] = []
        while self.tok.kind != ")":
            args.append(self.parse_expr())
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != ")":
                raise self.error(f"expected ',' or ')' in the arguments, found {self.tok.describe()}")
        self.advance()
        return tuple(args)

    def parse_primary(self) -> n.Node:
        tok = self.tok
        kind = tok.kind
        if kind == "int":
            self.advance()
            if tok.value > MAX_INT:
                raise self.error(f"integer literal {tok.value} does not fit in 64 bits", tok)
            return n.Literal(tok.line, tok.column, tok.value)
        if kind == "float" or kind == "str":
            self.advance()
            return n.Literal(tok.line, tok.column, tok.value)
        if kind == "true" or kind == "false":
            self.advance()
            return n.Literal(tok.line, tok.column, kind == "true")
        if kind == "interp":
            self.advance()
            return self.parse_interpolated(tok)
        if kind == "ident":
            self.advance()
            if self.tok.kind == "(":
                return n.Call(tok.line, tok.column, tok.value, self.parse_args())
            if tok.value.endswith("!"):
                raise self.error(f"expected '(' after {tok.value}", self.tok)
            return n.Variable(tok.line, tok.column, tok.value)
        if kind == "(":
            self.advance()
            if self.tok.kind == ")":
                self.advance()
                return n.Literal(tok.line, tok.column, None)
            expr = self.parse_expr()
            self.expect(")", "to close the parenthesis")
            return expr
        if kind == "[":
            self.advance()
            items: list[n.Node] = []
            while self.tok.kind != "]":
                items.append(self.parse_expr())
                if self.tok.kind == ",":
                    self.advance()
                elif self.tok.kind != "]":
                    raise self.error(f"expected ',' or ']' in the array, found {self.tok.describe()}")
            self.advance()
            return n.ArrayLiteral(tok.line, tok.column, tuple(items))
        if kind == "#{":
            self.advance()
            entries: list[tuple[str, n.Node]] = []
            while self.tok.kind != "}":
                key = self.tok
                if key.kind not in _NAME_KINDS and key.kind != "str":
                    raise self.error(f"expected a map key (a name or a string), found {key.describe()}")
                self.advance()
                self.expect(":", f"after the map key '{key.value}'")
                entries.append((key.value, self.parse_expr()))
                if self.tok.kind == ",":
                    self.advance()
                elif self.tok.kind != "}":
                    raise self.error(f"expected ',' or '}}' in the map, found {self.tok.describe()}")
            self.advance()
            return n.MapLiteral(tok.line, tok.column, tuple(entries))
        if kind == "|" or kind == "||":
            return self.parse_closure()
        if kind in _BLOCK_LIKE:
            self.enter()
            expr = self.parse_block_like()
            self.depth -= 1
            return expr
        if kind in ("break", "continue", "return", "let", "const", "fn"):
            raise self.error(f"'{kind}' is a statement and cannot be used as a value here")
        raise self.error(f"expected an expression, found {tok.describe()}")

    def parse_block_like(self) -> n.Node:
        tok = self.tok
        kind = tok.kind
        if kind == "{":
            return self.parse_block()
        if kind == "if":
            return self.parse_if()
        self.advance()
        if kind == "while":
            condition = self.parse_expr()
            body = self.parse_loop_body()
            return n.While(tok.line, tok.column, condition, body)
        if kind == "loop":
            return n.Loop(tok.line, tok.column, self.parse_loop_body())
        # for
        index_name = None
        if self.tok.kind == "(":
            self.advance()
            name = self.expect("ident", "as the loop variable")
            self.expect(",", "between the loop variable and the index variable")
            index_name = self.expect("ident", "as the index variable").value
            self.expect(")", "after the index variable")
        else:
            name = self.expect("ident", "as the loop variable after 'for'")
        self.expect("in", "after the loop variable")
        iterable = self.parse_expr()
        body = self.parse_loop_body()
        return n.For(tok.line, tok.column, name.value, index_name, iterable, body)

    def parse_loop_body(self) -> n.Block:
        self.loops += 1
        body = self.parse_block()
        self.loops -= 1
        return body

    def parse_if(self) -> n.If:
        tok = self.advance()
        condition = self.parse_expr()
        then = self.parse_block()
        otherwise: n.Node | None = None
        if self.tok.kind == "else":
            self.advance()
            if self.tok.kind == "if":
                self.enter()
                otherwise = self.parse_if()
                self.depth -= 1
            else:
                otherwise = self.parse_block()
        return n.If(tok.line, tok.column, condition, then, otherwise)

    def parse_closure(self) -> n.Closure:
        tok = self.tok
        if tok.kind == "||":
            self.advance()
            params: tuple[str, ...] = ()
        else:
            params = self.parse_params("|", "|")
        saved = self.loops, self.in_function
        self.loops, self.in_function = 0, True
        body = self.parse_expr()
        self.loops, self.in_function = saved
        return n.Closure(tok.line, tok.column, params, body)

    def parse_interpolated(self, tok: Token) -> n.Node:
        parts: list[str | n.Node] = []
        for part in tok.value:
            if isinstance(part, str):
                parts.append(part)
                continue
            sub = Parser(_TokenList(part), self.max_nesting, self.depth + 1)
            if sub.tok.kind == "eof":
                raise self.error("empty ${} in back-tick string", sub.tok)
            parts.append(sub.parse_expr())
            if sub.tok.kind != "eof":
                raise sub.error(f"expected '}}' to close ${{…}}, found {sub.tok.describe()}")
        if len(parts) == 1 and isinstance(parts[0], str):
            return n.Literal(tok.line, tok.column, parts[0])
        return n.Interpolated(tok.line, tok.column, tuple(parts))


class _TokenList:
    """A lexer stand-in that replays the tokens of one `${…}`."""

    max_nesting = 0  # set by the Parser, as on a Lexer

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if self.i < len(self.tokens) - 1:
            self.i += 1
        return tok


def parse(source: str, max_nesting: int = 64) -> n.Script:
    """Parse a whole script. Raises `ScriptError` (unpositioned by any offset)."""
    return Parser(Lexer(source), max_nesting).parse_script()


def parse_expression(source: str, max_nesting: int = 64) -> n.Node:
    """Parse exactly one expression (a branch condition)."""
    parser = Parser(Lexer(source), max_nesting)
    if parser.tok.kind == "eof":
        raise parser.error("expected an expression, found nothing")
    expr = parser.parse_expr()
    if parser.tok.kind == ";" and parser.peek2().kind == "eof":
        parser.advance()
    if parser.tok.kind != "eof":
        raise parser.error(f"expected the end of the expression, found {parser.tok.describe()}")
    return expr
