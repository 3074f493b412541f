"""Run-time values and the rules shared by operators and built-ins: type names, equality,
rendering (`{}` and `{:?}`), copying into collections, and the size and operation limits.

Values are plain Python: None (unit), bool, int, float, str, list (array), dict (map),
plus `Fn` for functions. Arrays and maps are shared between variables (as in JavaScript);
storing one inside another array or map stores a copy, so values never form cycles and
their depth stays bounded.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .errors import DEFAULT_LIMITS, Limits, ScriptError

MAX_INT = (1 << 63) - 1
MIN_INT = -(1 << 63)
MAX_FLOAT = 1.7976931348623157e308


class Fn:
    """A function value: a script `fn`, a closure, or a pointer to a built-in.

    `template` is the frame a call starts from: slots 0 and 1 are filled with the run
    context and the global scope, parameters follow, then captured values (closures).

    `quick` is set for a closure whose body has no side effects (it assigns nothing and
    calls no function): (the body without its per-call charge, that charge). Built-ins
    that call it per item (`map`, `filter`, …) then reuse one frame and charge all the
    calls at once, and fall back to calling it as usual if anything goes wrong."""

    __slots__ = ("name", "arity", "body", "template", "builtin", "quick")

    def __init__(self, name: str, arity: int, body: Any, template: list[Any] | None, builtin: Any = None, quick: Any = None) -> None:
        self.name = name
        self.arity = arity
        self.body = body
        self.template = template
        self.builtin = builtin
        self.quick = quick

    def __repr__(self) -> str:
        return f"Fn({self.name})"


class Context:
    """The state of one evaluation: operation budget, call depth, logs, globals, limits.

    Defaults live on the class so that starting a run sets only what differs: a run is
    often a single branch condition, and its fixed cost matters."""

    budget = DEFAULT_LIMITS.max_operations
    depth = 0
    logs: list[str] | None = None  # created by the first print/debug
    log_chars = 0
    globals: dict = {}
    limits = DEFAULT_LIMITS
    clock: Callable[[], datetime] | None = None
    functions: dict = {}
    _ci: set[int] | None = None
    # `free_text(limits)`, kept with `limits` (set below and wherever a run's limits are):
    # generated code joins shorter text without calling `joined`.
    free_text = 0

    @property
    def case_insensitive(self) -> set[int]:
        """Ids of the header maps, looked up case-insensitively (SPEC §5)."""
        ci = self._ci
        if ci is None:
            ci = set()
            scope = self.globals
            headers = scope.get("headers")
            if type(headers) is dict:
                ci.add(id(headers))
            event = scope.get("event")
            if type(event) is dict and type(event.get("headers")) is dict:
                ci.add(id(event["headers"]))
            self._ci = ci
        return ci


# ---- names and equality -------------------------------------------------------------------

_TYPE_NAMES = {
    type(None): "()",
    bool: "bool",
    int: "i64",
    float: "f64",
    str: "string",
    list: "array",
    dict: "map",
    Fn: "Fn",
    tuple: "array",
}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), "unknown")


def suggest(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' or '' — for unknown names."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return f"; did you mean '{matches[0]}'?" if matches else ""


def equal(a: object, b: object) -> bool:
    """`==`: different types are unequal, except ints and floats compare numerically."""
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list:
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type, call-overload]
        if ta is dict:
            if len(a) != len(b):  # type: ignore[arg-type]
                return False
            for key, value in a.items():  # type: ignore[attr-defined]
                if key not in b or not equal(value, b[key]):  # type: ignore[operator,index]
                    return False
            return True
        return a == b
    if (ta is int and tb is float) or (ta is float and tb is int):
        return a == b
    return False


def same(c: Context, a: object, b: object) -> bool:
    """`equal` for a running script: comparing long strings and big collections is charged
    against the operation budget, so `loop { big == other }` cannot spin for seconds."""
    if a is b:  # one value (no NaN exists in the language): nothing to walk
        return True
    ta = type(a)
    if ta is type(b):
        if ta is str:
            n = len(a)  # type: ignore[arg-type]
            if n > _FREE_COMPARE and n == len(b):  # type: ignore[arg-type]
                charge(c, n >> SCAN_SHIFT)
            return a == b
        if ta is list:
            if len(a) != len(b):  # type: ignore[arg-type]
                return False
            charge(c, len(a))  # type: ignore[arg-type]
            for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
                if x is not y and not same(c, x, y):
                    return False
            return True
        if ta is dict:
            if len(a) != len(b):  # type: ignore[arg-type]
                return False
            charge(c, 2 * len(a))  # type: ignore[arg-type] # a lookup and a comparison per key
            for key, value in a.items():  # type: ignore[attr-defined]
                if key not in b or not same(c, value, b[key]):  # type: ignore[operator,index]
                    return False
            return True
    return equal(a, b)


def charge_compare(c: Context, a: str, b: str) -> None:
    """Ordering two long strings reads up to the shorter one's length."""
    n = min(len(a), len(b))
    if n > _FREE_COMPARE:
        charge(c, n >> SCAN_SHIFT)


def lookup(c: Context, mapping: dict[str, object], key: str, default: object = None) -> object:
    """A map entry by key; header maps also match case-insensitively."""
    value = mapping.get(key, _MISSING)
    if value is _MISSING:
        if id(mapping) in c.case_insensitive:
            lowered = key.lower()
            value = mapping.get(lowered, _MISSING)
            if value is _MISSING:
                for k, v in mapping.items():
                    if type(k) is str and k.lower() == lowered:
                        return v
                return default
            return value
        return default
    return value


def has_key(c: Context, mapping: dict, key: str) -> bool:
    return lookup(c, mapping, key, _MISSING) is not _MISSING


class _Missing:
    __slots__ = ()


_MISSING = _Missing()


# ---- rendering -----------------------------------------------------------------------------


def render_float(value: float) -> str:
    return repr(value)


def to_json(value: object, pretty: bool = False, c: Context | None = None) -> str:
    """`value` as JSON text. A collection is first measured (cheaply, stopping early) so
    that one whose text would exceed the string size limit fails before any of it is built:
    an array of 65,536 strings of 64 Ki characters must not become 4 GiB of text first."""
    t = type(value)
    if t is str:
        limit = (c.limits if c is not None else DEFAULT_LIMITS).max_string_bytes
        if len(value) + 2 > limit:  # type: ignore[arg-type] # quoted, it can only grow
            raise (
                string_too_large(c, len(value) + 2)  # type: ignore[arg-type]
                if c is not None
                else ScriptError(f"string size limit exceeded: {len(value) + 2:,} bytes > {limit:,} (max_string_bytes)")  # type: ignore[arg-type]
            )
    elif t is list or t is dict or t is tuple:
        limit = (c.limits if c is not None else DEFAULT_LIMITS).max_string_bytes
        size, nodes = json_size_at_least(value, limit)
        if c is not None:
            charge(c, nodes)
        if size > limit:
            raise ScriptError(
                f"string size limit exceeded: the JSON text of this {type_name(value)} would be more than "
                f"{limit:,} bytes (max_string_bytes)"
            )
    try:
        if pretty:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2, default=_no_json)
        else:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_no_json)
    except RecursionError:
        raise ScriptError("value is nested too deeply to render as JSON") from None
    except (ValueError, TypeError) as exc:
        raise ScriptError(f"value cannot be rendered as JSON: {exc}") from None
    if c is not None:
        built(c, len(text))
    return text


def json_size_at_least(value: object, limit: int) -> tuple[int, int]:
    """(a lower bound of the length of `value`'s JSON text, nodes visited). Stops as soon
    as the bound passes `limit`, so the walk costs at most about `limit` steps however big
    the value is. Characters, not bytes: a lower bound either way."""
    t = type(value)
    if t is str:
        return len(value) + 2, 1  # type: ignore[arg-type]
    if t is not list and t is not dict and t is not tuple:
        return 1, 1
    total = 0
    nodes = 0
    # Containers still to walk, last in first out; most values measured are flat (a step's
    # output, an answer's body), so the list is made only once a nested one turns up.
    stack: list[Any] | None = None
    v: Any = value
    while True:
        nodes += 1
        if type(v) is dict:
            total += 1 + len(v)  # braces and commas
            items = v.values()
            total += sum(map(len, v)) + 3 * len(v)  # "key":
        else:
            total += 1 + len(v)  # brackets and commas
            items = v
        for x in items:
            tx = type(x)
            if tx is str:
                total += len(x) + 2
            elif tx is list or tx is dict or tx is tuple:
                if stack is None:
                    stack = [x]
                else:
                    stack.append(x)
            else:
                total += 1
        nodes += len(items)
        if total > limit or not stack:
            return total, nodes
        v = stack.pop()


def _no_json(value: object) -> object:
    if type(value) is Fn:
        return f"Fn({value.name})"
    raise TypeError(f"{type_name(value)} is not a JSON value")


def render(value: object, c: Context | None = None) -> str:
    """`{}`: strings bare, () empty, arrays and maps as compact JSON (within the string
    size limit of `c`, or the default one)."""
    t = type(value)
    if t is str:
        return value  # type: ignore[return-value]
    if value is None:
        return ""
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return render_float(value)  # type: ignore[arg-type]
    if t is Fn:
        return f"Fn({value.name})"  # type: ignore[attr-defined]
    return to_json(value, c=c)


def render_debug(value: object, c: Context | None = None) -> str:
    """`{:?}`: every value as JSON (strings quoted, () as null)."""
    if type(value) is Fn:
        return f"Fn({value.name})"
    return to_json(value, c=c)


# ---- limits ---------------------------------------------------------------------------------


def operation_limit(c: Context) -> ScriptError:
    return ScriptError(
        f"operation limit exceeded: more than {c.limits.max_operations:,} operations (max_operations); is there an endless loop?"
    )


def charge(c: Context, amount: int) -> None:
    """Count work proportional to data size (copies, joins, searches) against the budget."""
    c.budget -= amount
    if c.budget < 0:
        raise operation_limit(c)


# What one operation buys, as shifts of a length: about the time of one interpreted
# operation (~0.3 µs). Reading text (search, compare, hash) costs one per 64 characters;
# building text costs the same, which also bounds what one evaluation can allocate
# (1,000,000 operations ≈ 64 Mi characters built in all, however many values hold them).
SCAN_SHIFT = 6
BUILD_SHIFT = 6
_FREE_COMPARE = 4096  # shorter strings compare in well under one operation's time


def built(c: Context, size: int) -> None:
    """Charge for a string of `size` characters just built."""
    if size >= 1 << BUILD_SHIFT:
        c.budget -= size >> BUILD_SHIFT
        if c.budget < 0:
            raise operation_limit(c)


def free_text(limits: Limits) -> int:
    """The length below which text joined under `limits` is neither charged (`built`) nor
    refused or checked for size (`joined`): `joined` would just join it."""
    return min(1 << BUILD_SHIFT, limits.max_string_bytes // 4 + 1)


Context.free_text = free_text(DEFAULT_LIMITS)


def string_too_large(c: Context, size: int) -> ScriptError:
    return ScriptError(f"string size limit exceeded: {size:,} bytes > {c.limits.max_string_bytes:,} (max_string_bytes)")


def check_string(c: Context, s: str) -> str:
    n = len(s)
    limit = c.limits.max_string_bytes
    if n * 4 > limit:
        size = len(s.encode("utf-8", "surrogatepass")) if n <= limit else n
        if size > limit:
            raise string_too_large(c, size)
    return s


def joined(c: Context, parts: list, sep: str = "") -> str:
    """Text pieces joined, refused before joining when they would pass the string limit
    (characters are at least bytes, so their count is a lower bound of the size)."""
    size = sum(map(len, parts)) + len(sep) * max(0, len(parts) - 1)
    limit = c.limits.max_string_bytes
    if size > limit:
        raise string_too_large(c, size)
    built(c, size)
    text = sep.join(parts)
    return check_string(c, text) if size * 4 > limit else text


def check_items(c: Context, collection: list[object] | dict[str, object]) -> None:
    if len(collection) > c.limits.max_collection_items:
        kind = "array" if type(collection) is list else "map"
        raise ScriptError(
            f"{kind} size limit exceeded: {len(collection):,} items > {c.limits.max_collection_items:,} (max_collection_items)"
        )


def store(c: Context, value: object) -> object:
    """The value to put inside an array or map: a copy of a collection, never a function."""
    t = type(value)
    if t is list or t is dict or t is tuple:
        return _copy(c, value, 1)
    if t is Fn:
        raise ScriptError("a function (Fn) cannot be stored in an array or map; call it and store the result")
    return value


def _copy(c: Context, value: Any, depth: int) -> Any:
    if depth > c.limits.max_nesting:
        raise ScriptError(f"nesting limit exceeded: arrays and maps nested more than {c.limits.max_nesting} levels (max_nesting)")
    t = type(value)
    if t is dict:
        c.budget -= len(value)
        out: Any = {}
        for k, v in value.items():
            tv = type(v)
            out[k] = _copy(c, v, depth + 1) if (tv is list or tv is dict or tv is tuple) else v
    else:
        c.budget -= len(value)
        out = [_copy(c, v, depth + 1) if type(v) in (list, dict, tuple) else v for v in value]
    if c.budget < 0:
        raise operation_limit(c)
    return out


def plain(c: Context, value: object) -> object:
    """Check a script's result: JSON-shaped, never a function."""
    if type(value) is Fn:
        raise ScriptError("a script cannot return a function (Fn); call it, or return its result instead")
    return value


# ---- calls and control flow ------------------------------------------------------------------


class ReturnSignal(Exception):
    """`return`: unwinds to the enclosing function call (or the script)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


class BreakSignal(Exception):
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


class ContinueSignal(Exception):
    __slots__ = ()


def call_depth_limit(c: Context) -> ScriptError:
    return ScriptError(
        f"call depth limit exceeded: more than {c.limits.max_call_depth} nested function calls (max_call_depth); "
        "is there an unbounded recursion?"
    )


def call_function(c: Context, fn: Fn, args: list) -> object:
    """Call a function value with already evaluated arguments."""
    builtin = fn.builtin
    if builtin is not None:
        return builtin(c, *args)
    if len(args) != fn.arity:
        raise ScriptError(
            f"function '{fn.name}' takes {fn.arity} argument{'s' if fn.arity != 1 else ''}, "
            f"but {len(args)} {'were' if len(args) != 1 else 'was'} given"
        )
    if c.depth >= c.limits.max_call_depth:
        raise call_depth_limit(c)
    fr = fn.template[:]  # type: ignore[index]
    fr[0] = c
    fr[1] = c.globals
    i = 2
    for a in args:
        fr[i] = a
        i += 1
    c.depth += 1
    try:
        return fn.body(fr)
    except ReturnSignal as r:
        return r.value
    except RecursionError:
        raise call_depth_limit(c) from None
    finally:
        c.depth -= 1
