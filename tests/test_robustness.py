"""Robustness measures and scenario discovery against answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis import robustness as rb
from sim.analysis.discovery import cart_rules, prim_box

# Three designs over four draws of the assumptions; the goal measure is "gap closed"
# (larger is better). Worked by hand:
#   draw   base   A     B
#   0      0.0    0.3   0.1
#   1      0.1    0.2   0.4
#   2      0.0   -0.1   0.2
#   3      0.2    0.5   0.3
OUTCOMES = pd.DataFrame(
    {
        "draw": [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3],
        "design": ["base", "A", "B"] * 4,
        "closed": [0.0, 0.3, 0.1, 0.1, 0.2, 0.4, 0.0, -0.1, 0.2, 0.2, 0.5, 0.3],
        "participation": [0.5, 0.5, 0.4, 0.5, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.55],
    }
)


def test_design_effects_are_paired_by_draw():
    e = rb.design_effects(OUTCOMES, "closed", "base")
    np.testing.assert_allclose(e["A"], [0.3, 0.1, -0.1, 0.3])
    np.testing.assert_allclose(e["B"], [0.1, 0.3, 0.2, 0.1])
    assert (e["base"] == 0).all()


def test_regret_is_the_shortfall_from_the_best_design_in_each_draw():
    r = rb.regret(rb.design_effects(OUTCOMES, "closed", "base"))
    # best per draw: A (0.3), B (0.3), B (0.2), A (0.3)
    np.testing.assert_allclose(r["A"], [0.0, 0.2, 0.3, 0.0])
    np.testing.assert_allclose(r["B"], [0.2, 0.0, 0.0, 0.2])
    np.testing.assert_allclose(r["base"], [0.3, 0.3, 0.2, 0.3])
    assert r["B"].max() < r["A"].max()  # B is the minimax-regret design


def test_satisficing_counts_draws_meeting_the_goal_without_lowering_a_guard():
    e = rb.design_effects(OUTCOMES, "closed", "base")
    guard = rb.design_effects(OUTCOMES, "participation", "base")
    s = rb.satisficing(e, threshold=0.1, guards={"participation": guard})
    # A: effects .3 .1 -.1 .3 -> draws 0,1,3 meet 0.1; participation never lower -> 3/4
    # B: effects .1 .3 .2 .1 -> all meet; participation lower in draw 0 (0.4 < 0.5) -> 3/4
    assert s["A"] == pytest.approx(0.75) and s["B"] == pytest.approx(0.75)
    assert rb.satisficing(e, threshold=0.1)["B"] == pytest.approx(1.0)
    assert s["base"] == 0.0


def test_ranking_counts_who_beats_whom_and_states_ties():
    e = rb.design_effects(OUTCOMES, "closed", "base")
    r = rb.ranking(e)
    assert list(r.index) == ["B", "A", "base"]  # means 0.175, 0.15, 0
    # B - A over 4 draws: -0.2, 0.2, 0.3, -0.2: nothing separates them; both beat base
    # only if their paired interval excludes zero (B: .1 .3 .2 .1 does; A: .3 .1 -.1 .3 not)
    assert r.loc["A", "rank"] == r.loc["B", "rank"] == 1 and bool(r.loc["A", "tied_with_best"])
    assert r.loc["base", "beaten_by"] == "B" and r.loc["base", "rank"] == 2
    clear = pd.DataFrame({"x": np.linspace(1.0, 1.1, 30), "y": np.linspace(0.0, 0.1, 30),
                          "z": np.linspace(0.5, 0.6, 30)})  # fmt: skip
    r2 = rb.ranking(clear)
    assert list(r2["rank"]) == [1, 2, 3] and not r2.loc["z", "tied_with_best"]


def test_prim_recovers_a_planted_box():
    rng = np.random.default_rng(7)
    n = 3000
    x = pd.DataFrame(rng.uniform(0, 1, (n, 4)), columns=["polarization", "cost", "noise", "z"])
    planted = (x["polarization"].between(0.2, 0.6)) & (x["cost"] > 0.7)
    flip = rng.uniform(size=n) < 0.03  # 3% label noise
    y = (planted ^ flip).to_numpy()
    box = prim_box(x, y, min_coverage=0.8)
    assert set(box.limits.index) == {"polarization", "cost"}  # noise and z are left free
    assert box.limits.loc["polarization", "low"] == pytest.approx(0.2, abs=0.05)
    assert box.limits.loc["polarization", "high"] == pytest.approx(0.6, abs=0.05)
    assert box.limits.loc["cost", "low"] == pytest.approx(0.7, abs=0.05)
    assert box.coverage >= 0.8 and box.density >= 0.8
    inside = box.contains(x)
    assert y[inside].mean() == pytest.approx(box.density, abs=1e-9)
    assert "polarization" in cart_rules(x, y)


def test_prim_refuses_when_nothing_is_of_interest():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    with pytest.raises(ValueError, match="no case of interest"):
        prim_box(x, np.zeros(50, bool))
