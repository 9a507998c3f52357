"""Study throughput (issue 20): chunked pool tasks, batched store writes, the numpy summary.

Each change must leave a study's results byte for byte as they were: the stored table
equals the pandas definition it replaced, a batch of run files equals the files written
one at a time, chunks give the same tables whatever the worker count, and a study killed
in the middle of a batch resumes to the same aggregate.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sensitivity import SUMMARY_COLUMNS, metric_values
from sim.model import GovernanceModel
from sim.model.compose import as_dict, load_config, plain_with_values, with_values
from sim.model.model import run_seed
from sim.model.summary import run_summary, scalar
from sim.studies import execute as ex
from sim.studies.spec import Metric, expand, parse_study
from sim.studies.store import (
    TMP_PREFIX,
    RunStore,
    aggregate,
    parquet_bytes,
    read_manifest,
    write_manifest,
)

SMALL = [
    "population.counts.business=8",
    "population.counts.civil_society=8",
    "population.counts.technical=6",
    "population.counts.igo=5",
]
STUDY = """
name: chunks
scenarios: [status_quo, cstd_anchor]
grid: {behaviour.polarization: [0.6, 1.4]}
replicates: 4
root_seed: 3
years: 1
metrics: [attainment_gap]
"""


# ----- the stored table: the pandas definition it replaced, kept here as the reference ----
def _pandas_group_rows(att, forum, by="group", suffix=""):
    from sim.model import metrics

    rows = []
    n_meetings = att.groupby(["forum", "step"]).ngroups
    for group, d in att.groupby(by, sort=False):
        eligible = d["eligible"].sum()
        values = {
            "participation_rate": metrics.participation_rate(
                d["onsite"].sum() + d["remote"].sum(), eligible
            ),
            "participation_onsite": metrics.participation_rate(d["onsite"].sum(), eligible),
            "participation_remote": metrics.participation_rate(d["remote"].sum(), eligible),
            "voice_share": d["voice_share"].fillna(0).sum() / n_meetings,
        }
        eligible_share = d["eligible_share"].sum() / n_meetings
        values["representation_ratio"] = float(
            metrics.representation_ratio(values["voice_share"], eligible_share)
        )
        rows += [
            {"metric": m + suffix, "forum": forum, "group": group, "value": float(v)}
            for m, v in values.items()
        ]
    return rows


def _pandas_yearly(att):
    att = att.assign(year=(att["step"] - 1) // 12 + 1, present=att["onsite"] + att["remote"])
    frames = []
    for forum_col, d in (("all", att), (None, att)):
        keys = ["year", "group"] if forum_col else ["forum", "year", "group"]
        g = d.groupby(keys, sort=True)[["present", "eligible"]].sum().reset_index()
        if forum_col:
            g["forum"] = "all"
        g["value"] = g["present"] / g["eligible"].where(g["eligible"] > 0)
        frames.append(g)
    y = pd.concat(frames, ignore_index=True)
    y["kind"], y["metric"], y["issue"] = "yearly", "participation_rate", "all"
    return y[ex.TABLE_COLUMNS]


@pytest.mark.parametrize(
    "scenario, overrides, seed",
    [
        ("status_quo", ["years=2"], 1),
        ("cstd_anchor", ["years=1", "behaviour.polarization=1.4"], 7),
        ("gac_model", ["years=2", "forum.igf.remote=false"], 3),
    ],
)
def test_stored_table_equals_the_pandas_definition(scenario, overrides, seed):
    """Group rows and yearly rows by numpy equal pandas' groupby sums bit for bit, and the
    whole stored table keeps its rows, dtypes and Parquet bytes."""
    model = GovernanceModel(config=load_config(scenario, overrides), rng=run_seed(seed, 0)).run()
    tables = model.tables()
    att, regions = tables["attendance"], tables["regions"]
    fast = ex.stored_table(model)
    summary = run_summary(model)
    want = _pandas_group_rows(att, "all") + _pandas_group_rows(
        regions, "all", "region", "_by_region"
    )
    got = summary.iloc[: len(want)].to_dict("records")
    assert got == want  # exact floats, same order
    for forum in model.forum_names:
        a = att[att["forum"] == forum]
        rows = _pandas_group_rows(a, forum) if len(a) else []
        mine = summary[(summary["forum"] == forum) & summary["metric"].isin(
            ["participation_rate", "voice_share", "representation_ratio"])]  # fmt: skip
        want_f = [r for r in rows if r["metric"] in set(mine["metric"])]
        assert mine.to_dict("records") == want_f
    yearly = fast[fast["kind"] == "yearly"].reset_index(drop=True)
    pd.testing.assert_frame_equal(yearly, _pandas_yearly(att), check_dtype=False, check_exact=True)
    assert list(fast.columns) == ex.TABLE_COLUMNS
    assert fast["year"].dtype == np.int64 and fast["value"].dtype == np.float64
    # the same model summarised twice gives the same bytes (no state moved by summarising)
    assert parquet_bytes(ex.stored_table(model)) == parquet_bytes(fast)


def test_metric_values_from_columns_equal_scalar_lookups(tmp_path):
    model = GovernanceModel(config=load_config("status_quo", ["years=1"]), rng=5).run()
    table = ex.stored_table(model)
    store = RunStore(tmp_path)
    store.write("k", table)
    metrics = [
        Metric("attainment_gap", "attainment_gap"),
        Metric("participation_rate@developing_gov", "participation_rate", group="developing_gov"),
        Metric("decision_rate@cstd", "decision_rate", forum="cstd"),
        Metric("no_such_measure", "no_such_measure"),
    ]
    from_columns = metric_values(store.read_columns("k", SUMMARY_COLUMNS), metrics)
    from_frame = metric_values(store.read("k"), metrics)
    summary = table[table["kind"] == "summary"]
    expected = {m.key: scalar(summary, m.name, m.forum, m.group) for m in metrics}
    assert np.isnan(expected.pop("no_such_measure"))
    assert np.isnan(from_columns.pop("no_such_measure"))
    from_frame.pop("no_such_measure")
    assert from_columns == from_frame == expected


# ----- planning an exploration: plain configs give the typed configs' keys -----------------
def test_plain_with_values_equals_the_validated_typed_copy():
    base = load_config("status_quo", ["years=1"])
    values = {
        "behaviour.polarization": 1.25,
        "population.stubbornness.developing_gov": 0.7,
        "years": 2.6,  # an int key: rounded, as with_values does
        "behaviour.remote_cost": 0,  # a float key given an int: made a float
    }
    plain = plain_with_values(as_dict(base), values)
    assert plain == as_dict(with_values(base, values))
    assert plain["years"] == 3 and isinstance(plain["behaviour"]["remote_cost"], float)
    assert as_dict(base)["behaviour"]["polarization"] != 1.25  # the base is not changed
    with pytest.raises(KeyError, match="no_such_key"):
        plain_with_values(as_dict(base), {"behaviour.no_such_key": 1.0})


# ----- batched store writes ----------------------------------------------------------------
def test_a_batch_writes_the_bytes_of_single_writes(tmp_path):
    tables = [(f"k{i}", pd.DataFrame({"metric": ["a", "b"], "value": [i, i + 0.5]}))
              for i in range(5)]  # fmt: skip
    one, batch = RunStore(tmp_path / "one"), RunStore(tmp_path / "batch")
    sums_one = {k: one.write(k, df) for k, df in tables}
    batch.write_failure("k2", "an earlier attempt raised")
    sums_batch = batch.write_batch(tables)
    assert sums_batch == sums_one
    for k, _ in tables:
        data = batch.path(k).read_bytes()
        assert data == one.path(k).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sums_batch[k]
    assert batch.failures() == {}  # a success clears the failure record
    assert not [p for p in (tmp_path / "batch").rglob(f"{TMP_PREFIX}*")]
    assert batch.write_batch([]) == {}


def test_a_failed_batch_leaves_whole_files_or_none(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    tables = [(f"k{i}", pd.DataFrame({"value": [float(i)]})) for i in range(4)]
    import os

    real, calls = os.replace, []

    def rename_twice(src, dst):  # the third rename fails (a full disk, a crash)
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("rename failed")
        real(src, dst)

    monkeypatch.setattr("sim.studies.store.os.replace", rename_twice)
    with pytest.raises(OSError, match="rename failed"):
        store.write_batch(tables)
    assert store.keys() == ["k0", "k1"]
    assert all(store.check(k) is None for k in store.keys())
    assert not list((tmp_path / "runs").glob(f"{TMP_PREFIX}*"))


def test_chunk_size_keeps_workers_busy():
    assert ex.chunk_size(3, 2) == 1  # small studies: one run a task
    assert ex.chunk_size(80, 2) == 10  # about four tasks per worker
    assert ex.chunk_size(10_000, 2) == ex.CHUNK_MAX
    assert ex.chunk_size(100, 0) >= 1


# ----- chunks in the pool: identical tables across worker counts, resume after a kill -------
@pytest.fixture(scope="module")
def chunks_study():
    return parse_study(STUDY, path="chunks.yaml", overrides=SMALL)


@pytest.fixture(scope="module")
def chunks_reference(chunks_study, tmp_path_factory):
    """The study run one spec at a time in this process, each file written on its own."""
    root = tmp_path_factory.mktemp("chunks_ref")
    specs = expand(chunks_study)
    write_manifest(root, specs, {"study": "chunks"})
    store = RunStore(root)
    for s in specs:
        store.write(s.key, ex.run_spec(s))
    return root


def test_chunked_runs_equal_single_runs_for_1_and_2_workers(
    chunks_study, chunks_reference, tmp_path
):
    specs = expand(chunks_study)
    assert ex.chunk_size(len(specs), 1) == 4 and ex.chunk_size(len(specs), 2) == 2
    ref = RunStore(chunks_reference)
    for jobs in (1, 2):
        root = tmp_path / f"j{jobs}"
        write_manifest(root, specs, {"study": "chunks"})
        report = ex.execute(specs, RunStore(root), jobs=jobs, progress=False)
        assert sorted(report.done) == sorted(s.key for s in specs) and not report.failed
        for s in specs:  # byte for byte, whichever chunk and worker computed the run
            assert RunStore(root).path(s.key).read_bytes() == ref.path(s.key).read_bytes()
        sums = read_manifest(root)["checksums"]
        assert sorted(sums) == sorted(s.key for s in specs)
        pd.testing.assert_frame_equal(aggregate(root)[0], aggregate(chunks_reference)[0])


KILL_MID_BATCH = """
import os, sys
import sim.studies.execute as ex
import sim.studies.store as store_module
from sim.studies.spec import expand, parse_study
from sim.studies.store import RunStore, write_manifest

root, text, small = sys.argv[1], sys.argv[2], sys.argv[3:]
specs = expand(parse_study(text, path="chunks.yaml", overrides=small))
write_manifest(root, specs, {"study": "chunks"})
ex.chunk_size = lambda runs, jobs: 8  # one batch holds 8 runs
real, renamed = os.replace, []

def rename_then_die(src, dst):
    if "/runs/" in str(dst):
        if len(renamed) == 3:  # killed in the middle of the batch's renames
            os._exit(9)
        renamed.append(dst)
    real(src, dst)

store_module.os.replace = rename_then_die
ex.execute(specs, RunStore(root), jobs=1, progress=False)
"""


def test_a_study_killed_mid_batch_resumes_to_the_same_aggregate(
    chunks_study, chunks_reference, tmp_path
):
    """Kill the process after 3 of a batch's 8 renames: 3 whole run files and 5
    temporaries remain; the re-run removes the temporaries, keeps the 3 files and
    computes the rest; the aggregate equals the uninterrupted one."""
    root = tmp_path / "killed"
    code = textwrap.dedent(KILL_MID_BATCH)
    proc = subprocess.run([sys.executable, "-c", code, str(root), STUDY, *SMALL], timeout=300)
    assert proc.returncode == 9
    store = RunStore(root)
    kept = store.keys()
    assert len(kept) == 3
    assert len(list((root / "runs").glob(f"{TMP_PREFIX}*"))) == 5
    assert all(store.check(k) is None for k in kept)
    specs = expand(chunks_study)
    report = ex.execute(specs, store, jobs=2, progress=False)
    assert sorted(report.skipped) == sorted(kept)
    assert len(report.done) == len(specs) - 3 and not report.failed
    assert not list(root.rglob(f"{TMP_PREFIX}*"))
    pd.testing.assert_frame_equal(aggregate(root)[0], aggregate(chunks_reference)[0])
