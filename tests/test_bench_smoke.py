"""The benchmarks still run against the current code (tiny sizes; figures not checked):
`python -m bench` must never be the first to find that an internal it used has moved."""

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench import flow, history, script  # noqa: E402


def test_history_benchmark_runs():
    result = history.run(600)
    assert result["captures"] == 600 and result["insert_per_s_batched"] > 0


def test_flow_benchmark_runs():
    assert flow.run(50)["engine_runs_per_s"] > 0


def test_script_benchmark_runs():
    assert all(row["script_evals_per_s"] > 0 for row in script.run(0.01))
