"""Source packs, sidecars, flow folders and mocks.yaml, each error at its position
(issue #20 items 1 and 3, docs/greentic-shape.md §5)."""

from __future__ import annotations

import json

import pytest

from inspector.greentic.mocks import load_mocks, load_mocks_text
from inspector.greentic.pack import component_name, is_pack, load_bundle, load_pack_manifest, load_sidecar

from .shop_pack import ON_WEBHOOK, write_pack


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def test_a_pack_loads_flows_in_pack_order_with_sidecars_and_mocks(tmp_path):
    write_pack(tmp_path / "pack")
    bundle = load_bundle("pack")
    assert is_pack("pack") and bundle.kind == "pack" and bundle.problems == ()
    assert list(bundle.flows) == ["default", "notify"]
    assert bundle.pack is not None and (bundle.pack.pack_id, bundle.pack.version, bundle.pack.kind) == ("acme.shop", "0.1.0", "application")
    assert [(f.id, f.file, f.entrypoints, f.tags) for f in bundle.pack.flows] == [
        ("default", "flows/on_webhook.ygtc", ("default",), ()),
        ("notify", "flows/notify.ygtc", (), ("internal",)),
    ]
    classify = bundle.component("default", "classify")
    assert classify is not None and (classify.kind, classify.name, str(classify.position)) == (
        "local",
        "templating.handlebars",
        "pack/flows/on_webhook.ygtc.resolve.json:5:5",
    )
    assert bundle.component("default", "refund").name == "refunds"
    assert bundle.component("notify", "send").name == "io.acme.chat"
    assert bundle.component("default", "in") is None
    assert len(bundle.mocks) == 3 and bundle.mocks.get("notify", "send").output == {"ok": True, "ts": "1700000000.1"}


def test_a_summary_sidecar_names_the_component(tmp_path):
    write_pack(tmp_path / "pack")
    summary = {"schema_version": 1, "nodes": {"refund": {"component_id": "acme.refunds", "digest": "sha256:00"}}}
    (tmp_path / "pack/flows/on_webhook.ygtc.resolve.summary.json").write_text(json.dumps(summary))
    ref = load_bundle("pack").component("default", "refund")
    assert ref is not None and (ref.name, ref.component_id) == ("acme.refunds", "acme.refunds")


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ({"kind": "local", "path": "../components/templating.handlebars/component.wasm"}, "templating.handlebars"),
        ({"kind": "local", "path": "file://../components/qa.wasm"}, "qa"),
        ({"kind": "oci", "ref": "oci://ghcr.io/greenticai/components/templates:latest"}, "templates"),
        ({"kind": "repo", "ref": "io.3bridges.components.qa@1.0.0"}, "io.3bridges.components.qa"),
    ],
)
def test_component_names(source, name):
    assert component_name(source) == name


def test_pack_manifest_errors_have_positions(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "pack.yaml").write_text(
        "pack_id: x\nflows:\n  - id: a\n    file: flows/a.ygtc\n  - id: a\n    file: flows/b.ygtc\n  - file: c.ygtc\n  - 7\n"
    )
    pack, problems = load_pack_manifest(root, "p/pack.yaml")
    assert pack is not None and [f.id for f in pack.flows] == ["a"]
    assert messages(problems) == [
        "p/pack.yaml:5:9: flow id 'a' is listed twice (first at line 3); keep one",
        "p/pack.yaml:7:5: a `flows` entry needs `id` and `file` (e.g. `{id: default, file: flows/default.ygtc}`)",
        "p/pack.yaml:8:5: a `flows` entry must be a mapping, found a number",
    ]
    bundle = load_bundle(root)
    assert "p/pack.yaml:3:5: flow 'a' names file 'flows/a.ygtc', which does not exist (paths are relative to pack.yaml)" in messages(
        bundle.problems
    )
    (root / "pack.yaml").write_text("pack_id: [\n")
    assert messages(load_pack_manifest(root, "p/pack.yaml")[1])[0].startswith("p/pack.yaml:2:1: YAML syntax error")
    (root / "pack.yaml").write_text("pack_id: x\n")
    assert messages(load_pack_manifest(root, "p/pack.yaml")[1]) == [
        "p/pack.yaml:1:1: pack.yaml has no `flows:`; list them as `flows: [{id: default, file: flows/default.ygtc}]`"
    ]


def test_a_listed_id_that_differs_from_the_file_s_id_is_a_warning(tmp_path):
    write_pack(tmp_path / "pack")
    (tmp_path / "pack/pack.yaml").write_text((tmp_path / "pack/pack.yaml").read_text().replace("- id: default", "- id: main"))
    bundle = load_bundle("pack")
    assert (
        "pack/flows/on_webhook.ygtc:1:1: warning: pack.yaml lists this file as flow 'main' but its `id` is 'default'; `flow.call` and the ingress use 'default'"
        in messages(bundle.problems)
    )


def test_sidecar_errors_have_positions(tmp_path):
    write_pack(tmp_path / "pack")
    flow = load_bundle("pack").flows["default"]
    sidecar = tmp_path / "side.json"
    sidecar.write_text(
        json.dumps(
            {
                "nodes": {
                    "clasify": {"source": {"kind": "local", "path": "x.wasm"}},
                    "refund": {"source": {"kind": "ftp", "ref": "x"}},
                    "in": {},
                    "count": {"source": {"kind": "oci"}},
                }
            },
            indent=1,
        )
    )
    mapped, problems = load_sidecar(sidecar, flow, "side.json")
    assert mapped.keys() == {"clasify"}
    assert messages(problems) == [
        "side.json:3:3: warning: the sidecar maps node 'clasify', which flow 'default' does not have — did you mean 'classify'?; remove it or re-run `greentic-pack resolve`",
        "side.json:4:14: warning: component file 'x.wasm' of node 'clasify' does not exist (paths are relative to the flow's folder); the node is mocked anyway",
        "side.json:10:14: `source.kind` of 'refund' must be one of local, repo, oci, store, found 'ftp'",
        "side.json:15:9: sidecar entry 'in' has no `source` ({kind, path|ref})",
        "side.json:17:14: the `oci` source of 'count' needs `ref`",
    ]
    sidecar.write_text('{"nodes": {,}}')
    assert messages(load_sidecar(sidecar, flow, "side.json")[1]) == [
        "side.json:1:12: JSON syntax error: Expecting property name enclosed in double quotes"
    ]


def test_a_folder_loads_real_flows_and_leaves_documented_ones_to_the_other_loader(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "orders.ygtc").write_text(ON_WEBHOOK)
    (folder / "legacy.ygtc").write_text(
        "name: legacy\ntriggers: [{event_type: x}]\nnodes:\n  - {id: a, type: script, config: {code: '1'}}\n"
    )
    (folder / "caller.ygtc").write_text("id: caller\ntype: job\nnodes:\n  c:\n    flow.call: {flow_id: defualt}\n")
    bundle = load_bundle(folder)
    assert bundle.kind == "folder" and list(bundle.flows) == ["caller", "default"]
    assert bundle.documented_files == ("flows/legacy.ygtc",)
    assert messages(bundle.errors) == [
        "flows/caller.ygtc:5:5: node 'c' calls flow 'defualt', which is not in this folder or pack — did you mean 'default'? (flows: caller, default)",
        "flows/orders.ygtc:51:5: node 'notify' calls flow 'notify', which is not in this folder or pack (flows: caller, default)",
    ]


def test_mocks_file_errors_and_warnings_have_positions():
    text = """\
f:
  a:
    output: 1
    script: '1'
  b: {}
  c:
    script: "let x = ;"
  d:
    script: 'input.x + unknown_name'
    color: red
  e:
    output: 2
    outcome: [x]
g: [1]
"""
    mocks, problems = load_mocks_text(text, "mocks.yaml")
    assert sorted(mocks.entries) == [("f", "d")]
    found = messages(problems)
    assert "mocks.yaml:3:5: mock f/a needs exactly one of `output:` (a fixed value) or `script:` (code computing it from `input`)" in found
    assert "mocks.yaml:5:6: mock f/b needs exactly one of `output:` (a fixed value) or `script:` (code computing it from `input`)" in found
    assert any(p.startswith("mocks.yaml:7:") and "mock f/c:" in p for p in found)
    assert "mocks.yaml:10:5: warning: unknown key 'color' in mock f/d ignored (known: output, script, outcome)" in found
    assert any(p.startswith("mocks.yaml:9:24: warning: mock f/d: unknown variable 'unknown_name'") for p in found)
    assert "mocks.yaml:13:14: `outcome` of mock f/e must be a string such as on_error" in found
    assert "mocks.yaml:14:4: mocks of flow 'g' (node id → mock) must be a mapping, found a list" in found


def test_a_mock_script_computes_the_output_from_the_input(tmp_path):
    (tmp_path / "mocks.yaml").write_text(
        "f:\n  n:\n    script: |\n      #{total: input.items.len(), first: input.items[0]}\n    outcome: on_done\n"
    )
    mocks, problems = load_mocks(tmp_path / "mocks.yaml", "mocks.yaml")
    assert problems == []
    output, logs = mocks.get("f", "n").produce({"items": ["a", "b"]})
    assert output == {"total": 2, "first": "a", "outcome": "on_done"} and logs == []
    assert load_mocks(tmp_path / "none.yaml") == (load_mocks(tmp_path / "none.yaml")[0], [])
