"""Studies end to end: validation, resumption after a kill, determinism across workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import cli
from sim.present.report import build_briefing
from sim.studies.execute import execute
from sim.studies.launch import run_study
from sim.studies.spec import expand, load_study, study_names
from sim.studies.store import RunStore, aggregate, read_manifest, write_manifest

SMALL = [
    "population.counts.business=15",
    "population.counts.civil_society=20",
    "population.counts.technical=8",
    "population.counts.igo=4",
]

STUDY = """
name: tiny
question: Does CSTD anchoring change the attainment gap in a tiny world?
scenarios: [status_quo, cstd_anchor]
baseline: status_quo
grid:
  forum.igf.remote: [true, false]
replicates: 2
root_seed: 7
years: 1
metrics: [attainment_gap, representation_ratio@developing_gov, deadlock_rate@cstd]
figures: [scenario_comparison]
"""


def write_study(tmp_path: Path, text: str = STUDY, name: str = "tiny") -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = write_study(tmp_path_factory.mktemp("study"))
    return load_study(path, overrides=SMALL)


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """The uninterrupted study, run in one process."""
    root = tmp_path_factory.mktemp("ref")
    specs = expand(tiny)
    write_manifest(root, specs, {"study": tiny.name})
    rep = execute(specs, RunStore(root), jobs=1, progress=False)
    assert not rep.failed
    return aggregate(root)[0]


def test_expand_gives_common_random_numbers(tiny):
    specs = expand(tiny)
    assert len(specs) == 2 * 2 * 2
    assert len({s.key for s in specs}) == len(specs)
    # replicate r has the same seed in every scenario and grid point
    assert {(s.replicate, s.root_seed) for s in specs} == {(0, 7), (1, 7)}
    # configs are shared by the replicates of one condition (composed once)
    by_cond = {}
    for s in specs:
        by_cond.setdefault((s.scenario, s.grid["forum.igf.remote"]), set()).add(id(s.config))
    assert all(len(ids) == 1 for ids in by_cond.values())


def test_jobs_1_and_2_give_identical_results(tiny, reference, tmp_path):
    specs = expand(tiny)
    write_manifest(tmp_path, specs, {"study": tiny.name})
    rep = execute(specs, RunStore(tmp_path), jobs=2, progress=False)
    assert len(rep.done) == len(specs) and not rep.failed
    table, missing, failed = aggregate(tmp_path)
    assert not missing and not failed
    pd.testing.assert_frame_equal(table, reference)


def test_resume_after_partial_run_computes_only_missing(tiny, reference, tmp_path):
    specs = expand(tiny)
    store = RunStore(tmp_path)
    write_manifest(tmp_path, specs, {"study": tiny.name})
    first = execute(specs[:3], store, jobs=1, progress=False)
    assert len(first.done) == 3
    table, missing, _ = aggregate(tmp_path)
    assert len(missing) == len(specs) - 3
    mtimes = {k: store.path(k).stat().st_mtime_ns for k in store.keys()}
    second = execute(specs, store, jobs=2, progress=False)
    assert sorted(second.skipped) == sorted(s.key for s in specs[:3])
    assert len(second.done) == len(specs) - 3
    assert all(store.path(k).stat().st_mtime_ns == t for k, t in mtimes.items())
    pd.testing.assert_frame_equal(aggregate(tmp_path)[0], reference)


@pytest.mark.slow
def test_sigkill_then_rerun_completes_identically(tiny, reference, tmp_path):
    """Kill a running `govsim experiment` with SIGKILL once some runs exist, then re-run it."""
    study_file = write_study(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "experiment", str(study_file), "-j", "2",
           "--out", str(out), "--no-progress", *SMALL]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    store = RunStore(out)
    deadline = time.monotonic() + 120
    while len(store.keys()) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: parent and workers
    proc.wait()
    done_before = set(store.keys())
    assert 0 < len(done_before), "no run finished before the kill"
    n = len(read_manifest(out)["runs"])
    assert len(done_before) < n, "the study finished before it could be killed"
    study = load_study(study_file, overrides=SMALL)
    report = run_study(study, out, jobs=2, progress=False)
    assert set(report.skipped) == done_before
    assert len(report.done) == n - len(done_before)
    table, missing, failed = aggregate(out)
    assert not missing and not failed
    pd.testing.assert_frame_equal(table, reference)
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_failing_run_is_recorded_and_the_others_complete(tiny, tmp_path, monkeypatch):
    import sim.studies.execute as ex

    specs = expand(tiny)[:3]
    bad = specs[1].key
    real = ex.run_spec

    def flaky(spec):
        if spec.key == bad:
            raise RuntimeError("boom in the model")
        return real(spec)

    monkeypatch.setattr(ex, "run_spec", flaky)
    store = RunStore(tmp_path)
    write_manifest(tmp_path, specs, {"study": "tiny"})
    rep = execute(specs, store, jobs=1, progress=False)
    assert set(rep.failed) == {bad} and "boom in the model" in rep.failed[bad]
    assert len(rep.done) == 2
    _, missing, failed = aggregate(tmp_path)
    assert missing == [bad] and "boom" in failed[bad]
    monkeypatch.setattr(ex, "run_spec", real)
    rep = execute(specs, store, jobs=1, progress=False)
    assert rep.done == [bad] and store.failures() == {}


@pytest.mark.parametrize(
    "change, needle",
    [
        (("[status_quo, cstd_anchor]", "[status_quo, atlantis]"), "unknown scenario 'atlantis'"),
        (("forum.igf.remote: [true, false]", "forum.igf.remoat: [true, false]"), "remoat"),
        (("forum.igf.remote: [true, false]", "forum.igf.funded_slots: [-5]"), "funded_slots"),
        (("replicates: 2", "replicates: -3"), "replicates: must be at least 1, not -3"),
        (("replicates: 2", "replicates: 0"), "replicates: must be at least 1, not 0"),
        (("deadlock_rate@cstd", "deadlock_rate@narnia"), "narnia"),
        (("attainment_gap,", "happiness,"), "unknown metric 'happiness'"),
        (("[scenario_comparison]", "[pie_chart]"), "unknown figure 'pie_chart'"),
    ],
)
def test_malformed_study_fails_before_any_run(tmp_path, capsys, change, needle):
    path = write_study(tmp_path, STUDY.replace(*change))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", str(path), "--out", str(out)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("govsim: error:") and needle in err
    assert "Traceback" not in err
    assert not out.exists()


def test_unknown_study_name_lists_the_studies(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", "no_such_study"])
    assert e.value.code == 2
    assert "cstd_anchor" in capsys.readouterr().err


SHIPPED = study_names()


def test_all_studies_are_shipped():
    expected = {
        "forum_comparison",
        "travel_funding",
        "decision_rules",
        "cstd_anchor",
        "emerging_issues",
        "scenario_catalogue",
    }
    assert expected <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_study_runs_end_to_end_shrunken(name, tmp_path):
    """Each shipped study, shrunken: 2 replicates, 1 year, a small population, one grid point."""
    import yaml

    from sim.studies.spec import resolve_path

    doc = yaml.safe_load(resolve_path(name).read_text())
    base = doc.get("baseline") if isinstance(doc.get("baseline"), dict) else {}
    doc["grid"] = {k: [base.get(k, v[0])] for k, v in (doc.get("grid") or {}).items()}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    study = load_study(path, replicates=2, years=1, overrides=SMALL)
    report = run_study(study, tmp_path / "out", jobs=2, progress=False)
    briefing = build_briefing(tmp_path / "out", study=study)
    assert not report.failed
    table, missing, failed = aggregate(tmp_path / "out")
    assert not missing and not failed
    n_runs = len(study.scenarios) * len(study.points) * study.replicates
    assert table["key"].nunique() == n_runs
    assert {"scenario", "replicate", "seed", "key", *study.grid} <= set(table.columns)
    assert briefing.exists() and briefing.with_suffix(".html").exists()
    assert len(list((tmp_path / "out" / "figures").glob("*.png"))) >= len(study.figures)
