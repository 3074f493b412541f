"""answers.json: lookup, `${ENV}` expansion and validation into frozen dataclasses (SPEC §2).

Errors name the file, the JSON path and what was expected. Problems inside one `signatures`
entry do not stop the inspector: the entry is kept as broken and every request it applies to
gets the status `error` with that reason, while `check` reports it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDER_KEY = "events-webhook"
DEFAULT_MAX_BODY = 1 << 20
DEFAULT_ACK_TIMEOUT = 5.0

_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_TOP_KEYS = {
    "enabled",
    "public_base_url",
    "secret_header",
    "secret_key",
    "signatures",
    "enforce",
    "max_body_bytes",
    "ack_timeout_seconds",
}
_ENTRY_KEYS = {"header", "algorithm", "secret", "tolerance"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in answers.json."""

    file: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.column}: {self.message}"
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class ConfigError(Exception):
    """answers.json cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class SignatureEntry:
    """One `signatures` entry. `problem` is set when the entry is misconfigured."""

    name: str
    algorithm: str
    header: str | None
    secret: str
    tolerance: float | None = None
    problems: tuple[tuple[str, str], ...] = ()  # (JSON path, message) when misconfigured

    @property
    def problem(self) -> str | None:
        """One sentence naming what is wrong with this entry, or None."""
        if not self.problems:
            return None
        return "; ".join(f"{path}: {msg}" for path, msg in self.problems)


@dataclass(frozen=True)
class Config:
    source: str | None = None  # the file in use; None when there is none
    enabled: bool = True
    public_base_url: str | None = None
    secret_header: str | None = None
    secret_key: str | None = None
    signatures: tuple[SignatureEntry, ...] = ()
    enforce: bool = True
    max_body_bytes: int = DEFAULT_MAX_BODY
    ack_timeout_seconds: float = DEFAULT_ACK_TIMEOUT
    warnings: tuple[Problem, ...] = ()
    entry_errors: tuple[Problem, ...] = field(default=())  # broken signatures entries

    @property
    def secrets(self) -> list[tuple[str, str]]:
        """Every configured secret with the name it is configured under."""
        out = [(e.name, e.secret) for e in self.signatures if e.secret]
        if self.secret_key:
            out.append(("secret_header", self.secret_key))
        return out


def find_answers(explicit: str | None, cwd: Path | None = None) -> Path | None:
    """SPEC §2 lookup: --answers, ./answers.json, ./answers.example.json, else none."""
    if explicit:
        return Path(explicit)
    base = cwd or Path.cwd()
    for name in ("answers.json", "answers.example.json"):
        candidate = base / name
        if candidate.is_file():
            return candidate
    return None


MAX_ANSWERS_BYTES = 16 << 20


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate answers.json. Raises ConfigError when it cannot be used."""
    if path is None:
        return Config()
    file = str(path)
    try:
        with open(path, "rb") as handle:
            # Bounded: --answers /dev/zero (or a log file given by mistake) must not fill memory.
            raw = handle.read(MAX_ANSWERS_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            [Problem(file, "", "file not found; pass an existing file to --answers or run `webhook-inspector init`")]
        ) from None
    except OSError as exc:
        raise ConfigError([Problem(file, "", f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_ANSWERS_BYTES:
        raise ConfigError([Problem(file, "", f"larger than {MAX_ANSWERS_BYTES >> 20} MiB; is it the answers file?")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, "", f"not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8")]) from None
    return parse_config(text, file, env)


def parse_config(text: str, file: str = "answers.json", env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [Problem(file, "", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno, exc.colno)]
        ) from None
    return _Validator(file, env).run(data)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Validator:
    def __init__(self, file: str, env: Mapping[str, str]):
        self.file = file
        self.env = env
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(self.file, path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Problem(self.file, path, message))

    def expand(self, path: str, value: str, errors: list[str] | None = None) -> str | None:
        """Replace `${NAME}` by the environment's value; None when a name is unset."""
        failed = False

        def sub(match: re.Match[str]) -> str:
            nonlocal failed
            name = match.group(1)
            if not _ENV_NAME.match(name):
                msg = f"`${{{name}}}` is not a valid environment variable reference; use `${{NAME}}` with letters, digits and `_`"
            elif name in self.env:
                return self.env[name]
            else:
                msg = f"environment variable {name} is not set; export {name}=… before starting, or write the value in the file"
            failed = True
            if errors is not None:
                errors.append(msg)
            else:
                self.error(path, msg)
            return ""

        out = _ENV_REF.sub(sub, value)
        return None if failed else out

    def string(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        if key not in obj or obj[key] is None:
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.error(f"{path}.{key}", f"expected a string, found {_type_name(value)}")
            return None
        return self.expand(f"{path}.{key}", value)

    def boolean(self, obj: dict[str, Any], key: str, path: str, default: bool) -> bool:
        if key not in obj:
            return default
        value = obj[key]
        if isinstance(value, str):
            expanded = self.expand(f"{path}.{key}", value)
            if expanded is None:
                return default
            lowered = expanded.strip().lower()
            if lowered in ("true", "false"):
                return lowered == "true"
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", f"expected true or false, found {_type_name(value)} {json.dumps(value)[:40]}")
            return default
        return value

    def number(self, obj: dict[str, Any], key: str, path: str, default: float, *, integer: bool, minimum: float) -> float:
        if key not in obj:
            return default
        value = obj[key]
        if isinstance(value, str):
            expanded = self.expand(f"{path}.{key}", value)
            if expanded is None:
                return default
            try:
                value = int(expanded) if integer else float(expanded)
            except ValueError:
                self.error(f"{path}.{key}", f"expected a number, found the string {expanded!r}")
                return default
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if integer else "a number"
            self.error(f"{path}.{key}", f"expected {kind}, found {_type_name(value)}")
            return default
        if value < minimum:
            self.error(f"{path}.{key}", f"expected a number ≥ {minimum:g}, found {value}")
            return default
        checked: float = value  # an int or a float, as the checks above made sure
        return checked

    def run(self, data: Any) -> Config:
        from .signatures.registry import ALGORITHMS, scheme_for

        if not isinstance(data, dict):
            self.error("", f"expected a JSON object at the top level, found {_type_name(data)}")
            raise ConfigError(self.errors)
        for key in data:
            if key != PROVIDER_KEY and not key.startswith("_"):
                self.warn(key, f"unknown key, ignored (the inspector reads only `{PROVIDER_KEY}`)")
        if PROVIDER_KEY not in data:
            self.error(PROVIDER_KEY, f'missing; expected {{"{PROVIDER_KEY}": {{"enabled": true, "public_base_url": "https://…"}}}}')
            raise ConfigError(self.errors)
        root = data[PROVIDER_KEY]
        base = PROVIDER_KEY
        if not isinstance(root, dict):
            self.error(base, f"expected an object, found {_type_name(root)}")
            raise ConfigError(self.errors)
        for key in root:
            if key not in _TOP_KEYS and not key.startswith("_"):
                self.warn(f"{base}.{key}", f"unknown key, ignored (known: {', '.join(sorted(_TOP_KEYS))})")

        enabled = self.boolean(root, "enabled", base, True)
        public = self.string(root, "public_base_url", base)
        if public is not None:
            public = public.strip()
            if not re.match(r"https?://[^/\s]+", public):
                self.error(f"{base}.public_base_url", f"expected a URL starting with https:// or http://, found {public!r}")
                public = None
            else:
                public = public.rstrip("/")
        secret_header = self.string(root, "secret_header", base)
        secret_key = self.string(root, "secret_key", base)
        if secret_header and not secret_key:
            self.warn(
                f"{base}.secret_key", "secret_header is set but secret_key is not; requests will get the status `error` until both are set"
            )
        if secret_key and not secret_header:
            self.warn(f"{base}.secret_header", "secret_key is set but secret_header is not; the generic check needs both")
        enforce = self.boolean(root, "enforce", base, True)
        max_body = int(self.number(root, "max_body_bytes", base, DEFAULT_MAX_BODY, integer=True, minimum=1))
        ack = float(self.number(root, "ack_timeout_seconds", base, DEFAULT_ACK_TIMEOUT, integer=False, minimum=0))

        entries: list[SignatureEntry] = []
        entry_errors: list[Problem] = []
        sigs = root.get("signatures")
        if sigs is not None and not isinstance(sigs, dict):
            self.error(
                f"{base}.signatures", f"expected an object mapping a scheme name to {{header, algorithm, secret}}, found {_type_name(sigs)}"
            )
        elif isinstance(sigs, dict):
            for name, entry in sigs.items():
                path = f"{base}.signatures.{name}"
                built = self.entry(name, entry, path, ALGORITHMS, scheme_for)
                entries.append(built)
                entry_errors.extend(Problem(self.file, p, m) for p, m in built.problems)

        if self.errors:
            raise ConfigError(self.errors)
        return Config(
            source=self.file,
            enabled=enabled,
            public_base_url=public,
            secret_header=secret_header,
            secret_key=secret_key,
            signatures=tuple(entries),
            enforce=enforce,
            max_body_bytes=max_body,
            ack_timeout_seconds=ack,
            warnings=tuple(self.warnings),
            entry_errors=tuple(entry_errors),
        )

    def entry(self, name: str, entry: Any, path: str, algorithms: tuple[str, ...], scheme_for: Any) -> SignatureEntry:
        problems: list[tuple[str, str]] = []
        if not isinstance(entry, dict):
            problems.append((path, f"expected an object {{header, algorithm, secret}}, found {_type_name(entry)}"))
            entry = {}
        for key in entry:
            if key not in _ENTRY_KEYS and not key.startswith("_"):
                self.warn(f"{path}.{key}", f"unknown key, ignored (known: {', '.join(sorted(_ENTRY_KEYS))})")

        def text(key: str) -> str | None:
            value = entry.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                problems.append((f"{path}.{key}", f"expected a string, found {_type_name(value)}"))
                return None
            errs: list[str] = []
            out = self.expand(f"{path}.{key}", value, errs)
            for e in errs:
                problems.append((f"{path}.{key}", e))
            return out

        algorithm = text("algorithm")
        if algorithm is None and "algorithm" not in entry:
            if name.lower() in algorithms:
                algorithm = name.lower()
            else:
                problems.append((f"{path}.algorithm", f"missing; expected one of: {', '.join(algorithms)}"))
        elif algorithm is not None:
            algorithm = algorithm.strip().lower()
            if algorithm not in algorithms:
                problems.append((f"{path}.algorithm", f"unknown algorithm {algorithm!r}; expected one of: {', '.join(algorithms)}"))
        header = text("header")
        if header is not None:
            header = header.strip()
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", header):
                problems.append((f"{path}.header", f"{header!r} is not a valid HTTP header name"))
        secret = text("secret")
        if secret is None and "secret" not in entry:
            problems.append((f"{path}.secret", "missing; expected the signing secret (or a ${ENV} reference to it)"))
        elif secret == "" and not any(p[0] == f"{path}.secret" for p in problems):
            problems.append((f"{path}.secret", "is empty; copy the signing secret from the sender's webhook settings"))
        elif secret and algorithm in algorithms:
            why = scheme_for(algorithm).check_secret(secret)
            if why:
                problems.append((f"{path}.secret", why))
        tolerance: float | None = None
        if "tolerance" in entry:
            value = entry["tolerance"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                problems.append((f"{path}.tolerance", f"expected a number of seconds ≥ 0, found {json.dumps(value)[:40]}"))
            else:
                tolerance = float(value)
        return SignatureEntry(
            name=name,
            algorithm=algorithm or "",
            header=header,
            secret=secret or "",
            tolerance=tolerance,
            problems=tuple(problems),
        )
