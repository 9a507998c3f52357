"""Calibration: targets file, delegate-weighted moments, and recovery of known parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analysis import calibration as cal
from sim.errors import UsageError
from sim.studies.spec import load_study, parse_study

SMALL = [
    "population.counts.business=30",
    "population.counts.civil_society=40",
    "population.counts.technical=15",
    "population.counts.igo=5",
]


def test_targets_are_shares_with_sources_host_countries_and_sets():
    t = cal.load_targets()
    sets = t.drop_duplicates("meeting").set_index("meeting")["set"]
    fit = set(sets[sets == "fit"].index)
    assert fit == {"Hyderabad 2008", "Vilnius 2010", "Baku 2012", "Istanbul 2014",
                   "Guadalajara 2016", "Geneva 2017", "Berlin 2019"}  # fmt: skip
    # at least four fitted meetings, hosted in four different regions, none after 2019
    fitted = t[t["set"] == "fit"]
    assert fitted["host_region"].nunique() >= 4 and fitted["year"].max() <= 2019
    assert set(sets[sets == "holdout"].index) == {"Nairobi 2011"}
    assert t.loc[t["set"] == "test", "year"].min() > 2019  # the test set: after 2019 only
    blocks = t[~t["of_all"]].groupby(["meeting", "dimension", "basis"])["observed"].sum()
    np.testing.assert_allclose(blocks, 1.0)
    assert t["source"].str.len().gt(0).all()
    hosts = dict(zip(t["meeting"], t["host_country"], strict=False))
    assert hosts["Hyderabad 2008"] == "IND" and hosts["Nairobi 2011"] == "KEN"
    # Istanbul's regions are shares of all 2,403 onsite participants, not renormalised
    ist = t[(t["meeting"] == "Istanbul 2014") & (t["dimension"] == "region")]
    assert ist.set_index("category").loc["African", "observed"] == pytest.approx(190 / 2403)


def test_no_target_counts_stream_viewers_as_remote_participants():
    raw = pd.read_csv(cal.TARGETS, comment="#")
    used = raw[raw["use"].astype(str).str.lower() == "true"]
    text = (used["reported_label"] + " " + used["definition"]).str.lower()
    assert not text.str.contains("viewer|visitor|webcast|hub audience").any()
    assert raw["definition"].str.len().gt(0).all()  # each count's definition beside it
    t = cal.load_targets()
    assert not ((t["meeting"] == "Baku 2012") & (t["dimension"] == "mode")).any()
    # India (56%) and the rest of Asia (15%) both map onto Asia-Pacific
    hy = t[(t["meeting"] == "Hyderabad 2008") & (t["dimension"] == "region")].set_index("category")
    assert hy.loc["Asia-Pacific", "observed"] == pytest.approx(0.71)
    # media / press / other / not stated are dropped, the rest renormalised
    assert not t["category"].isin(["media", "other", "not_stated"]).any()


def test_simulated_shares_weight_by_delegates_and_renormalise_over_listed_categories():
    weights = pd.DataFrame({
        "stakeholder": ["government", "government", "technical", "igo"],
        "region": ["WEOG", "African", "WEOG", "WEOG"],
        "mode": ["onsite", "remote", "onsite", "onsite"],
        "delegates": [3.0, 2.0, 4.0, 1.0],
    })  # fmt: skip
    targets = pd.DataFrame({
        "dimension": ["stakeholder", "stakeholder", "mode", "mode", "stakeholder", "stakeholder"],
        "basis": ["onsite", "onsite", "all", "all", "all", "all"],
        "category": ["government", "technical", "onsite", "remote", "government", "igo"],
    })  # fmt: skip
    got = cal.simulated_shares(weights, targets)
    # onsite basis, over {government, technical}: 3 / 7 and 4 / 7 (igo not listed)
    # mode: 8 onsite and 2 remote delegates; all basis, over {government, igo}: 5 / 6, 1 / 6
    np.testing.assert_allclose(got, [3 / 7, 4 / 7, 0.8, 0.2, 5 / 6, 1 / 6])


def _recovery(params: dict, truth: list[float], *, data_fit: int, replicates: int,
              popsize: int, maxiter: int, refits: int = 0) -> cal.CalibrationResult:  # fmt: skip
    """Simulate targets at ``truth`` with the streams of fit ``data_fit``, then calibrate."""
    study = parse_study(yaml.safe_dump({
        "name": "recovery", "scenario": "status_quo", "overrides": SMALL, "years": 1,
        "replicates": replicates, "refits": refits, "root_seed": 17, "parameters": params,
        "optimiser": {"popsize": popsize, "maxiter": maxiter, "tol": 0.0},
    }), kind="calibration")  # fmt: skip
    targets = cal.load_targets()
    moments = cal.MomentModel(study, targets)
    fake = targets.copy()
    fake["observed"] = moments.replicate_shares(truth, fit=data_fit, sets=None).mean(axis=0)
    return cal.calibrate(study, fake)


TRAVEL = {"behaviour.travel_cost_scale": {"low": 0.02, "high": 1.0}}


def test_calibration_recovers_a_known_travel_cost_smoke():
    # smoke version: data from the fit's own streams (common random numbers), so the
    # loss is exactly 0 at the truth; a few generations of the search must get close
    truth = 0.3
    res = _recovery(TRAVEL, [truth], data_fit=0, replicates=1, popsize=4, maxiter=5)
    est = res.parameters.set_index("parameter").loc["behaviour.travel_cost_scale", "estimate"]
    assert abs(est - truth) <= 0.25 * truth  # stated tolerance: 25% of the true value
    assert np.isfinite(res.fit_table[["observed", "simulated"]].to_numpy()).all()
    assert len(res.fit_table) == len(cal.load_targets())


def test_the_estimate_is_the_fit_that_does_best_on_fresh_streams(monkeypatch):
    """Each fit is re-simulated on streams no fit used; the estimate (and the fit table) is
    the fit with the lower loss there, computed on the fit meetings only."""
    monkeypatch.setattr(cal, "CHECK_REPLICATES", 2)
    res = _recovery(TRAVEL, [0.3], data_fit=99, replicates=1, popsize=3, maxiter=1, refits=1)
    fits = res.fits
    assert len(fits) == 2 and fits["chosen"].sum() == 1
    chosen = fits.loc[fits["chosen"]].iloc[0]
    assert chosen["fresh_loss"] == fits["fresh_loss"].min()
    est = res.parameters.set_index("parameter").loc["behaviour.travel_cost_scale", "estimate"]
    assert est == chosen["behaviour.travel_cost_scale"]
    t = res.fit_table[res.fit_table["set"] == "fit"]
    assert np.isclose(((t["simulated"] - t["observed"]) ** 2).sum(), chosen["fresh_loss"])
    assert res.fit_table["simulated"].notna().all()  # every set re-simulated, not only fit


def _started_at_the_truth(refits: int, truth_fit: int, replicates: int):
    """A one-parameter study started at travel cost 0.3, and targets simulated at 0.3 on
    the streams of fit ``truth_fit``."""
    study = parse_study(yaml.safe_dump({
        "name": "start", "scenario": "status_quo", "overrides": SMALL, "years": 1,
        "replicates": 1, "refits": refits, "root_seed": 17, "parameters": TRAVEL,
        "optimiser": {"popsize": 3, "maxiter": 1, "tol": 0.0,
                      "start": {"behaviour.travel_cost_scale": 0.3}},
    }), kind="calibration")  # fmt: skip
    targets = cal.load_targets()
    sims = cal.MomentModel(study, targets).replicate_shares(
        [0.3], fit=truth_fit, replicates=replicates, sets=None
    )
    return study, targets.assign(observed=sims.mean(axis=0))


def test_a_started_fit_ends_no_worse_than_its_start():
    """optimiser.start puts the point into the first fit's initial population (scipy's
    x0): differential evolution keeps its best member, so the fit's loss is at most the
    loss at the start, on the same streams."""
    study, targets = _started_at_the_truth(refits=0, truth_fit=0, replicates=1)
    moments = cal.MomentModel(study, targets)
    x, loss, _ = cal.fit(moments, fit_index=0)
    assert loss == 0.0 and x[0] == 0.3  # the start is the truth on these streams


def test_the_start_stands_unless_a_fit_beats_it_on_fresh_streams(monkeypatch):
    """With optimiser.start the start is a candidate too (fit -1, no own-stream loss): the
    estimate is the lowest fresh loss among the fits and the start; the spread is over the
    independent fits only."""
    monkeypatch.setattr(cal, "CHECK_REPLICATES", 2)
    # the truth is the start, on the fresh streams (fit index 1 + refits = 2)
    study, targets = _started_at_the_truth(refits=1, truth_fit=2, replicates=2)
    res = cal.calibrate(study, targets)
    fits = res.fits.set_index("fit")
    assert list(fits.index) == [0, 1, -1] and np.isnan(fits.loc[-1, "loss"])
    assert fits.loc[-1, "fresh_loss"] == 0.0 and fits.loc[-1, "chosen"]
    est = res.parameters.set_index("parameter").loc["behaviour.travel_cost_scale"]
    assert est["estimate"] == 0.3
    assert est["mean_over_fits"] == fits.loc[[0, 1], "behaviour.travel_cost_scale"].mean()


@pytest.mark.parametrize("start, words", [
    ({}, None),
    ({"behaviour.remote_cost": 0.1}, "must name every parameter"),
    ({"behaviour.travel_cost_scale": 5.0}, "outside its bounds"),
])  # fmt: skip
def test_optimiser_start_names_every_parameter_within_bounds(start, words):
    doc = {"name": "s", "parameters": TRAVEL, "optimiser": {"start": start}}
    if words is None:
        assert parse_study(yaml.safe_dump(doc), kind="calibration").optimiser.start == {}
        return
    with pytest.raises(UsageError, match=words):  # one line at the CLI, exit 2
        parse_study(yaml.safe_dump(doc), kind="calibration")


@pytest.mark.slow
def test_calibration_recovers_a_known_travel_cost_from_independent_data():
    # data simulated with streams the fit never uses (fit index 99): sampling noise included
    truth = 0.3
    res = _recovery(TRAVEL, [truth], data_fit=99, replicates=2, popsize=5, maxiter=8)
    est = res.parameters.set_index("parameter").loc["behaviour.travel_cost_scale", "estimate"]
    assert abs(est - truth) <= 0.25 * truth


@pytest.mark.slow
def test_calibration_fits_travel_and_remote_costs_jointly():
    """With delegation size a choice (issue 13), travel and remote costs trade off against
    each other in the attendance shares: jointly they are weakly identified (the calibration
    doc reports the refit spread), so the known answer here is the fit, not the values — the
    fitted model reproduces data simulated at the truth, share by share, within 0.05."""
    truth = [0.3, 0.15]
    params = {**TRAVEL, "behaviour.remote_cost": {"low": 0.0, "high": 0.5}}
    res = _recovery(params, truth, data_fit=99, replicates=2, popsize=6, maxiter=12)
    fit = res.fit_table
    assert (fit["simulated"] - fit["observed"]).abs().max() <= 0.05
    est = res.parameters.set_index("parameter")["estimate"]
    assert 0.02 <= est["behaviour.travel_cost_scale"] <= 1.0  # inside its range, finite


def test_calibrated_yaml_is_a_usable_behaviour_option(tmp_path):
    study = parse_study(yaml.safe_dump({"name": "x", "kind": "calibration", "parameters": {
        "behaviour.travel_cost_scale": {"low": 0.0, "high": 1.0},
        "population.nonstate.civil_society.median": {"low": 0.1, "high": 2.0}}}))  # fmt: skip
    text = cal.calibrated_yaml(
        study,
        {"behaviour.travel_cost_scale": 0.25, "population.nonstate.civil_society.median": 0.8},
    )
    assert text.startswith("# @package _global_")
    doc = yaml.safe_load(text)
    assert doc["behaviour"]["travel_cost_scale"] == 0.25
    assert doc["population"]["nonstate"]["civil_society"]["median"] == 0.8
    assert doc["behaviour"]["logit_noise"] == 0.15  # unfitted keys keep the default file's values


def test_shipped_calibrated_config_composes_within_the_study_bounds():
    from sim.model.compose import CONFIG_DIR, load_config

    if not (CONFIG_DIR / "behaviour" / "calibrated.yaml").exists():
        pytest.skip("configs/behaviour/calibrated.yaml not written yet (govsim calibrate)")
    cfg = load_config("status_quo", ["behaviour=calibrated", "years=1"])
    study = load_study("calibrate_igf", kind="calibration")
    for p in study.parameters:
        node = cfg
        for part in p.key.split("."):
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        assert p.low <= node <= p.high, p.key


def test_assumption_profile_finds_the_assumed_value_when_the_data_were_made_with_it(
    monkeypatch, tmp_path
):
    """Targets simulated with the WEOG resource factor at its assumed 1.5: both far ends
    (0.3 and 6.0) raise the fit loss on every fresh stream, so the fitted meetings 'prefer'
    the assumed value; an end equal to the assumed value is not simulated again; the
    assumed value's rows are shared (paired) by every assumption."""
    monkeypatch.setattr(cal, "CHECK_REPLICATES", 2)
    study = parse_study(yaml.safe_dump({
        "name": "profile", "scenario": "status_quo", "overrides": SMALL, "years": 1,
        "replicates": 1, "refits": 0, "root_seed": 17, "parameters": TRAVEL,
        "assumptions": {"population.region_factor.WEOG": {"low": 0.3, "high": 6.0},
                        "population.counts.technical": {"low": 15, "high": 30,
                                                        "integer": True}},
    }, sort_keys=False), kind="calibration")  # fmt: skip
    targets = cal.load_targets()  # four meetings keep it quick: three fitted, one held out
    four = ["Hyderabad 2008", "Nairobi 2011", "Istanbul 2014", "Berlin 2019"]
    targets = targets[targets["meeting"].isin(four)].reset_index(drop=True)
    truth = cal.MomentModel(study, targets).replicate_shares([0.3], fit=50, replicates=6,
                                                             sets=None)  # fmt: skip
    moments = cal.MomentModel(study, targets.assign(observed=truth.mean(axis=0)))
    profile = cal.profile_assumptions(moments, [0.3])
    meetings = targets["meeting"].nunique()
    ends = profile.drop_duplicates(["assumption", "role"])[["assumption", "role", "value"]]
    assert ends.values.tolist() == [
        ["population.region_factor.WEOG", "assumed", 1.5],
        ["population.region_factor.WEOG", "low", 0.3],
        ["population.region_factor.WEOG", "high", 6.0],
        ["population.counts.technical", "assumed", 15],  # SMALL: 15, the low end: skipped
        ["population.counts.technical", "high", 30],
    ]
    assert len(profile) == 5 * cal.PROFILE_STREAMS * meetings
    assert sorted(profile["stream"].unique()) == [1, 2, 3]  # fresh: fit 0 used stream 0
    assumed = profile[profile["role"] == "assumed"]
    by_key = [g[["stream", "meeting", "fit_loss", "max_abs_error"]].to_numpy().tolist()
              for _, g in assumed.groupby("assumption", sort=False)]  # fmt: skip
    assert by_key[0] == by_key[1]
    summary = cal.assumption_summary(profile).set_index(["assumption", "role"])
    weog = summary.loc["population.region_factor.WEOG"]
    assert (weog.loc[["low", "high"], "change_min"] > 0).all()
    assert (weog["fit_prefers"] == "assumed").all()
    assert summary.loc[("population.region_factor.WEOG", "assumed"), "change_max"] == 0.0
    assert set(summary.columns) >= set(targets["meeting"])
    from sim.present.analysis_figures import plot_assumption_profile

    files = plot_assumption_profile(profile, tmp_path / "assumption_profile")
    assert [f.suffix for f in files] == [".png", ".svg"] and all(f.exists() for f in files)


def test_parameter_profile_pins_a_parameter_at_the_truth_and_points_away_from_a_wrong_value():
    """Targets simulated at travel cost 0.3: around the truth both ends (0.1, 0.9) raise
    the search's loss on every fresh stream ('both ways'); around 0.1 the end towards the
    truth (0.3) lowers it on every stream ('moves up'); at the upper bound the 'up' end,
    clipped, equals the estimate and is skipped."""
    study = parse_study(yaml.safe_dump({
        "kind": "calibration", "name": "ident", "scenario": "status_quo", "overrides": SMALL,
        "years": 1, "replicates": 2, "refits": 0, "root_seed": 17, "parameters": TRAVEL,
    }, sort_keys=False), kind="calibration")  # fmt: skip
    targets = cal.load_targets()
    three = ["Hyderabad 2008", "Istanbul 2014", "Berlin 2019"]
    targets = targets[targets["meeting"].isin(three)].reset_index(drop=True)
    truth = cal.MomentModel(study, targets).replicate_shares([0.3], fit=50, replicates=8)
    moments = cal.MomentModel(study, targets.assign(observed=truth.mean(axis=0)))

    at_truth = cal.profile_parameters(moments, [0.3], step=3.0)
    assert sorted(at_truth["stream"].unique()) == [1, 2, 3]  # fresh: the fit used stream 0
    assert at_truth.drop_duplicates("role")["value"].round(6).tolist() == [0.3, 0.1, 0.9]
    summary = cal.parameter_summary(at_truth).set_index("role")
    assert (summary["change_min"] > 0).all() and (summary["pinned"] == "both ways").all()
    # the estimate's rows are the loss itself, paired by stream
    est = at_truth[at_truth["role"] == "estimate"].set_index("stream")["fit_loss"]
    assert est[1] == pytest.approx(moments.loss([0.3], 1))

    below = cal.parameter_summary(cal.profile_parameters(moments, [0.1], step=3.0))
    assert below.set_index("role").loc["up", "change_max"] < 0
    assert set(below["pinned"]) == {"moves up"}
    at_bound = cal.profile_parameters(moments, [1.0], step=3.0)
    assert set(at_bound["role"]) == {"estimate", "down"}


@pytest.mark.parametrize("assumptions, words", [
    ({"behaviour.travel_cost_scale": {"low": 0.1, "high": 0.5}}, "also a fitted parameter"),
    ({"population.region_factor.Atlantis": {"low": 0.1, "high": 0.5}},
     "assumptions.population.region_factor.Atlantis"),
    ({"population.region_factor.WEOG": {"low": 2.0, "high": 1.0}}, "must be below"),
])  # fmt: skip
def test_a_bad_assumption_is_one_line_before_any_run(assumptions, words):
    doc = {"name": "s", "parameters": TRAVEL, "assumptions": assumptions}
    with pytest.raises(UsageError, match=words):
        parse_study(yaml.safe_dump(doc), kind="calibration")


@pytest.mark.slow  # ~40 s: 30 Hydra compositions (the meetings, the host calendar sweep)
def test_govsim_calibrate_writes_the_assumption_profile(tmp_path, monkeypatch, capsys):
    """`govsim calibrate` end to end, shrunken (small population, one parameter, a
    two-generation search, one replicate): the fit tables, the config left alone with
    --no-config, and the assumption profile in CSV, its summary printed."""
    from sim.cli import main

    monkeypatch.setattr(cal, "CHECK_REPLICATES", 1)
    study = tmp_path / "tiny_calibration.yaml"
    study.write_text(yaml.safe_dump({
        "kind": "calibration", "name": "tiny_calibration", "overrides": SMALL, "years": 1,
        "replicates": 1, "refits": 0, "root_seed": 3, "parameters": TRAVEL,
        "optimiser": {"popsize": 5, "maxiter": 1},
        "assumptions": {"behaviour.distance_exponent": {"low": 0.3, "high": 0.8}},
    }))  # fmt: skip
    out = tmp_path / "out"
    main(["calibrate", str(study), "--out", str(out), "--no-config", "-j", "1"])
    printed = capsys.readouterr().out
    for name in ("parameters", "fit_table", "fits", "meeting_errors", "assumptions",
                 "assumption_profile", "parameter_profile", "identification",
                 "host_calendar_shares"):  # fmt: skip
        assert (out / f"{name}.csv").exists(), name
    ident = pd.read_csv(out / "identification.csv")
    assert ident["parameter"].unique().tolist() == ["behaviour.travel_cost_scale"]
    assert "pinned" in printed
    profile = pd.read_csv(out / "assumption_profile.csv")
    assert profile["role"].tolist() == ["assumed", "low", "high"]
    assert profile["value"].tolist() == [0.5, 0.3, 0.8]
    assert profile["fit_prefers"].nunique() == 1 and "fit_prefers" in printed
    assert "Nairobi 2011" in profile.columns  # every meeting's worst error, held out too
    assert (out / "assumption_profile.png").stat().st_size > 10_000


@pytest.mark.slow  # ~60 s: a shrunken fit, then the GA runs that choose the mission duty
def test_govsim_calibrate_writes_the_mission_duty_chosen_at_the_estimate(tmp_path, monkeypatch):
    """Without --no-config, `govsim calibrate` writes the behaviour file with the fitted
    values and, chosen after the fit at its estimate (the IGF cannot see them), the least
    mission duty that brings the GA to its highest recorded vote and then the reservation
    the history replay sets; the header names them. The config directory is a copy here,
    so the shipped file is left alone."""
    import shutil

    import sim.cli
    from sim.analysis import history, predict
    from sim.resources import CONFIG_DIR

    shipped = (CONFIG_DIR / "behaviour" / "calibrated.yaml").read_text()
    shutil.copytree(CONFIG_DIR / "behaviour", tmp_path / "behaviour")
    monkeypatch.setattr(sim.cli, "CONFIG_DIR", tmp_path)
    monkeypatch.setattr(cal, "CHECK_REPLICATES", 1)
    asked, least = [], predict.least_mission_duty

    def coarse(behaviour, overrides):  # a 0.25 grid: fewer GA runs
        asked.append((behaviour, list(overrides)))
        return least(behaviour, overrides, step=0.25)

    monkeypatch.setattr(predict, "least_mission_duty", coarse)
    replayed = []  # the replay's choice has its own test (tests/test_history.py)
    monkeypatch.setattr(history, "reservation_for", lambda b, o: replayed.append((b, o)) or 0.175)
    study = tmp_path / "tiny_calibration.yaml"
    study.write_text(yaml.safe_dump({
        "kind": "calibration", "name": "tiny_calibration", "overrides": SMALL, "years": 1,
        "replicates": 1, "refits": 0, "root_seed": 3, "parameters": TRAVEL,
        "optimiser": {"popsize": 5, "maxiter": 1},
    }))  # fmt: skip
    sim.cli.main(["calibrate", str(study), "--out", str(tmp_path / "out"), "-j", "1", "-q"])
    text = (tmp_path / "behaviour" / "calibrated.yaml").read_text()
    doc = yaml.safe_load(text)
    fitted = pd.read_csv(tmp_path / "out" / "parameters.csv")["estimate"].iloc[0]
    # at the estimate, from the default file; then again at the reservation the replay chose
    (behaviour, [override]), second = asked
    assert second == ("default", [override, "behaviour.reservation=0.175"])
    key, value = override.split("=")
    assert (behaviour, key) == ("default", "behaviour.travel_cost_scale")
    assert float(value) == pytest.approx(fitted, rel=1e-4)
    assert doc["behaviour"]["travel_cost_scale"] == round(fitted, 4)
    duty = doc["behaviour"]["mission_duty"]
    assert duty > 0 and duty % 0.25 == 0
    assert f"behaviour.mission_duty = {duty:.4g}" in text and "other records" in text
    assert replayed[-1] == ("default", [override, f"behaviour.mission_duty={duty}"])
    assert doc["behaviour"]["reservation"] == 0.175  # what the replay chose, at the estimate
    assert (CONFIG_DIR / "behaviour" / "calibrated.yaml").read_text() == shipped


def test_the_mission_duty_and_the_reservation_are_chosen_in_turn_until_neither_moves(
    monkeypatch,
):
    """records.choose alternates the two choices: known answers with stand-ins for the GA
    and the replay (each a step function of the other's value), and an error when they
    never settle."""
    from sim.analysis import history, predict, records

    def duty(behaviour, overrides):  # more duty at a lower reservation
        r = [float(o.split("=")[1]) for o in overrides if "reservation" in o]
        return 1.6 if not r or r[0] >= 0.2 else 1.85

    def reservation(behaviour, overrides):  # the replay wants 0.15 at any duty here
        return 0.15

    monkeypatch.setattr(predict, "least_mission_duty", duty)
    monkeypatch.setattr(history, "reservation_for", reservation)
    assert records.choose("default", ["x=1"]) == {
        "behaviour.mission_duty": 1.85, "behaviour.reservation": 0.15}  # fmt: skip
    flip = iter([0.2, 0.15] * 10)
    monkeypatch.setattr(history, "reservation_for", lambda b, o: next(flip))
    with pytest.raises(ValueError, match="did not settle"):
        records.choose("default", rounds=3)
