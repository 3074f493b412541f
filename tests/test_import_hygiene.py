"""The core is a contract: nothing outside inspector.tui may import Textual (SPEC §1), and the
core imports none of its faces (the TUI, the CLI, the entry point).

The core is derived from the package itself: every module of `inspector` but the faces, so a new
module is covered the day it is added. `make check` holds the same layering with import-linter
(contracts in pyproject.toml); the test below keeps those contracts' lists complete.
"""

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import inspector

FACES = {"inspector.tui", "inspector.cli", "inspector.__main__"}
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def core_packages() -> list[str]:
    """The top-level modules and packages of inspector that are not a face."""
    names = {f"inspector.{m.name}" for m in pkgutil.iter_modules(inspector.__path__)}
    return sorted(names - FACES)


def core_modules() -> list[str]:
    """Every module of the core, submodules included (found on disk, not by importing)."""
    out = []
    for info in pkgutil.walk_packages(inspector.__path__, "inspector."):
        if not any(info.name == face or info.name.startswith(face + ".") for face in FACES):
            out.append(info.name)
    return sorted(out)


def test_the_core_is_found_and_has_its_known_parts():
    core = core_packages()
    # A sanity check on the derivation, not the list: these must be among what it finds.
    assert {"inspector.config", "inspector.pipeline", "inspector.store", "inspector.tunnel", "inspector.signatures"} <= set(core)
    assert not FACES & set(core)
    assert any(m.startswith("inspector.store.") for m in core_modules())  # packages are walked into


def test_core_does_not_import_textual():
    # walk_packages above only lists; here every core module is really imported, in a fresh
    # interpreter so nothing this test process loaded earlier counts.
    modules = core_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"faces = {sorted(FACES)!r}\n"
        "top = {m.split('.')[0] if not m.startswith('inspector.') else '.'.join(m.split('.')[:2]) for m in sys.modules}\n"
        "print(sorted(m for m in top if m == 'textual' or m in faces))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"the core imported {out.stdout.strip()}"


def test_the_import_contracts_name_every_core_package():
    """The import-linter contracts list their source modules by hand (it has no "all but");
    each contract about the core must name exactly the core, so nothing new slips past."""
    config = tomllib.loads(PYPROJECT.read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    # The contracts about the whole core forbid a face or Textual; others (e.g. replay ↛ pipeline) are narrower.
    about_core = [
        c for c in contracts if {"inspector.tui", "textual"} & set(c["forbidden_modules"]) and "inspector.tui" not in c["source_modules"]
    ]
    assert len(about_core) >= 2, [c["name"] for c in contracts]
    core = core_packages()
    for contract in about_core:
        listed = sorted(contract["source_modules"])
        missing, extra = sorted(set(core) - set(listed)), sorted(set(listed) - set(core))
        assert not missing and not extra, (
            f"pyproject.toml's import-linter contract {contract['name']!r}: add {missing} to source_modules, "
            f"remove {extra} (they are no longer core modules)"
        )
    faces = {m for c in about_core for m in c["forbidden_modules"]}
    assert {"inspector.tui", "textual"} <= faces
    tui_contract = [c for c in contracts if c["source_modules"] == ["inspector.tui"]]
    assert tui_contract and "inspector.cli" in tui_contract[0]["forbidden_modules"]


def test_the_command_line_is_parsed_without_loading_the_core():
    """Every CLI process builds the parser of every command (the suite starts hundreds); a
    command module imports what its handler needs inside the handler, so `--help`, a usage
    error and the start of any command pay only for argparse and the CLI's own modules."""
    code = (
        "import sys\n"
        "from inspector.__main__ import build_parser\n"
        "build_parser()\n"
        "faces = ('inspector.cli', 'inspector.__main__')\n"
        "core = [m for m in sys.modules if m.startswith('inspector.') and not m.startswith(faces)]\n"
        "heavy = [m for m in ('asyncio', 'aiohttp', 'textual', 'yaml', 'cryptography', 'orjson') if m in sys.modules]\n"
        "print(sorted(core), heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] []", f"building the parser imported {out.stdout.strip()}; import it in the handler instead"
