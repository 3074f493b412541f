"""YAML read the way Greentic's Rust tools read it (YAML 1.2 core schema): `yes`, `no`, `on`
and `off` stay strings, `010` is ten, `12:30` and `2026-01-01` are text, and only JSON values
come out, so a config value means the same here as in the runner.

    root = compose(text)          # nodes with marks, for positions
    value = construct(node)       # plain JSON values; `NotJson` for anything else
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from ..flow.loader import _expansion_problem

__all__ = ["Loader", "NotJson", "check_tree", "compose", "compose_all", "construct", "find_cycle"]


class NotJson(ValueError):
    """A value with no JSON form (a binary, a set, an unknown tag); `node` says where."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.node = node


class Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types only."""

    yaml_implicit_resolvers: dict = {}

    def construct_core_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        return sign * int(digits, 10)


Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_core_int)

_JSON_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


def compose(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=Loader)


def compose_all(text: str) -> list[yaml.Node]:
    return list(yaml.compose_all(text, Loader=Loader))


def _check(node: yaml.Node) -> None:
    stack = [node]
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n.tag not in _JSON_TAGS:
            raise NotJson(f"the tag {n.tag} has no JSON value; use strings, numbers, booleans, lists and mappings", n)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                if not isinstance(k, yaml.ScalarNode):
                    raise NotJson("mapping keys must be plain names", k)
                if k.value == "<<" and k.tag.endswith(":merge"):
                    raise NotJson("YAML merge keys (<<) are not supported; write the keys out", k)
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def find_cycle(root: yaml.Node) -> yaml.Node | None:
    """A node that contains itself through an alias (`&a [*a]`), else None. PyYAML composes
    such a tree; walking it without this check never ends."""
    visiting, done = set(), set()
    stack = [(root, iter(_children(root)))]
    visiting.add(id(root))
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            visiting.discard(id(node))
            done.add(id(node))
            stack.pop()
            continue
        if id(child) in visiting:
            return child
        if id(child) not in done:
            visiting.add(id(child))
            stack.append((child, iter(_children(child))))
    return None


def check_tree(root: yaml.Node) -> None:
    """`NotJson` for a tree that contains itself or whose aliases expand past the documented
    loader's limit (MAX_EXPANDED_NODES)."""
    cycle = find_cycle(root)
    if cycle is not None:
        raise NotJson("this value contains itself through a YAML alias; write it out", cycle)
    bomb = _expansion_problem(root)
    if bomb is not None:
        raise NotJson("YAML aliases expand this too far (an alias bomb?); write the values out", bomb[0])


def construct(node: yaml.Node) -> Any:
    """The JSON value of a node (mapping keys as their text); `NotJson` when it has none."""
    check_tree(node)
    _check(node)
    loader = Loader("")
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise NotJson(str(getattr(exc, "problem", None) or exc), node) from None
    try:
        return _keys_as_text(value)
    except ValueError:
        raise NotJson(".inf and .nan have no JSON value; write a number or a string", node) from None


def _keys_as_text(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not finite")
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _keys_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys_as_text(v) for v in value]
    return value
