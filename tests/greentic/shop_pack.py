"""A small source pack in Greentic's real shape, written for these tests: an events flow that
branches, keeps state and calls another flow, a callee with a mocked component, sidecars and mocks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

PACK_YAML = """\
pack_id: acme.shop
version: 0.1.0
kind: application
flows:
  - id: default
    file: flows/on_webhook.ygtc
    entrypoints: [default]
  - id: notify
    file: flows/notify.ygtc
    tags: [internal]
"""

ON_WEBHOOK = """\
id: default
type: events
title: Order webhooks
nodes:
  in:
    emit.log:
      message: "order {{in.event.payload.order.id}} from {{entry.tenant}}"
    routing:
      - to: count
  count:
    state.get:
      key: "orders-seen"
    routing:
      - to: remember
  remember:
    state.set:
      key: "orders-seen"
      value: "{{node.count.value}}x"
    routing:
      - to: classify
  classify:
    templating.handlebars:
      text: "Order {{in.event.payload.order.id}}: {{in.event.payload.kind}}"
    routing:
      - condition: in.event.payload.kind == "refund"
        to: refund
      - condition: in.event.payload.kind == "hold"
        to: hold
      - to: notify
  refund:
    component.exec:
      component: repo://acme/refunds
      input:
        order: "{{in.event.payload.order.id}}"
    operation: refund
    routing:
      - condition: event == "on_error"
        to: failed
      - to: notify
  failed:
    emit.response:
      status: 502
      reason: "{{node.refund.error.message}}"
    routing: out
  hold:
    session.wait:
      reason: "waiting for a person"
    routing:
      - to: notify
  notify:
    flow.call:
      flow_id: notify
      input:
        order: "{{in.event.payload.order.id}}"
        summary: "{{node.classify.text}}"
    routing:
      - to: answer
  answer:
    emit.response:
      status: 200
      body:
        sent: "{{prev[0].sent}}"
        order: "{{in.event.payload.order.id}}"
    routing: out
"""

NOTIFY = """\
id: notify
type: messaging
nodes:
  send:
    chat.post:
      channel: orders
      text: "{{in.summary}}"
    routing:
      - to: done
  done:
    emit.log:
      input:
        sent: "{{node.send.ok}}"
        order: "{{in.order}}"
"""

MOCKS = """\
default:
  classify:
    script: |
      #{text: input.text + "!"}
  refund:
    output: {ok: true, refund_id: r-1}
notify:
  send:
    output: {ok: true, ts: "1700000000.1"}
"""

ON_WEBHOOK_SIDECAR = {
    "schema_version": 1,
    "flow": "on_webhook.ygtc",
    "nodes": {
        "classify": {"source": {"kind": "local", "path": "../components/templating.handlebars/component.wasm"}},
        "refund": {"source": {"kind": "oci", "ref": "oci://ghcr.io/acme/components/refunds:1.2"}},
    },
}
NOTIFY_SIDECAR = {"schema_version": 1, "flow": "notify.ygtc", "nodes": {"send": {"source": {"kind": "repo", "ref": "io.acme.chat@2.0.0"}}}}


def write_pack(root: Path, *, mocks: str = MOCKS) -> Path:
    (root / "flows").mkdir(parents=True, exist_ok=True)
    (root / "components" / "templating.handlebars").mkdir(parents=True, exist_ok=True)
    (root / "components" / "templating.handlebars" / "component.wasm").write_bytes(b"\0asm")
    (root / "pack.yaml").write_text(PACK_YAML)
    (root / "flows" / "on_webhook.ygtc").write_text(ON_WEBHOOK)
    (root / "flows" / "notify.ygtc").write_text(NOTIFY)
    (root / "flows" / "on_webhook.ygtc.resolve.json").write_text(json.dumps(ON_WEBHOOK_SIDECAR, indent=2))
    (root / "flows" / "notify.ygtc.resolve.json").write_text(json.dumps(NOTIFY_SIDECAR, indent=2))
    (root / "mocks.yaml").write_text(textwrap.dedent(mocks))
    return root


def webhook_entry(kind: str = "new", order: str = "o-1", tenant: str = "acme") -> dict:
    envelope = {"event_type": "webhook.received", "payload": {"order": {"id": order}, "kind": kind}}
    return {"event": envelope, "events": [envelope], "tenant": tenant, "team": "default", "correlation_id": None}
