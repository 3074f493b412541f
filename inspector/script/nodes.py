"""The syntax tree: small frozen node classes, each with the 1-based line and column of
the token that best names it (an operator's own token, a call's name, a statement's keyword)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    line: int
    column: int


# ---- expressions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object  # None (unit), bool, int, float, str


@dataclass(frozen=True, slots=True)
class Interpolated(Node):
    """A back-tick string: literal text and `${expr}` parts, in order."""

    parts: tuple[str | Node, ...]


@dataclass(frozen=True, slots=True)
class Variable(Node):
    name: str


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLiteral(Node):
    entries: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-", "+", "!"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # arithmetic, comparison, "&&", "||", "??", "in", "!in", bit operators
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Range(Node):
    start: Node
    end: Node
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Property(Node):
    target: Node
    name: str
    safe: bool  # written `?.`


@dataclass(frozen=True, slots=True)
class Index(Node):
    target: Node
    index: Node
    safe: bool  # written `?[`


@dataclass(frozen=True, slots=True)
class Call(Node):
    """`name(args)`: a script function, a built-in, or a variable holding a function."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MethodCall(Node):
    """`target.name(args)`, the same as `name(target, args)`."""

    target: Node
    name: str
    args: tuple[Node, ...]
    safe: bool


@dataclass(frozen=True, slots=True)
class CallValue(Node):
    """Calling the value of an expression: `(|x| x + 1)(2)`, `make()(3)`."""

    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Closure(Node):
    params: tuple[str, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class Block(Node):
    """`{ … }`. Its value is the last statement's when that is an expression not
    followed by `;`, else unit."""

    statements: tuple[Node, ...]
    has_value: bool


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Block
    otherwise: Node | None  # a Block, an If (for `else if`), or None


@dataclass(frozen=True, slots=True)
class While(Node):
    condition: Node
    body: Block


@dataclass(frozen=True, slots=True)
class Loop(Node):
    body: Block


@dataclass(frozen=True, slots=True)
class For(Node):
    name: str
    index_name: str | None
    iterable: Node
    body: Block


# ---- statements ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Let(Node):
    name: str
    value: Node | None
    constant: bool


@dataclass(frozen=True, slots=True)
class Assign(Node):
    target: Node  # Variable, Property or Index
    op: str  # "=", "+=", "-=", …
    value: Node


@dataclass(frozen=True, slots=True)
class Break(Node):
    value: Node | None


@dataclass(frozen=True, slots=True)
class Continue(Node):
    pass


@dataclass(frozen=True, slots=True)
class Return(Node):
    value: Node | None


@dataclass(frozen=True, slots=True)
class FnDef(Node):
    name: str
    params: tuple[str, ...]
    body: Block


@dataclass(frozen=True, slots=True)
class Script(Node):
    """A whole program: its top-level block and its `fn` definitions (hoisted)."""

    body: Block
    functions: tuple[FnDef, ...]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of `node`, for walks that need no per-type code."""
    out: list[Node] = []
    for name in node.__slots__:
        value = getattr(node, name)
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Node):
                    out.append(item)
                elif isinstance(item, tuple):  # map entries
                    out.extend(v for v in item if isinstance(v, Node))
    return tuple(out)
