"""What differs between two captures (`webhook-inspector diff`, the TUI's `m` … `D`), and the
comparisons `rerun` shares with it: JSON values by path, and flow runs by path and status.

A difference is a `where` (a path such as `$.commits[2].message`, `headers.date`,
`response.body.result` or `flows.github.path`) and the two values. A value that is not there
on one side is `ABSENT` (null in JSON, "(absent)" in text).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from .flow.runs import FlowRun
from .model import Capture, Headers, Request, Response, is_json_type


class _Absent:
    """Not there on this side (a key, a header, an element, a run)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()

# Past this many differences inside one value (a body, an answer), the rest are counted in
# one last entry: two unrelated 5 MB documents would otherwise print for minutes.
MAX_VALUE_DIFFERENCES = 200
VOLATILE = "headers.volatile"  # the `where` of the grouped volatile headers


@dataclass(frozen=True, slots=True)
class Difference:
    """One place where two things differ: `where`, and the value on each side."""

    where: str
    a: Any
    b: Any

    def to_json(self, a_key: str = "a", b_key: str = "b") -> dict[str, Any]:
        return {"where": self.where, a_key: plain(self.a), b_key: plain(self.b)}

    def masked(self, mask_a: Callable[[str, Any], Any], mask_b: Callable[[str, Any], Any]) -> Difference:
        """The difference with each side passed through its capture's masking
        (`mask(where, value)`): what a face shows, secrets hidden."""
        return Difference(self.where, mask_a(self.where, self.a), mask_b(self.where, self.b))


def _masker_of(redact: Any) -> Callable[[str, Any], Any]:
    def mask(where: str, value: Any) -> Any:
        if where.startswith("headers.") and isinstance(value, dict):  # the volatile group
            return {name: redact(name, v) if isinstance(v, str) else redact.value(v) for name, v in value.items()}
        if where.startswith("headers.") and isinstance(value, str):
            return redact(where.removeprefix("headers."), value)
        return redact.value(value)

    return mask


def masked(found: Iterable[Difference], redact_a: Any, redact_b: Any) -> list[Difference]:
    """Differences as a face shows them: each side through its capture's `signatures.Redactor`
    (a header value masked by its name, any other value by content: a secret the capture
    received, wherever it reappears)."""
    ma, mb = _masker_of(redact_a), _masker_of(redact_b)
    return [d.masked(ma, mb) for d in found]


def plain(value: Any) -> Any:
    """A value as JSON can hold it: ABSENT is null."""
    if value is ABSENT:
        return None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def shown(value: Any, width: int = 200) -> str:
    """One value as a short line of text for a table or a terminal."""
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        try:
            text = json.dumps(plain(value), ensure_ascii=False, sort_keys=False)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


# JSON values by path

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def child_path(base: str, key: Any) -> str:
    """`base.key`, `base["odd key"]` or `base[3]`."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if isinstance(key, str) and _NAME.match(key):
        return f"{base}.{key}"
    return f"{base}[{json.dumps(key, ensure_ascii=False)}]"


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.dropped = 0


def compare_values(a: Any, b: Any, where: str, limit: int = MAX_VALUE_DIFFERENCES) -> list[Difference]:
    """Two JSON values compared structurally: one difference per leaf, key or element that
    differs (object key order never counts; 1 and 1.0 are equal, True and 1 are not)."""
    out: list[Difference] = []
    budget = _Budget(limit)
    _compare(a, b, where, out, budget)
    if budget.dropped:
        out.append(Difference(f"{where} (more)", f"{budget.dropped} more differences not shown", ABSENT))
    return out


def _same_leaf(a: Any, b: Any) -> bool:
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    return bool(a == b)


def _compare(a: Any, b: Any, where: str, out: list[Difference], budget: _Budget) -> None:
    if type(a) is dict and type(b) is dict:
        for key in list(a) + [k for k in b if k not in a]:
            _compare(a.get(key, ABSENT), b.get(key, ABSENT), child_path(where, key), out, budget)
        return
    if type(a) is list and type(b) is list:
        for i in range(max(len(a), len(b))):
            _compare(a[i] if i < len(a) else ABSENT, b[i] if i < len(b) else ABSENT, child_path(where, i), out, budget)
        return
    if a is ABSENT and b is ABSENT:
        return
    if a is not ABSENT and b is not ABSENT and type(a) not in (dict, list) and type(b) not in (dict, list) and _same_leaf(a, b):
        return
    if budget.left <= 0:
        budget.dropped += 1
        return
    budget.left -= 1
    out.append(Difference(where, a, b))


def equal_json(a: Any, b: Any) -> bool:
    """JSON equality: key order never counts, 1 == 1.0, but True is not 1."""
    if type(a) is dict and type(b) is dict:
        return len(a) == len(b) and all(k in b and equal_json(v, b[k]) for k, v in a.items())
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(equal_json(x, y) for x, y in zip(a, b, strict=True))
    if type(a) in (dict, list) or type(b) in (dict, list):
        return False
    return _same_leaf(a, b)


# Flow runs


def keyed_runs(runs: Iterable[FlowRun]) -> dict[str, FlowRun]:
    """Runs by flow name; a name's second run (an async child of the same flow, two
    triggers) is `name#2`, and so on."""
    out: dict[str, FlowRun] = {}
    seen: dict[str, int] = {}
    for run in runs:
        if run.shapeless:
            continue
        name = run.flow or "?"
        seen[name] = seen.get(name, 0) + 1
        out[name if seen[name] == 1 else f"{name}#{seen[name]}"] = run
    return out


def run_summary(run: FlowRun | None) -> Any:
    """A run as `rerun` and `diff` name it: flow, status, path."""
    if run is None:
        return ABSENT
    return {"flow": run.flow, "status": run.status, "path": list(run.path)}


def parting_step(a: FlowRun, b: FlowRun) -> int | None:
    """The first step where two runs of a flow part: another node, or the same node giving
    another output or status. None when every step agrees."""
    for i in range(max(len(a.steps), len(b.steps))):
        sa = a.steps[i] if i < len(a.steps) else None
        sb = b.steps[i] if i < len(b.steps) else None
        if sa is None or sb is None:
            return i
        if sa.node != sb.node or sa.status != sb.status or sa.next != sb.next or not equal_json(sa.output, sb.output):
            return i
    return None


def step_summary(run: FlowRun, index: int) -> Any:
    if index >= len(run.steps):
        return ABSENT
    step = run.steps[index]
    out: dict[str, Any] = {"node": step.node, "status": step.status, "output": step.output, "next": step.next}
    if step.error is not None:
        out["error"] = step.error.message
    return out


def compare_runs(a_runs: Sequence[FlowRun], b_runs: Sequence[FlowRun], *, steps: bool = False) -> list[Difference]:
    """Each flow's run on both sides: `flows.NAME` when it ran on one side only, else
    `flows.NAME.status` and `flows.NAME.path`; with `steps`, also the first step where the
    two runs part (`flows.NAME.steps[3]`)."""
    left, right = keyed_runs(a_runs), keyed_runs(b_runs)
    out: list[Difference] = []
    for key in list(left) + [k for k in right if k not in left]:
        ra, rb = left.get(key), right.get(key)
        where = child_path("flows", key) if "#" not in key else f"flows.{key}"
        if ra is None or rb is None:
            out.append(Difference(where, run_summary(ra), run_summary(rb)))
            continue
        if ra.status != rb.status:
            out.append(Difference(f"{where}.status", ra.status, rb.status))
        if ra.path != rb.path:
            out.append(Difference(f"{where}.path", list(ra.path), list(rb.path)))
        if steps:
            at = parting_step(ra, rb)
            if at is not None:
                out.append(Difference(f"{where}.steps[{at}]", step_summary(ra, at), step_summary(rb, at)))
    return out


# Answers


def answer_value(capture: Capture) -> Any:
    """The answer's body as compared: JSON parsed, text as text, None when empty. The
    inspector's own answers carry the capture's id; that id is left out (it always differs
    between two captures, and says nothing about the answer)."""
    response = capture.response
    if response is None:
        return None
    value = response.body_value()
    if isinstance(value, dict) and "id" in value and value.get("id") == capture.id and not any(r.answered for r in capture.runs):
        value = {k: v for k, v in value.items() if k != "id"}
    return value


def compare_answers(a: Capture, b: Capture) -> list[Difference]:
    ra, rb = a.response, b.response
    if ra is None or rb is None:
        if ra is rb:
            return []
        return [Difference("response", _answer_summary(ra), _answer_summary(rb))]
    out: list[Difference] = []
    if ra.status != rb.status:
        out.append(Difference("response.status", ra.status, rb.status))
    if ra.body == rb.body and a.id == b.id and ra.content_type == rb.content_type:
        return out  # the same bytes read the same way (the usual case in a rerun)
    out.extend(compare_values(answer_value(a), answer_value(b), "response.body"))
    return out


def _answer_summary(response: Response | None) -> Any:
    return ABSENT if response is None else {"status": response.status, "body": response.body_value()}


# Requests


# Headers that differ between two deliveries of the same event by design: dates, delivery and
# request ids, signatures and the timestamps they sign; and the address it was sent to (Host:
# the port, the tunnel's domain, none for a replay made in process) with a tunnel's X-Forwarded-*.
_VOLATILE_WORDS = re.compile(
    r"(^date$|signature|timestamp|delivery|request-?id|event-?id|message-?id|webhook-?id|uuid|nonce|trace|idempotency"
    r"|[-_](at|time|date)$|^x-amzn-|^cf-ray$|^svix-id$|^host$|^x-forwarded-|^x-real-ip$)",
    re.IGNORECASE,
)


def _scheme_headers() -> frozenset[str]:
    from .signatures import all_schemes

    names: set[str] = set()
    for scheme in all_schemes().values():
        names.add(scheme.header.lower())
        names.update(h.lower() for h in scheme.headers)
    names.discard("")
    return frozenset(names)


_SIGNATURE_HEADERS: frozenset[str] | None = None


def volatile_header(name: str) -> bool:
    """A header that changes with every delivery (date, delivery ids, signatures, timestamps)."""
    global _SIGNATURE_HEADERS
    if _SIGNATURE_HEADERS is None:
        _SIGNATURE_HEADERS = _scheme_headers()
    low = name.lower()
    return low in _SIGNATURE_HEADERS or _VOLATILE_WORDS.search(low) is not None


def _header_map(headers: Headers) -> dict[str, tuple[str, list[str]]]:
    out: dict[str, tuple[str, list[str]]] = {}
    for name, value in headers:
        key = name.lower()
        if key in out:
            out[key][1].append(value)
        else:
            out[key] = (name, [value])
    return out


def _one(values: list[str] | None) -> Any:
    if values is None:
        return ABSENT
    return values[0] if len(values) == 1 else list(values)


def compare_headers(a: Headers, b: Headers, *, all_headers: bool = False) -> list[Difference]:
    """Headers added, removed and changed, by name (case-insensitive). Unless `all_headers`,
    the volatile ones that differ are one `headers.volatile` difference holding each side's
    values by name."""
    left, right = _header_map(a), _header_map(b)
    out: list[Difference] = []
    volatile_a: dict[str, Any] = {}
    volatile_b: dict[str, Any] = {}
    for key in list(left) + [k for k in right if k not in left]:
        va = left[key][1] if key in left else None
        vb = right[key][1] if key in right else None
        if va == vb:
            continue
        name = (left.get(key) or right[key])[0]
        if not all_headers and volatile_header(key):
            volatile_a[name] = _one(va)
            volatile_b[name] = _one(vb)
            continue
        out.append(Difference(child_path("headers", key), _one(va), _one(vb)))
    if volatile_a:
        out.append(Difference(VOLATILE, volatile_a, volatile_b))
    return out


def compare_query(a: str, b: str) -> list[Difference]:
    if a == b:
        return []
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    for side, query in ((left, a), (right, b)):
        for k, v in parse_qsl(query, keep_blank_values=True):
            side.setdefault(k, []).append(v)
    out = []
    for key in list(left) + [k for k in right if k not in left]:
        if left.get(key) != right.get(key):
            out.append(Difference(child_path("query", key), _one(left.get(key)), _one(right.get(key))))
    if not out:  # the same pairs written differently (order, escapes)
        out.append(Difference("request.query", a, b))
    return out


def _content_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


_NOT_JSON = object()


def _json_body(request: Request) -> Any:
    """The body as JSON when its type says so or it looks like it; else _NOT_JSON."""
    body = request.body
    if not body:
        return _NOT_JSON
    if not is_json_type(_content_type(request)) and body.lstrip()[:1] not in (b"{", b"["):
        return _NOT_JSON
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NOT_JSON


def _form_body(request: Request) -> dict[str, list[str]] | None:
    if _content_type(request) != "application/x-www-form-urlencoded":
        return None
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    fields: dict[str, list[str]] = {}
    for k, v in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(k, []).append(v)
    return fields


def _bytes_summary(body: bytes, truncated: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()[:16]}
    if truncated:
        out["truncated"] = True
    return out


def _first_byte_apart(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    lo = 0
    # Halve the common prefix: bytes slices compare in C, byte-by-byte Python is slow for MBs.
    hi = n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def compare_bodies(a: Request, b: Request) -> list[Difference]:
    """JSON bodies by path (`$.commits[2].message`); form bodies by field (`form.action`,
    the JSON in a `payload` field by path); anything else as sizes, hashes and the offset of
    the first byte that differs."""
    if a.body == b.body:
        return []
    ja, jb = _json_body(a), _json_body(b)
    if ja is not _NOT_JSON and jb is not _NOT_JSON:
        return compare_values(ja, jb, "$")
    fa, fb = _form_body(a), _form_body(b)
    if fa is not None and fb is not None:
        out: list[Difference] = []
        for key in list(fa) + [k for k in fb if k not in fa]:
            va, vb = fa.get(key), fb.get(key)
            if va == vb:
                continue
            where = child_path("form", key)
            da, db = _form_json(va), _form_json(vb)
            if da is not _NOT_JSON and db is not _NOT_JSON:
                out.extend(compare_values(da, db, where))
            else:
                out.append(Difference(where, _one(va), _one(vb)))
        return out
    sa, sb = _bytes_summary(a.body, a.truncated), _bytes_summary(b.body, b.truncated)
    at = _first_byte_apart(a.body, b.body)
    sa["first_difference_at"] = sb["first_difference_at"] = at
    return [Difference("body", sa, sb)]


def _form_json(values: list[str] | None) -> Any:
    if not values or len(values) != 1 or values[0].lstrip()[:1] not in ("{", "["):
        return _NOT_JSON
    try:
        value = json.loads(values[0])
    except (ValueError, RecursionError):
        return _NOT_JSON
    return value if isinstance(value, (dict, list)) else _NOT_JSON


def diff_captures(a: Capture, b: Capture, *, all_headers: bool = False) -> list[Difference]:
    """Everything that differs between two captures, in reading order: request line and
    query, headers, body, signature verdict, answer, and each flow's path and the first step
    where its runs part. Empty when they are equal."""
    ra, rb = a.request, b.request
    out: list[Difference] = []
    if ra.method != rb.method:
        out.append(Difference("request.method", ra.method, rb.method))
    if ra.path != rb.path:
        out.append(Difference("request.path", ra.path, rb.path))
    out.extend(compare_query(ra.query, rb.query))
    out.extend(compare_headers(ra.headers, rb.headers, all_headers=all_headers))
    out.extend(compare_bodies(ra, rb))
    sa, sb = a.signature, b.signature
    if sa.status != sb.status:
        out.append(Difference("signature.status", sa.status, sb.status))
    if sa.scheme != sb.scheme:
        out.append(Difference("signature.scheme", sa.scheme, sb.scheme))
    out.extend(compare_answers(a, b))
    out.extend(compare_runs(a.runs, b.runs, steps=True))
    return out
