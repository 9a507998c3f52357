"""The one study engine: typed study files, one loader for every kind, configs validated
once and never mutated by the model, one seeding convention, runs reproducible from
their manifest."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import cli, resources
from sim.model import model as model_module
from sim.model.compose import as_dict, load_config
from sim.model.config import to_container
from sim.model.model import GovernanceModel, run_seed
from sim.studies import spec
from sim.studies.launch import run_study
from sim.studies.single import manifest_run, rerun
from sim.studies.spec import (
    CalibrationStudy,
    ComparisonStudy,
    SensitivityStudy,
    load_study,
    parse_study,
    study_names,
)
from sim.studies.store import RunStore, read_manifest

SMALL = [
    "population.counts.business=10",
    "population.counts.civil_society=10",
    "population.counts.technical=6",
    "population.counts.igo=3",
]

BASE = """\
name: typed
scenarios: [status_quo, cstd_anchor]
baseline: status_quo
grid: {forum.igf.remote: [true, false]}
replicates: 2
root_seed: 7
years: 1
metrics: [attainment_gap]
figures: [scenario_comparison]
"""


def _with(key: str, value: str) -> str:
    """BASE with one top-level key replaced (or added) by raw YAML ``value``."""
    lines = [ln for ln in BASE.splitlines() if not ln.startswith(f"{key}:")]
    return "\n".join([*lines, f"{key}: {value}", ""])


# ----- wrong types and values: one line naming the field, exit 2, before any run ----------
BAD_FILES = [
    ("scenarios", "5", "scenarios: must be a list"),
    ("metrics", "5", "metrics: must be a list"),
    ("baseline", "5", "baseline: must be a scenario name or a mapping"),
    ("figures", "5", "figures: must be a list"),
    ("labels", "[a, b]", "labels: must be a mapping"),
    ("scenarios", "[status_quo, status_quo]", "scenarios: [1] 'status_quo' is listed twice"),
    ("scenarios", "[status_quo, 7]", "scenarios[1]: must be a string"),
    ("colour", "blue", "colour: unknown field; allowed: kind, name"),
    ("overrides", "forum.igf.remote=false", "overrides: must be a list of key=value strings"),
    ("overrides", "[forum.igf.remote]", "overrides: [0] 'forum.igf.remote' is not key=value"),
    ("replicates", "true", "replicates: must be a whole number, not True"),
    ("replicates", "'3'", "replicates: must be a whole number, not '3'"),
    ("replicates", "0", "replicates: must be at least 1, not 0"),
    ("root_seed", "-1", "root_seed: must be at least 0, not -1"),
    ("years", "2.5", "years: must be a whole number"),
    ("grid", "5", "grid: must map override keys to lists of values"),
    ("grid", "{forum.igf.remote: true}", "grid: forum.igf.remote must be a non-empty list"),
    ("grid", "{forum.igf.remote: [true, true]}", "grid: forum.igf.remote[1] True is listed twice"),
    ("baseline", "{scenario: atlantis}", "baseline: scenario 'atlantis' is not one of"),
    ("baseline", "{forum.igf.remote: maybe}", "baseline: forum.igf.remote='maybe' is not a point"),
    ("metrics", "[happiness]", "metrics: unknown metric 'happiness'"),
    (
        "metrics",
        "[attainment_gap, attainment_gap]",
        "metrics: [1] 'attainment_gap' is listed twice",
    ),
    ("figures", "[pie_chart]", "figures: [0] unknown figure 'pie_chart'"),
    ("figures", "[{kind: heatmap}]", "figures[0] heatmap needs two different swept grid keys"),
    ("figures", "[{kind: scenario_comparison, metrics: [voice]}]", "uses metric 'voice'"),
    ("kind", "robustness", "kind: 'robustness' is not a kind of study"),
    ("kind", "sensitivity", "this command runs comparison studies"),
    ("name", "[a]", "name: must be a string"),
    ("name", "'my study'", "name: 'my study' may use only letters, digits"),
    ("name", "x" * 300, "name: is longer than 200 characters"),
    ("question", "{a: 1}", "question: must be a string"),
]


@pytest.mark.parametrize("key, value, needle", BAD_FILES, ids=[f"{k}={v}" for k, v, _ in BAD_FILES])
def test_a_mistyped_study_file_is_one_line_naming_the_field(tmp_path, capsys, key, value, needle):
    path = tmp_path / "typed.yaml"
    path.write_text(_with(key, value))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", str(path), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.startswith("govsim: error:") and err.count("\n") == 1, err
    assert needle in err, err
    assert "Traceback" not in err
    assert not out.exists()  # nothing ran, nothing was written


ANALYSIS_FILES = [
    ("sensitivity", "stages: 5", "stages: must be a list"),
    ("sensitivity", "stages: [{method: fast}]", "stages[0].method"),
    ("sensitivity", "stages: [{method: sobol, top: 2}]", "top=2 needs a morris stage before it"),
    ("sensitivity", "parameters: {behaviour.logit_noise: {low: 1, high: 0}}", "low=1.0 must be"),
    ("sensitivity", "parameters: {forum.igf.nonsense: {low: 0, high: 1}, "
     "behaviour.logit_noise: {low: 0.1, high: 0.2}}", "parameters.forum.igf.nonsense"),
    ("sensitivity", "metrics: {gap: {metric: happiness}}", "unknown metric 'happiness'"),
    ("calibration", "optimiser: {popsize: 0}", "optimiser.popsize: must be at least 1, not 0"),
    ("calibration", "refits: many", "refits: must be a whole number"),
    ("calibration", "scenario: atlantis", "scenario: unknown scenario 'atlantis'"),
]  # fmt: skip
SENSITIVITY = {
    "name": "s", "kind": "sensitivity", "years": 1, "replicates": 1,
    "parameters": {"behaviour.logit_noise": {"low": 0.1, "high": 0.2},
                   "behaviour.polarization": {"low": 0.5, "high": 1.5}},
    "metrics": {"gap": {"metric": "attainment_gap"}},
    "stages": [{"method": "morris", "trajectories": 2}],
}  # fmt: skip
CALIBRATION = {
    "name": "c", "kind": "calibration",
    "parameters": {"behaviour.travel_cost_scale": {"low": 0.1, "high": 0.5}},
}  # fmt: skip


@pytest.mark.parametrize("kind, change, needle", ANALYSIS_FILES)
def test_analysis_study_files_are_typed_too(tmp_path, capsys, kind, change, needle):
    doc = {**(SENSITIVITY if kind == "sensitivity" else CALIBRATION), **yaml.safe_load(change)}
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(doc))
    command = "sensitivity" if kind == "sensitivity" else "calibrate"
    with pytest.raises(SystemExit) as e:
        cli.main([command, str(path), "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and needle in err and "Traceback" not in err, err


def test_one_loader_returns_each_kind_and_infers_it_for_old_files():
    kinds = {n: type(load_study(n)) for n in ("cstd_anchor", "calibrate_igf")}
    assert kinds == {"cstd_anchor": ComparisonStudy, "calibrate_igf": CalibrationStudy}
    # a file without kind: is read as the kind its keys imply
    doc = {k: v for k, v in SENSITIVITY.items() if k != "kind"}
    assert isinstance(parse_study(yaml.safe_dump(doc)), SensitivityStudy)
    assert set(study_names()) >= {"cstd_anchor", "travel_funding"}
    assert "sensitivity_equity" in study_names("sensitivity")
    assert "cstd_anchor" not in study_names("calibration")


def test_a_non_utf8_study_file_is_a_clean_error(tmp_path, capsys):
    path = tmp_path / "latin.yaml"
    path.write_bytes(BASE.replace("typed", "caf\xe9").encode("latin-1"))
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", str(path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "is not UTF-8 text" in err and str(path) in err
    assert "Traceback" not in err


def test_a_directory_is_not_a_study_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", str(tmp_path)])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "is a directory" in err and "Traceback" not in err


def test_a_broken_file_in_the_experiments_folder_breaks_no_other_command(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "cstd_anchor.yaml").write_text(
        (resources.EXPERIMENTS_DIR / "cstd_anchor.yaml").read_text()
    )
    (folder / "latin.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    (folder / "broken.yaml").write_text("name: [unclosed\n")
    monkeypatch.setattr(resources, "EXPERIMENTS_DIR", folder)
    assert study_names() == ["cstd_anchor"]
    assert isinstance(load_study("cstd_anchor", replicates=1), ComparisonStudy)
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", "no_such_study"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "studies: cstd_anchor" in err and "Traceback" not in err


def test_grid_values_of_any_yaml_type_are_labelled_and_compose():
    study = parse_study(
        _with("grid", "{forum.igf.meeting_months: [[11], [5, 11]], behaviour.polarization: [1]}"),
        overrides=SMALL,
    )
    assert study.grid["forum.igf.meeting_months"] == ("[11]", "[5,11]")
    assert [c["forum"]["igf"]["meeting_months"] for (s, _), c in study.configs.items()
            if s == "status_quo"] == [[11], [5, 11]]  # fmt: skip
    assert [p["forum.igf.meeting_months"] for p in study.points] == ["[11]", "[5,11]"]


@pytest.mark.slow
def test_a_grid_of_lists_runs_and_reports(tmp_path):
    text = (
        "name: months\nscenarios: [status_quo]\nreplicates: 1\nyears: 1\n"
        "grid: {forum.igf.meeting_months: [[11], [5, 11]]}\n"
        "baseline: {forum.igf.meeting_months: [11]}\n"
        "metrics: [attainment_gap]\nfigures: [scenario_comparison, metric_vs_parameter]\n"
    )
    path = tmp_path / "months.yaml"
    path.write_text(text)
    cli.main(["experiment", str(path), "--out", str(tmp_path / "out"), "-q", "-j", "1", *SMALL])
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert set(summary["forum.igf.meeting_months"]) == {"[11]", "[5,11]"}
    assert (tmp_path / "out" / "briefing.html").exists()


# ----- validate once, never mutate --------------------------------------------------------
def test_the_model_never_changes_the_config_it_is_given():
    cfg = load_config("status_quo", [*SMALL, "years=2"])
    before = as_dict(cfg)
    GovernanceModel(config=cfg, years=1, polarization=1.7, rng=1)
    assert as_dict(cfg) == before
    plain = to_container(cfg)
    snapshot = yaml.safe_dump(plain)
    GovernanceModel(config=plain, years=1, polarization=0.5, rng=1)
    assert yaml.safe_dump(plain) == snapshot


def test_a_config_is_validated_once(monkeypatch):
    calls = []
    real = model_module.validate
    monkeypatch.setattr(model_module, "validate", lambda c: calls.append(1) or real(c))
    cfg = load_config("status_quo", [*SMALL, "years=1"])
    GovernanceModel(config=cfg)  # checked where it was composed: not again
    GovernanceModel(scenario="status_quo", overrides=[*SMALL, "years=1"])
    assert calls == []
    GovernanceModel(config=as_dict(cfg))  # plain data from elsewhere: validated here
    GovernanceModel(config=cfg, years=1)  # changed on the way in: validated again
    assert len(calls) == 2
    bad = dataclasses.replace(cfg, years=0)  # a copy carries no mark
    with pytest.raises(ValueError, match="years=0"):
        GovernanceModel(config=bad)


# ----- one seeding convention -------------------------------------------------------------
def test_a_seed_means_the_same_stream_everywhere():
    cfg = load_config("status_quo", [*SMALL, "years=1", "seed=5"])
    via_config = GovernanceModel(config=cfg).run().tables()["attendance"]
    via_int = GovernanceModel(config=cfg, rng=5).run().tables()["attendance"]
    via_study = GovernanceModel(config=cfg, rng=run_seed(5, 0)).run().tables()["attendance"]
    pd.testing.assert_frame_equal(via_config, via_int)
    pd.testing.assert_frame_equal(via_config, via_study)
    other = GovernanceModel(config=cfg, rng=run_seed(5, 1)).run().tables()["attendance"]
    assert not via_config.equals(other)
    assert run_seed(5, 2).spawn_key == (2,) and run_seed(5, 2, stream=1).spawn_key == (1, 2)
    assert (
        np.random.default_rng(run_seed(5)).random()
        == np.random.default_rng(np.random.SeedSequence(5, spawn_key=(0,))).random()
    )


def test_a_stored_run_is_reproduced_from_its_manifest(tmp_path):
    text = "name: again\nscenarios: [status_quo]\nreplicates: 2\nroot_seed: 13\nyears: 1\n"
    path = tmp_path / "again.yaml"
    path.write_text(text)
    study = load_study(path, overrides=SMALL)
    out = tmp_path / "out"
    report = run_study(study, out, jobs=1, progress=False)
    assert not report.failed
    entry = next(r for r in read_manifest(out)["runs"] if r["replicate"] == 1)
    spec_ = manifest_run(out, entry["key"])
    assert (spec_.root_seed, spec_.replicate) == (13, 1)
    pd.testing.assert_frame_equal(rerun(out, entry["key"]), RunStore(out).read(entry["key"]))
    with pytest.raises(KeyError, match="not in"):
        manifest_run(out, "0" * 20)


def test_shipped_study_files_name_their_kind():
    for p in sorted(Path(resources.EXPERIMENTS_DIR).glob("*.yaml")):
        assert yaml.safe_load(p.read_text())["kind"] in spec.KINDS, p.name
