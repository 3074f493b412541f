"""`webhook-inspector init`: a starter answers.json with fresh secrets and the example flows."""

from __future__ import annotations

import base64
import json
import os
import secrets
from importlib import resources
from pathlib import Path

NOTE = (
    "Secrets were generated for you. Paste each into the sender's webhook settings, then move it out "
    "of this file: write \"secret\": \"${GITHUB_WEBHOOK_SECRET}\" and export the variable."
)


def example_answers() -> dict:
    return json.loads(resources.files(__package__).joinpath("answers.example.json").read_text("utf-8"))


def fresh_secret(algorithm: str) -> str:
    if algorithm in ("standard-webhooks", "svix"):
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    if algorithm == "stripe":
        return "whsec_" + secrets.token_hex(24)
    return secrets.token_hex(32)


def starter_answers() -> dict:
    data = example_answers()
    root = data["events-webhook"]
    root["public_base_url"] = "https://your-subdomain.ngrok-free.app"
    for entry in root.get("signatures", {}).values():
        entry["secret"] = fresh_secret(entry["algorithm"])
    return {"_note": NOTE, **data}


def starter_flows() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("flows")
    return {f.name: f.read_text("utf-8") for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".ygtc")}


def write_private(path: Path, text: str) -> None:
    """A new file only its owner can read (0600, whatever the umask): answers.json holds the
    secrets. O_EXCL: init never overwrites, not even a file made since the check."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", closefd=False) as f:
            f.write(text)
    finally:
        os.close(fd)


def write_starter(target: Path) -> list[Path]:
    """Write answers.json and flows/ into `target`; refuse (FileExistsError) before writing
    anything if any of those files exists."""
    answers = target / "answers.json"
    flows_dir = target / "flows"
    flows = starter_flows()
    clashes = [answers] if answers.exists() else []
    clashes += [flows_dir / name for name in flows if (flows_dir / name).exists()]
    if clashes:
        listed = ", ".join(str(p) for p in clashes)
        raise FileExistsError(f"{listed} already exist(s); init never overwrites — move them away or edit them by hand")
    flows_dir.mkdir(exist_ok=True)
    written = []
    write_private(answers, json.dumps(starter_answers(), indent=2) + "\n")
    written.append(answers)
    for name, text in flows.items():
        path = flows_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
