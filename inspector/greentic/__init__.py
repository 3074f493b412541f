"""Real Greentic flows (issue #20), UI-free building blocks: `document` loads a `.ygtc` in
Greentic's own shape with positions, `template` and `conditions` render and route as Greentic's
runner does, `pack` reads source packs and sidecars, `mocks` reads mocks.yaml, `ingress` builds
the webhook envelope, and `runner` runs a flow node by node into a plain result.

See docs/greentic-shape.md for the facts each module follows.
"""
