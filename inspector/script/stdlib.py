"""The built-in functions. Each takes the run context first, then its arguments; every one
can be called as `f(x, a)` or as a method `x.f(a)`. They raise `ScriptError` without a
position; the call site adds it."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from .errors import ScriptError
from .values import (
    MAX_FLOAT,
    MAX_INT,
    MIN_INT,
    SCAN_SHIFT,
    Context,
    Fn,
    ReturnSignal,
    built,
    call_depth_limit,
    call_function,
    charge,
    check_items,
    check_string,
    has_key,
    joined,
    render,
    render_debug,
    same,
    store,
    string_too_large,
    suggest,
    to_json,
    type_name,
)

# name -> (function, minimum arguments, maximum arguments); counts include the target.
BUILTINS: dict[str, tuple[Callable, int, int]] = {}
_MAX_LOG_CHARS = 1 << 20  # per run, so a chatty loop cannot exhaust memory


def builtin(name: str, min_args: int, max_args: int | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        BUILTINS[name] = (func, min_args, min_args if max_args is None else max_args)
        return func

    return register


def _wrong(name: str, value: object, takes: str) -> ScriptError:
    return ScriptError(f"{name}() does not apply to {type_name(value)}: it takes {takes}")


def _want_str(name: str, value: object, what: str = "argument") -> str:
    if type(value) is not str:
        raise ScriptError(f"{name}() expects a string as its {what}, not {type_name(value)}")
    return value


def _want_int(name: str, value: object, what: str = "argument") -> int:
    if type(value) is not int:
        raise ScriptError(f"{name}() expects an integer (i64) as its {what}, not {type_name(value)}")
    return value


def _want_fn(name: str, value: object) -> Fn:
    if type(value) is not Fn:
        raise ScriptError(f"{name}() expects a function such as |x| x + 1, not {type_name(value)}")
    return value


def _want_bool(name: str, value: object) -> bool:
    if type(value) is not bool:
        raise ScriptError(f"the function passed to {name}() must return a bool, not {type_name(value)}")
    return value


def _array(name: str, value: object) -> list:
    if type(value) is not list:
        raise _wrong(name, value, "an array")
    return value


# ---- any value ------------------------------------------------------------------------------


@builtin("len", 1)
def len_(c: Context, x: object) -> int:
    if type(x) in (str, list, dict):
        return len(x)  # type: ignore[arg-type]
    raise _wrong("len", x, "a string, an array or a map")


@builtin("is_empty", 1)
def is_empty(c: Context, x: object) -> bool:
    if type(x) in (str, list, dict):
        return len(x) == 0  # type: ignore[arg-type]
    raise _wrong("is_empty", x, "a string, an array or a map")


@builtin("contains", 2)
def contains(c: Context, x: object, item: object) -> bool:
    t = type(x)
    if t is str:
        charge(c, len(x) >> SCAN_SHIFT)  # type: ignore[arg-type]
        return _want_str("contains", item) in x  # type: ignore[operator]
    if t is list:
        charge(c, len(x))  # type: ignore[arg-type] # one Python comparison per item
        return any(same(c, v, item) for v in x)  # type: ignore[attr-defined]
    if t is dict:
        return has_key(c, x, _want_str("contains", item, "key"))  # type: ignore[arg-type]
    raise _wrong("contains", x, "a string, an array or a map")


@builtin("index_of", 2)
def index_of(c: Context, x: object, item: object) -> int:
    t = type(x)
    if t is str:
        charge(c, len(x) >> SCAN_SHIFT)  # type: ignore[arg-type]
        return x.find(_want_str("index_of", item))  # type: ignore[attr-defined]
    if t is list:
        charge(c, len(x))  # type: ignore[arg-type] # one Python comparison per item
        for i, v in enumerate(x):  # type: ignore[arg-type, var-annotated]
            if same(c, v, item):
                return i
        return -1
    raise _wrong("index_of", x, "a string or an array")


@builtin("type_of", 1)
def type_of(c: Context, x: object) -> str:
    return type_name(x)


@builtin("to_string", 1)
def to_string(c: Context, x: object) -> str:
    return check_string(c, render(x, c))


@builtin("to_json", 1)
def to_json_(c: Context, x: object) -> str:
    return check_string(c, to_json(x, c=c))


@builtin("print", 0, 16)
def print_(c: Context, *values: object) -> None:
    _log(c, joined(c, [render(v, c) for v in values], " "))


@builtin("debug", 0, 16)
def debug(c: Context, *values: object) -> None:
    _log(c, joined(c, [render_debug(v, c) for v in values], " "))


def _log(c: Context, line: str) -> None:
    if c.logs is None:
        c.logs = []
    used = c.log_chars
    if used >= _MAX_LOG_CHARS:
        if c.logs[-1] != _TRUNCATED:
            c.logs.append(_TRUNCATED)
        return
    line = line[: _MAX_LOG_CHARS - used]
    c.log_chars = used + len(line)
    c.logs.append(line)


_TRUNCATED = "… (logs truncated)"


# ---- strings ----------------------------------------------------------------------------------


@builtin("starts_with", 2)
def starts_with(c: Context, s: object, prefix: object) -> bool:
    if type(s) is not str:
        raise _wrong("starts_with", s, "a string")
    prefix = _want_str("starts_with", prefix)
    charge(c, len(prefix) >> SCAN_SHIFT)
    return s.startswith(prefix)


@builtin("ends_with", 2)
def ends_with(c: Context, s: object, suffix: object) -> bool:
    if type(s) is not str:
        raise _wrong("ends_with", s, "a string")
    suffix = _want_str("ends_with", suffix)
    charge(c, len(suffix) >> SCAN_SHIFT)
    return s.endswith(suffix)


@builtin("to_upper", 1)
def to_upper(c: Context, s: object) -> str:
    if type(s) is not str:
        raise _wrong("to_upper", s, "a string")
    # Case mapping never shortens a string and may lengthen it ('ß' → 'SS', at most
    # threefold): refused first when already too long, checked after otherwise. Beyond
    # ASCII it goes character by character, several times slower.
    _room(c, len(s))
    built(c, len(s) if s.isascii() else 4 * len(s))
    return check_string(c, s.upper())


@builtin("to_lower", 1)
def to_lower(c: Context, s: object) -> str:
    if type(s) is not str:
        raise _wrong("to_lower", s, "a string")
    _room(c, len(s))
    built(c, len(s) if s.isascii() else 4 * len(s))
    return check_string(c, s.lower())


@builtin("trim", 1)
def trim(c: Context, s: object) -> str:
    if type(s) is not str:
        raise _wrong("trim", s, "a string")
    out = s.strip()
    if out is not s:
        built(c, len(out))
        return check_string(c, out)
    return out


@builtin("split", 1, 2)
def split(c: Context, s: object, sep: object = None) -> list:
    if type(s) is not str:
        raise _wrong("split", s, "a string")
    charge(c, len(s) >> SCAN_SHIFT)
    most = c.limits.max_collection_items
    if sep is None:
        # maxsplit bounds what is built: one part more than allowed is enough to refuse.
        parts = s.split(None, most)
    elif _want_str("split", sep, "separator") == "":
        if len(s) > most:
            raise _too_many(c, len(s))
        parts = list(s)
    else:
        parts = s.split(sep, most)  # type: ignore[arg-type]
    if len(parts) > most:
        raise _too_many(c, None)
    charge(c, len(parts) >> 2)
    return parts


def _too_many(c: Context, count: int | None) -> ScriptError:
    items = f"{count:,} items" if count is not None else "more items"
    return ScriptError(f"array size limit exceeded: {items} > {c.limits.max_collection_items:,} (max_collection_items)")


def _room(c: Context, size: int) -> None:
    """Refuse, before building it, a string of at least `size` characters over the limit."""
    if size > c.limits.max_string_bytes:
        raise string_too_large(c, size)


@builtin("replace", 3)
def replace(c: Context, s: object, find: object, replacement: object) -> str:
    if type(s) is not str:
        raise _wrong("replace", s, "a string")
    find = _want_str("replace", find, "text to find")
    replacement = _want_str("replace", replacement, "replacement")
    if find and len(replacement) > len(find):
        # Bound the result before building it.
        growth = s.count(find) * (len(replacement) - len(find))
        if len(s) + growth > c.limits.max_string_bytes:
            raise string_too_large(c, len(s) + growth)
    elif not find and len(s) * (len(replacement) + 1) > c.limits.max_string_bytes:
        raise string_too_large(c, len(s) * (len(replacement) + 1))
    charge(c, len(s) >> SCAN_SHIFT)
    result = s.replace(find, replacement)
    built(c, len(result))
    return check_string(c, result)


@builtin("sub_string", 2, 3)
def sub_string(c: Context, s: object, start: object, length: object = None) -> str:
    if type(s) is not str:
        raise _wrong("sub_string", s, "a string")
    start = _want_int("sub_string", start, "start")
    n = len(s)
    if start < 0:
        start = max(0, n + start)
    if length is None:
        length = n
    else:
        length = _want_int("sub_string", length, "length")
        if length <= 0:
            return ""
    size = max(0, min(n - start, length))
    if size == n:
        return s  # the whole string: nothing is built
    _room(c, size)  # a new string over the limit is refused before it is copied
    built(c, size)
    return s[start : start + size]


@builtin("chars", 1)
def chars(c: Context, s: object) -> list:
    if type(s) is not str:
        raise _wrong("chars", s, "a string")
    if len(s) > c.limits.max_collection_items:
        raise _too_many(c, len(s))
    charge(c, len(s) >> 1)  # a new object per character beyond Latin-1
    return list(s)


@builtin("format", 1, 64)
def format_(c: Context, template: object, *args: object) -> str:
    pieces = parse_format(_want_str("format", template, "format string"))
    return apply_format(c, pieces, args)


@builtin("format!", 1, 64)
def format_macro(c: Context, template: object, *args: object) -> str:
    return format_(c, template, *args)


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{[^{}]*\}|\{|\}")


def parse_format(template: str) -> tuple:
    """Split a format string into literal text and placeholders: `render` or `render_debug`."""
    pieces: list[object] = []
    text: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        text.append(template[pos : m.start()])
        pos = m.end()
        token = m.group()
        if token == "{{":
            text.append("{")
        elif token == "}}":
            text.append("}")
        elif token in ("{}", "{:?}"):
            pieces.append("".join(text))
            text = []
            pieces.append(render if token == "{}" else render_debug)
        elif token in ("{", "}"):
            raise ScriptError(f"unmatched '{token}' in format string; write '{token}{token}' for a literal brace")
        else:
            raise ScriptError(f"unsupported placeholder '{token}' in format string: use {{}} or {{:?}}")
    text.append(template[pos:])
    pieces.append("".join(text))
    return tuple(pieces)


def apply_format(c: Context, pieces: tuple, args: tuple) -> str:
    wanted = len(pieces) // 2
    if wanted != len(args):
        raise ScriptError(
            f"format string has {wanted} placeholder{'s' if wanted != 1 else ''} "
            f"but {len(args)} argument{'s were' if len(args) != 1 else ' was'} given"
        )
    out = [pieces[0]]
    size = len(pieces[0])
    limit = c.limits.max_string_bytes
    for i, arg in enumerate(args):
        text = pieces[2 * i + 1](arg, c)
        size += len(text) + len(pieces[2 * i + 2])
        if size > limit:  # before joining: 64 arguments of 1 MiB must not make 64 MiB first
            raise string_too_large(c, size)
        out.append(text)
        out.append(pieces[2 * i + 2])
    built(c, size)
    return check_string(c, "".join(out))


# ---- numbers and parsing ------------------------------------------------------------------------


_INT_TEXT = re.compile(r"[+-]?[0-9a-zA-Z]+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _int_in_range(name: str, value: int) -> int:
    if not MIN_INT <= value <= MAX_INT:
        raise ScriptError(f"{name}(): {value} does not fit in a 64-bit integer")
    return value


@builtin("parse_int", 1, 2)
def parse_int(c: Context, s: object, radix: object = 10) -> int:
    if type(s) is not str:
        raise _wrong("parse_int", s, "a string")
    radix = _want_int("parse_int", radix, "radix")
    if not 2 <= radix <= 36:
        raise ScriptError(f"parse_int(): radix must be between 2 and 36, not {radix}")
    text = s.strip()
    if len(text) > 100 or not _INT_TEXT.fullmatch(text):
        raise ScriptError(f"parse_int(): cannot parse {_quote(s)} as an integer")
    try:
        value = int(text, radix)
    except ValueError:
        raise ScriptError(f"parse_int(): cannot parse {_quote(s)} as an integer") from None
    return _int_in_range("parse_int", value)


@builtin("parse_float", 1)
def parse_float(c: Context, s: object) -> float:
    if type(s) is not str:
        raise _wrong("parse_float", s, "a string")
    text = s.strip()
    if len(text) > 1000 or not _FLOAT_TEXT.fullmatch(text):
        raise ScriptError(f"parse_float(): cannot parse {_quote(s)} as a number")
    value = float(text)
    if not -MAX_FLOAT <= value <= MAX_FLOAT:
        raise ScriptError(f"parse_float(): {_quote(s)} is too large for a float")
    return value


def _quote(s: object) -> str:
    text = json.dumps(s, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + '…"'


@builtin("to_int", 1)
def to_int(c: Context, x: object) -> int:
    t = type(x)
    if t is int:
        return x  # type: ignore[return-value]
    if t is bool:
        return int(x)  # type: ignore[call-overload]
    if t is float:
        if x != x or not -MAX_FLOAT <= x <= MAX_FLOAT:  # type: ignore[operator]
            raise ScriptError(f"to_int(): {x} has no integer value")
        return _int_in_range("to_int", int(x))  # type: ignore[call-overload]
    if t is str:
        text = x.strip()  # type: ignore[attr-defined]
        if _FLOAT_TEXT.fullmatch(text) and any(ch in text for ch in ".eE"):
            return to_int(c, parse_float(c, text))
        return parse_int(c, x)
    raise _wrong("to_int", x, "a number, a bool or a string")


@builtin("to_float", 1)
def to_float(c: Context, x: object) -> float:
    t = type(x)
    if t is float:
        return x  # type: ignore[return-value]
    if t is int or t is bool:
        return float(x)  # type: ignore[arg-type]
    if t is str:
        return parse_float(c, x)
    raise _wrong("to_float", x, "a number, a bool or a string")


@builtin("abs", 1)
def abs_(c: Context, x: object) -> object:
    if type(x) is int:
        return _int_in_range("abs", abs(x))
    if type(x) is float:
        return abs(x)
    raise _wrong("abs", x, "a number")


def _number_pair(name: str, a: object, b: object) -> None:
    if type(a) not in (int, float) or type(b) not in (int, float):
        raise ScriptError(f"{name}() takes two numbers, not {type_name(a)} and {type_name(b)}")


@builtin("min", 2)
def min_(c: Context, a: object, b: object) -> object:
    _number_pair("min", a, b)
    return b if b < a else a  # type: ignore[operator]


@builtin("max", 2)
def max_(c: Context, a: object, b: object) -> object:
    _number_pair("max", a, b)
    return b if b > a else a  # type: ignore[operator]


# ---- maps -------------------------------------------------------------------------------------


@builtin("keys", 1)
def keys(c: Context, m: object) -> list:
    if type(m) is not dict:
        raise _wrong("keys", m, "a map")
    check_items(c, m)
    charge(c, len(m) >> 2)
    return list(m)


@builtin("values", 1)
def values(c: Context, m: object) -> list:
    if type(m) is not dict:
        raise _wrong("values", m, "a map")
    check_items(c, m)
    charge(c, len(m) >> 2)
    return list(m.values())


# ---- arrays (push pop insert remove sort reverse change the array in place) ---------------------


@builtin("push", 2)
def push(c: Context, a: object, item: object) -> None:
    _array("push", a).append(store(c, item))
    check_items(c, a)  # type: ignore[arg-type]


@builtin("pop", 1)
def pop(c: Context, a: object) -> object:
    a = _array("pop", a)
    return a.pop() if a else None


@builtin("insert", 3)
def insert(c: Context, a: object, index: object, item: object) -> None:
    a = _array("insert", a)
    index = _want_int("insert", index, "index")
    if index < 0:
        index = max(0, len(a) + index)
    if len(a) >= c.limits.max_collection_items:
        raise _too_many(c, len(a) + 1)
    charge(c, (len(a) - min(index, len(a))) >> 6)  # the items after it move
    a.insert(index, store(c, item))


@builtin("remove", 2)
def remove(c: Context, x: object, key: object) -> object:
    if type(x) is list:
        index = _want_int("remove", key, "index")
        n = len(x)
        if index < 0:
            index += n
        if not 0 <= index < n:
            return None
        charge(c, (n - index) >> 6)  # the items after it move
        return x.pop(index)
    if type(x) is dict:
        key = _want_str("remove", key, "key")
        if key in x:
            return x.pop(key)
        if id(x) in c.case_insensitive:
            for k in list(x):
                if type(k) is str and k.lower() == key.lower():
                    return x.pop(k)
        return None
    raise _wrong("remove", x, "an array or a map")


@builtin("reverse", 1)
def reverse(c: Context, x: object) -> object:
    if type(x) is list:
        charge(c, len(x) >> 4)
        x.reverse()
        return None
    if type(x) is str:
        _room(c, len(x))
        built(c, 4 * len(x))  # character by character: slower than a copy
        return x[::-1]
    raise _wrong("reverse", x, "an array (or a string)")


_SORT_KINDS = {int: "number", float: "number", str: "string", bool: "bool"}


@builtin("sort", 1, 2)
def sort(c: Context, a: object, compare: object = None) -> None:
    a = _array("sort", a)
    n = len(a)
    charge(c, n * max(1, n.bit_length()) >> 2)
    if compare is None:
        kinds = {_SORT_KINDS.get(type(v)) for v in a}
        if len(kinds) > 1 or None in kinds:
            names = sorted({type_name(v) for v in a})
            raise ScriptError(
                f"sort() needs all numbers or all strings; this array holds {', '.join(names)} (pass a comparison function: sort(|a, b| …))"
            )
        if kinds == {"string"}:
            # Each of the ~n·log n comparisons may read a long shared prefix.
            charge(c, (sum(map(len, a)) >> SCAN_SHIFT) * max(1, n.bit_length()))
        a.sort()
        return None
    fn = _want_fn("sort", compare)

    def cmp(x: object, y: object) -> int:
        result = call_function(c, fn, [x, y])
        if type(result) is not int:
            raise ScriptError(f"the function passed to sort() must return an integer (<0, 0, >0), not {type_name(result)}")
        return result

    a.sort(key=functools.cmp_to_key(cmp))
    return None


@builtin("join", 1, 2)
def join(c: Context, a: object, sep: object = "") -> str:
    a = _array("join", a)
    sep = _want_str("join", sep, "separator")
    charge(c, len(a) >> 2)
    limit = c.limits.max_string_bytes
    seps = len(sep) * max(0, len(a) - 1)
    try:
        # Strings count exactly; arrays and maps count their items, which their text exceeds.
        size = sum(map(len, a)) + seps
    except TypeError:  # numbers, bools or (): rendered one by one, measured as they come
        parts = []
        size = seps
        for v in a:
            text = v if type(v) is str else render(v, c)
            size += len(text)
            if size > limit:
                raise string_too_large(c, size) from None
            parts.append(text)
        a = parts
    else:
        if size > limit:
            raise string_too_large(c, size)
        if not all(type(v) is str for v in a):
            return join(c, [v if type(v) is str else render(v, c) for v in a], sep)
    built(c, size)
    return check_string(c, sep.join(a))


def _results(c: Context, fn: Fn, items: list[object]) -> Iterator[object]:
    """Call `fn` on each item (and its index, when `fn` takes two parameters), lazily.
    Script functions are called with the frame set up inline: this is the hot loop of
    map/filter/any/all/find."""
    if fn.builtin is not None or fn.arity not in (1, 2):
        with_index = fn.builtin is None and fn.arity == 2
        for i, v in enumerate(items):
            yield call_function(c, fn, [v, i] if with_index else [v])
        return
    if c.depth >= c.limits.max_call_depth:
        raise call_depth_limit(c)
    template, body, g = fn.template, fn.body, c.globals
    with_index = fn.arity == 2
    c.depth += 1
    try:
        for i, v in enumerate(items):
            fr = template[:]  # type: ignore[index]
            fr[0] = c
            fr[1] = g
            fr[2] = v
            if with_index:
                fr[3] = i
            try:
                yield body(fr)
            except ReturnSignal as r:
                yield r.value
    finally:
        c.depth -= 1


def _quick(c: Context, fn: Fn, count: int) -> list | None:
    """A frame to call `fn` in for each of `count` items, reused from one call to the next,
    when `fn.quick` says its body has no side effects; the `count` calls are charged here,
    at once. None when the usual calls must run instead: they report a call depth or
    operation limit exactly where it is reached.

    The caller restores `c.budget` and makes the usual calls if a quick call raises: the
    body being side-effect free, running it again changes nothing but the time taken."""
    quick = fn.quick
    if quick is None or c.depth >= c.limits.max_call_depth:
        return None
    cost = quick[1] * count
    if c.budget < cost:
        return None
    c.budget -= cost
    fr = fn.template[:]  # type: ignore[index]
    fr[0] = c
    fr[1] = c.globals
    return fr


_PLAIN = frozenset({str, int, float, bool, type(None)})  # `store` keeps these as they are


def _items(c: Context, name: str, a: object) -> list:
    """A copy to iterate over (the function may change the array), charged: `any` or `find`
    that stop at the first item must still pay for copying 100,000."""
    items = list(_array(name, a))
    charge(c, len(items) >> 4)
    return items


@builtin("map", 2)
def map_(c: Context, a: object, fn: object) -> list:
    items = _items(c, "map", a)
    fn = _want_fn("map", fn)
    budget = c.budget
    fr = _quick(c, fn, len(items))
    if fr is not None:
        body = fn.quick[0]
        out: list[object] = []
        append = out.append
        try:
            if fn.arity == 1:
                for v in items:
                    fr[2] = v
                    r = body(fr)
                    append(r if type(r) in _PLAIN else store(c, r))
            else:
                for i, v in enumerate(items):
                    fr[2] = v
                    fr[3] = i
                    r = body(fr)
                    append(r if type(r) in _PLAIN else store(c, r))
            return out
        except ScriptError:
            c.budget = budget
    return [store(c, r) for r in _results(c, fn, items)]


def _quick_tests(c: Context, fn: Fn, items: list, stop: bool) -> int | None:
    """With a quick `fn` (see `_quick`): the index of the first item for which `fn` returns
    `stop`, len(items) if none does; None when the usual calls must run instead (including
    when `fn` returns something other than a bool: they report it). Charges the calls made."""
    budget = c.budget
    fr = _quick(c, fn, len(items))
    if fr is None:
        return None
    body = fn.quick[0]
    other = not stop
    two = fn.arity == 2
    try:
        for i, v in enumerate(items):
            fr[2] = v
            if two:
                fr[3] = i
            r = body(fr)
            if r is stop:
                c.budget += fn.quick[1] * (len(items) - i - 1)
                return i
            if r is not other:
                break
        else:
            return len(items)
    except ScriptError:
        pass
    c.budget = budget
    return None


@builtin("filter", 2)
def filter_(c: Context, a: object, fn: object) -> list:
    items = _items(c, "filter", a)
    fn = _want_fn("filter", fn)
    budget = c.budget
    fr = _quick(c, fn, len(items))
    if fr is not None:
        body = fn.quick[0]
        out: list[object] = []
        append = out.append
        try:
            if fn.arity == 1:
                for v in items:
                    fr[2] = v
                    r = body(fr)
                    if r is True:
                        append(v)
                    elif r is not False:
                        break
                else:
                    return out
            else:
                for i, v in enumerate(items):
                    fr[2] = v
                    fr[3] = i
                    r = body(fr)
                    if r is True:
                        append(v)
                    elif r is not False:
                        break
                else:
                    return out
        except ScriptError:
            pass
        c.budget = budget  # not a bool, or an error: the usual calls report it
    return [v for v, r in zip(items, _results(c, fn, items), strict=True) if _want_bool("filter", r)]


@builtin("find", 2)
def find(c: Context, a: object, fn: object) -> object:
    items = _items(c, "find", a)
    fn = _want_fn("find", fn)
    found = _quick_tests(c, fn, items, True)
    if found is not None:
        return items[found] if found < len(items) else None
    for v, r in zip(items, _results(c, fn, items), strict=True):
        if _want_bool("find", r):
            return v
    return None


@builtin("any", 2)
def any_(c: Context, a: object, fn: object) -> bool:
    items = _items(c, "any", a)
    fn = _want_fn("any", fn)
    found = _quick_tests(c, fn, items, True)
    if found is not None:
        return found < len(items)
    return any(_want_bool("any", r) for r in _results(c, fn, items))


@builtin("all", 2)
def all_(c: Context, a: object, fn: object) -> bool:
    items = _items(c, "all", a)
    fn = _want_fn("all", fn)
    found = _quick_tests(c, fn, items, False)
    if found is not None:
        return found == len(items)
    return all(_want_bool("all", r) for r in _results(c, fn, items))


@builtin("reduce", 2, 3)
def reduce(c: Context, a: object, fn: object, initial: object = None) -> object:
    a = _array("reduce", a)
    fn = _want_fn("reduce", fn)
    acc = initial
    three = fn.builtin is None and fn.arity == 3
    for i, v in enumerate(_items(c, "reduce", a)):
        acc = call_function(c, fn, [acc, v, i] if three else [acc, v])
    return acc


@builtin("range", 2, 3)
def range_(c: Context, start: object, end: object, step: object = 1) -> list:
    start = _want_int("range", start, "start")
    end = _want_int("range", end, "end")
    step = _want_int("range", step, "step")
    if step == 0:
        raise ScriptError("range(): step cannot be 0")
    return materialize_range(c, start, end, step)


def materialize_range(c: Context, start: int, end: int, step: int = 1) -> list:
    r = range(start, end, step)
    if len(r) > c.limits.max_collection_items:
        raise ScriptError(
            f"array size limit exceeded: the range has {len(r):,} items > {c.limits.max_collection_items:,} (max_collection_items)"
        )
    charge(c, len(r) >> 4)
    return list(r)


# ---- JSON, hashing, encoding, time ---------------------------------------------------------------


@builtin("parse_json", 1)
def parse_json(c: Context, s: object) -> object:
    if type(s) is not str:
        raise _wrong("parse_json", s, "a string")
    # Parsing makes an object per token: ~60 ms for 1 MiB of small ones.
    charge(c, len(s) >> 3)
    _check_json_depth(c, s)
    try:
        value = json.loads(s, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ScriptError(f"parse_json(): invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (RecursionError, ValueError) as exc:
        raise ScriptError(f"parse_json(): invalid JSON: {exc}") from None
    if s.count(",") >= c.limits.max_collection_items:  # else no array can be too big
        _check_json_items(c, value)
    return value


def _check_json_items(c: Context, value: object) -> None:
    most = c.limits.max_collection_items
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list or type(v) is dict:
            if len(v) > most:
                raise ScriptError(
                    f"parse_json(): {'array' if type(v) is list else 'map'} size limit exceeded: {len(v):,} items > "
                    f"{most:,} (max_collection_items)"
                )
            stack.extend(v if type(v) is list else v.values())  # type: ignore[union-attr]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def _check_json_depth(c: Context, text: str) -> None:
    if text.count("[") + text.count("{") <= c.limits.max_nesting:
        return
    depth = 0
    for ch in re.sub(r"[^\[\]{}]", "", _JSON_STRING.sub("", text)):
        if ch in "[{":
            depth += 1
            if depth > c.limits.max_nesting:
                raise ScriptError(
                    f"parse_json(): nesting limit exceeded: arrays and maps nested more than {c.limits.max_nesting} levels (max_nesting)"
                )
        else:
            depth -= 1


@builtin("sha256", 1)
def sha256(c: Context, s: object) -> str:
    if type(s) is not str:
        raise _wrong("sha256", s, "a string")
    charge(c, len(s) >> SCAN_SHIFT)
    return hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest()


@builtin("base64_encode", 1)
def base64_encode(c: Context, s: object) -> str:
    if type(s) is not str:
        raise _wrong("base64_encode", s, "a string")
    _room(c, len(s) * 4 // 3)
    built(c, 2 * len(s))  # encode to bytes, then to text
    out = base64.b64encode(s.encode("utf-8", "surrogatepass")).decode("ascii")
    return check_string(c, out)


@builtin("base64_decode", 1)
def base64_decode(c: Context, s: object) -> str:
    if type(s) is not str:
        raise _wrong("base64_decode", s, "a string")
    text = s.strip()
    built(c, 2 * len(text))
    try:
        if "-" in text or "_" in text:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        else:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ScriptError(f"base64_decode(): {_quote(s)} is not valid base64") from None
    return raw.decode("utf-8", "replace")


@builtin("now", 0)
def now(c: Context) -> str:
    moment = c.clock() if c.clock is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---- functions as values ---------------------------------------------------------------------------


@builtin("call", 1, 64)
def call(c: Context, fn: object, *args: object) -> object:
    return call_function(c, _want_fn("call", fn), list(args))


@builtin("Fn", 1)
def fn_pointer(c: Context, name: object) -> Fn:
    name = _want_str("Fn", name, "function name")
    candidates = c.functions.get(name)
    if candidates:
        if len(candidates) == 1:
            return next(iter(candidates.values()))
        raise ScriptError(f"Fn(): '{name}' is defined with several argument counts; use a closure instead")
    if name in BUILTINS:
        return builtin_pointer(name)
    raise ScriptError(f"Fn(): unknown function '{name}'{suggest(name, list(c.functions) + list(BUILTINS))}")


def builtin_pointer(name: str) -> Fn:
    func, low, high = BUILTINS[name]

    def checked(c: Context, *args: object) -> object:
        check_arity(name, len(args), low, high)
        return func(c, *args)

    return Fn(name, low, None, None, checked)


def check_arity(name: str, given: int, low: int, high: int) -> None:
    if low <= given <= high:
        return
    if low == high:
        wanted = f"{low} argument{'s' if low != 1 else ''}"
    elif high >= 16:
        wanted = f"at least {low} argument{'s' if low != 1 else ''}"
    else:
        wanted = f"{low} to {high} arguments"
    raise ScriptError(
        f"{name}() takes {wanted} (counting the value before '.' in a method call), but {given} {'were' if given != 1 else 'was'} given"
    )
