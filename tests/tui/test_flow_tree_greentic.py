"""The flow tree shows a Greentic-shaped run node by node (issue #20 item 4): each step's
operation and status, mocked steps with their component and mock, the called flow's steps
under their flow, the rendered input, the routing arms with the default, and the node's YAML
with line numbers."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult

from inspector.flow import FlowSet
from inspector.greentic import glue
from inspector.model import Capture, Headers, Request, SignatureResult
from inspector.tui.widgets.flow_tree import FlowTree
from tests.greentic.shop_pack import write_pack


class TreeApp(App):
    def compose(self) -> ComposeResult:
        yield FlowTree()


def labels(node, depth: int = 0) -> list[str]:
    out = []
    for child in node.children:
        out.append("  " * depth + child.label.plain)
        out.extend(labels(child, depth + 1))
    return out


async def test_a_greentic_run_reads_node_by_node(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glue._STATES.clear()
    fs = FlowSet.load(write_pack(tmp_path / "shop"))
    body = json.dumps({"order": {"id": "o-1"}, "kind": "new"}).encode()
    request = Request("POST", "/v1/events/ingress/webhook/acme", "", Headers([("Content-Type", "application/json")]), body)
    runs = glue.run_for_request(fs, request)
    capture = Capture(1, request, "acme", "webhook", SignatureResult("unsigned"), runs=tuple(runs))
    app = TreeApp()
    async with app.run_test() as pilot:
        tree = app.query_one(FlowTree)
        tree.show(capture)
        await pilot.pause()
        shown = labels(tree.root)
    text = "\n".join(shown)
    assert shown[0].startswith("default  ok")
    assert any(
        line.strip().startswith("classify (templating.handlebars)  mocked  → notify  mocked: templating.handlebars") for line in shown
    ), text
    assert any("mocked: templating.handlebars (output from shop/mocks.yaml:3:13)" in line for line in shown), text
    assert any(line.strip().startswith("notify/send (chat.post)  mocked") for line in shown), text
    assert any(line.strip() == 'input {"text": "Order o-1: new"}' for line in shown), text
    assert any(line.strip().startswith("✓ (default)  → true") for line in shown), text
    assert any(line.strip().startswith('· in.event.payload.kind == "refund"  → false') for line in shown), text
    yaml_heads = [i for i, line in enumerate(shown) if line.strip() == "yaml shop/flows/notify.ygtc:4:3"]
    assert yaml_heads, text
    head = yaml_heads[0]
    assert [line.strip() for line in shown[head + 1 : head + 3]] == ["4   send:", "5     chat.post:"]


async def test_the_header_counts_greentic_flows_and_a_reload_says_how_many(tmp_path, monkeypatch):
    # it said "flows 0 loaded" for a pack of Greentic-shaped flows that ran every webhook
    from tests.tui.conftest import make_app, record_notifications, settle, text_of, wait_for

    workdir = tmp_path
    (workdir / "answers.example.json").write_text('{"events-webhook": {"enabled": true}}')
    monkeypatch.chdir(workdir)
    fs = FlowSet.load(write_pack(workdir / "shop"))
    loaded = len(fs.greentic_flows)
    assert loaded >= 2 and not fs.flows
    app = make_app(workdir, serve=False, flows=fs)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: f"flows {loaded} loaded" in text_of(app.query_one("#status")), pilot)
        seen = record_notifications(app)
        await pilot.press("r")
        await settle(app)
        await wait_for(lambda: any(f"flows reloaded: {loaded} loaded" in n for n in seen), pilot)
