"""The IANA chain before and after 2016: veto player, Empowered Community, power indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.model.config import ForumConfig
from sim.model.forums.board import board_table
from sim.model.forums.oversight import blocked, iana_game, iana_power_table
from sim.model.games import banzhaf, swing_counts
from sim.model.model import GovernanceModel

THREE = pd.DataFrame({"seat": ["a"], "directors": [3]})


def test_veto_player_banzhaf_is_its_swings_over_all_swings():
    """Board of three deciding by majority (2 of 3) and a veto player: the veto player
    swings in each of the 4 winning board coalitions; a director swings when exactly one
    other director and the veto player are in (2 each). Banzhaf = 4 / (4 + 3 × 2) = 0.4."""
    game = iana_game(THREE, "pre2016")
    eta = swing_counts(game)
    assert eta.tolist() == [2, 2, 2, 4]
    assert banzhaf(game)[-1] == pytest.approx(eta[-1] / eta.sum()) == pytest.approx(0.4)


def test_icann_chain_before_and_after():
    table = iana_power_table(board_table("icann"))
    # the NTIA swings in every board majority: sum_{k=9}^{16} C(16, k) = 26333
    assert table.loc["US government (NTIA)", "swings_pre2016"] == 26333
    assert table.loc["US government (NTIA)", "post2016"] == 0
    assert table["pre2016"].sum() == pytest.approx(1) == table["post2016"].sum()
    ec = table.loc[table.index.str.startswith("EC: "), "post2016"]
    assert len(ec) == 5 and (ec > 0).all()
    # one government alone outweighs the whole community afterwards
    assert table.loc["US government (NTIA)", "pre2016"] > ec.sum()
    # with the GAC carve-out the GAC is gone and the other four share more
    carve = iana_power_table(board_table("icann"), gac_carveout=True)
    assert "EC: GAC" not in carve.index or carve.loc["EC: GAC", "post2016"] == 0
    assert carve.loc["EC: ASO", "post2016"] > table.loc["EC: ASO", "post2016"]


def test_blocking_rules_known_answers():
    q, a = np.array([0.0]), np.array([1.0])  # status quo and outcome
    against, happy = [[0.0]], [[1.0]]  # positions: loses 1 from the outcome / gains 1
    veto = ForumConfig(oversight="government_veto", oversight_tolerance=0.05)
    assert blocked(np.array(against), np.ones((1, 1)), a, q, veto).tolist() == [True]
    assert blocked(np.array(happy), np.ones((1, 1)), a, q, veto).tolist() == [False]
    ec = ForumConfig(oversight="empowered_community", oversight_tolerance=0.05,
                     oversight_support=3, oversight_max_objecting=1)  # fmt: skip
    for n_against, n_for, expect in [(3, 1, True), (3, 2, False), (2, 0, False), (4, 0, True)]:
        pos = np.array(against * n_against + happy * n_for)
        assert blocked(pos, np.ones_like(pos), a, q, ec).tolist() == [expect]


@pytest.mark.parametrize("scenario", ["iana_pre2016", "iana_post2016"])
def test_iana_scenarios_run_and_are_deterministic(scenario):
    runs = []
    for _ in range(2):
        m = GovernanceModel(scenario, ["seed=1"], years=2)
        m.run()
        runs.append(m.policy.copy())
        gac = m.forum_names.index("gac")
        assert len(m.boards[gac]) == 4  # board and the overseers
        assert len(m.boards[gac][2]) == (1 if scenario == "iana_pre2016" else 4)
    np.testing.assert_array_equal(*runs)
