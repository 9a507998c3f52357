"""Exploration studies end to end: sampling, common random numbers, resume, briefing."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import exploration
from sim.present import exploration_report
from sim.studies.spec import load_study
from sim.studies.store import RunStore

SMALL = [
    "population.counts.business=20",
    "population.counts.civil_society=20",
    "population.counts.technical=8",
    "population.counts.igo=4",
]


@pytest.fixture(scope="module")
def tiny():
    study = load_study("robust_designs", kind="exploration", years=1, overrides=SMALL)
    return study.model_copy(update={"samples": 4, "designs": study.designs[:3]})


def test_draws_are_reproducible_and_inside_their_ranges(tiny):
    a, b = exploration.sample(tiny), exploration.sample(tiny)
    assert a.equals(b)
    for p in tiny.uncertainties:
        assert a[p.key].between(p.low, p.high).all()
    # a Latin hypercube puts exactly one draw in each of the `samples` strata per axis
    for p in tiny.uncertainties:
        strata = np.floor((a[p.key] - p.low) / (p.high - p.low) * len(a)).astype(int)
        assert sorted(strata.clip(0, len(a) - 1)) == list(range(len(a)))


def test_every_design_shares_each_draws_assumptions_and_seed(tiny):
    specs = exploration.specs(tiny, exploration.sample(tiny))
    assert len(specs) == len(tiny.designs) * tiny.samples
    by_draw = {}
    for s in specs:
        by_draw.setdefault(s.grid["draw"], set()).add(
            (s.replicate, tuple(sorted((k, v) for k, v in s.grid.items())))
        )
    assert all(len(v) == 1 for v in by_draw.values())  # same stream and values per draw


def test_shipped_exploration_runs_shrunken_and_resumes(tiny, tmp_path):
    outcomes, found, report, _ = exploration.explore(tiny, tmp_path, jobs=2, progress=False)
    assert not report.failed and len(report.done) == len(tiny.designs) * tiny.samples
    assert set(outcomes["design"]) == set(tiny.designs)
    assert (found.improvement[tiny.baseline] == 0).all()
    assert set(found.summary.index) == set(tiny.designs)
    path = exploration_report.briefing(tiny, found, tmp_path)
    text = path.read_text()
    assert "## Does the ranking hold?" in text and (tmp_path / "briefing.html").exists()
    assert (tmp_path / "figures" / "design_effects.png").exists()
    again, found2, report2, _ = exploration.explore(tiny, tmp_path, jobs=1, progress=False)
    assert report2.done == [] and len(report2.skipped) == len(report.done)
    assert again.equals(outcomes)
    assert len(RunStore(tmp_path).keys()) == len(report.done)
