"""The one error type of the script language, and the limits that bound an evaluation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on one evaluation (SPEC §5). Each exceeded bound is a `ScriptError` naming it."""

    max_operations: int = 1_000_000
    max_call_depth: int = 64
    max_nesting: int = 64
    max_string_bytes: int = 1 << 20
    max_collection_items: int = 100_000


DEFAULT_LIMITS = Limits()


class ScriptError(Exception):
    """A parse or runtime failure, positioned at `origin:line:column` (1-based).

    `logs` holds what `print`/`debug` produced before a runtime failure.
    Internally an error may be raised without a position; the nearest enclosing
    node that knows its position fills it in (`at`).
    """

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        origin: str = "<script>",
        logs: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.origin = origin
        self.logs: list[str] = logs if logs is not None else []
        self._located = False

    def at(self, line: int, column: int) -> ScriptError:
        """Give a position to an error that has none yet; keep the innermost one."""
        if self.line is None:
            self.line = line
            self.column = column
        return self

    def __str__(self) -> str:
        return f"{self.origin}:{self.line}:{self.column}: {self.message}"

    def __repr__(self) -> str:
        return f"ScriptError({str(self)!r})"

    def __reduce__(self):  # picklable across processes, keeping every field
        return (_rebuild, (self.message, self.line, self.column, self.origin, self.logs, self._located))


def _rebuild(message, line, column, origin, logs, located):
    error = ScriptError(message, line, column, origin, logs)
    error._located = located
    return error


@dataclass(frozen=True)
class SourceMap:
    """Maps positions in a script to positions in the file that holds it.

    `line_offset` is added to every line. `column_offset` is added to columns on the
    script's first line only (a script that starts mid-line, e.g. after `expression: "`),
    or on every line when `indent_all_lines` (a YAML block scalar indented by that much).
    """

    origin: str = "<script>"
    line_offset: int = 0
    column_offset: int = 0
    indent_all_lines: bool = False

    def locate(self, error: ScriptError) -> ScriptError:
        if error._located:
            return error
        line = error.line if error.line is not None else 1
        column = error.column if error.column is not None else 1
        if self.indent_all_lines or line == 1:
            column += self.column_offset
        error.line = line + self.line_offset
        error.column = column
        error.origin = self.origin
        error._located = True
        return error
