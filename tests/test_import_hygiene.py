"""The core is a contract: nothing outside inspector.tui may import Textual (SPEC §1)."""

import subprocess
import sys

CORE = [
    "inspector.config",
    "inspector.model",
    "inspector.signatures",
    "inspector.store",
    "inspector.pipeline",
    "inspector.receiver",
    "inspector.filters",
    "inspector.cli",
    "inspector.__main__",
    "inspector.starter",
]


def test_core_does_not_import_textual():
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE) + "print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
