"""Captures as a test suite (`webhook-inspector rerun`, the TUI's Rerun screen): each capture
goes through today's answers.json and flows again, in process, and what it gives now is
compared with what was recorded.

It is the pipeline that `serve` and `run` use (`Pipeline.handle`), not a copy of its rules:
the request is routed, verified and answered exactly as a live one would be, with three
differences that make a rerun a replay of the past rather than a new delivery:

* nothing is stored and nothing goes on the network: the pipeline's store is a stand-in that
  numbers the capture with its own id (so answers that carry the id still compare equal);
* the clock is the capture's received time: its signature is checked at that time (a Stripe
  event from last week is not "expired") and flows see that time as now;
* the URL a signature may sign is the one the sender called (its Host header).

Verdicts, per capture:
* `same` — no difference;
* `changed` — the answer or a flow's path differs, neither side failing more than the other;
* `fixed` — something failed before (a 5xx, a 4xx that is now a 2xx, a failed run or node, a
  failed signature) and passes now, and nothing got worse;
* `regressed` — something passed before and fails now (a 5xx, a failed run or node, a 2xx
  that became a 4xx/5xx, a signature that was valid and is not).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .diff import ABSENT, Difference, compare_answers, compare_runs, keyed_runs, run_summary
from .flow.runs import FAILED_STATUSES, FlowRun
from .model import FAILED_SIGNATURE, Capture, Headers, Response
from .pipeline import REJECTED_NOTE, Pipeline

VERDICTS = ("same", "changed", "fixed", "regressed")
DEFAULT_LIMIT = 100  # captures a rerun takes when none are named


class IgnoreError(ValueError):
    """An --ignore path that names nothing a rerun compares; the message says what would."""


_SEGMENT = r"(?:\.(?:[A-Za-z0-9_*-]+)|\[\d+\]|\[\"(?:[^\"\\]|\\.)*\"\])"
_PATH = re.compile(rf"(response|signature|flows){_SEGMENT}*\Z")
_EXAMPLES = "e.g. response.body.result, response.status, flows.github.path, flows.*.status, signature.status"


@dataclass(frozen=True)
class Ignore:
    """One --ignore path: a difference at it, or inside it, does not count."""

    text: str
    pattern: re.Pattern[str]

    def matches(self, where: str) -> bool:
        return self.pattern.match(where) is not None


def parse_ignore(text: str) -> Ignore:
    """An --ignore path such as `response.body.result` or `flows.github.path`; `*` stands for
    any one key (`flows.*.path`). Raises IgnoreError saying what is wrong."""
    path = text.strip()
    if not path:
        raise IgnoreError(f"--ignore needs a path; {_EXAMPLES}")
    if not _PATH.match(path):
        root = re.split(r"[.\[]", path, maxsplit=1)[0]
        if root not in ("response", "signature", "flows"):
            raise IgnoreError(f"--ignore {path!r}: a path starts with response, signature or flows; {_EXAMPLES}")
        raise IgnoreError(f"--ignore {path!r}: not a path (keys joined by '.', list items as [2], odd keys as [\"a b\"]); {_EXAMPLES}")
    root = _PATH.match(path).group(1)  # type: ignore[union-attr]
    parts = re.findall(_SEGMENT, path[len(root) :])
    if root == "response" and parts and parts[0] not in (".status", ".body", ".*"):
        raise IgnoreError(f"--ignore {path!r}: a rerun compares response.status and response.body; {_EXAMPLES}")
    if root == "signature" and parts and parts[0] not in (".status", ".*"):
        raise IgnoreError(f"--ignore {path!r}: a rerun compares signature.status; {_EXAMPLES}")
    if root == "flows" and len(parts) >= 2 and parts[1] not in (".status", ".path", ".*"):
        raise IgnoreError(
            f"--ignore {path!r}: a rerun compares each flow's status and path (flows.NAME.status, flows.NAME.path); {_EXAMPLES}"
        )
    rx = re.escape(root)
    for i, part in enumerate(parts):
        if part == ".*":
            rx += r"(?:\.[^.\[]+|\[[^\]]*\])"
        else:
            rx += re.escape(part)
        if root == "flows" and i == 0:
            rx += r"(?:#\d+)?"  # a flow's second run (flows.github#2) is the same flow
    return Ignore(path, re.compile(rx + r"(?:[.\[]|\Z)"))


@dataclass(frozen=True)
class Result:
    """One capture rerun: as recorded (`before`), as it would be today (`after`), the
    differences that count (after --ignore) and the verdict."""

    before: Capture
    after: Capture
    verdict: str
    differences: tuple[Difference, ...]
    ignored: tuple[Difference, ...] = ()

    @property
    def id(self) -> int | None:
        return self.before.id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.before.id,
            "verdict": self.verdict,
            "before": outcome(self.before),
            "after": outcome(self.after),
            "differences": [d.to_json("before", "after") for d in self.differences],
        }


def outcome(capture: Capture) -> dict[str, Any]:
    """What a rerun compares, as JSON: the answer, the signature verdict, each run."""
    response = capture.response
    return {
        "status": response.status if response else None,
        "body": response.body_value() if response else None,
        "signature": capture.signature.status,
        "flows": [run_summary(r) for r in capture.runs if not r.shapeless],
    }


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))

    def add(self, verdict: str) -> None:
        self.counts[verdict] += 1

    @property
    def regressed(self) -> bool:
        return self.counts["regressed"] > 0

    def line(self) -> str:
        return ", ".join(f"{self.counts[v]} {v}" for v in VERDICTS)

    def to_json(self) -> dict[str, int]:
        return dict(self.counts)


def summarize(results: Iterable[Result]) -> Summary:
    summary = Summary()
    for r in results:
        summary.add(r.verdict)
    return summary


# Comparing and judging


def differences(before: Capture, after: Capture) -> list[Difference]:
    """What a rerun compares: the answer's status and body (JSON structurally), the signature
    verdict, each flow's run status and path."""
    out = compare_answers(before, after)
    if before.signature.status != after.signature.status:
        out.append(Difference("signature.status", before.signature.status, after.signature.status))
    out.extend(compare_runs(before.runs, after.runs))
    return out


def _run_failed(run: FlowRun | None) -> bool:
    if run is None:
        return False
    return run.status in FAILED_STATUSES or any(s.status == "error" for s in run.steps)


def _flow_key(where: str) -> str | None:
    if not where.startswith("flows"):
        return None
    rest = where[len("flows") :]
    if rest.startswith('["'):
        end = rest.index('"]') + 2 if '"]' in rest else len(rest)
        import json

        try:
            return str(json.loads(rest[1 : end - 1]))
        except ValueError:
            return None
    rest = rest[1:]
    return re.split(r"[.\[]", rest, maxsplit=1)[0] or None


def verdict(before: Capture, after: Capture, counted: Sequence[Difference]) -> str:
    """`same`, `changed`, `fixed` or `regressed` from the differences that count."""
    if not counted:
        return "same"
    worse = better = False
    flows_a, flows_b = keyed_runs(before.runs), keyed_runs(after.runs)
    seen: set[str] = set()
    for d in counted:
        if d.where == "response.status" or d.where == "response":
            a = before.response.status if before.response else None
            b = after.response.status if after.response else None
            if a is not None and b is not None:
                worse |= (a < 400 <= b) or (a < 500 <= b)
                better |= (b < 400 <= a) or (b < 500 <= a)
        elif d.where == "signature.status":
            worse |= before.signature.status not in FAILED_SIGNATURE and after.signature.status in FAILED_SIGNATURE
            better |= before.signature.status in FAILED_SIGNATURE and after.signature.status not in FAILED_SIGNATURE
        else:
            key = _flow_key(d.where)
            if key is None or key in seen:
                continue
            seen.add(key)
            fa, fb = _run_failed(flows_a.get(key)), _run_failed(flows_b.get(key))
            worse |= fb and not fa
            better |= fa and not fb
    # A 5xx answer is a failure even where its status did not change (e.g. the same 500
    # with another message): counted as above only through what changed.
    if worse:
        return "regressed"
    if better:
        return "fixed"
    return "changed"


FORWARD_NOTES = ("forwarded to ", "not forwarded: ")  # the pipeline's notes on a forwarded capture


def forwarded(capture: Capture) -> bool:
    """Answered by `serve --forward-to`'s target: its answer came from another app, which a
    rerun (no network) does not ask again, so only its flows and signature are compared."""
    return any(isinstance(n, str) and n.startswith(FORWARD_NOTES) for n in capture.notes)


def judge(before: Capture, after: Capture, ignore: Sequence[Ignore] = ()) -> Result:
    found = differences(before, after)
    if forwarded(before):
        found = [d for d in found if not d.where.startswith("response")]
    counted = tuple(d for d in found if not any(rule.matches(d.where) for rule in ignore))
    dropped = tuple(d for d in found if d not in counted)
    return Result(before, after, verdict(before, after, counted), counted, dropped)


# Running


class _NothingStored:
    """The pipeline's store during a rerun: numbers the capture with the id it was recorded
    under and keeps nothing."""

    def __init__(self) -> None:
        self.next_id = 0

    async def add(
        self,
        capture: Capture,
        decide: Callable[[int], Response | Capture | None] | None = None,
        unstorable: Any = None,
    ) -> Capture:
        cid = self.next_id
        result = decide(cid) if decide is not None else None
        if isinstance(result, Capture):
            return result.with_(id=cid)
        return capture.with_(id=cid, response=result or capture.response)

    async def update_grouped(self, capture_id: int, **changes: Any) -> None:
        return None


def _host_base(headers: Headers, fallback: str) -> str:
    host = (headers.get("host") or "").strip()
    if not host or any(c in host for c in "/ \\@?#") or not host.isascii():
        return fallback
    return f"http://{host}"


class Rerunner:
    """Reruns captures through one configuration and one set of flows. `rerun(captures)`
    from synchronous code; `arerun` on a running event loop of the caller's own."""

    def __init__(
        self,
        config: Config,
        flows: Any,
        *,
        ignore: Sequence[Ignore] = (),
        local_base: str = "http://127.0.0.1:8080",
        public_url: str | None = None,
    ) -> None:
        from .flow.engine import Engine

        self.ignore = tuple(ignore)
        self.local_base = local_base
        self._now = 0.0
        self._store = _NothingStored()
        self.engine = Engine(flows, clock=self._clock)
        self.pipeline = Pipeline(
            config,
            self._store,
            engine=self.engine,
            clock=self._clock,
            local_base=local_base,
            public_url=public_url,
            workers=2,
        )

    def _clock(self) -> float:
        return self._now

    async def rerun_one(self, capture: Capture) -> Result:
        request = capture.request
        now = request.received_at if isinstance(request.received_at, (int, float)) else 0.0
        self._now = float(now)
        self._store.next_id = capture.id or 0
        self.pipeline.local_base = _host_base(request.headers, self.local_base)
        rejected = next((n[len(REJECTED_NOTE) :] for n in capture.notes if n.startswith(REJECTED_NOTE)), None)
        try:
            if rejected is not None:
                after = await self.pipeline.reject(request, rejected)
            else:
                after = await self.pipeline.handle(request, capture.origin, now=self._now, wait=True)
        finally:
            self.pipeline.local_base = self.local_base
        return judge(capture, after.with_(id=capture.id, replay_of=capture.replay_of), self.ignore)

    async def arerun(self, captures: Iterable[Capture], progress: Callable[[Result], None] | None = None) -> list[Result]:
        results = []
        try:
            for capture in captures:
                result = await self.rerun_one(capture)
                results.append(result)
                if progress is not None:
                    progress(result)
        finally:
            await self.pipeline.drain(timeout=5)
            await self.pipeline.close()
        return results

    def rerun(self, captures: Iterable[Capture], progress: Callable[[Result], None] | None = None) -> list[Result]:
        """Every capture in order, on an event loop of its own (call it from a thread when
        the caller has one running)."""
        return asyncio.run(self.arerun(captures, progress))


__all__ = [
    "ABSENT",
    "DEFAULT_LIMIT",
    "VERDICTS",
    "Difference",
    "Ignore",
    "IgnoreError",
    "Result",
    "Rerunner",
    "Summary",
    "differences",
    "judge",
    "outcome",
    "parse_ignore",
    "summarize",
    "verdict",
]
