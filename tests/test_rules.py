"""Forum rules with known consequences: deliberation, voice, decisions, support, membership."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ConfigError
from sim.model import GovernanceModel
from sim.model.compose import load_config
from sim.model.config import GROUPS, BehaviourConfig, ForumConfig, LinkConfig
from sim.model.forums import (
    LINK_KINDS,
    LINKS,
    RULE_INFO,
    RULE_KINDS,
    RULES,
    VotingGame,
    describe,
    meeting_order,
    register,
    resolve_links,
    rule,
    rule_table,
    unregister,
)
from sim.model.forums.decision import MAJORITY_GAME, compromise_proposal
from sim.model.forums.deliberation import hegselmann_krause, neighbour_means
from sim.model.forums.membership import MEMBER, weighted_sample
from sim.model.summary import run_summary
from tests.conftest import small


def test_registry_lists_valid_names_on_a_wrong_one():
    with pytest.raises(KeyError, match="valid: .*consensus.*majority"):
        rule("decision", "vote")
    assert {"consensus", "majority", "rough_consensus", "none"} <= set(RULES["decision"])


# ----- deliberation -----------------------------------------------------------------
def test_neighbour_means_matches_brute_force():
    rng = np.random.default_rng(0)
    x, w = rng.random(300), rng.random(300) + 0.1
    eps = 0.07
    got = neighbour_means(x, x, w, eps)
    near = np.abs(x[:, None] - x[None, :]) <= eps
    want = (near * w * x).sum(1) / (near * w).sum(1)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_hk_wide_bound_reaches_consensus():
    x = np.linspace(0, 1, 101)
    out = hegselmann_krause(x, np.ones_like(x), np.zeros_like(x), confidence=0.6, rounds=30)
    assert np.ptp(out) < 1e-9
    assert out[0] == pytest.approx(0.5, abs=2e-3)  # window edges fall on grid points


def test_hk_narrow_bound_splits_into_clusters():
    x = np.linspace(0, 1, 101)
    out = hegselmann_krause(x, np.ones_like(x), np.zeros_like(x), confidence=0.1, rounds=60)
    clusters = np.unique(np.round(out, 6))
    assert 2 <= len(clusters) <= 8  # ~1/(2ε) clusters (Hegselmann & Krause 2002)
    assert np.ptp(out) > 0.5


def test_hk_fully_stubborn_do_not_move_and_silent_do_not_pull():
    x = np.array([0.1, 0.2, 0.9])
    out = hegselmann_krause(x, np.array([1.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), 1.0, 1)
    assert out[0] == 0.1  # stubbornness 1
    assert out[1] == pytest.approx(0.15)  # mean of the two speakers
    assert out[2] == pytest.approx(0.15)  # listens, has no voice


# ----- voice ------------------------------------------------------------------------
@given(
    st.lists(
        st.tuples(
            st.floats(0.5, 50),
            st.floats(0.05, 1),
            st.integers(0, 4),
            st.sampled_from([0.0, 0.3, 1.0]),
        ),
        min_size=1,
        max_size=60,
    )
)
@settings(max_examples=80, deadline=None)
def test_voice_rules_give_shares_that_sum_to_one(rows):
    cap, exp, stake, present = (np.array(c) for c in zip(*rows, strict=True))
    for name in RULES["voice"]:
        w = rule("voice", name)(cap, exp, present, stake)
        assert (w >= 0).all()
        if present.sum() > 0:
            assert (w / w.sum()).sum() == pytest.approx(1.0)
        assert (w[present == 0] == 0).all()


def test_equal_per_group_gives_each_group_present_the_same_total():
    stake = np.array([0, 0, 0, 0, 1, 2, 2, 3])
    w = rule("voice", "equal_per_group")(np.ones(8), np.ones(8), np.ones(8), stake)
    totals = np.bincount(stake, weights=w / w.sum())
    np.testing.assert_allclose(totals, 0.25)


# ----- decisions --------------------------------------------------------------------
def test_compromise_model_known_example():
    # two members: capability 3 and 1, salience 1 and 1 -> mean weighted 3:1
    p = compromise_proposal(np.array([[0.0], [1.0]]), np.array([3.0, 1.0]), np.ones((2, 1)))
    assert p[0] == pytest.approx(0.25)
    # salience weights too: capability 1 and 1, salience 0.2 and 0.8
    p = compromise_proposal(np.array([[0.0], [1.0]]), np.ones(2), np.array([[0.2], [0.8]]))
    assert p[0] == pytest.approx(0.8)


NO_RESERVATION = BehaviourConfig(objection_tolerance=0.0, concession_step=0.25, reservation=9.0)


def _decide(name, positions, proposal, status_quo, **forum):
    f = ForumConfig(decision=name, concession_rounds=0, **forum)
    x = np.array(positions, float)[:, None]
    return rule("decision", name)(
        x,
        np.ones(len(x)),
        np.ones_like(x),
        np.array([proposal]),
        np.array([status_quo]),
        f,
        NO_RESERVATION,
    )


def test_single_objector_blocks_consensus():
    assert _decide("consensus", [0.5, 0.55, 0.6], 0.55, 0.0).adopted[0]
    out = _decide("consensus", [0.5, 0.55, 0.6, 0.0], 0.55, 0.0)
    assert not out.adopted[0] and out.objections[0] == 1
    # two objections needed to block: one objector no longer blocks
    assert _decide("consensus", [0.5, 0.55, 0.6, 0.0], 0.55, 0.0, blocking_objections=2).adopted[0]


def test_majority_thresholds():
    # 3 of 5 prefer the proposal: passes a simple majority, fails 2/3
    pos = [0.9, 0.8, 0.7, 0.1, 0.0]
    assert _decide("majority", pos, 0.8, 0.1, threshold=0.5).adopted[0]
    assert not _decide("majority", pos, 0.8, 0.1, threshold=2 / 3).adopted[0]
    # a tie is not a majority
    assert not _decide("majority", [0.9, 0.0], 0.8, 0.1, threshold=0.5).adopted[0]


def test_rough_consensus_tolerates_a_small_minority():
    pos = [0.6] * 19 + [0.0]
    assert _decide("rough_consensus", pos, 0.6, 0.0, threshold=0.1).adopted[0]
    assert not _decide("rough_consensus", pos[:10] + [0.0] * 3, 0.6, 0.0, threshold=0.1).adopted[0]


def test_concessions_move_proposal_toward_objectors_until_accepted():
    f = ForumConfig(decision="consensus", concession_rounds=10)
    x = np.array([[0.9], [0.8], [0.3]])
    d = rule("decision", "consensus")(
        x, np.ones(3), np.ones_like(x), np.array([0.8]), np.array([0.2]), f, NO_RESERVATION
    )
    assert d.adopted[0]
    assert d.outcome[0] < 0.8  # it moved toward the objector at 0.3


def test_board_declines_only_at_or_above_the_supermajority():
    f = ForumConfig(supermajority=0.6, board_deference=0.0)
    board_review = rule("ratification", "board")
    # 10 directors; advice 0.8, status quo 0.2; directors at 0.1 prefer the status quo
    for against, declined in [(5, False), (6, True), (7, True)]:
        pos = np.array([0.1] * against + [0.9] * (10 - against))[:, None]
        adopted, dec = board_review(
            np.array([True]), np.array([0.8]), np.array([0.2]), pos, np.ones_like(pos), f
        )
        assert dec[0] == declined and adopted[0] == (not declined)
    f_old = ForumConfig(supermajority=0.5, board_deference=0.0)  # before 2016
    pos = np.array([0.1] * 5 + [0.9] * 5)[:, None]
    _, dec = board_review(
        np.array([True]), np.array([0.8]), np.array([0.2]), pos, np.ones_like(pos), f_old
    )
    assert dec[0]


# ----- support and sampling ---------------------------------------------------------
def test_funded_slots_follow_gac_priority(status_quo):
    from sim.model.config import GROUPS
    from sim.model.forums.attendance import funded_slots
    from sim.model.population import build_population

    pop = build_population(status_quo, 3, np.random.default_rng(0))
    idx = np.flatnonzero(pop.group <= 1)  # governments
    roles = np.full(len(idx), 3, np.int8)
    f = ForumConfig(funded_slots=35, support_groups=["developing_gov"])
    funded = funded_slots(pop, idx, roles, f)
    assert funded.sum() == 35
    developing = pop.group[idx] == GROUPS.index("developing_gov")
    sids, ldc = pop.sids[idx] & developing, pop.ldc[idx] & developing
    # the developing SIDS come first (fewer than 35 of them), then LDCs fill the rest
    assert 0 < sids.sum() < 35
    assert funded[sids].all()
    assert (sids | ldc)[funded].all()
    assert not funded[~developing].any()


def test_weighted_sample_without_replacement_prefers_heavy_items():
    rng = np.random.default_rng(1)
    w = np.array([1.0] * 10 + [100.0])
    hits = sum(10 in weighted_sample(w, 1, rng) for _ in range(2000))
    assert hits / 2000 == pytest.approx(100 / 110, abs=0.03)
    picks = weighted_sample(np.ones(20), 20, rng)
    assert sorted(picks) == list(range(20))


def test_a_proposal_beyond_a_members_reservation_is_objected_to():
    b = BehaviourConfig(objection_tolerance=0.0, concession_step=0.25, reservation=0.3)
    f = ForumConfig(decision="consensus", concession_rounds=0)
    x = np.array([[0.9], [0.2]])
    # proposal 0.3 improves on the status quo 0.1 for both, but is 0.6 from the member at 0.9
    d = rule("decision", "consensus")(
        x, np.ones(2), np.ones_like(x), np.array([0.3]), np.array([0.1]), f, b
    )
    assert not d.adopted[0] and d.objections[0] == 1


# ----- rules describe themselves ---------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def test_every_rule_describes_itself():
    fields = {f.name for f in dataclasses.fields(ForumConfig)}
    for kind in RULE_KINDS:
        assert RULES[kind], kind
        for name, fn in RULES[kind].items():
            info = describe(kind, name)
            assert info.function is fn and (info.kind, info.name) == (kind, name)
            assert info.description and info.source, (kind, name)
            assert set(info.params) <= fields
            if kind not in ("decision", "ratification"):
                assert info.decides and info.game is None


def test_registration_rejects_unknown_fields_duplicates_and_games_without_decisions():
    fn = RULES["decision"]["majority"]
    with pytest.raises(ValueError, match="unknown ForumConfig fields"):
        register("decision", "x", source="s", params=("no_such_field",))(fn)
    with pytest.raises(ValueError, match="already registered"):
        register("decision", "majority", source="s")(lambda *a: None)
    with pytest.raises(ValueError, match="no voting game"):
        register("decision", "x", source="s", decides=False, game=MAJORITY_GAME)(fn)
    with pytest.raises(ValueError, match="voters"):
        VotingGame(voters="everyone", quota=lambda n, f: n, formula="n")
    assert "x" not in RULES["decision"]


def test_quotas_of_the_builtin_games():
    """Known answers: unanimity, two blocking objections, rough consensus, majorities, board."""
    game = lambda kind, name: describe(kind, name).game  # noqa: E731
    consensus, rough = game("decision", "consensus"), game("decision", "rough_consensus")
    majority, board = game("decision", "majority"), game("ratification", "board")
    assert consensus.quota(43, ForumConfig()) == 43  # a single objection blocks: a veto each
    assert consensus.quota(43, ForumConfig(blocking_objections=2)) == 42
    assert rough.quota(10, ForumConfig(threshold=0.1)) == 9
    assert rough.quota(553, ForumConfig(threshold=0.1)) == 553 - 55
    assert majority.quota(43, ForumConfig(threshold=0.5)) == 22
    assert majority.quota(42, ForumConfig(threshold=0.5)) == 22  # a tie is not a majority
    assert majority.quota(43, ForumConfig(threshold=2 / 3)) == 29
    assert board.quota(16, ForumConfig(supermajority=0.6)) == 10  # ICANN: 60% to decline
    assert board.voters == "board" and majority.share == "threshold"
    assert describe("decision", "none").game is None and not describe("decision", "none").decides


@pytest.mark.parametrize(
    "forum",
    [
        ForumConfig(concession_rounds=0, threshold=t, blocking_objections=b)
        for t, b in [(0.5, 1), (2 / 3, 2), (0.1, 1), (0.3, 3)]
    ],  # fmt: skip
)
def test_every_voting_game_is_the_rule_it_describes(forum):
    """For every registered decision rule with a members' game: with y of m members for the
    proposal (at 1, status quo 0) and the rest against (at 0), the rule adopts exactly when
    y reaches the game's quota; a rule that does not decide never adopts."""
    b = BehaviourConfig(objection_tolerance=0.05, reservation=10.0)
    for name, info in RULE_INFO["decision"].items():
        for m in (1, 5, 12):
            for y in range(m + 1):
                pos = np.array([1.0] * y + [0.0] * (m - y))[:, None]
                d = info.function(
                    pos, np.ones(m), np.ones_like(pos), np.array([1.0]), np.array([0.0]), forum, b
                )
                if not info.decides:
                    assert not d.adopted.any(), name
                elif info.game is not None and info.game.voters == "members":
                    assert d.adopted[0] == (y >= info.game.quota(m, forum)), (name, m, y)


def test_the_board_game_is_the_ratification_rule():
    f = ForumConfig(supermajority=0.6, board_deference=0.0)
    info = describe("ratification", "board")
    for b in (5, 16):
        for against in range(b + 1):
            pos = np.array([0.0] * against + [1.0] * (b - against))[:, None]
            _, declined = info.function(
                np.array([True]), np.array([1.0]), np.array([0.0]), pos, np.ones_like(pos), f
            )
            assert declined[0] == (against >= info.game.quota(b, f))


def test_rule_table_in_the_odd_is_the_registry():
    """docs/ODD.md carries the table forums.rule_table() prints (regenerate it after a change)."""
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    table = text.split("<!-- rule-table:start -->\n")[1].split("\n<!-- rule-table:end -->")[0]
    assert table == rule_table()


def test_link_effects_are_defined_once():
    """Each link kind's effect on its target, through resolve_links and ForumLinks' methods."""
    forums = {"igf": ForumConfig(authority=0.2), "cstd": ForumConfig(authority=0.8)}
    links = {
        "messages": LinkConfig(kind="feeds", source="igf", target="cstd", weight=0.4),
        "agencies": LinkConfig(kind="reports_to", target="cstd", weight=0.5),
        "more_reports": LinkConfig(kind="reports_to", target="cstd", weight=0.6),
        "resolution": LinkConfig(kind="mandate", target="cstd", weight=0.3),
    }
    igf, cstd = resolve_links(forums, links)
    assert (igf.authority, igf.binding, igf.feeds, igf.subsidy) == (0.2, False, [], 0.0)
    assert cstd.feeds == [(0, 0.4)] and cstd.subsidy == 0.9  # capped
    assert cstd.authority == 1.0 and not cstd.binding  # capped at 1; never binding (issue 14)
    assert meeting_order({"cstd": forums["cstd"], "igf": forums["igf"]}, links) == [1, 0]
    np.testing.assert_allclose(cstd.cost_factor(np.array([True, False])), [0.1, 1.0])
    np.testing.assert_allclose(cstd.expertise_bonus(0.05, np.array([True, False])), [0.045, 0])
    assert cstd.policy_weight(0.5) == 0.5 and igf.policy_weight(0.5) == pytest.approx(0.1)
    messages = np.array([[0.9, np.nan], [np.nan, np.nan]])
    pulled = cstd.pull_toward_feeds(np.array([0.5, 0.5]), messages, np.array([0, 1]))
    np.testing.assert_allclose(pulled, [0.6 * 0.5 + 0.4 * 0.9, 0.5])  # unknown message: no pull
    assert set(LINKS) == set(LINK_KINDS) and all(k.description and k.source for k in LINKS.values())


def _worked_example() -> str:
    """The Python block after the ``worked-example`` marker in docs/extending.md."""
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    after = text.split("<!-- worked-example -->")[1]
    return after.split("```python\n")[1].split("```")[0]


def test_worked_example_runs_from_yaml_to_power_and_dashboard():
    """The docs' toy rule, registered as written: valid from YAML, run, power from its game,
    offered on the dashboard; unregistered afterwards (then invalid again)."""
    namespace: dict = {}
    exec(compile(_worked_example(), "docs/extending.md", "exec"), namespace)  # noqa: S102
    try:
        info = describe("decision", "qualified_majority")
        assert info.decides and info.game.quota(43, ForumConfig()) == 29
        cfg = small(years=2, overrides=["forum.cstd.decision=qualified_majority"])
        assert cfg.forum["cstd"].decision == "qualified_majority"
        model = GovernanceModel(config=cfg, rng=5).run()
        meetings = model.tables()["meetings"]
        assert meetings.loc[meetings["forum"] == "cstd", "decisional"].all()
        s = run_summary(model)
        fi = model.forum_names.index("cstd")
        members = model.pop.group[model.roles(fi) == MEMBER]
        for metric in ("banzhaf_power", "shapley_shubik_power"):
            power = s[(s["metric"] == metric) & (s["forum"] == "cstd")].set_index("group")
            assert power["value"].sum() == pytest.approx(1.0)
            for g, name in enumerate(GROUPS):
                want = np.mean(members == g)  # one vote each: a group's share of the seats
                got = power["value"].get(name, 0.0)
                assert got == pytest.approx(want), (metric, name)
        # the IGF decides nothing, so it has no game and no power rows
        assert s[(s["metric"] == "banzhaf_power") & (s["forum"] == "igf")].empty
        app = pytest.importorskip("sim.present.dashboard_data")
        assert "qualified_majority" in app.decision_rules()
        base = load_config("status_quo")
        assert app.lever_overrides(base, "cstd", "qualified_majority", threshold=0.9) == [
            "forum.cstd.decision=qualified_majority"
        ]  # no share field: the supermajority lever does not apply
    finally:
        unregister("decision", "qualified_majority")
    with pytest.raises(ConfigError, match="qualified_majority.*choose one of"):
        load_config("status_quo", ["forum.cstd.decision=qualified_majority"])


def test_four_microphones_known_shares():
    """NetMundial 2014: four microphones (governments and IGOs share one) and two remote
    slots in a round of six; a microphone's turns are shared by those queueing at it."""
    # 3 governments, 1 IGO, 2 business, 1 civil society, 1 technical onsite; 2 remote (CS, tech)
    stake = np.array([0, 0, 0, 4, 1, 1, 2, 3, 2, 3])
    remote = np.array([False] * 8 + [True] * 2)
    w = rule("voice", "microphones")(np.ones(10), np.ones(10), np.ones(10), stake, remote=remote)
    share = w / w.sum()
    np.testing.assert_allclose(share[:4].sum(), 1 / 6)  # governments + IGOs: one microphone
    np.testing.assert_allclose(share[3], 1 / 24)  # the IGO: one of four at that microphone
    np.testing.assert_allclose(share[4:6], 1 / 12)  # two business speakers share one
    np.testing.assert_allclose(share[6:8], 1 / 6)
    np.testing.assert_allclose(share[8:], 1 / 6)  # two remote slots of six, shared by two
    # without remote participants the four microphones split the floor
    w = rule("voice", "microphones")(np.ones(8), np.ones(8), np.ones(8), stake[:8])
    np.testing.assert_allclose(np.bincount([0, 0, 0, 0, 1, 1, 2, 3], w / w.sum()), 0.25)
