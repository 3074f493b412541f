"""The row codec: a Capture as a row of the `captures` table and back. A row damaged by hand
or by another program is read as far as it can be (damaged_row); a trace too large for a
row is slimmed (trace_text)."""

from __future__ import annotations

import json
from typing import Any

import orjson

from .. import jsonfast
from ..flow.runs import FlowRun, runs_to_json
from ..model import Capture, Headers, Request, Response, SignatureResult

# A flow trace holds every step's output, so a script that returns a large payload makes a
# trace as large; SQLite refuses a value over 1e9 bytes and one row that size would stall
# every reader. Traces longer than this are stored without step outputs, with a note.
MAX_TRACE_CHARS = 4 * 1024 * 1024
# What a stored row keeps of a message it shortens (errors, warnings of a slimmed trace).
KEEP_MESSAGE_CHARS = 2000

# Header bytes that were not UTF-8 (surrogate escapes) round-trip: jsonfast writes them as
# \u escapes.
_dumps = jsonfast.dumps
_loads = jsonfast.loads

# A row of the captures table: the values of INSERT, or of a SELECT of COLUMNS.
Row = tuple[Any, ...]


def _pair(item: list[Any]) -> tuple[str, str]:
    return (str(item[0]), str(item[1]))


# What SQLite may refuse for one statement while the transaction goes on: a value over its


INSERT = (
    "INSERT INTO captures (id, received_at, method, path, query, tenant, event_type, headers, body,"
    " body_size, truncated, client, origin, replay_of, signature, signature_status,"
    " response_status, response_headers, response_body, response_ms, runs, notes)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
COLUMNS = (
    "id, received_at, method, path, query, tenant, event_type, headers, body, body_size,"
    " truncated, client, origin, replay_of, signature, response_status, response_headers, response_body,"
    " response_ms, runs, notes"
)
# The name of each value of a row read with COLUMNS, in order.
COLUMN_NAMES = tuple(COLUMNS.split(", "))
RESPONSE_BODY, RUNS, NOTES = 18, 20, 21  # in row_values


def with_columns(row: Row, *, runs: str, notes: str, response_body: Any = ...) -> Row:
    out = list(row)
    out[RUNS], out[NOTES] = runs, notes
    if response_body is not ...:
        out[RESPONSE_BODY] = response_body
    return tuple(out)


def _cut(text: Any) -> Any:
    if isinstance(text, str) and len(text) > KEEP_MESSAGE_CHARS:
        return text[:KEEP_MESSAGE_CHARS] + f"… ({len(text)} characters)"
    return text


def slim_runs(runs: Any) -> list[dict[str, Any]]:
    """The trace without what makes it large (step outputs, decisions, logs, state): which
    flows ran, each step's node, status, timing and error. Same shape, so every reader works."""
    slim = []
    for run in runs_to_json(runs):
        if not isinstance(run, dict):
            continue
        out = {k: run.get(k) for k in ("id", "flow", "file", "trigger", "parent_id", "via_node", "status", "started_at", "duration_us")}
        out = {k: v if v is None or isinstance(v, (int, float)) else _cut(str(v)) for k, v in out.items()}
        out["path"] = [_cut(str(node)) for node in (run.get("path") or ())][:10_000]
        steps = []
        for step in run.get("steps") or ():
            if isinstance(step, dict):
                steps.append(
                    {
                        "node": _cut(str(step.get("node"))),
                        "type": _cut(str(step.get("type"))),
                        "status": _cut(str(step.get("status"))),
                        "started_at": _cut(str(step.get("started_at"))),
                        "duration_us": step.get("duration_us") if isinstance(step.get("duration_us"), int) else 0,
                        "output": None,
                        "next": None if step.get("next") is None else _cut(str(step.get("next"))),
                        "decision": None,
                        "error": _slim_error(step.get("error")),
                        "logs": [],
                    }
                )
        out["steps"] = steps[:10_000]
        out["error"] = _slim_error(run.get("error"))
        out["warnings"] = [_cut(str(w)) for w in (run.get("warnings") or ())][:100]
        slim.append(out)
    return slim


def _slim_error(error: Any) -> dict[str, Any] | None:
    if not isinstance(error, dict):
        return None
    return {
        k: v if v is None or isinstance(v, int) else _cut(str(v)) for k, v in error.items() if k in ("message", "node", "line", "column")
    }


def trace_text(runs: Any) -> tuple[str, str | None]:
    """The trace as the store keeps it, and a note when it had to be shortened: a trace
    JSON cannot hold (nested too deeply) or one over MAX_TRACE_CHARS loses its step
    outputs; one that is still too large after that is not kept at all."""
    if not runs:
        return "[]", None
    try:
        text = _dumps(runs_to_json(runs))  # FlowRuns are JSON only here, at the store
    except (ValueError, TypeError, RecursionError) as exc:
        why = f"the flow trace could not be written as JSON ({exc})"
    else:
        if len(text) <= MAX_TRACE_CHARS:
            return text, None
        why = f"the flow trace is {len(text)} characters, more than the store keeps ({MAX_TRACE_CHARS})"
    try:
        text = _dumps(slim_runs(runs))
    except (ValueError, TypeError, RecursionError):
        text = ""
    if text and len(text) <= MAX_TRACE_CHARS:
        return text, f"{why}; it is stored without step outputs, decisions, logs and state"
    return "[]", f"{why}; it is not stored"


def row_values(capture: Capture, capture_id: int) -> tuple[Capture, Row]:
    """The row of a capture, and the capture as stored (with a note when its trace had to
    be shortened to fit, see trace_text)."""
    runs, note = trace_text(capture.runs) if capture.runs else ("[]", None)
    if note is not None:
        capture = capture.with_(notes=capture.notes + (note,))
    response = capture.response
    headers = _dumps(capture.request.headers.items)
    signature = signature_text(capture.signature)
    response_headers = _dumps(response.headers.items) if response else None
    notes = _dumps(list(capture.notes)) if capture.notes else "[]"
    return capture, _row(capture, capture_id, headers, signature, capture.signature.status, response_headers, runs, notes)


def signature_text(verdict: SignatureResult) -> str:
    """`_dumps(verdict.to_json())`, written by orjson from the dataclass itself (its fields
    are to_json's keys, in order) without building the dict first; what orjson refuses (a
    lone surrogate from a header byte that was not UTF-8) takes the dict's way."""
    try:
        return orjson.dumps(verdict, default=str).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _dumps(verdict.to_json())


def minimal_row(capture: Capture, capture_id: int) -> Row:
    """The row of `capture` from what cannot fail to encode: the request as received, the
    answer, the notes; a signature verdict that will not encode is kept as its status."""
    response, sig = capture.response, capture.signature

    def text(value: Any, fallback: str) -> str:
        try:
            return json.dumps(value, default=repr)  # ASCII: surrogates become \u escapes
        except Exception:
            return fallback

    return _row(
        capture,
        capture_id,
        text([list(h) for h in capture.request.headers.items], "[]"),
        text(sig.to_json(), text({"status": str(sig.status)}, "{}")),
        str(sig.status),
        text([list(h) for h in response.headers.items], "[]") if response else None,
        "[]",
        text([str(n) for n in capture.notes], "[]"),
    )


def _row(
    capture: Capture,
    capture_id: int,
    headers: str,
    signature: str,
    signature_status: Any,
    response_headers: str | None,
    runs: str,
    notes: str,
) -> Row:
    """The INSERT values of `capture`, its encoded columns given."""
    req, response = capture.request, capture.response
    return (
        capture_id,
        req.received_at,
        req.method,
        req.path,
        req.query,
        capture.tenant,
        capture.event_type,
        headers,
        req.body,
        req.body_size,
        int(req.truncated),
        req.client,
        capture.origin,
        capture.replay_of,
        signature,
        signature_status,
        response.status if response else None,
        response_headers,
        response.body if response else None,
        response.duration_ms if response else None,
        runs,
        notes,
    )


def read_row(row: Row) -> Capture:
    """A stored row as a capture. A row damaged by hand or by another program is read as
    far as it can be, with a note saying what could not be: readers never fail on it."""
    try:
        return read_row_exact(row)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return damaged_row(row)


# The types a text and a blob column may hold as this version writes them (None: NULL).
_TEXT = frozenset({str, type(None)})
_BLOB = frozenset({bytes, type(None)})


def read_row_exact(row: Row) -> Capture:
    (
        cid,
        received_at,
        method,
        path,
        query,
        tenant,
        event_type,
        headers,
        body,
        body_size,
        truncated,
        client,
        origin,
        replay_of,
        signature,
        r_status,
        r_headers,
        r_body,
        r_ms,
        runs,
        notes,
    ) = row
    # Text or bytes where this version writes the other (a row edited by hand or by another
    # program) would pass into the capture as they are and fail whoever shows it.
    if (
        type(method) not in _TEXT
        or type(path) not in _TEXT
        or type(query) not in _TEXT
        or type(tenant) not in _TEXT
        or type(event_type) not in _TEXT
        or type(client) not in _TEXT
        or type(origin) not in _TEXT
        or type(body) not in _BLOB
        or type(r_body) not in _BLOB
    ):
        raise TypeError("a text or blob column holds another type")
    request = Request(
        method=method,
        path=path,
        query=query or "",
        headers=Headers.of(tuple(map(_pair, _loads(headers)))),
        body=bytes(body or b""),
        client=client,
        received_at=received_at,
        truncated=bool(truncated),
        size=body_size if truncated else None,
    )
    return Capture(
        id=cid,
        request=request,
        tenant=tenant,
        event_type=event_type,
        signature=SignatureResult.from_json(_loads(signature)),
        response=None
        if r_status is None
        else Response(int(r_status), Headers.of(tuple(map(_pair, _loads(r_headers or "[]")))), bytes(r_body or b""), r_ms),
        runs=tuple(map(FlowRun.from_json, _loads(runs or "[]"))),
        origin=origin,
        replay_of=replay_of,
        notes=tuple(_loads(notes or "[]")),
    )


def damaged_row(row: Row) -> Capture:
    """The readable parts of a row whose columns do not hold what this version writes."""
    stored = dict(zip(COLUMN_NAMES, row, strict=True))
    unreadable: list[str] = []

    def text(column: str, default: str | None = "") -> Any:
        value = stored[column]
        if value is None or isinstance(value, str):
            return default if value is None else value
        unreadable.append(column)
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    def blob(column: str) -> bytes:
        value = stored[column]
        if value is None or isinstance(value, bytes):
            return value or b""
        unreadable.append(column)
        return str(value).encode("utf-8", "surrogateescape")

    def decoded(column: str, kind: type, default: Any) -> Any:
        value = stored[column]
        if value is None:
            return default
        try:
            data = _loads(value)
        except (ValueError, TypeError, RecursionError):
            data = None
        if not isinstance(data, kind):
            unreadable.append(column)
            return default
        return data

    def pairs(column: str) -> tuple[tuple[str, str], ...]:
        items = decoded(column, list, [])
        good = tuple((str(i[0]), str(i[1])) for i in items if isinstance(i, list) and len(i) == 2)
        if len(good) != len(items):
            unreadable.append(column)
        return good

    def number(column: str, kind: type) -> Any:
        value = stored[column]
        if value is None:
            return None
        try:
            return kind(value)
        except (TypeError, ValueError, OverflowError):
            unreadable.append(column)
            return None

    try:
        verdict = SignatureResult.from_json(decoded("signature", dict, None))
    except (TypeError, ValueError, AttributeError):
        unreadable.append("signature")
        verdict = SignatureResult("unsigned")
    status, took = number("response_status", int), number("response_ms", float)
    response = None if status is None else Response(status, Headers.of(pairs("response_headers")), blob("response_body"), took)
    truncated = bool(stored["truncated"])
    request = Request(
        method=text("method"),
        path=text("path"),
        query=text("query"),
        headers=Headers.of(pairs("headers")),
        body=blob("body"),
        client=text("client", None),
        received_at=stored["received_at"],
        truncated=truncated,
        size=number("body_size", int) if truncated else None,
    )
    kept_runs = tuple(FlowRun.from_json(r) for r in decoded("runs", list, []) if isinstance(r, dict))
    kept_notes = tuple(str(n) for n in decoded("notes", list, []))
    cid, tenant, event_type = number("id", int), text("tenant", None), text("event_type", None)
    origin, replay_of = text("origin", "live"), number("replay_of", int)
    # Every column is read by now, so the note names each one that could not be.
    note = f"this stored capture is damaged: {', '.join(dict.fromkeys(unreadable)) or 'a column'} could not be read as written"
    return Capture(cid, request, tenant, event_type, verdict, response, kept_runs, origin, replay_of, kept_notes + (note,))
