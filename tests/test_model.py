"""The model end to end: determinism, Mesa conventions, invariants and directions of effect."""

from __future__ import annotations

import hashlib

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import GovernanceModel
from sim.model.compose import load_config, scenarios
from sim.model.config import GROUPS, REGIONS
from sim.model.metrics import row_means, row_sums
from sim.model.summary import run_summary, scalar
from sim.studies.single import run
from tests.conftest import small


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_config_and_seed_give_identical_parquet_files(tmp_path):
    cfg = small(years=2)
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    files = sorted(p.name for p in (tmp_path / "a").glob("*.parquet"))
    assert {"meetings.parquet", "attendance.parquet", "summary.parquet"} <= set(files)
    for name in files:
        assert _digest(tmp_path / "a" / name) == _digest(tmp_path / "b" / name), name


def test_a_different_seed_gives_a_different_run():
    a = GovernanceModel(config=small(years=1), rng=1).run().tables()["attendance"]
    b = GovernanceModel(config=small(years=1), rng=2).run().tables()["attendance"]
    assert not a.equals(b)


def test_agent_handles_are_made_on_first_use_in_population_order():
    """The Mesa handles (``model.agents``) are created when first asked for, not in the
    constructor (memory at 10^6 actors, docs/performance.md): a run never needs them,
    and when they are made they are the same handles, ids 1..n in population order."""
    model = GovernanceModel(config=small(years=1), rng=3)
    assert len(model._all_agents) == 0  # nothing made by construction
    model.run()
    assert len(model._all_agents) == 0  # nor by a run
    handles = list(model.agents)
    assert [a.index for a in handles] == list(range(model.pop.n))
    assert [a.unique_id for a in handles] == list(range(1, model.pop.n + 1))
    assert [GROUPS.index(a.group) for a in handles] == model.pop.group.tolist()
    assert model.agents is model.agents and len(model.agents) == model.pop.n  # made once
    assert sum(len(s) for s in model.agents_by_type.values()) == model.pop.n
    handles[0].expertise = 0.25  # a handle writes the model's state
    assert model.pop.expertise[0] == 0.25
    # an agent a user adds before asking comes after the actors' handles
    other = GovernanceModel(config=small(years=1), rng=3)
    extra = mesa.Agent(other)
    assert extra.unique_id == other.pop.n + 1 and len(other.agents) == other.pop.n + 1
    other.remove_all_agents()  # and removing every agent removes the handles for good
    assert len(other.agents) == 0
    gone = GovernanceModel(config=small(years=1), rng=3)
    gone.remove_all_agents()
    assert len(gone.agents) == 0 and gone.agent_types == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_row_sums_and_means_equal_numpy_bit_for_bit(columns, rows, seed):
    """The group means' fast path (``row_means``) is numpy's ``mean(axis=1)`` exactly,
    for any number of columns (sequential below 8, numpy's own from 8)."""
    rng = np.random.default_rng(seed)
    a = rng.random((rows, columns)) * 10.0 ** rng.uniform(-8, 8, (rows, columns))
    a[rng.random(a.shape) < 0.1] *= -1.0
    assert np.array_equal(row_means(a), a.mean(axis=1))
    assert np.array_equal(row_sums(a), a.sum(axis=1))
    for b in (a[:, ::-1], np.asfortranarray(a), a[rng.permutation(rows)]):  # other layouts
        assert np.array_equal(row_sums(b), b.sum(axis=1))


def test_mesa_conventions_and_batch_run():
    model = GovernanceModel(scenario="status_quo", years=1, rng=3)
    assert len(model.agents) == model.pop.n
    gov = next(a for a in model.agents if a.group.endswith("_gov"))
    assert len(gov.iso3) == 3 and gov.position.shape == (len(model.issue_names),)
    results = mesa.batch_run(
        GovernanceModel,
        {"scenario": "status_quo", "years": 1},
        rng=[1, 2],
        max_steps=12,
        number_processes=1,
        display_progress=False,
    )
    df = pd.DataFrame(results)
    assert sorted(df["rng"].unique()) == [1, 2]
    assert {"attainment_gap", "policy_coverage", "Step"} <= set(df.columns)
    assert (df["Step"] == 12).all()


@given(seed=st.integers(0, 2**32 - 1))
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_cstd_quotas_hold_every_year(seed, status_quo):
    model = GovernanceModel(config=small(years=9), rng=seed)
    cstd = model.forum_names.index("cstd")
    quotas = model.forums[cstd].seats
    previous = None
    for year in range(1, 10):
        roles = model.roles(cstd, year)
        members = roles == 3
        assert members.sum() == 43
        for region, n in quotas.items():
            assert (members & (model.pop.region == REGIONS.index(region))).sum() == n
        assert np.isin(model.pop.group[members], [0, 1]).all()  # only governments hold seats
        if previous is not None and year % 2 == 1:  # a cohort is renewed every two years
            assert (members != previous).any()
        previous = members


@given(
    seed=st.integers(0, 2**32 - 1), scenario=st.sampled_from(["status_quo", "netmundial_emerging"])
)
@settings(max_examples=6, deadline=None)
def test_invariants_of_a_run(seed, scenario):
    model = GovernanceModel(config=small(scenario, years=2), rng=seed).run()
    t = model.tables()
    att, meetings = t["attendance"], t["meetings"]
    by_meeting = att.groupby(["forum", "step"])
    np.testing.assert_allclose(by_meeting["voice_share"].sum(), 1.0, atol=1e-9)
    np.testing.assert_allclose(by_meeting["eligible_share"].sum(), 1.0, atol=1e-9)
    regions = t["regions"].groupby(["forum", "step"])
    np.testing.assert_allclose(regions["voice_share"].sum(), 1.0, atol=1e-9)
    np.testing.assert_array_equal(regions["eligible"].sum(), by_meeting["eligible"].sum())
    assert ((att["onsite"] + att["remote"]) <= att["eligible"]).all()
    assert meetings["voice_gini"].between(0, 1).all()
    assert (meetings["theil_between"] >= -1e-12).all() and (
        meetings["theil_within"] >= -1e-12
    ).all()
    np.testing.assert_allclose(
        meetings["voice_theil"], meetings["theil_between"] + meetings["theil_within"], atol=1e-9
    )
    s = run_summary(model)
    rates = s[s["metric"].str.startswith("participation") | s["metric"].str.endswith("_rate")]
    assert rates["value"].dropna().between(0, 1).all()
    att_values = s[s["metric"] == "attainment"]["value"]
    assert att_values.between(0, 1).all()
    assert 0 <= scalar(s, "policy_coverage") <= 1
    board = s[s["metric"] == "board_banzhaf_power"]  # the ICANN Board reviews GAC advice
    assert board["value"].sum() == pytest.approx(1.0) and (board["value"] >= 0).all()
    assert (model.pop.position >= 0).all() and (model.pop.position <= 1).all()
    assert (model.pop.budget >= -1e-9).all()  # nobody travels beyond its yearly budget
    o = t["outcomes"]
    assert o["policy_after"].between(0, 1).all()


def _mean_metric(scenario, overrides, metric, forum, group, replicates=6, years=3, cfg=None):
    cfg = cfg or small(scenario, years=years, overrides=overrides)
    seeds = [np.random.SeedSequence(7, spawn_key=(r,)) for r in range(replicates)]
    runs = [GovernanceModel(config=cfg, rng=seed).run() for seed in seeds]
    values = [scalar(run_summary(m), metric, forum, group) for m in runs]
    return float(np.mean(values))


def test_more_funded_slots_raise_developing_representation_at_the_igf():
    rr = lambda slots: _mean_metric(  # noqa: E731
        "status_quo",
        [f"forum.igf.funded_slots={slots}"],
        "representation_ratio",
        "igf",
        "developing_gov",
    )
    assert rr(80) > rr(0)


def test_remote_participation_raises_developing_representation_at_the_igf():
    rr = lambda remote: _mean_metric(  # noqa: E731
        "status_quo",
        [f"forum.igf.remote={remote}"],
        "participation_rate",
        "igf",
        "developing_gov",
    )
    assert rr("true") > rr("false")


def test_fewer_seats_change_who_attends_the_cstd():
    cfg = small(years=1)
    full = GovernanceModel(config=cfg, rng=5)
    cstd = full.forum_names.index("cstd")
    few = GovernanceModel(
        config=small(
            years=1,
            overrides=[
                "forum.cstd.seats={African: 2, Asia-Pacific: 2, "
                "GRULAC: 2, Eastern European: 2, WEOG: 2}"
            ],
        ),
        rng=5,
    )
    assert (full.roles(cstd, 1) == 3).sum() == 43
    assert (few.roles(cstd, 1) == 3).sum() == 10


def test_a_narrower_scope_changes_who_attends():
    part = lambda scope: _mean_metric(  # noqa: E731
        "status_quo",
        [f"forum.igf.scope={scope}"],
        "participation_rate",
        "igf",
        "technical",
        replicates=4,
        years=2,
    )
    # the technical community cares most about DNS: an IGF without it draws fewer of them
    assert part("technical") > part("public_policy")


def test_a_feed_pulls_the_receivers_starting_proposal_toward_the_senders_outcome():
    base = GovernanceModel(config=small("status_quo", years=3), rng=11).run()
    fed = GovernanceModel(config=small("dual_track", years=3), rng=11).run()
    o_base, o_fed = base.tables()["outcomes"], fed.tables()["outcomes"]
    igf_msg = o_fed[(o_fed.forum == "igf") & (o_fed.step == 11)].set_index("issue")["outcome"]
    # the first CSTD meeting after an IGF (step 16) differs only by the feed:
    # p_fed = (1 - w) p + w m, so it moves from p toward the IGF's message m
    year2 = lambda o: o[(o.forum == "cstd") & (o.step == 16)].set_index("issue")["proposal"]  # noqa: E731
    p0, p1 = year2(o_base), year2(o_fed)
    moved_toward = np.sign(p1 - p0) == np.sign(igf_msg.reindex(p0.index) - p0)
    assert (p1 != p0).all() and moved_toward.all()


def test_a_mandate_raises_attendance_at_the_receiving_forum():
    from sim.model.config import LinkConfig

    with_mandate = small(years=3)
    with_mandate.links["m"] = LinkConfig(kind="mandate", target="cstd", weight=0.4)
    attend = lambda cfg: _mean_metric(  # noqa: E731
        None, None, "participation_rate", "cstd", "developing_gov", replicates=4, cfg=cfg
    )
    assert attend(with_mandate) > attend(small(years=3))


@pytest.mark.parametrize("scenario", scenarios())
def test_every_scenario_runs_end_to_end(scenario, tmp_path):
    # the replay's forums start in their real years (WSIS+10 in year 11): run it whole
    years = 21 if scenario == "history_2005_2025" else 2
    tables = run(small(scenario, years=years), tmp_path)
    s = tables["summary"]
    assert np.isfinite(scalar(s, "attainment_gap"))
    assert (tmp_path / "config.yaml").exists() and (tmp_path / "provenance.json").exists()
    assert set(GROUPS[:2]) <= set(s["group"])


def test_voting_power_of_a_majority_forum_follows_its_seats():
    cfg = small("wgec", years=1, overrides=["forum.wgec.decision=majority"])
    s = run_summary(GovernanceModel(config=cfg, rng=4).run())
    power = s[(s["metric"] == "banzhaf_power") & (s["forum"] == "wgec")].set_index("group")
    # one vote per member: 22 governments and 5 from each of four other groups
    assert power["value"].sum() == pytest.approx(1.0)
    assert power.loc[["developed_gov", "developing_gov"], "value"].sum() == pytest.approx(22 / 42)
    assert power.loc["business", "value"] == pytest.approx(5 / 42)


def test_the_default_config_is_the_status_quo():
    cfg = load_config()
    assert cfg.scenario == "status_quo"
    assert set(cfg.forum) == {"cstd", "igf", "gac", "ecosoc", "unga"}
    assert sum(cfg.forum["cstd"].seats.values()) == 43
