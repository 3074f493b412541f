"""A Rhai-flavoured script language for script nodes, branch expressions and templates (SPEC §5).

    program = compile('let commits = event.payload.commits;\\nformat!("Received {} commits", commits.len())')
    program.run({"event": event}).value            # "Received 20 commits"
    compile_expression("headers['X-GitHub-Event'] == 'push'").evaluate(scope)   # True
    render_template("{{event.payload}}", scope)   # the payload map itself

Pipeline: `lexer` (tokens) -> `parser` (a tree of frozen `nodes`, Rhai's precedence) ->
`compiler` (Python closures; side-effect-free sub-expressions become one generated Python
function each, see `codegen`) -> `Program.run`. Built-ins live in `stdlib`, operator
rules in `operators`, values and limits in `values`.

Decisions a caller should know:

* Values are None (unit), bool, int (64-bit, overflow is an error), float, str, list, dict.
  A run's value is always one of these; returning a function is a `ScriptError`, and a
  function cannot be stored inside an array or map.
* Arrays and maps are shared between variables (`let b = a; b.push(1)` changes `a`), and
  scope values are used in place: `state.x = 1` changes the caller's `state`. Storing an
  array or map inside another stores a copy, so values never form cycles. Assigning a
  whole scope name (`prev = 1`) changes only the run's view.
* `fn` bodies see their parameters and the scope's names, not the script's `let`s.
  Closures capture the variables they use when they are created.
* Unknown variables and functions are runtime errors where they are reached (with "did
  you mean"); `Program.warnings(known_names)` lists them statically for `check`. Wrong
  argument counts of built-ins and `format!` strings that do not match their arguments
  are compile-time errors.
* `headers` (and `event.headers`) are looked up case-insensitively by `[]`, `.`, `in`
  and `contains`.
* Positions: `line_offset` is added to every line; `column_offset` to the columns of the
  first line only (a script that starts mid-line in a YAML file) or, with
  `indent_all_lines=True`, of every line (a YAML block scalar indented that much).
* Limits (`Limits`): operations per run (every block entry, loop iteration and call
  charges the nodes it evaluates; copies and searches charge by size), call depth,
  nesting (parser depth, and arrays/maps inside arrays/maps), string size, array/map size.
  Each is a `ScriptError` naming it. Output of print/debug is capped at 1 Mi characters.
* Float division by zero and non-finite float results are errors (JSON has no NaN/Inf).
* Not implemented from Rhai: `switch`, `do`, `try`/`catch`/`throw`, `import`, `this`,
  custom operators, char literals (a `'…'` literal is a string, as in the seed).
"""

from .errors import Limits, ScriptError
from .program import FLOW_SCOPE_NAMES, Program, RunResult, compile, compile_expression
from .stdlib import BUILTINS
from .template import Template, compile_template, render_template

#: Every built-in function name (each also callable as a method).
BUILTIN_NAMES = tuple(sorted(name for name in BUILTINS if not name.endswith("!")))

__all__ = [
    "BUILTIN_NAMES",
    "FLOW_SCOPE_NAMES",
    "Limits",
    "Program",
    "RunResult",
    "ScriptError",
    "Template",
    "compile",
    "compile_expression",
    "compile_template",
    "render_template",
]
