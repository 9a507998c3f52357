"""The per-agent reference (benchmarks/reference.py) and the vectorized core agree.

Both models run the same config and seed; the reference decides every meeting
agent by agent (Mesa ``shuffle_do``) and draws the same random numbers, so
attendance modes, voice shares, positions after deliberation, proposals,
adoption, all tables and the run's summary metrics must agree to 1e-9.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model import GovernanceModel
from sim.summary import run_summary
from tests.conftest import small

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference import Delegate, ReferenceModel  # noqa: E402

TOL = 1e-9

VARIANTS = {
    "status_quo": [],
    "other_rules": [
        "seed=3",
        "forum.igf.voice=equal_per_group",
        "forum.cstd.decision=rough_consensus",
        "forum.cstd.threshold=0.2",
        "forum.gac.decision=majority",
        "forum.gac.attendance=best_response",
        "forum.cstd.voice=equal",
    ],
}


def _run_with_meetings(model: GovernanceModel):
    """Run ``model`` and keep every meeting's result (and positions after it)."""
    results = []
    record = model._record

    def keep(fi, res, before):
        results.append((fi, res, model.pop.position.copy()))
        record(fi, res, before)

    model._record = keep
    model.run()
    return results


@pytest.fixture(scope="module", params=list(VARIANTS))
def pair(request):
    cfg = small(years=2, overrides=VARIANTS[request.param])
    core = GovernanceModel(config=cfg)
    ref = ReferenceModel(config=small(years=2, overrides=VARIANTS[request.param]))
    return core, _run_with_meetings(core), ref, _run_with_meetings(ref)


def test_reference_agents_are_delegates(pair):
    _, _, ref, _ = pair
    assert all(isinstance(a, Delegate) for a in ref.agents)
    assert len(ref.agents) == ref.pop.n


def test_same_meetings(pair):
    _, core_meetings, _, ref_meetings = pair
    assert len(core_meetings) == len(ref_meetings) > 0
    for (fi, a, pos_a), (fj, b, pos_b) in zip(core_meetings, ref_meetings, strict=True):
        assert fi == fj
        np.testing.assert_array_equal(a.idx, b.idx)
        np.testing.assert_array_equal(a.modes, b.modes)  # attendance
        np.testing.assert_array_equal(a.funded, b.funded)
        np.testing.assert_allclose(a.voice, b.voice, rtol=0, atol=TOL)
        np.testing.assert_allclose(a.cost, b.cost, rtol=0, atol=TOL)
        np.testing.assert_allclose(pos_a, pos_b, rtol=0, atol=TOL)  # after deliberation
        np.testing.assert_allclose(a.proposal, b.proposal, rtol=0, atol=TOL)
        np.testing.assert_allclose(a.outcome, b.outcome, rtol=0, atol=TOL)
        np.testing.assert_array_equal(a.adopted, b.adopted)
        np.testing.assert_array_equal(a.objections, b.objections)
        np.testing.assert_array_equal(a.declined, b.declined)


def test_same_state_tables_and_summary(pair):
    core, _, ref, _ = pair
    np.testing.assert_allclose(core.pop.engagement, ref.pop.engagement, rtol=0, atol=TOL)
    np.testing.assert_allclose(core.pop.expertise, ref.pop.expertise, rtol=0, atol=TOL)
    np.testing.assert_allclose(core.pop.budget, ref.pop.budget, rtol=0, atol=TOL)
    np.testing.assert_allclose(core.policy, ref.policy, rtol=0, atol=TOL)
    for name, table in core.tables().items():
        other = ref.tables()[name]
        pd.testing.assert_frame_equal(table, other, check_exact=False, atol=TOL, rtol=0)
    a, b = run_summary(core), run_summary(ref)
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=TOL, rtol=0)


def test_deliberation_moved_and_some_forum_decided(pair):
    """Guard against a vacuous match: positions moved and the meetings did something."""
    core, core_meetings, _, _ = pair
    assert not np.allclose(core.pop.position, core.pop.position0)
    assert any(res.modes.any() for _, res, _ in core_meetings)
    assert any(res.decisional for _, res, _ in core_meetings)
