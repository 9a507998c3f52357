"""Simple games: swing counts and Banzhaf indices of decision chains, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import games, power


def test_a_veto_players_banzhaf_index_is_its_swing_count_over_all_swings():
    # a board of three deciding by majority (2 of 3), then a veto player V
    game = games.SimpleGame(
        ("b1", "b2", "b3", "V"),
        lambda m: games.quota_vote(m[:, :3], 2) & m[:, 3],
    )
    # V swings for every coalition of the board with >= 2 members: C(3,2) + C(3,3) = 4;
    # a director swings when V and exactly one other director are in: 2 coalitions
    np.testing.assert_array_equal(games.swing_counts(game), [2, 2, 2, 4])
    np.testing.assert_allclose(games.banzhaf(game), [0.2, 0.2, 0.2, 0.4])


def test_a_plain_majority_agrees_with_the_weighted_game_code():
    n, q = 9, 5
    game = games.SimpleGame(tuple(map(str, range(n))), lambda m: games.quota_vote(m, q))
    np.testing.assert_allclose(games.banzhaf(game), power.banzhaf(np.ones(n), q).values)


def test_majority_quota_is_more_than_half_and_at_least_the_share():
    assert games.majority_quota(16) == 9
    assert games.majority_quota(16, 0.6) == 10
    assert games.majority_quota(16, 0.75) == 12


def test_games_refuse_too_many_players():
    with pytest.raises(ValueError, match="1 to 24 players"):
        games.coalitions(25)
