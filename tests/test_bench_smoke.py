"""The benchmarks still run against the current code (tiny sizes; figures not checked):
`python -m bench` must never be the first to find that an internal it used has moved."""

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench import flow, history, ingest, script  # noqa: E402


def test_history_benchmark_runs():
    result = history.run(600)
    assert result["captures"] == 600 and result["insert_per_s_batched"] > 0


def test_flow_benchmark_runs():
    assert flow.run(50)["engine_runs_per_s"] > 0


def test_script_benchmark_runs():
    assert all(row["script_evals_per_s"] > 0 for row in script.run(0.01))


def test_ingest_benchmark_runs_and_counts_cpu_per_request():
    result = ingest.run(1.0, 4, None, rounds=1, workers=0)
    assert result["bare_rps"] > 0 and result["serve_rps"] > 0
    assert result["floor_rps"] > 0
    # serve / floor is the median of per-round ratios (one round here): a figure, not a target.
    assert result["serve_floor_rounds"] and result["serve_floor_ratio"] > 0
    if result["load"] != "wrk":  # wrk does not count statuses
        assert result["serve_statuses"].get(200, 0) > 0 and result["serve_errors"] == 0
        # The floor server checks the bench's signature and stores every request: all 200s.
        assert set(result["floor_statuses"]) == {200} and result["floor_errors"] == 0
    if sys.platform.startswith("linux"):  # /proc
        # Signatures, the flow and the store cost more CPU than the bare handler's 200.
        assert 0 < result["bare_cpu_us"] < result["serve_cpu_us"]
        if result["load"] != "wrk":  # wrk runs outside this process: its CPU is not measured
            assert result["client_cpu_us"] > 0


def test_tui_ingest_benchmark_runs_the_tui_and_serve_in_turns():
    from bench import tui

    result = tui.measure_ingest(1.0, 4, rounds=1)
    assert result["tui_rps"] > 0 and result["serve_rps"] > 0 and result["tui_workers_rps"] > 0
    assert len(result["tui_vs_serve_rounds"]) == 1 and result["tui_vs_serve"] > 0


def test_rerun_benchmark_runs_real_captures_and_finds_them_the_same():
    from bench import rerun

    result = rerun.run(40)
    assert result["captures"] == 40 and result["per_second"] > 0
    assert result["summary"] == {"same": 40, "changed": 0, "fixed": 0, "regressed": 0}
    assert rerun.row(result)["target"] == "< 10 s per 10k"
