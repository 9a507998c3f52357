"""Statistics, figures and the briefing pack on a synthetic study table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.studies import stats
from sim.studies.spec import Metric, parse_metric


def test_t_interval_matches_scipy():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    got = stats.t_interval(x)
    lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert got["n"] == 4 and got["mean"] == pytest.approx(3.5)
    assert (got["lo"], got["hi"]) == pytest.approx((lo, hi))
    assert np.isnan(stats.t_interval([1.0])["lo"])
    assert stats.t_interval([np.nan, 1.0, 3.0])["n"] == 2


def synthetic(n_rep: int = 6) -> pd.DataFrame:
    """Two scenarios; b = a + 0.1 + tiny noise within each replicate (common random numbers)."""
    rng = np.random.default_rng(1)
    rows = []
    for r in range(n_rep):
        base = rng.normal(0.5, 0.2)  # large between-replicate spread
        for s, shift in (("a", 0.0), ("b", 0.1)):
            rows.append({"scenario": s, "replicate": r, "seed": 1, "key": f"{s}{r}",
                         "kind": "summary", "metric": "attainment_gap", "forum": "all",
                         "group": "all", "issue": "all", "year": 0,
                         "value": base + shift + rng.normal(0, 0.001)})  # fmt: skip
    return pd.DataFrame(rows)


def test_paired_differences_use_common_random_numbers():
    t = synthetic()
    m = Metric("attainment_gap", "attainment_gap")
    summ = stats.summarise(t, [m])
    diff = stats.paired_differences(t, [m], {"scenario": "a"})
    assert list(summ["scenario"]) == ["a", "b"]
    assert len(diff) == 1 and diff["scenario"].iloc[0] == "b"
    d = diff.iloc[0]
    assert d["diff"] == pytest.approx(0.1, abs=0.005)
    # paired interval is far narrower than either mean's interval
    width_means = (summ["hi"] - summ["lo"]).min()
    assert d["hi"] - d["lo"] < width_means / 20
    assert d["lo"] > 0


def test_metric_selectors():
    forums, issues = {"cstd", "igf"}, {"ai_governance"}
    m = parse_metric("representation_ratio@igf/developing_gov", forums, issues)
    assert (m.name, m.forum, m.group) == ("representation_ratio", "igf", "developing_gov")
    assert parse_metric("deadlock_rate@cstd", forums, issues).forum == "cstd"
    assert parse_metric("issue_coverage@ai_governance", forums, issues).issue == "ai_governance"
    m = parse_metric("representation_ratio_by_region@cstd/African", forums, issues)
    assert (m.name, m.forum, m.group) == ("representation_ratio_by_region", "cstd", "African")
    from sim.errors import UsageError

    for bad, needle in [
        ("representation_ratio", "per group"),
        ("deadlock_rate@mars", "mars"),
        ("attainment_gap@cstd", "whole-run"),
        ("nope", "unknown metric"),
        ("representation_ratio@African", "per group"),
        ("representation_ratio_by_region@developing_gov", "per region"),
    ]:
        with pytest.raises(UsageError, match=needle):
            parse_metric(bad, forums, issues)


def test_report_rebuilds_from_disk(tmp_path):
    """`govsim report` rebuilds the same headline from stored runs, with every figure format."""
    from sim import cli
    from sim.present.report import build_briefing
    from sim.studies.launch import run_study
    from sim.studies.spec import expand, load_study

    study_text = """
name: mini
question: Does anything change in a tiny world?
scenarios: [status_quo, dual_track]
grid: {behaviour.polarization: [0.5, 1.5]}
baseline: status_quo
replicates: 2
root_seed: 3
years: 1
metrics: [attainment_gap, representation_ratio@developing_gov]
figures:
  - scenario_comparison
  - metric_vs_parameter
  - participation_over_time
  - representation_by_group
  - representation_by_region
"""
    p = tmp_path / "mini.yaml"
    p.write_text(study_text)
    small = ["population.counts.business=10", "population.counts.civil_society=10",
             "population.counts.technical=6", "population.counts.igo=3"]  # fmt: skip
    study = load_study(p, overrides=small)
    out = tmp_path / "out"
    assert len(expand(study)) == 8
    run_study(study, out, jobs=1, progress=False)
    build_briefing(out, study=study)
    first = (out / "summary.csv").read_text()
    for f in (out / "figures").iterdir():
        f.unlink()
    (out / "briefing.html").unlink()
    cli.main(["report", str(out)])
    assert (out / "summary.csv").read_text() == first
    names = {f.name for f in (out / "figures").iterdir()}
    for stem in ("grid_overview", "metric_vs_behaviour_polarization",
                 "participation_over_time", "representation_by_group",
                 "representation_by_region"):  # fmt: skip
        assert {f"{stem}.png", f"{stem}.svg", f"{stem}.pdf"} <= names
    html = (out / "briefing.html").read_text()
    assert html.count("data:image/png;base64,") == 6  # self-contained
    assert "Does anything change in a tiny world?" in html
    md = (out / "briefing.md").read_text()
    for section in ("## Findings", "## What was compared", "## Headline", "## Figures",
                    "## Method", "## Data", "## Provenance"):  # fmt: skip
        assert section in md
    from PIL import Image

    with Image.open(out / "figures" / "grid_overview.png") as im:
        dpi = im.info.get("dpi", (0, 0))[0]
    assert dpi == pytest.approx(200, abs=1)
