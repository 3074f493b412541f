"""Operator semantics: arithmetic with 64-bit overflow checks, comparisons, `in`.

The compiler inlines the common int/str cases; these functions are the complete (slow) path
and raise `ScriptError` without a position."""

from __future__ import annotations

import math

from .errors import ScriptError
from .values import (
    MAX_FLOAT,
    MAX_INT,
    MIN_INT,
    SCAN_SHIFT,
    Context,
    built,
    charge,
    check_items,
    check_string,
    has_key,
    lookup,
    render,
    same,
    string_too_large,
    type_name,
)

_NUMBERS = (int, float)


def _operand_error(op: str, a: object, b: object) -> ScriptError:
    return ScriptError(f"cannot apply '{op}' to {type_name(a)} and {type_name(b)}")


def _int(value: int, op: str) -> int:
    if MIN_INT <= value <= MAX_INT:
        return value
    raise ScriptError(f"integer overflow: the result of '{op}' does not fit in 64 bits")


def _float(value: float, op: str) -> float:
    if -MAX_FLOAT <= value <= MAX_FLOAT:
        return value
    raise ScriptError(f"float overflow: the result of '{op}' is not a finite number")


def _is_number(value: object) -> bool:
    t = type(value)
    return t is int or t is float


def add(c: Context, a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _int(a + b, "+")  # type: ignore[operator]
    if ta is str or tb is str:
        left = a if ta is str else render(a, c)
        right = b if tb is str else render(b, c)
        if type(left) is not str or type(right) is not str:
            raise _operand_error("+", a, b)
        size = len(left) + len(right)
        built(c, size)
        if size * 4 > c.limits.max_string_bytes:
            if size > c.limits.max_string_bytes:  # characters are at least bytes: refuse unbuilt
                raise string_too_large(c, size)
            return check_string(c, left + right)
        return left + right
    if _is_number(a) and _is_number(b):
        return _float(a + b, "+")  # type: ignore[operator]
    if ta is list and tb is list:
        size = len(a) + len(b)  # type: ignore[arg-type]
        if size > c.limits.max_collection_items:  # refused before the copy is made
            raise ScriptError(f"array size limit exceeded: {size:,} items > {c.limits.max_collection_items:,} (max_collection_items)")
        out = a + b  # type: ignore[operator]
        charge(c, len(out) >> 4)
        return out
    if ta is dict and tb is dict:
        out = dict(a)  # type: ignore[call-overload]
        out.update(b)
        check_items(c, out)
        charge(c, len(out) >> 2)  # a hash insert per key
        return out
    raise _operand_error("+", a, b)


def subtract(c: Context, a: object, b: object) -> object:
    if type(a) is int and type(b) is int:
        return _int(a - b, "-")
    if _is_number(a) and _is_number(b):
        return _float(a - b, "-")  # type: ignore[operator]
    raise _operand_error("-", a, b)


def multiply(c: Context, a: object, b: object) -> object:
    if type(a) is int and type(b) is int:
        return _int(a * b, "*")
    if _is_number(a) and _is_number(b):
        return _float(a * b, "*")  # type: ignore[operator]
    raise _operand_error("*", a, b)


def divide(c: Context, a: object, b: object) -> object:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ScriptError("division by zero")
        q = abs(a) // abs(b)
        return _int(-q if (a < 0) != (b < 0) else q, "/")
    if _is_number(a) and _is_number(b):
        if b == 0:
            raise ScriptError("division by zero")
        return _float(a / b, "/")  # type: ignore[operator]
    raise _operand_error("/", a, b)


def modulo(c: Context, a: object, b: object) -> object:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ScriptError("division by zero (in '%')")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if _is_number(a) and _is_number(b):
        if b == 0:
            raise ScriptError("division by zero (in '%')")
        return math.fmod(a, b)  # type: ignore[arg-type]
    raise _operand_error("%", a, b)


def power(c: Context, a: object, b: object) -> object:
    if type(a) is int and type(b) is int:
        if b < 0:
            raise ScriptError("cannot raise an integer to a negative power; use a float (2.0 ** -1)")
        if abs(a) > 1 and b > 63:
            raise ScriptError("integer overflow: the result of '**' does not fit in 64 bits")
        return _int(a**b, "**")
    if _is_number(a) and _is_number(b):
        try:
            return _float(math.pow(a, b), "**")  # type: ignore[arg-type]
        except OverflowError:
            raise ScriptError("float overflow: the result of '**' is not a finite number") from None
        except ValueError:
            raise ScriptError(f"'**' has no real result for {a} ** {b}") from None
    raise _operand_error("**", a, b)


def shift_left(c: Context, a: object, b: object) -> object:
    if type(a) is not int or type(b) is not int:
        raise _operand_error("<<", a, b)
    if b < 0:
        return shift_right(c, a, -b)
    if a != 0 and b > 63:
        raise ScriptError("integer overflow: the result of '<<' does not fit in 64 bits")
    return _int(a << b, "<<")


def shift_right(c: Context, a: object, b: object) -> object:
    if type(a) is not int or type(b) is not int:
        raise _operand_error(">>", a, b)
    if b < 0:
        return shift_left(c, a, -b)
    return a >> min(b, 64)


def _bitwise(op: str, a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if not ((ta is int and tb is int) or (ta is bool and tb is bool)):
        raise _operand_error(op, a, b)
    if op == "&":
        return a & b  # type: ignore[operator]
    if op == "|":
        return a | b  # type: ignore[operator]
    return a ^ b  # type: ignore[operator]


def bit_and(c: Context, a: object, b: object) -> object:
    return _bitwise("&", a, b)


def bit_or(c: Context, a: object, b: object) -> object:
    return _bitwise("|", a, b)


def bit_xor(c: Context, a: object, b: object) -> object:
    return _bitwise("^", a, b)


ARITHMETIC = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
    "**": power,
    "<<": shift_left,
    ">>": shift_right,
    "&": bit_and,
    "|": bit_or,
    "^": bit_xor,
}


def comparable(op: str, a: object, b: object) -> None:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return
    if ta is str and tb is str:
        return
    raise ScriptError(f"cannot compare {type_name(a)} with {type_name(b)} using '{op}': only numbers with numbers and strings with strings")


def contains(c: Context, item: object, container: object) -> bool:
    """`item in container`."""
    t = type(container)
    if t is list:
        charge(c, len(container))  # type: ignore[arg-type] # one Python comparison per item
        return any(same(c, item, v) for v in container)  # type: ignore[attr-defined]
    if t is dict:
        if type(item) is not str:
            raise ScriptError(f"'in' on a map looks up a key, which must be a string, not {type_name(item)}")
        return has_key(c, container, item)  # type: ignore[arg-type]
    if t is str:
        if type(item) is not str:
            raise ScriptError(f"'in' on a string looks for a string, not {type_name(item)}")
        charge(c, len(container) >> SCAN_SHIFT)  # type: ignore[arg-type]
        return item in container  # type: ignore[operator]
    raise ScriptError(f"'in' needs an array, a map, a string or a range on its right, not {type_name(container)}")


def negate(a: object) -> object:
    if type(a) is int:
        return _int(-a, "-")
    if type(a) is float:
        return -a
    raise ScriptError(f"cannot negate {type_name(a)}: '-' applies to numbers")


def out_of_range(k: int, size: int, kind: str) -> ScriptError:
    return ScriptError(
        f"index {k} is out of range for {'an' if kind == 'array' else 'a'} {kind} of length {size}"
        + (" (it is empty)" if size == 0 else f" (valid: 0 to {size - 1}, or -1 to -{size})")
    )


def index(c: Context, o: object, k: object, safe: bool) -> object:
    """The complete path of `o[k]`."""
    t = type(o)
    if t is dict:
        if type(k) is not str:
            raise ScriptError(f"map keys are strings, not {type_name(k)}")
        return lookup(c, o, k)  # type: ignore[arg-type]
    if t is list or t is str:
        kind = "array" if t is list else "string"
        if type(k) is not int:
            raise ScriptError(f"{kind} indexes are integers, not {type_name(k)}")
        size = len(o)  # type: ignore[arg-type]
        i = k + size if k < 0 else k
        if not 0 <= i < size:
            raise out_of_range(k, size, kind)
        return o[i]  # type: ignore[index]
    if safe:
        return None
    if o is None:
        raise ScriptError("cannot index (): the value is unit (missing); write 'x?[…]' to get () instead")
    raise ScriptError(f"cannot index {type_name(o)}: only arrays, maps and strings have indexes")
