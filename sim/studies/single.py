"""One scenario, one seed: the run folder that ``govsim run`` writes, and re-running any
stored study run from its manifest (:func:`rerun`)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.model import GovernanceModel
from sim.model.compose import as_dict
from sim.model.config import GovsimConfig, as_config
from sim.model.summary import run_summary
from sim.studies.execute import run_spec
from sim.studies.provenance import provenance
from sim.studies.spec import RunSpec
from sim.studies.store import read_manifest, run_key, write_parquet

TABLES = ("meetings", "attendance", "outcomes", "groups", "steps", "summary")


def run(
    cfg: GovsimConfig | DictConfig, out_dir: str | Path | None = None
) -> dict[str, pd.DataFrame]:
    """Run one scenario and write its run folder; returns the tables and the summary.

    Writes ``meetings``, ``attendance``, ``outcomes``, ``groups``, ``steps`` and
    ``summary`` as Parquet, plus ``config.yaml`` (resolved) and ``provenance.json``.
    The run draws from ``run_seed(cfg.seed)`` = ``SeedSequence(seed, spawn_key=(0,))``,
    replicate 0 of a study with that root seed (:func:`sim.model.model.run_seed`). The
    config is validated by the model unless it comes checked from
    :func:`sim.model.compose.load_config`.
    """
    cfg = as_config(cfg)
    model = GovernanceModel(config=cfg).run()
    tables = model.tables()
    tables["summary"] = run_summary(model)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            write_parquet(df, out / f"{name}.parquet")
        (out / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(as_dict(cfg))))
        (out / "provenance.json").write_text(json.dumps(provenance(cfg), indent=2))
    return tables


def manifest_run(folder: str | Path, key: str) -> RunSpec:
    """The run ``key`` of a study's results folder, rebuilt from its ``manifest.json``.

    The manifest lists every run (key, scenario, grid values, replicate, seed) and keeps
    every resolved config; the config of run ``key`` is the one whose
    :func:`~sim.studies.store.run_key` with the run's seed and replicate is ``key``, so
    the rebuilt spec is checked against the key it claims to be.
    """
    manifest = read_manifest(folder)
    runs = {r["key"]: r for r in manifest["runs"]}
    if key not in runs:
        raise KeyError(f"run {key!r} is not in {Path(folder) / 'manifest.json'}")
    entry = runs[key]
    seed, replicate = int(entry["seed"]), int(entry["replicate"])
    configs = manifest["meta"].get("resolved_configs") or {}
    for config in configs.values():
        if config and run_key(config, seed, replicate) == key:
            return RunSpec(key, entry["scenario"], tuple(entry.get("overrides", ())),
                           dict(entry.get("grid", {})), replicate, seed, config)  # fmt: skip
    raise KeyError(f"no resolved config in the manifest of {folder} gives run {key!r}")


def rerun(folder: str | Path, key: str) -> pd.DataFrame:
    """Re-run one stored study run from its manifest; the table equals the stored one.

    The run draws from ``run_seed(seed, replicate)`` =
    ``SeedSequence(seed, spawn_key=(replicate,))`` (docs/user_guide.md, "Seeds and
    reproducing a run").
    """
    return run_spec(manifest_run(folder, key))
