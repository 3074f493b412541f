"""`init --greentic`: a starter source pack in Greentic's own shape (issue #20): `pack.yaml`,
an events flow that logs, remembers the last order in state, branches on the event's type and calls a
second flow, that flow with one mocked component, both sidecars and a `mocks.yaml`.

It works as written: `serve --flows pack` and `send greentic.order` (or any POST to
`/v1/events/ingress/webhook/{tenant}`) run `default`, then `notify` through `flow.call`.
"""

from __future__ import annotations

import json
from pathlib import Path

PACK_FOLDER = "pack"

PACK_YAML = """\
# A Greentic source pack (greentic-pack's layout): the flows it holds, by id and file.
pack_id: starter.webhooks
version: 0.1.0
kind: application
flows:
  - id: default
    file: flows/on_webhook.ygtc
    entrypoints: [default]
  - id: notify
    file: flows/notify.ygtc
"""

ON_WEBHOOK = """\
# Runs for every webhook to /v1/events/ingress/webhook/{tenant}: the pack's `default` flow.
id: default
type: events
title: Order webhooks
nodes:
  in:
    emit.log:
      message: "webhook {{in.event.event_id}} for tenant {{in.tenant}}: {{in.event.payload.type}}"
    routing:
      - to: previous
  previous:
    state.get:
      key: last-order
    routing:
      - to: remember
  remember:
    state.set:
      key: last-order
      value: "{{in.event.payload.data.id}}"
    routing:
      - condition: in.event.payload.type == "order.created"
        to: notify
      - to: ignored
  notify:
    flow.call:
      flow_id: notify
      input:
        order: "{{in.event.payload.data.id}}"
        total: "{{in.event.payload.data.total}}"
    routing:
      - to: answer
  answer:
    emit.response:
      status: 200
      body:
        notified: "{{prev[0].sent}}"
        order: "{{in.event.payload.data.id}}"
        previous_order: "{{node.previous.value}}"
    routing: out
  ignored:
    emit.response:
      status: 200
      body:
        ignored: "{{in.event.payload.type}}"
    routing: out
"""

NOTIFY = """\
# Called by `default` (flow.call): posts to chat through a WebAssembly component, which the
# inspector mocks (mocks.yaml says what it returns).
id: notify
type: messaging
nodes:
  post:
    component.exec:
      component: chat-post
      operation: send
      input:
        channel: orders
        text: "New order {{in.order}} ({{in.total}})"
    routing:
      - to: done
  done:
    emit.log:
      input:
        sent: "{{node.post.ok}}"
        ts: "{{node.post.ts}}"
"""

ON_WEBHOOK_SIDECAR = {"schema_version": 1, "flow": "on_webhook.ygtc", "nodes": {}}
NOTIFY_SIDECAR = {
    "schema_version": 1,
    "flow": "notify.ygtc",
    "nodes": {"post": {"source": {"kind": "oci", "ref": "oci://ghcr.io/example/components/chat-post:0.1.0"}}},
}

MOCKS = """\
# What the nodes that cannot run here return: per flow, per node, a fixed `output`, or a
# `script` in the inspector's language computing one from `input` (the node's rendered input).
notify:
  post:
    script: |
      #{ok: true, ts: "1700000000.000100", echoed: input.input.text}
"""


def starter_pack() -> dict[str, str]:
    """{path inside the pack folder: text}."""
    return {
        "pack.yaml": PACK_YAML,
        "flows/on_webhook.ygtc": ON_WEBHOOK,
        "flows/on_webhook.ygtc.resolve.json": json.dumps(ON_WEBHOOK_SIDECAR, indent=2) + "\n",
        "flows/notify.ygtc": NOTIFY,
        "flows/notify.ygtc.resolve.json": json.dumps(NOTIFY_SIDECAR, indent=2) + "\n",
        "mocks.yaml": MOCKS,
    }


def write_greentic_starter(target: Path) -> list[Path]:
    """Write the pack into `target/pack`; refuse (FileExistsError) before writing anything if
    any of its files exists."""
    root = target / PACK_FOLDER
    files = {root / name: text for name, text in starter_pack().items()}
    clashes = [p for p in files if p.exists()]
    if clashes:
        listed = ", ".join(str(p) for p in clashes)
        raise FileExistsError(f"{listed} already exist(s); init never overwrites — move them away or edit them by hand")
    written = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
