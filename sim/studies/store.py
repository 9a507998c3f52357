"""Results on disk: one Parquet file per run, a manifest of expected runs, aggregation.

Layout of a results folder::

    manifest.json            every expected run (key, scenario, grid values, replicate, seed)
                             and the study's meta (study file text, root seed, versions, commit)
    runs/<key>.parquet       one finished run; written to a temporary name, then renamed
    failed/<key>.json        a run that raised, with its error (removed once it succeeds)

A run's key is a hash of what the run is a pure function of (the resolved
config, the root seed and the replicate number), so a finished run is found
again whatever process, shard or executor computed it, and is never computed
twice. Because each file appears by an atomic rename (:func:`os.replace`), a
crash or ``kill -9`` leaves either the whole file or none of it; stray
temporaries are removed by :meth:`RunStore.clean_temporaries`.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the same object always gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


OUTPUT_VERSION = 3  # 3: issue 14 (the chain, packages, blocs; gap start/change in summaries)
"""Version of what a stored run contains. It is part of every run key, so bumping it when
the model's results or the stored table change makes old stores recompute instead of
silently mixing outputs of two versions of the code."""


def run_key(config: Mapping[str, Any], root_seed: int, replicate: int) -> str:
    """The key of one run: first 20 hex digits of a sha256 over config, seed and output version.

    Parameters
    ----------
    config
        The resolved run config as a plain dict (:func:`sim.model.config.to_container`).
    root_seed, replicate
        The run's random stream is ``SeedSequence(root_seed, spawn_key=(replicate,))``.
    """
    text = canonical_json(
        {
            "config": config,
            "root_seed": int(root_seed),
            "replicate": int(replicate),
            "output_version": OUTPUT_VERSION,
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _atomic_write_bytes(path: Path, write) -> None:
    """Call ``write(tmp_path)`` on a unique temporary name beside ``path``, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a table atomically: to a temporary name in the same folder, then rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


class RunStore:
    """Finished and failed runs of a study, one file each, under ``root``.

    Parameters
    ----------
    root
        The study's results folder (created on first write).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.failed = self.root / "failed"

    def path(self, key: str) -> Path:
        """Where the run ``key`` is (or will be) stored."""
        return self.runs / f"{key}.parquet"

    def has(self, key: str) -> bool:
        """Whether run ``key`` has finished (its file exists)."""
        return self.path(key).exists()

    def write(self, key: str, df: pd.DataFrame) -> None:
        """Store a finished run atomically and clear any earlier failure record."""
        _atomic_write_bytes(self.path(key), lambda tmp: df.to_parquet(tmp, index=False))
        fail = self.failed / f"{key}.json"
        if fail.exists():
            fail.unlink(missing_ok=True)

    def read(self, key: str) -> pd.DataFrame:
        """The stored table of run ``key``."""
        return pd.read_parquet(self.path(key))

    def keys(self) -> list[str]:
        """Keys of every finished run, sorted."""
        if not self.runs.exists():
            return []
        return sorted(
            p.stem for p in self.runs.glob("*.parquet") if not p.name.startswith(TMP_PREFIX)
        )

    def write_failure(self, key: str, error: str) -> None:
        """Record that run ``key`` raised ``error`` (a small JSON file)."""
        text = json.dumps({"key": key, "error": error}, indent=2)
        _atomic_write_bytes(self.failed / f"{key}.json", lambda tmp: tmp.write_text(text))

    def failures(self) -> dict[str, str]:
        """Failed runs that have not since succeeded: key -> error text."""
        if not self.failed.exists():
            return {}
        out = {}
        for p in sorted(self.failed.glob("*.json")):
            if p.name.startswith(TMP_PREFIX) or self.has(p.stem):
                continue
            try:
                out[p.stem] = json.loads(p.read_text())["error"]
            except (OSError, ValueError, KeyError):
                out[p.stem] = "unreadable failure record"
        return out

    def clean_temporaries(self) -> int:
        """Remove temporaries left by killed writers; returns how many were removed."""
        n = 0
        for folder in (self.runs, self.failed, self.root):
            if folder.exists():
                for p in folder.glob(f"{TMP_PREFIX}*"):
                    p.unlink(missing_ok=True)
                    n += 1
        return n


def _spec_row(spec: Any) -> dict[str, Any]:
    """The manifest entry of one run spec (anything with the RunSpec attributes, or a dict)."""
    if isinstance(spec, Mapping):
        return dict(spec)
    return {
        "key": spec.key,
        "scenario": spec.scenario,
        "grid": dict(spec.grid),
        "overrides": list(spec.overrides),
        "replicate": int(spec.replicate),
        "seed": int(spec.root_seed),
    }


def write_manifest(root: Path | str, specs: Iterable[Any], meta: Mapping[str, Any]) -> Path:
    """Write ``manifest.json``: every expected run plus the study's meta, atomically.

    Parameters
    ----------
    root
        The results folder.
    specs
        Run specs (:class:`sim.studies.experiment.RunSpec`) or manifest entries (dicts with
        key, scenario, grid, replicate, seed).
    meta
        Study meta: name, study file text, root seed, provenance, ...
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    doc = {"meta": dict(meta), "runs": [_spec_row(s) for s in specs]}
    text = json.dumps(doc, indent=1, default=str)
    path = root / MANIFEST
    _atomic_write_bytes(path, lambda tmp: tmp.write_text(text))
    return path


def read_manifest(root: Path | str) -> dict[str, Any]:
    """The manifest of a results folder: ``{"meta": {...}, "runs": [...]}``."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: not a study results folder")
    return json.loads(path.read_text())


def aggregate(root: Path | str) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """One tidy table for a study, plus the runs missing and failed.

    Every row of a run's table is extended with the run's ``scenario``, one
    column per swept grid key (named by the override key), ``replicate``,
    ``seed`` (the root seed; the run's stream is ``SeedSequence(seed,
    spawn_key=(replicate,))``) and ``key``. Rows follow manifest order, so the
    same finished runs always give the same table, row for row, whichever
    order or process computed them.

    Returns
    -------
    table, missing, failed
        The table; keys expected by the manifest without a file (failed ones
        included); failed keys with their error.
    """
    manifest = read_manifest(root)
    store = RunStore(root)
    failed_all = store.failures()
    grid_keys: list[str] = []
    for r in manifest["runs"]:
        for k in r.get("grid", {}):
            if k not in grid_keys:
                grid_keys.append(k)
    frames, missing = [], []
    for r in manifest["runs"]:
        key = r["key"]
        if not store.has(key):
            missing.append(key)
            continue
        df = store.read(key)
        ident = {"scenario": r["scenario"]}
        ident.update({k: r.get("grid", {}).get(k) for k in grid_keys})
        ident.update({"replicate": int(r["replicate"]), "seed": int(r["seed"]), "key": key})
        lead = pd.DataFrame({c: [v] * len(df) for c, v in ident.items()}, index=df.index)
        frames.append(pd.concat([lead, df], axis=1))
    expected = {r["key"] for r in manifest["runs"]}
    failed = {k: v for k, v in failed_all.items() if k in expected}
    if frames:
        table = pd.concat(frames, ignore_index=True)
    else:
        table = pd.DataFrame(columns=["scenario", *grid_keys, "replicate", "seed", "key"])
    return table, missing, failed
