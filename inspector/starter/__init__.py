"""`webhook-inspector init`: a starter answers.json with fresh secrets and the example flows."""

from __future__ import annotations

import base64
import json
import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# What `init` writes as public_base_url: a stand-in until the user has a tunnel or a domain.
STARTER_PUBLIC_BASE_URL = "https://your-subdomain.ngrok-free.app"
# Hosts that are stand-ins, not somewhere a sender can reach: the starter's and the example's
# (`your-domain`), RFC 2606's example.com/.org/.net/.example, and the seed document's "…".
_PLACEHOLDER_MARKS = ("your-subdomain", "your_subdomain", "your-domain", "your_domain", "example", "\u2026", "<", ">", "{", "}")


def how_to_set_public_url(local_base: str | None = None) -> str:
    """The fix for a placeholder public_base_url, naming the port the inspector listens on
    (`local_base`, e.g. http://127.0.0.1:8099), 8080 when it is not known yet (`init`)."""
    try:
        port = urlsplit(local_base).port if local_base else None
    except ValueError:
        port = None
    return (
        f'set "public_base_url" in answers.json to the https URL your tunnel prints (`ngrok http {port or 8080}`), '
        "or let the inspector open one (--tunnel ngrok, with NGROK_AUTHTOKEN set), or pass --public-url URL"
    )


HOW_TO_SET_PUBLIC_URL = how_to_set_public_url()


def is_placeholder_url(url: str | None) -> bool:
    """True for a public_base_url that only stands in for the real one (see _PLACEHOLDER_MARKS)."""
    if not url:
        return False
    if url.strip().rstrip("/") == STARTER_PUBLIC_BASE_URL:
        return True
    try:
        host = urlsplit(url.strip()).netloc.rsplit("@", 1)[-1].lower()
    except ValueError:
        host = url.lower()
    return any(mark in host for mark in _PLACEHOLDER_MARKS)


NOTE = (
    "Each signatures entry's _secret says who creates its secret. Where you choose it, init generated one: "
    "paste it into the sender's webhook settings. Where the provider issues it, replace the generated value "
    "(it only signs local samples) with the provider's. Then move secrets out of this file: "
    'write "secret": "${GITHUB_WEBHOOK_SECRET}" and export the variable. public_base_url is a placeholder: ' + HOW_TO_SET_PUBLIC_URL + "."
)

# Who creates each scheme's secret, and where it goes. "ours": the receiver picks it (init
# generated one) and the user pastes it into the provider; "theirs": the provider issues it
# and the user pastes it into answers.json; "public key": the provider publishes a key that
# only verifies (nothing secret to share).
_OURS = "you choose it: init generated one; paste ours into {where}"
_THEIRS = "{who} issues it: replace the generated value (it only signs local samples) with {what}"
SECRET_ORIGINS: dict[str, tuple[str, str]] = {
    "github": ("ours", _OURS.format(where="GitHub's webhook settings (Settings → Webhooks → Secret)")),
    "sha256": ("ours", _OURS.format(where='the sender\'s webhook settings (its "secret" field)')),
    "sha1": ("ours", _OURS.format(where='the sender\'s webhook settings (its "secret" field)')),
    "sha512": ("ours", _OURS.format(where='the sender\'s webhook settings (its "secret" field)')),
    "bitbucket": ("ours", _OURS.format(where="Bitbucket's webhook settings (Secret)")),
    "gitlab": ("ours", _OURS.format(where="GitLab's webhook settings (Secret token)")),
    "typeform": ("ours", _OURS.format(where="the Typeform webhook's Secret")),
    "calendly": ("ours", _OURS.format(where="the signing_key of the Calendly webhook subscription you create")),
    "twitch": ("ours", _OURS.format(where="the secret of the EventSub subscription you create (10-100 characters)")),
    "stripe": (
        "theirs",
        _THEIRS.format(
            who="Stripe",
            what="the endpoint's signing secret (whsec_…) from Stripe's Dashboard → Webhooks, or the one `stripe listen` prints",
        ),
    ),
    "shopify": (
        "theirs",
        _THEIRS.format(
            who="Shopify",
            what='the key shown under Settings → Notifications → Webhooks ("Your webhooks will be signed with …"), or your app\'s client secret',
        ),
    ),
    "slack": ("theirs", _THEIRS.format(who="Slack", what="your app's Signing Secret (Basic Information → App Credentials)")),
    "standard-webhooks": (
        "theirs",
        _THEIRS.format(who="the provider", what="the endpoint's signing secret (whsec_…, base64) from its dashboard"),
    ),
    "svix": (
        "theirs",
        _THEIRS.format(who="Svix (for the provider)", what="the endpoint's signing secret (whsec_…) from the provider's dashboard"),
    ),
    "square": ("theirs", _THEIRS.format(who="Square", what="the subscription's Signature key (Developer Console → Webhooks)")),
    "twilio": ("theirs", _THEIRS.format(who="Twilio", what="your account's Auth Token (Twilio Console)")),
    "paddle": ("theirs", _THEIRS.format(who="Paddle", what="the notification destination's secret key (pdl_ntfset_…)")),
    "hubspot-v3": ("theirs", _THEIRS.format(who="HubSpot", what="your app's client secret")),
    "linear": ("theirs", _THEIRS.format(who="Linear", what="the webhook's signing secret shown when it is created")),
    "zoom": ("theirs", _THEIRS.format(who="Zoom", what="your app's Secret Token (Features → Event Subscriptions)")),
    "intercom": ("theirs", _THEIRS.format(who="Intercom", what="your app's client secret")),
    "discord": (
        "public key",
        "Discord publishes a public key, which only verifies: replace the generated value with your application's Public Key (Developer Portal → General Information)",
    ),
    "sendgrid": (
        "public key",
        "SendGrid publishes a public key, which only verifies: replace the generated value with the Verification Key (Mail Settings → Signed Event Webhook)",
    ),
}


def secret_origin(name: str, algorithm: str) -> tuple[str, str]:
    """(who, sentence) for a signatures entry: by provider name first (an entry named `github`
    using plain `sha256` is still GitHub's), then by algorithm."""
    return (
        SECRET_ORIGINS.get(name)
        or SECRET_ORIGINS.get(algorithm)
        or (
            "unknown",
            "check the provider's docs for who creates this secret; if you choose it, paste it into the provider's webhook settings",
        )
    )


def secret_notes(answers: dict[str, Any]) -> list[str]:
    """One line per signatures entry: its name, algorithm, and who creates its secret."""
    entries = (answers.get("events-webhook") or {}).get("signatures") or {}
    return [
        f"{name} ({entry.get('algorithm')}): {secret_origin(name, str(entry.get('algorithm')))[1]}"
        for name, entry in entries.items()
        if isinstance(entry, dict)
    ]


def example_answers() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(__package__).joinpath("answers.example.json").read_text("utf-8"))
    return data


def fresh_secret(algorithm: str) -> str:
    if algorithm in ("standard-webhooks", "svix"):
        return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    if algorithm == "stripe":
        return "whsec_" + secrets.token_hex(24)
    return secrets.token_hex(32)


def starter_answers() -> dict[str, Any]:
    data = example_answers()
    root = data["events-webhook"]
    root["public_base_url"] = STARTER_PUBLIC_BASE_URL
    for name, entry in root.get("signatures", {}).items():
        entry["secret"] = fresh_secret(entry["algorithm"])
        entry["_secret"] = secret_origin(name, entry["algorithm"])[1]
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
    write_private(answers, json.dumps(starter_answers(), indent=2, ensure_ascii=False) + "\n")
    written.append(answers)
    for name, text in flows.items():
        path = flows_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
