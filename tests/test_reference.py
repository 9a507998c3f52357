"""The per-agent reference (benchmarks/reference.py) and the vectorized core agree.

Both models run the same config and seed; the reference decides every meeting
agent by agent (Mesa ``shuffle_do``) and draws the same random numbers, so
attendance modes, voice shares, positions after deliberation, proposals,
adoption, all tables and the run's summary metrics must agree to 1e-9.

The core's fast paths for Hegselmann–Krause (all agenda issues in one pass; the
sorted numpy path for many speakers; the compiled numba kernel for large
meetings) must agree with the plain per-issue computation, and a whole run with
the compiled kernel must equal one with numpy only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model import GovernanceModel
from sim.model.forums import deliberation
from sim.model.summary import run_summary
from tests.conftest import small

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reference import Delegate, ReferenceModel  # noqa: E402

TOL = 1e-9

# The reference decides per item with the pre-issue-14 rules; texts as packages, blocs and
# the chain of authority have their own known-answer tests (tests/test_negotiation.py).
PER_ITEM = [
    "forum.cstd.decision=consensus",
    "forum.cstd.voice=capacity",
    "forum.cstd.blocs=[]",
    "~forum.ecosoc",
    "~forum.unga",
    "~links.cstd_to_ecosoc",
    "~links.ecosoc_to_unga",
]
VARIANTS = {
    "status_quo": PER_ITEM,
    "other_rules": [
        *PER_ITEM,
        "seed=3",
        "forum.igf.voice=equal_per_group",
        "forum.cstd.decision=rough_consensus",
        "forum.cstd.threshold=0.2",
        "forum.gac.decision=majority",
        "forum.gac.attendance=best_response",
        "forum.cstd.voice=equal",
        "behaviour.remote_cost_trend=-0.2",  # calendar time: the remote cost falls a year
        "first_year=2008",
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
    _assert_same_meetings(core_meetings, ref_meetings)


def _assert_same_meetings(core_meetings, ref_meetings):
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
    _assert_same_state(core, ref)


def _assert_same_state(core, ref):
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


@pytest.mark.slow
def test_reference_agrees_at_a_large_configuration(monkeypatch):
    """The core and the reference agree to 1e-9 with 9,000 extra actors (one year): the
    IGF then has more than ``COMPILED_MIN`` attendees, so the core deliberates with the
    compiled kernel and its large-meeting paths (grants, short-row sums) are the ones
    checked; the reference still decides agent by agent (2-3 minutes here)."""
    cfg = ["population.extra_actors=9000", *PER_ITEM]
    used = []
    compiled = deliberation._hk_compiled
    monkeypatch.setattr(
        deliberation, "_hk_compiled", lambda *a: (used.append(a[0].shape), compiled(*a))[1]
    )
    core = GovernanceModel(config=small(years=1, overrides=cfg))
    core_meetings = _run_with_meetings(core)
    if deliberation.compiled_kernel() is not None:
        assert used  # the compiled kernel did run
    ref = ReferenceModel(config=small(years=1, overrides=cfg))
    ref_meetings = _run_with_meetings(ref)
    assert max(len(res.idx) for _, res, _ in core_meetings) > 9000
    _assert_same_meetings(core_meetings, ref_meetings)
    _assert_same_state(core, ref)


# ----- the core's fast deliberation paths -------------------------------------------------
def _hk_per_issue(x, weight, stubbornness, eps, rounds):
    """Hegselmann–Krause one issue (row) at a time with :func:`neighbour_means` (the plain path)."""
    out = []
    speak = weight > 0
    for row in x:
        for _ in range(rounds):
            m = deliberation.neighbour_means(row, row[speak], weight[speak], eps)
            row = stubbornness * row + (1.0 - stubbornness) * np.where(np.isnan(m), row, m)
        out.append(row)
    return np.array(out)


def _hk_case(n, k, speak_share, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((k, n))
    x[:, : n // 10] = np.round(x[:, : n // 10], 2)  # ties
    weight = rng.random(n) * (rng.random(n) < speak_share)
    return x, weight, 0.6 * rng.random(n)


@pytest.mark.parametrize(("n", "k", "speak_share"), [(40, 1, 0.5), (500, 5, 0.3), (3000, 3, 1.0)])
def test_all_issues_in_one_pass_equals_per_issue(n, k, speak_share):
    x, weight, stubbornness = _hk_case(n, k, speak_share, seed=n)
    want = _hk_per_issue(x, weight, stubbornness, 0.15, 3)
    got = deliberation._hk_rows(x, weight, stubbornness, 0.15, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    sorted_path = [deliberation._hk_sorted(r, weight, stubbornness, 0.15, 3) for r in x]
    np.testing.assert_allclose(np.array(sorted_path), want, rtol=0, atol=1e-12)
    rule = deliberation.hegselmann_krause  # 2-D (issues x attendees) and 1-D calls agree
    np.testing.assert_array_equal(rule(x, weight, stubbornness, 0.15, 3)[0],
                                  rule(x[0], weight, stubbornness, 0.15, 3))  # fmt: skip


@pytest.mark.parametrize(
    ("n", "k", "speak_share"), [(300, 2, 0.4), (6000, 3, 1.0), (8000, 2, 0.01)]
)
def test_compiled_kernel_equals_numpy(n, k, speak_share):
    pytest.importorskip("numba")
    kernel = deliberation.compiled_kernel()
    if kernel is None:
        pytest.skip("compiled kernel disabled (GOVSIM_NO_NUMBA)")
    x, weight, stubbornness = _hk_case(n, k, speak_share, seed=n + 1)
    want = _hk_per_issue(x, weight, stubbornness, 0.2, 4)
    got = deliberation._hk_compiled(x, weight, stubbornness, 0.2, 4, kernel)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_run_with_compiled_kernel_equals_numpy_only(monkeypatch):
    """A run whose IGF is large enough for the compiled kernel equals a numpy-only run."""
    pytest.importorskip("numba")
    if deliberation.compiled_kernel() is None:
        pytest.skip("compiled kernel disabled (GOVSIM_NO_NUMBA)")
    cfg = ["population.extra_actors=9000"]
    used = []
    compiled = deliberation._hk_compiled
    monkeypatch.setattr(
        deliberation, "_hk_compiled", lambda *a: (used.append(a[0].shape), compiled(*a))[1]
    )
    fast = GovernanceModel(config=small(years=1, overrides=cfg)).run()
    assert used  # the compiled kernel did run
    monkeypatch.setattr(deliberation, "_kernel", False)  # numpy paths only
    slow = GovernanceModel(config=small(years=1, overrides=cfg)).run()
    np.testing.assert_allclose(fast.pop.position, slow.pop.position, rtol=0, atol=1e-12)
    for name, table in fast.tables().items():
        pd.testing.assert_frame_equal(table, slow.tables()[name], check_exact=False, atol=1e-12)
