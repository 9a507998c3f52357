"""Sensitivity pipeline: SALib checked on the Ishigami function, and a shrunken model study.

The Ishigami function (Ishigami & Homma 1990) has analytic Sobol indices; with
a = 7, b = 0.1: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
(Sobol' & Levitan 1999; Saltelli et al. 2008, Global Sensitivity Analysis, §4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from sim.analysis import sensitivity as sa
from sim.present.analysis_figures import sensitivity_figures
from sim.studies.spec import parse_study

A, B = 7.0, 0.1


def ishigami(x: np.ndarray) -> np.ndarray:
    """f(x) = sin x1 + a sin² x2 + b x3⁴ sin x1, x_i uniform on [-π, π]."""
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices() -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices of the Ishigami function."""
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / var, np.array([v1 + v13, v2, v13]) / var


PARAMS = [sa.Parameter(f"x{i}", -np.pi, np.pi) for i in (1, 2, 3)]


def test_analytic_indices_match_the_published_values():
    s1, st = ishigami_indices()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_sobol_pipeline_recovers_ishigami_indices():
    stage = sa.Stage("sobol", "sobol", base_samples=2048, seed=11)
    res = sa.run_stage(stage, PARAMS, sa.FunctionRunner(ishigami))
    s1, st = ishigami_indices()
    t = res.indices
    assert len(res.design) == 2048 * (len(PARAMS) + 2)
    # within SALib's 95% bootstrap interval, widened by a stated tolerance of 0.02
    assert np.all(np.abs(t["S1"] - s1) <= t["S1_conf"] + 0.02)
    assert np.all(np.abs(t["ST"] - st) <= t["ST_conf"] + 0.02)
    assert t["S1_conf"].max() < 0.1  # the intervals are informative, not vacuous


def test_morris_recovers_linear_effects_exactly():
    # f = sum c_i x_i: every elementary effect of x_i is c_i x (range of x_i), so
    # mu* = |c_i| (high - low) and sigma = 0 (Morris 1991)
    params = [
        sa.Parameter("a", 0.0, 1.0),
        sa.Parameter("b", 0.0, 2.0),
        sa.Parameter("c", -1.0, 1.0),
    ]
    coef = np.array([3.0, -1.5, 0.0])
    stage = sa.Stage("morris", "morris", trajectories=12, levels=4, seed=5)
    res = sa.run_stage(stage, params, sa.FunctionRunner(lambda x: x @ coef))
    t = res.indices.set_index("parameter")
    np.testing.assert_allclose(t["mu_star"], np.abs(coef) * [1.0, 2.0, 2.0], atol=1e-9)
    np.testing.assert_allclose(t["mu"], coef * [1.0, 2.0, 2.0], atol=1e-9)
    np.testing.assert_allclose(t["sigma"], 0.0, atol=1e-9)


def test_morris_flags_ishigami_x3_as_influential_through_interaction():
    stage = sa.Stage("morris", "morris", trajectories=100, levels=6, seed=5)
    res = sa.run_stage(stage, PARAMS, sa.FunctionRunner(ishigami))
    t = res.indices.set_index("parameter")
    # x3 has S1 = 0 but ST = 0.24: screening must not drop it, and its effects vary (sigma > 0)
    assert (t["mu_star"] > 0.5).all()
    assert t.loc["x3", "sigma"] > 0.5 * t.loc["x3", "mu_star"]
    assert (t["mu_star_conf"] < t["mu_star"]).all()


def test_run_study_writes_tables_and_figures_with_a_function_runner(tmp_path):
    study = sa.SensitivityStudy(
        name="ishigami", scenario="", parameters=PARAMS,
        metrics=[sa.Metric("y", "y")],
        stages=[sa.Stage("1_morris", "morris", trajectories=20, seed=1),
                sa.Stage("2_sobol", "sobol", base_samples=128, top=2, seed=2)],
    )  # fmt: skip

    def runner(parameters, design):
        # parameters left out of a stage stay at their nominal value, 0
        full = np.zeros((len(design), 3))
        for j, p in enumerate(parameters):
            full[:, int(p.key[1]) - 1] = design[:, j]
        return pd.DataFrame({"y": ishigami(full)})

    results = sa.run_study(study, tmp_path, progress=False, runner_factory=lambda folder: runner)
    sensitivity_figures(study, results, tmp_path)
    assert {p.key for p in results[1].parameters} == {"x1", "x2"}  # x3 screened out
    for name in ("1_morris/indices.csv", "2_sobol/indices.parquet",
                 "1_morris/morris_mu_star_sigma.png", "2_sobol/sobol_indices.svg"):  # fmt: skip
        assert (tmp_path / name).exists(), name


def test_integer_parameters_are_rounded_before_running():
    params = [sa.Parameter("a", 0, 10, integer=True), sa.Parameter("b", 0.0, 1.0)]
    design = np.array([[2.4, 0.33], [7.6, 0.5]])
    out = sa.rounded(params, design)
    np.testing.assert_array_equal(out[:, 0], [2, 8])
    np.testing.assert_array_equal(out[:, 1], design[:, 1])


SMALL = [
    "population.counts.business=30",
    "population.counts.civil_society=40",
    "population.counts.technical=15",
    "population.counts.igo=5",
]


def small_study() -> sa.SensitivityStudy:
    return parse_study(yaml.safe_dump({
        "name": "tiny", "scenario": "status_quo", "years": 1, "replicates": 1, "root_seed": 3,
        "overrides": SMALL,
        "parameters": {
            "forum.igf.funded_slots": {"low": 0, "high": 40, "integer": True},
            "behaviour.travel_cost_scale": {"low": 0.05, "high": 0.3},
            "behaviour.polarization": {"low": 0.5, "high": 1.5},
        },
        "metrics": {
            "attainment_gap": {"metric": "attainment_gap"},
            "developing_representation": {"metric": "representation_ratio",
                                          "group": "developing_gov"},
        },
        "stages": [{"name": "m", "method": "morris", "trajectories": 2, "levels": 4, "seed": 1}],
    }), kind="sensitivity")  # fmt: skip


def test_shrunken_model_study_runs_end_to_end_and_resumes(tmp_path):
    study = small_study()
    results = sa.run_study(study, tmp_path, jobs=1, progress=False)
    idx = results[0].indices
    assert set(idx["metric"]) == {"attainment_gap", "developing_representation"}
    assert np.isfinite(idx["mu_star"]).all()
    design = pd.read_parquet(tmp_path / "m" / "design.parquet")
    assert len(design) == 2 * (3 + 1)
    assert (design["forum.igf.funded_slots"] % 1 == 0).all()
    runs = sorted((tmp_path / "m" / "runs").glob("*.parquet"))
    assert 0 < len(runs) <= len(design)
    # a second invocation finds every run in the store and gives the same indices
    again = sa.run_study(study, tmp_path, jobs=1, progress=False)
    pd.testing.assert_frame_equal(again[0].indices, idx)
