"""How texts get agreed (issue 14): packages, blocs, the chain of authority, mandates, the
design effect. Known answers first, then invariants, then whole-model behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import ConfigError
from sim.model.compose import load_config
from sim.model.config import BehaviourConfig, ForumConfig, LinkConfig
from sim.model.forums import rule
from sim.model.forums.blocs import add_statements, bloc_members, bloc_of, coordinate
from sim.model.forums.decision import package_objecting
from sim.model.model import GovernanceModel
from sim.model.summary import run_summary, scalar
from sim.model.validate import validate
from sim.studies.stats import design_effect

B = BehaviourConfig(objection_tolerance=0.0, concession_step=0.25, reservation=9.0)


def decide(name, position, salience, proposal, status_quo, behaviour=B, context=None, **forum):
    forum.setdefault("concession_rounds", 0)
    f = ForumConfig(decision=name, **forum)
    position, salience = np.asarray(position, float), np.asarray(salience, float)
    return rule("decision", name)(
        position,
        np.ones(len(position)),
        salience,
        np.asarray(proposal, float),
        np.asarray(status_quo, float),
        f,
        behaviour,
        **(context or {}),
    )


# ----- packages: known answers ----------------------------------------------------------
# Member 0 loses 0.1 on item 0 but gains 0.3 on item 1; member 1 gains on both. Item by
# item, member 0 blocks item 0; as a package (issue linkage) it accepts.
LINKED = dict(
    position=[[0.0, 1.0], [1.0, 1.0]],
    salience=[[1.0, 1.0], [1.0, 1.0]],
    proposal=[0.1, 0.4],
    status_quo=[0.0, 0.1],
)


def test_a_package_passes_where_item_by_item_fails():
    items = decide("consensus", **LINKED)
    assert items.adopted.tolist() == [False, True]  # member 0 objects to item 0
    text = decide("package_consensus", **LINKED)
    assert text.text_adopted and text.adopted.tolist() == [True, True]  # -0.1 + 0.3 > 0
    np.testing.assert_allclose(text.outcome, [0.1, 0.4])


# Item 0 pleases everyone; item 1 costs member 0 more than item 0 gives it.
SPLIT = dict(
    position=[[1.0, 0.0], [1.0, 1.0]],
    salience=[[0.2, 1.0], [1.0, 1.0]],
    proposal=[0.5, 0.5],
    status_quo=[0.0, 0.0],
)


def test_item_by_item_passes_where_the_package_fails_and_the_chair_annexes_it():
    items = decide("consensus", **SPLIT)
    assert items.adopted.tolist() == [True, False]
    text = decide("package_consensus", **SPLIT)
    assert not text.text_adopted and not text.adopted.any()
    assert text.annex.tolist() == [True, True]  # the chair's non-binding summary
    assert text.objections.tolist() == [1, 1]


def test_the_chair_drops_a_contested_item_unless_the_mandate_requires_it():
    dropped = decide("package_consensus", **SPLIT, package_drop=True)
    assert dropped.text_adopted and dropped.adopted.tolist() == [True, False]
    assert dropped.annex.tolist() == [False, True]
    required = decide(
        "package_consensus", **SPLIT, package_drop=True, context={"required": [False, True]}
    )
    assert not required.text_adopted and not required.adopted.any()


def test_a_red_line_on_one_item_sinks_the_whole_text():
    b = BehaviourConfig(objection_tolerance=0.0, concession_step=0.25, reservation=0.3)
    # member 0 gains overall but item 1 is 0.5 away from it with salience 1 (> 0.3)
    d = decide("package_consensus", [[1.0, 1.0]], [[1.0, 1.0]], [1.0, 0.5], [0.0, 0.2], b)
    assert not d.text_adopted


def test_a_requested_vote_adopts_what_consensus_could_not():
    three = dict(
        position=[[1.0], [1.0], [0.0]], salience=[[1.0]] * 3, proposal=[0.6], status_quo=[0.0]
    )
    never = decide(
        "package_consensus_or_vote", **three, vote_request=0.0,
        context={"rng": np.random.default_rng(0)},
    )  # fmt: skip
    assert not never.text_adopted and not never.voted
    always = decide(
        "package_consensus_or_vote", **three, vote_request=1.0,
        context={"rng": np.random.default_rng(0)},
    )  # fmt: skip
    assert always.voted and always.text_adopted and always.adopted.tolist() == [True]
    # a bloc row casting two votes against outvotes two single members for
    bloc = decide(
        "package_consensus_or_vote", **three, vote_request=1.0,
        context={"rng": np.random.default_rng(0), "votes": np.array([1.0, 1.0, 3.0])},
    )  # fmt: skip
    assert bloc.voted and not bloc.text_adopted


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7),
    st.integers(1, 4),
    st.integers(0, 3),
    st.booleans(),
    st.integers(0, 10**6),
)
def test_an_adopted_package_has_no_objector(m, k, rounds, drop, seed):
    """Invariant: under a single-objection rule, nobody objects to an adopted text, and an
    adopted text is adopted on every item left in it (all or nothing)."""
    rng = np.random.default_rng(seed)
    pos, sal = rng.random((m, k)), rng.random((m, k))
    prop, sq = rng.random(k), rng.random(k)
    b = BehaviourConfig(objection_tolerance=0.05, concession_step=0.25, reservation=0.3)
    d = decide(
        "package_consensus", pos, sal, prop, sq, b, concession_rounds=rounds, package_drop=drop
    )
    if d.text_adopted:
        obj = package_objecting(pos, sal, d.outcome, sq, d.adopted, 0.05, 0.3)
        assert not obj.any()
        assert d.adopted.any()
    else:
        assert not d.adopted.any()
    assert not (d.adopted & d.annex).any()


# ----- blocs ----------------------------------------------------------------------------
def test_bloc_lists_match_their_sources():
    blocs = bloc_members()
    assert len(blocs["G77"]) == 133 and len(blocs["EU"]) == 27 and len(blocs["African Group"]) == 54
    assert "CHN" in blocs["G77"] and "USA" not in blocs["G77"] and "FRA" in blocs["EU"]
    codes = bloc_of(np.array(["KEN", "FRA", "USA", "KEN"]), ["African Group", "G77", "EU"])
    assert codes.tolist() == [0, 2, -1, 0]  # the first listed bloc wins
    assert bloc_of(np.array(["KEN"]), ["G77", "African Group"]).tolist() == [0]


def test_bloc_coordination_moves_members_to_the_common_position():
    pos = np.array([[0.2], [0.6], [0.9]])
    sal, w = np.ones((3, 1)), np.ones(3)
    bloc = np.array([0, 0, -1])
    each = coordinate(pos, w, sal, bloc, 1, cohesion=0.5, objection="each")
    np.testing.assert_allclose(each[0].ravel(), [0.3, 0.5, 0.9])
    np.testing.assert_allclose(each[4].ravel(), [0.4])
    one = coordinate(pos, w, sal, bloc, 1, cohesion=0.5, objection="one")
    np.testing.assert_allclose(one[0].ravel(), [0.9, 0.4])  # non-bloc rows, then the bloc
    np.testing.assert_allclose(one[3], [1.0, 2.0])  # the bloc casts its two votes
    np.testing.assert_allclose(one[1], [1.0, 2.0])


def test_a_bloc_objection_counts_once_or_for_each_member():
    # three bloc members object (they prefer the status quo 0); one outsider supports
    pos = np.array([[0.0], [0.0], [0.1], [1.0]])
    sal, w = np.ones((4, 1)), np.ones(4)
    bloc = np.array([0, 0, 0, -1])
    f = ForumConfig(decision="consensus", concession_rounds=0, blocking_objections=2)
    for mode, adopted in (("each", False), ("one", True)):
        p, ww, s, votes, _, _ = coordinate(pos, w, sal, bloc, 1, 1.0, mode)
        d = rule("decision", "consensus")(p, ww, s, np.array([0.5]), np.array([0.0]), f, B)
        assert bool(d.adopted[0]) is adopted, mode


def test_a_bloc_statement_adds_voice_shared_by_members_present():
    w = np.array([2.0, 1.0, 0.0, 4.0])  # member 2 absent (weight 0)
    out = add_statements(w, np.array([0, 0, 0, -1]), bloc_voice=2.0)
    np.testing.assert_allclose(out, [4.0, 3.0, 0.0, 4.0])  # 2 x 2.0 shared by two present


# ----- the chain of authority -------------------------------------------------------------
def run(scenario="status_quo", years=2, **overrides):
    ov = [f"{k}={v}" for k, v in overrides.items()]
    return GovernanceModel(scenario, overrides=ov, years=years).run()


PUBLIC = slice(0, 4)  # the four public-policy issues of configs/issues/default.yaml


def test_a_text_stopped_at_ecosoc_changes_no_policy():
    stopped = run(years=4, **{"forum.ecosoc.decision": "none"})
    assert any(f == "cstd" and a for f, _, a, _ in stopped.text_records)  # the CSTD adopted
    assert stopped.issue_names[4] == "dns_numbering"
    np.testing.assert_array_equal(stopped.policy[PUBLIC], stopped.status_quo0[PUBLIC])
    assert stopped.policy_coverage() == 0.0
    chained = run(years=4)  # the same run with ECOSOC deciding: the GA adopts, policy moves
    assert any(f == "unga" and a for f, _, a, _ in chained.text_records)
    assert (chained.policy[PUBLIC] != chained.status_quo0[PUBLIC]).any()
    assert chained.policy_coverage() > 0


def test_a_cstd_without_a_parent_moves_policy_as_soft_law_but_covers_nothing():
    m = GovernanceModel(
        config=_config_without_chain(), years=3
    ).run()  # CSTD, IGF, GAC unlinked: the old status quo (3 years: with the Board's draws
    # (issue 15) seed 0's CSTD adopts nothing in its first two sessions)
    assert (m.policy[PUBLIC] != m.status_quo0[PUBLIC]).any()
    assert m.policy_coverage() == 0.0


def _config_without_chain():
    cfg = load_config("status_quo")
    for name in ("ecosoc", "unga"):
        del cfg.forum[name]
    cfg.links = {}
    return cfg


def test_a_working_group_report_is_a_recommendation_not_a_policy_change():
    m = run("wgec", **{"forum.wgec.decision": "majority", "forum.cstd.decision": "none"})
    out = m.tables()["outcomes"]
    wg = out[out["forum"] == "wgec"]
    assert wg["adopted"].any()  # the working group adopted something ...
    assert (wg["policy_after"] == wg["status_quo"]).all()  # ... which moved nothing
    np.testing.assert_array_equal(m.policy[PUBLIC], m.status_quo0[PUBLIC])


def test_the_mandate_is_decided_at_the_general_assembly():
    cfg = load_config("cstd_anchor")
    assert cfg.links["cstd_mandate"].decided_by == "unga"
    base = GovernanceModel("cstd_anchor", years=1)
    cstd = base.forum_names.index("cstd")
    assert base.links[cstd].authority == pytest.approx(0.5)  # nothing until the GA decides
    # the GA's developing majority prefers the anchor; developed members object
    voted = run("cstd_anchor", years=1, **{"forum.unga.vote_request": 1.0})
    (mandate,) = voted.chain.mandates
    assert mandate.decided and mandate.adopted and mandate.step == 12  # December, year 1
    assert voted.links[cstd].authority == pytest.approx(0.8)
    assert not voted.links[cstd].binding  # a mandate never makes outcomes binding
    assert voted.links[cstd].subsidy == pytest.approx(0.3)  # the reporting duties
    assert "new_mechanism" in [voted.issue_names[i] for i in voted.agendas[cstd]]
    blocked = run("cstd_anchor", years=1, **{"forum.unga.vote_request": 0.0})
    (mandate,) = blocked.chain.mandates
    assert mandate.decided and not mandate.adopted
    assert blocked.links[cstd].authority == pytest.approx(0.5)
    assert blocked.links[cstd].subsidy == 0.0
    s = run_summary(voted)
    assert scalar(s, "mandate_adopted", forum="cstd") == 1.0


def test_bad_negotiation_settings_name_the_key():
    cfg = load_config("status_quo")
    cfg.forum["cstd"].blocs = ["G8"]
    with pytest.raises(ConfigError, match=r"forum\.cstd\.blocs='G8'.*G77"):
        validate(cfg)
    cfg = load_config("status_quo")
    cfg.links["x"] = LinkConfig(kind="recommends", source="cstd", target="unga")
    with pytest.raises(ConfigError, match="more than one parent"):
        validate(cfg)


# ----- the headline: start, change, design effect -----------------------------------------
def test_the_summary_splits_the_gap_into_start_and_change():
    m = run(years=2)
    s = run_summary(m)
    names = ("attainment_gap_start", "attainment_gap_change", "attainment_gap")
    start, change, end = (scalar(s, k) for k in names)
    assert start == pytest.approx(GovernanceModel(years=2).attainment_gap())  # the step-0 value
    assert change == pytest.approx(end - start)
    assert scalar(s, "text_adoption_rate", forum="cstd") >= 0
    cohesion = s[(s["metric"] == "bloc_cohesion") & (s["forum"] == "all")]
    assert set(cohesion["group"]) == {"G77", "EU"} and cohesion["value"].between(0, 1).all()
    voice = s[(s["metric"] == "bloc_voice") & (s["forum"] == "cstd")].set_index("group")["value"]
    assert voice["G77"] > voice["EU"] > 0


def test_design_effect_is_the_paired_change_difference():
    got = design_effect([0.0, -0.1, -0.2], [0.0, 0.0, -0.1])
    assert got["n"] == 3 and got["mean"] == pytest.approx(-0.2 / 3)
    aligned = design_effect(
        pd.Series([1.0, 2.0], index=[1, 0]), pd.Series([0.5, 1.0], index=[0, 1])
    )
    assert aligned["mean"] == pytest.approx(((1.0 - 1.0) + (2.0 - 0.5)) / 2)
    with pytest.raises(ValueError, match="paired"):
        design_effect([1.0], [1.0, 2.0])
