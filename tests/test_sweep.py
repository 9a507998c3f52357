"""Sweeps beyond one process: `govsim run -m` aggregation, study shards on Hydra
launchers, and what survives failures (a raising run, a SIGKILLed shard).

Every study here is tiny (1 year, shrunken population) and writes only under
``tmp_path``; the launchers run as subprocesses, as they would for a user.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.studies.launch import (
    aggregate_sweep,
    assign_shards,
    execute_with_launcher,
    launch_command,
    run_shard,
    study_status,
    write_plan,
)
from sim.studies.spec import expand, parse_study, study_meta
from sim.studies.store import TMP_PREFIX, RunStore, aggregate, read_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "years=1",
    "population.counts.business=30",
    "population.counts.civil_society=40",
    "population.counts.technical=15",
    "population.counts.igo=5",
]
STUDY = """
name: tiny_sweep
question: Do shards change results?
scenarios: [status_quo, cstd_anchor]
grid: {forum.igf.remote: [true, false]}
replicates: 2
root_seed: 11
metrics: [attainment_gap]
"""


def _study(replicates: int = 2):
    study = parse_study(STUDY, path="tiny_sweep.yaml", replicates=replicates, overrides=SMALL)
    return study, expand(study)


def _prepared(root: Path, replicates: int = 2):
    study, specs = _study(replicates)
    write_manifest(root, specs, study_meta(study))
    return study, specs, RunStore(root)


def _govsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from sim.cli import main; main(sys.argv[1:])", *args],
        cwd=cwd, env=env, capture_output=True, text=True,
    )  # fmt: skip


def _temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"{TMP_PREFIX}*") if ".launch" not in p.parts]


# ----- govsim run -m ------------------------------------------------------------------


def test_multirun_sweep_aggregates_one_row_per_run(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    r = _govsim(
        "run", "-m", "scenario=status_quo", "forum.igf.remote=true,false", "seed=0,1",
        "quiet=true", f"hydra.sweep.dir={sweep}", *SMALL, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    result = aggregate_sweep(sweep)
    runs = result.runs
    assert len(runs) == 4
    assert {"scenario", "forum.igf.remote", "seed", "key", "status", "attainment_gap"} <= set(
        runs.columns
    )
    assert set(runs["status"]) == {"done"} and not result.missing and not result.failed
    assert sorted(zip(runs["forum.igf.remote"], runs["seed"], strict=True)) == [
        (False, 0), (False, 1), (True, 0), (True, 1),
    ]  # fmt: skip
    assert runs["key"].is_unique
    # the tidy table carries the swept value on every row of every run
    assert result.table.groupby("key")["forum.igf.remote"].nunique().eq(1).all()
    assert result.table["key"].nunique() == 4
    # the stored summary is the run's own summary (job folder written by `govsim run`)
    job0 = pd.read_parquet(sweep / "0" / "summary.parquet")
    first = result.table[result.table["key"] == runs["key"].iloc[0]]
    assert first["value"].to_numpy() == pytest.approx(job0["value"].to_numpy(), nan_ok=True)
    main(["aggregate", str(sweep)])
    assert "4 done, 0 failed, 0 missing" in capsys.readouterr().out
    assert len(pd.read_csv(sweep / "runs.csv")) == 4


def test_multirun_failed_and_missing_jobs_are_reported(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    # years=0 fails validation inside its job; Hydra then ends the sweep with an
    # error and skips its end-of-sweep callback: aggregation must not need it.
    r = _govsim(
        "run", "-m", "years=1,0", "seed=0,1", "quiet=true", f"hydra.sweep.dir={sweep}",
        *SMALL[1:], cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode != 0
    status = study_status(sweep)
    assert (status.expected, status.done, len(status.failed)) == (4, 2, 2)
    assert "years=0" in next(iter(status.failed.values()))
    # a job that never ran (e.g. a killed sweep) counts as missing
    key = next(k for k in RunStore(sweep).keys())
    RunStore(sweep).path(key).unlink()
    result = aggregate_sweep(sweep)
    assert result.missing == [key]
    main(["status", str(tmp_path)])
    out = capsys.readouterr().out
    assert "failed" in out and "years=0" in out
    # Hydra cannot resume; re-running the same sweep in the same folder computes
    # only what the store lacks (the failing job is tried again and fails again)
    r = _govsim(
        "run", "-m", "years=1,0", "seed=0,1", "quiet=true", f"hydra.sweep.dir={sweep}",
        *SMALL[1:], cwd=tmp_path,
    )  # fmt: skip
    status = study_status(sweep)
    assert (status.done, len(status.failed), status.missing) == (2, 2, [])
    assert r.stdout.count("already stored, skipped") == 1


@pytest.mark.slow
def test_multirun_with_joblib_launcher_matches_basic(tmp_path):
    args = ["run", "-m", "scenario=status_quo,cstd_anchor", "seed=0,1", "quiet=true", *SMALL]
    for name, extra in (("basic", []), ("joblib", ["hydra/launcher=joblib"])):
        r = _govsim(*args, f"hydra.sweep.dir={tmp_path / name}", *extra, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
    a, b = aggregate_sweep(tmp_path / "basic"), aggregate_sweep(tmp_path / "joblib")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert len(a.runs) == 4


# ----- shards ---------------------------------------------------------------------------


def test_shards_partition_the_keys():
    keys = [f"{i:04x}" for i in range(23)]
    groups = assign_shards(reversed(keys), 5)
    flat = [k for g in groups for k in g]
    assert sorted(flat) == keys and len(flat) == len(set(flat))  # each key in one shard
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert groups == assign_shards(keys, 5)  # independent of the study's order
    assert len(assign_shards(keys[:2], 5)) == 2  # no empty shards
    with pytest.raises(ValueError):
        assign_shards(keys, 0)


@pytest.mark.slow
def test_executors_give_identical_aggregates(tmp_path):
    """local process pool, joblib and submitit_local shards: the same table, row for row."""
    tables = {}
    for launcher, opts in (
        ("local", {"jobs": 2}),
        ("joblib", {"n_jobs": 2}),
        ("submitit_local", {"timeout_min": 5}),
    ):
        root = tmp_path / launcher
        _, specs, store = _prepared(root)
        report = execute_with_launcher(specs, store, launcher, shards=2, **opts)
        assert not report.failed and len(report.done) == len(specs) == 8
        table, missing, failed = aggregate(root)
        assert not missing and not failed
        tables[launcher] = table
        # a second call finds everything stored and launches nothing
        again = execute_with_launcher(specs, store, launcher, shards=2, **opts)
        assert len(again.skipped) == 8 and not again.done
    pd.testing.assert_frame_equal(tables["local"], tables["joblib"])
    pd.testing.assert_frame_equal(tables["local"], tables["submitit_local"])


@pytest.mark.slow
def test_sigkilled_shard_then_rerun_completes_identically(tmp_path):
    ref_root, root = tmp_path / "reference", tmp_path / "killed"
    _, specs, ref_store = _prepared(ref_root, replicates=4)
    execute_with_launcher(specs, ref_store, "local", shards=1, jobs=1)
    reference, _, _ = aggregate(ref_root)

    _, specs, store = _prepared(root, replicates=4)
    folder = write_plan(store, specs, shards=1, launcher="basic")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shard = subprocess.Popen(
        launch_command(folder, "basic", 1), cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not store.keys() and time.monotonic() < deadline and shard.poll() is None:
        time.sleep(0.01)
    os.killpg(shard.pid, signal.SIGKILL)  # mid-shard: some runs stored, the rest not
    shard.wait()
    assert shard.returncode == -signal.SIGKILL
    finished = store.keys()
    assert 1 <= len(finished) < len(specs)
    for key in finished:  # whole files only: each one reads and is the reference's run
        pd.testing.assert_frame_equal(store.read(key), ref_store.read(key))
    # a writer killed mid-write leaves at most a temporary, never a run file
    (store.runs / f"{TMP_PREFIX}dead-{specs[-1].key}.parquet").write_bytes(b"PAR1 torn")

    report = execute_with_launcher(specs, store, "basic", shards=2)
    assert sorted(report.skipped) == sorted(finished)  # only what was missing is run
    assert len(report.done) == len(specs) - len(finished) and not report.failed
    table, missing, failed = aggregate(root)
    assert not missing and not failed
    pd.testing.assert_frame_equal(table, reference)
    assert _temporaries(root) == []


def test_run_that_raises_is_recorded_and_shown_by_status(tmp_path, capsys):
    root = tmp_path / "results" / "tiny_sweep"
    _, specs, store = _prepared(root, replicates=1)
    broken = copy.deepcopy(specs[3].config)
    broken["forum"]["cstd"]["decision"] = "no_such_rule"
    specs[3] = dataclasses.replace(specs[3], config=broken)
    folder = write_plan(store, specs, shards=2, launcher="basic")
    counts = [run_shard(folder / "plan.pkl", i) for i in range(2)]
    assert sum(c["done"] for c in counts) == 3 and sum(c["failed"] for c in counts) == 1
    status = study_status(root)
    assert (status.done, list(status.failed), status.missing) == (3, [specs[3].key], [])
    main(["status", str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert "tiny_sweep" in out and "no_such_rule" in out
    line = next(s for s in out.splitlines() if s.startswith("tiny_sweep"))
    assert line.split()[1:5] == ["3", "1", "0", "4"]


def test_manifest_records_provenance(tmp_path):
    root = tmp_path / "study"
    study, specs, _ = _prepared(root)
    meta = read_manifest(root)["meta"]
    assert meta["root_seed"] == 11 and "scenarios: [status_quo, cstd_anchor]" in meta["study_text"]
    assert meta["study_file"] == "tiny_sweep.yaml"
    prov = meta["provenance"]
    assert prov["packages"]["hydra-core"] and "git_commit" in prov
    assert set(meta["scenario_configs"]) == {"status_quo", "cstd_anchor"}
    resolved = meta["resolved_configs"]  # every scenario x grid point, fully resolved
    assert len(resolved) == 4 and {c["scenario"] for c in resolved.values()} == {
        "status_quo", "cstd_anchor",
    }  # fmt: skip
    assert {c["forum"]["igf"]["remote"] for c in resolved.values()} == {True, False}


def test_slurm_example_config_composes(tmp_path):
    """The documented SLURM launcher config is valid for the shard app (no cluster needed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-m", "sim.studies.launch", "plan=x", "hydra/launcher=slurm_example",
         "--cfg", "hydra", "-p", "hydra.launcher"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "SlurmLauncher" in r.stdout and "partition: cpu" in r.stdout
    assert "array_parallelism: 50" in r.stdout and "timeout_min: 240" in r.stdout
