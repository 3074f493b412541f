"""Turns script source into tokens, each with its 1-based line and column."""

from __future__ import annotations

from typing import Any

from .errors import ScriptError

KEYWORDS = frozenset({"let", "const", "if", "else", "while", "loop", "for", "in", "break", "continue", "return", "fn", "true", "false"})

# Longest first: the lexer takes the first that matches.
PUNCTUATION = (
    "..=",
    "**=",
    "<<=",
    ">>=",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "??",
    "?.",
    "?[",
    "..",
    "**",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "<<",
    ">>",
    "&=",
    "|=",
    "^=",
    "#{",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    ">",
    "=",
    "!",
    "&",
    "|",
    "^",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    ".",
)
_PUNCT_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _p in PUNCTUATION:
    _PUNCT_BY_FIRST.setdefault(_p[0], ())
    _PUNCT_BY_FIRST[_p[0]] += (_p,)

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_REST = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0", "`": "`", "$": "$"}


class Token:
    """One token. `kind` is the punctuation or keyword itself, or one of
    `int float str interp ident eof`. For `interp` (a back-tick string) `value` is a
    tuple of parts: strings, and token lists for each `${…}`."""

    __slots__ = ("kind", "value", "line", "column", "end")

    def __init__(self, kind: str, value: Any, line: int, column: int, end: int) -> None:
        self.kind = kind
        self.value = value
        self.line = line
        self.column = column
        self.end = end  # offset just past the token in the source

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.value!r}, {self.line}:{self.column})"

    def describe(self) -> str:
        if self.kind == "eof":
            return "the end of the script"
        if self.kind in ("int", "float"):
            return f"number {self.value}"
        if self.kind == "str":
            return "a string"
        if self.kind == "interp":
            return "a back-tick string"
        if self.kind == "ident":
            return f"'{self.value}'"
        return f"'{self.kind}'"


class Lexer:
    """A cursor over the source; `next()` returns one token at a time."""

    def __init__(self, source: str, pos: int = 0, line: int = 1, column: int = 1) -> None:
        self.src = source
        self.pos = pos
        self.line = line
        self.line_start = pos - (column - 1)
        self.max_nesting = 64  # the parser sets its limit; bounds `${…}` inside back-ticks
        self.interpolations = 0

    def error(self, message: str, pos: int | None = None) -> ScriptError:
        if pos is None:
            pos = self.pos
        line, column = self.position(pos)
        return ScriptError(message, line, column)

    def position(self, pos: int) -> tuple[int, int]:
        # Only called for the current line or a position on it, or for errors (rare).
        if pos >= self.line_start:
            return self.line, pos - self.line_start + 1
        line = self.line - self.src.count("\n", pos, self.line_start)
        start = self.src.rfind("\n", 0, pos) + 1
        return line, pos - start + 1

    def _newline(self, pos: int) -> None:
        # `pos` is the offset of a "\n".
        self.line += 1
        self.line_start = pos + 1

    def skip_space(self) -> None:
        src, n = self.src, len(self.src)
        pos = self.pos
        while pos < n:
            ch = src[pos]
            if ch == "\n":
                self._newline(pos)
                pos += 1
            elif ch in " \t\r\f\v\ufeff":
                pos += 1
            elif ch == "/" and pos + 1 < n and src[pos + 1] == "/":
                end = src.find("\n", pos)
                pos = n if end < 0 else end
            elif ch == "/" and pos + 1 < n and src[pos + 1] == "*":
                start = pos
                depth = 0
                while True:
                    if pos >= n:
                        raise self.error("unterminated /* comment", start)
                    if src.startswith("/*", pos):
                        depth += 1
                        pos += 2
                    elif src.startswith("*/", pos):
                        depth -= 1
                        pos += 2
                        if depth == 0:
                            break
                    else:
                        if src[pos] == "\n":
                            self._newline(pos)
                        pos += 1
            else:
                break
        self.pos = pos

    def next(self) -> Token:
        self.skip_space()
        src, pos = self.src, self.pos
        line, column = self.line, pos - self.line_start + 1
        if pos >= len(src):
            return Token("eof", None, line, column, pos)
        ch = src[pos]
        if ch in _IDENT_START:
            end = pos + 1
            while end < len(src) and src[end] in _IDENT_REST:
                end += 1
            word = src[pos:end]
            # `format!(…)`: a macro-style call; `x != y` is not one.
            if src.startswith("!(", end):
                word += "!"
                end += 1
            self.pos = end
            kind = word if word in KEYWORDS else "ident"
            return Token(kind, word, line, column, end)
        if ch in _DIGITS:
            return self._number(line, column)
        if ch == '"' or ch == "'":
            return self._string(ch, line, column)
        if ch == "`":
            return self._backtick(line, column)
        for p in _PUNCT_BY_FIRST.get(ch, ()):
            if src.startswith(p, pos):
                self.pos = pos + len(p)
                return Token(p, p, line, column, self.pos)
        if ch == "#":
            raise self.error("'#' must be followed by '{' to start a map, as in #{a: 1}")
        if ch == "?":
            raise self.error("'?' must be followed by '.' or '[' (?. or ?[), or be '??'")
        raise self.error(f"unexpected character {ch!r}")

    def _number(self, line: int, column: int) -> Token:
        src, start = self.src, self.pos
        n = len(src)
        pos = start
        if src[pos] == "0" and pos + 1 < n and src[pos + 1] in "xXoObB":
            base = {"x": 16, "o": 8, "b": 2}[src[pos + 1].lower()]
            pos += 2
            digits_start = pos
            while pos < n and (src[pos].isalnum() or src[pos] == "_") and src[pos].isascii():
                pos += 1
            text = src[digits_start:pos].replace("_", "")
            try:
                value = int(text, base)
            except ValueError:
                raise self.error(f"invalid number {src[start:pos]!r}", start) from None
            self.pos = pos
            return Token("int", value, line, column, pos)
        while pos < n and (src[pos] in _DIGITS or src[pos] == "_"):
            pos += 1
        is_float = False
        if pos + 1 < n and src[pos] == "." and src[pos + 1] in _DIGITS:
            is_float = True
            pos += 1
            while pos < n and (src[pos] in _DIGITS or src[pos] == "_"):
                pos += 1
        if pos < n and src[pos] in "eE":
            probe = pos + 1
            if probe < n and src[probe] in "+-":
                probe += 1
            if probe < n and src[probe] in _DIGITS:
                is_float = True
                pos = probe
                while pos < n and src[pos] in _DIGITS:
                    pos += 1
        if pos < n and src[pos] in _IDENT_START:
            end = pos
            while end < n and src[end] in _IDENT_REST:
                end += 1
            raise self.error(f"invalid number {src[start:end]!r}", start)
        text = src[start:pos].replace("_", "")
        self.pos = pos
        if is_float:
            number = float(text)
            if number in (float("inf"), float("-inf")):
                raise self.error(f"number {src[start:pos]} is too large for a float", start)
            return Token("float", number, line, column, pos)
        return Token("int", int(text), line, column, pos)

    def _escape(self, pos: int) -> tuple[str, int]:
        """Decode the escape whose backslash is at `pos`; return (text, next offset)."""
        src, n = self.src, len(self.src)
        if pos + 1 >= n:
            raise self.error("unterminated string literal", pos)
        ch = src[pos + 1]
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch], pos + 2
        if ch == "\n":  # a backslash at the end of a line continues the string
            self._newline(pos + 1)
            return "", pos + 2
        if ch == "u" and pos + 2 < n and src[pos + 2] == "{":
            end = src.find("}", pos + 3)
            digits = src[pos + 3 : end] if end >= 0 else ""
            if end < 0 or not (1 <= len(digits) <= 6) or not _is_hex(digits):
                raise self.error("invalid unicode escape: expected \\u{…} with 1 to 6 hex digits", pos)
            return self._codepoint(int(digits, 16), pos), end + 1
        if ch in "uUx":
            width = {"u": 4, "U": 8, "x": 2}[ch]
            digits = src[pos + 2 : pos + 2 + width]
            if len(digits) != width or not _is_hex(digits):
                raise self.error(f"invalid escape: \\{ch} needs {width} hex digits", pos)
            return self._codepoint(int(digits, 16), pos), pos + 2 + width
        raise self.error(f"unknown escape sequence '\\{ch}'", pos)

    def _codepoint(self, value: int, pos: int) -> str:
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise self.error(f"invalid unicode code point U+{value:X}", pos)
        return chr(value)

    def _string(self, quote: str, line: int, column: int) -> Token:
        src, n = self.src, len(self.src)
        start = self.pos
        pos = start + 1
        parts: list[str] = []
        while True:
            # Fast path: copy a run of ordinary characters at once.
            run_end = pos
            while run_end < n and src[run_end] not in (quote, "\\", "\n"):
                run_end += 1
            parts.append(src[pos:run_end])
            pos = run_end
            if pos >= n or src[pos] == "\n":
                raise self.error(f"unterminated string literal (missing closing {quote})", start)
            if src[pos] == quote:
                self.pos = pos + 1
                return Token("str", "".join(parts), line, column, self.pos)
            text, pos = self._escape(pos)
            parts.append(text)

    def _backtick(self, line: int, column: int) -> Token:
        src, n = self.src, len(self.src)
        start = self.pos
        pos = start + 1
        parts: list[object] = []
        buf: list[str] = []
        while True:
            if pos >= n:
                raise self.error("unterminated back-tick string (missing closing `)", start)
            ch = src[pos]
            if ch == "`":
                if src.startswith("``", pos):  # `` is a literal back-tick
                    buf.append("`")
                    pos += 2
                    continue
                break
            if ch == "$" and src.startswith("${", pos):
                if self.interpolations >= self.max_nesting:
                    raise self.error(
                        f"nesting limit exceeded: back-tick strings nested more than {self.max_nesting} levels deep (max_nesting)", pos
                    )
                if buf:
                    parts.append("".join(buf))
                    buf = []
                self.pos = pos + 2
                self.interpolations += 1
                tokens = self._interpolation(pos)
                self.interpolations -= 1
                parts.append(tokens)
                pos = self.pos
                continue
            if ch == "\n":
                self._newline(pos)
            buf.append(ch)
            pos += 1
        if buf or not parts:
            parts.append("".join(buf))
        self.pos = pos + 1
        return Token("interp", tuple(parts), line, column, self.pos)

    def _interpolation(self, start: int) -> list[Token]:
        """Tokens of one `${…}`, up to (not including) its closing brace."""
        tokens: list[Token] = []
        depth = 0
        while True:
            tok = self.next()
            if tok.kind == "eof":
                raise self.error("unterminated ${…} in back-tick string", start)
            if tok.kind in ("{", "#{"):
                depth += 1
            elif tok.kind == "}":
                if depth == 0:
                    tokens.append(Token("eof", None, tok.line, tok.column, tok.end - 1))
                    return tokens
                depth -= 1
            tokens.append(tok)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def tokenize(source: str) -> list[Token]:
    """All tokens of `source`, ending with an `eof` token."""
    lexer = Lexer(source)
    tokens = []
    while True:
        tok = lexer.next()
        tokens.append(tok)
        if tok.kind == "eof":
            return tokens
