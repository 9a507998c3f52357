"""The run store: keys, atomic writes, failures, manifest and aggregation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.studies.store import (
    ManifestError,
    RunStore,
    aggregate,
    read_manifest,
    run_key,
    write_manifest,
)


def table(v: float) -> pd.DataFrame:
    return pd.DataFrame({"metric": ["a", "b"], "value": [v, v + 1.0]})


def test_run_key_is_stable_and_sensitive():
    cfg = {"b": 1, "a": {"y": [1, 2], "x": True}}
    same = {"a": {"x": True, "y": [1, 2]}, "b": 1}
    k = run_key(cfg, 5, 0)
    assert len(k) == 20 and all(c in "0123456789abcdef" for c in k)
    assert run_key(same, 5, 0) == k  # key order does not matter
    assert run_key(cfg, 5, 1) != k
    assert run_key(cfg, 6, 0) != k
    assert run_key({**cfg, "b": 2}, 5, 0) != k


def test_write_read_and_keys(tmp_path):
    store = RunStore(tmp_path)
    assert store.keys() == [] and not store.has("k1")
    store.write("k1", table(1.0))
    assert store.has("k1") and store.keys() == ["k1"]
    pd.testing.assert_frame_equal(store.read("k1"), table(1.0))
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["k1.parquet"]


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    store = RunStore(tmp_path)

    class Bad(pd.DataFrame):
        def to_parquet(self, *a, **k):
            raise OSError("disk full")

    with pytest.raises(OSError):
        store.write("k1", Bad(table(1.0)))
    assert not store.has("k1")

    def no_rename(*a):  # the temporary is written and fsynced, then the rename fails
        raise OSError("rename failed")

    monkeypatch.setattr("sim.studies.store.os.replace", no_rename)
    with pytest.raises(OSError, match="rename failed"):
        store.write("k1", table(1.0))
    assert not store.has("k1")
    assert list((tmp_path / "runs").iterdir()) == []


def test_clean_temporaries(tmp_path):
    store = RunStore(tmp_path)
    store.write("k1", table(1.0))
    (tmp_path / "runs" / ".tmp-abc-k2.parquet").write_bytes(b"partial")
    assert store.keys() == ["k1"]
    assert store.clean_temporaries() == 1
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["k1.parquet"]


def test_failure_recorded_then_cleared_by_success(tmp_path):
    store = RunStore(tmp_path)
    store.write_failure("k1", "ValueError: bad")
    assert store.failures() == {"k1": "ValueError: bad"}
    store.write("k1", table(1.0))
    assert store.failures() == {}
    assert not (tmp_path / "failed" / "k1.json").exists()


def test_manifest_round_trip_and_aggregate(tmp_path):
    runs = [
        {"key": f"k{i}", "scenario": s, "grid": {"x": x}, "replicate": r, "seed": 3}
        for i, (s, x, r) in enumerate(
            [(s, x, r) for s in ("a", "b") for x in (1, 2) for r in (0, 1)]
        )
    ]
    write_manifest(tmp_path, runs, {"study": "t"})
    assert read_manifest(tmp_path)["meta"] == {"study": "t"}
    store = RunStore(tmp_path)
    for i, r in enumerate(runs[:-2]):  # last two missing
        store.write(r["key"], table(float(i)))
    store.write_failure("k7", "boom")
    t, missing, failed = aggregate(tmp_path)
    assert missing == ["k6", "k7"] and failed == {"k7": "boom"}
    assert len(t) == 2 * 6
    assert list(t.columns[:5]) == ["scenario", "x", "replicate", "seed", "key"]
    # rows follow manifest order and carry their run's identity
    assert list(t["key"].unique()) == [f"k{i}" for i in range(6)]
    row = t[t["key"] == "k5"].iloc[0]
    assert (row["scenario"], row["x"], row["replicate"]) == ("b", 1, 1)
    assert np.allclose(t.loc[t["metric"] == "a", "value"], np.arange(6))


def test_read_manifest_missing_is_clear(tmp_path):
    with pytest.raises(ManifestError, match="not a study results folder"):
        read_manifest(tmp_path)


# ----- healing, locking, crashed workers --------------------------------------------------
SMALL = [
    "population.counts.business=20",
    "population.counts.civil_society=20",
    "population.counts.technical=10",
    "population.counts.igo=5",
]
TINY = """
name: tiny_heal
scenarios: [status_quo]
grid: {behaviour.polarization: [0.5, 1.5]}
replicates: 2
root_seed: 5
years: 1
metrics: [attainment_gap]
"""


@pytest.fixture(scope="module")
def tiny_study():
    from sim.studies.spec import parse_study

    return parse_study(TINY, path="tiny_heal.yaml", overrides=SMALL)


@pytest.fixture(scope="module")
def reference(tiny_study, tmp_path_factory):
    """The tiny study run once, uninterrupted, in this process."""
    from sim.studies.launch import run_study

    root = tmp_path_factory.mktemp("reference")
    report = run_study(tiny_study, root, jobs=1, progress=False)
    assert len(report.done) == 4 and not report.failed
    return root


def _copy(src, dest):
    import shutil

    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".govsim.lock*"))
    return dest


def test_manifest_records_a_checksum_for_every_run(reference):
    from sim.studies.store import sha256_of

    manifest = read_manifest(reference)
    sums = manifest["checksums"]
    assert sorted(sums) == sorted(r["key"] for r in manifest["runs"])
    store = RunStore(reference)
    assert all(sha256_of(store.path(k).read_bytes()) == v for k, v in sums.items())
    assert (reference / "study.json").exists() and not (reference / ".inflight").exists()


@pytest.mark.parametrize("damage", ["truncated", "bit_flip", "empty"])
def test_damaged_run_file_is_missing_for_status_and_recomputed(
    damage, reference, tiny_study, tmp_path, caplog
):
    from sim.studies.launch import aggregate_sweep, run_study, study_status

    root = _copy(reference, tmp_path / "res")
    key = read_manifest(root)["runs"][1]["key"]
    path = RunStore(root).path(key)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "bit_flip":
        data[len(data) // 2] ^= 0x01
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    status = study_status(root)  # a damaged file is not "done"
    assert (status.done, status.missing, list(status.damaged)) == (3, [key], [key])
    with caplog.at_level("WARNING", logger="govsim"):
        assert aggregate_sweep(root).missing == [key]
    assert key in caplog.text and "counted as missing" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="govsim"):
        report = run_study(tiny_study, root, jobs=1, progress=False)
    assert report.done == [key] and len(report.skipped) == 3
    assert str(path) in caplog.text and "recomputed" in caplog.text
    assert (root / "damaged" / path.name).exists()  # kept aside, for a look
    table, missing, failed = aggregate(root)
    pd.testing.assert_frame_equal(table, aggregate(reference)[0])
    assert study_status(root).done == 4


@pytest.mark.parametrize("damage", [b"", b'{"meta": {"study": "tiny', b"\xff\xfe", b"[]"])
def test_damaged_manifest_is_rebuilt_from_the_study_file(damage, reference, tmp_path, caplog):
    from sim.studies.launch import aggregate_sweep, ensure_manifest, study_status

    root = _copy(reference, tmp_path / "res")
    good = read_manifest(root)
    (root / "manifest.json").write_bytes(damage)
    with caplog.at_level("WARNING", logger="govsim"):
        rebuilt = ensure_manifest(root)
    assert "manifest.json" in caplog.text and "rebuilt" in caplog.text
    assert rebuilt["runs"] == [{**r, "overrides": r["overrides"]} for r in good["runs"]]
    assert read_manifest(root)["runs"] == good["runs"]  # and written back
    assert study_status(root).done == 4
    assert aggregate_sweep(root).table.equals(aggregate(reference)[0])


def test_report_rebuilds_a_truncated_manifest(reference, tmp_path, capsys):
    from sim.cli import main

    root = _copy(reference, tmp_path / "res")
    text = (root / "manifest.json").read_text()
    (root / "manifest.json").write_text(text[: len(text) // 3])
    main(["report", str(root)])
    captured = capsys.readouterr()
    assert "manifest.json" in captured.err and "rebuilt" in captured.err
    assert (root / "briefing.md").exists()


def test_manifest_without_study_file_is_one_clear_error(tmp_path):
    from sim.studies.launch import ensure_manifest

    write_manifest(tmp_path, [], {"study": "t"})
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(ManifestError, match="no study.json"):
        ensure_manifest(tmp_path)


def _hold_lock(root, ready):
    """A process holding ``root``'s lock until killed (prints 'held' when it has it)."""
    import subprocess
    import sys

    code = (
        "import sys, time\n"
        "from sim.studies.store import folder_lock\n"
        "with folder_lock(sys.argv[1], 'govsim experiment other_study --out X'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert proc.stdout.readline().strip() == ready
    return proc


def test_second_study_on_the_same_folder_stops_naming_the_holder(tmp_path, capsys):
    import os
    import socket

    from sim.cli import main

    (tmp_path / "tiny.yaml").write_text(TINY)
    holder = _hold_lock(tmp_path / "res", "held")
    try:
        with pytest.raises(SystemExit) as e:
            main(["experiment", str(tmp_path / "tiny.yaml"), "--out", str(tmp_path / "res"),
                  "-q", "-j", "1", *SMALL])  # fmt: skip
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert f"pid {holder.pid} on {socket.gethostname()}" in err
        assert "other_study" in err and "Traceback" not in err
        assert not (tmp_path / "res" / "manifest.json").exists()  # nothing touched
    finally:
        holder.kill()
        holder.wait()
    assert os.getpid() != holder.pid


def test_stale_lock_of_a_killed_study_is_taken_over(tmp_path, caplog):
    import signal

    from sim.studies.store import folder_lock, lock_holder

    holder = _hold_lock(tmp_path, "held")
    holder.send_signal(signal.SIGKILL)  # no chance to release or tidy up
    holder.wait()
    assert lock_holder(tmp_path)["pid"] == holder.pid  # its record is left behind
    with caplog.at_level("WARNING", logger="govsim"):
        with folder_lock(tmp_path, "govsim experiment mine"):
            assert lock_holder(tmp_path)["command"] == "govsim experiment mine"
    assert f"pid {holder.pid}" in caplog.text and "no longer running" in caplog.text
    assert lock_holder(tmp_path) is None


def _killer(root, keys=None, times=1):
    """A thread that SIGKILLs the worker computing a run (any run, or one of ``keys``),
    ``times`` times; the list it returns fills with (key, pid) of each kill."""
    import os
    import signal
    import threading
    import time

    from sim.studies.execute import INFLIGHT

    killed: list[tuple[str, int]] = []

    def watch():
        deadline = time.monotonic() + 300
        seen = set()
        while len(killed) < times and time.monotonic() < deadline:
            marks = list((root / INFLIGHT).glob("*")) if (root / INFLIGHT).exists() else []
            for mark in marks:
                try:
                    pid = int(mark.read_text())
                except (OSError, ValueError):
                    continue
                if (keys and mark.name not in keys) or pid in seen:
                    continue
                os.kill(pid, signal.SIGKILL)
                seen.add(pid)
                killed.append((mark.name, pid))
                break
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, killed


def test_killed_worker_costs_one_retry_and_nothing_else(reference, tiny_study, tmp_path, caplog):
    """SIGKILL the worker computing a run: the pool is rebuilt, that run retried once, and
    the aggregate is identical to an uninterrupted study's."""
    from sim.studies.launch import run_study

    root = tmp_path / "res"
    watcher, killed = _killer(root)
    with caplog.at_level("WARNING", logger="govsim"):
        report = run_study(tiny_study, root, jobs=2, progress=False)
    watcher.join()
    assert len(killed) == 1
    key = killed[0][0]
    assert sorted(report.done) == sorted(r["key"] for r in read_manifest(root)["runs"])
    assert not report.failed
    assert f"run {key}: worker process died of SIGKILL" in caplog.text
    pd.testing.assert_frame_equal(aggregate(root)[0], aggregate(reference)[0])


def test_worker_killed_while_runs_are_still_being_queued(
    reference, tiny_study, tmp_path, monkeypatch, caplog
):
    """The pool can break before every chunk is queued (CI saw `submit` raise
    BrokenProcessPool): the killed run is retried once and the aggregate is unchanged."""
    import os
    import signal
    import time

    import sim.studies.execute as execute_mod
    from sim.studies.launch import run_study

    root = tmp_path / "res"
    killed = []

    class KillsBetweenSubmits(execute_mod.ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            if killed or not getattr(self, "_queued", 0):
                self._queued = getattr(self, "_queued", 0) + 1
                return super().submit(fn, *args, **kwargs)
            deadline = time.monotonic() + 60  # the first chunk's worker marks its run
            while time.monotonic() < deadline:
                marks = list((root / execute_mod.INFLIGHT).glob("*"))
                text = marks[0].read_text() if marks else ""
                if text:
                    os.kill(int(text), signal.SIGKILL)
                    killed.append(marks[0].name)
                    break
                time.sleep(0.005)
            while not self._broken and time.monotonic() < deadline:
                time.sleep(0.005)
            return super().submit(fn, *args, **kwargs)  # raises: the pool is broken

    monkeypatch.setattr(execute_mod, "ProcessPoolExecutor", KillsBetweenSubmits)
    with caplog.at_level("WARNING", logger="govsim"):
        report = run_study(tiny_study, root, jobs=2, progress=False)
    assert len(killed) == 1
    assert not report.failed and len(report.done) == 4
    assert f"run {killed[0]}: worker process died of SIGKILL" in caplog.text
    pd.testing.assert_frame_equal(aggregate(root)[0], aggregate(reference)[0])


def test_run_whose_worker_dies_twice_is_failed_with_the_cause(tiny_study, tmp_path):
    """A run whose worker is killed on both attempts is recorded as failed, with the cause;
    the other runs complete."""
    from sim.studies.execute import execute
    from sim.studies.spec import expand

    specs = expand(tiny_study)
    doomed = specs[2].key
    watcher, killed = _killer(tmp_path, keys={doomed}, times=2)
    report = execute(specs, RunStore(tmp_path), jobs=2, progress=False)
    watcher.join()
    assert [k for k, _ in killed] == [doomed, doomed]
    assert list(report.failed) == [doomed]
    assert "SIGKILL" in report.failed[doomed] and "2 attempts" in report.failed[doomed]
    assert sorted(report.done) == sorted(s.key for s in specs if s.key != doomed)
    assert RunStore(tmp_path).failures() == report.failed
