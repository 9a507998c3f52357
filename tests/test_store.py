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
