"""One scenario, one seed: the run folder that ``govsim run`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.model import GovernanceModel
from sim.model.compose import as_dict
from sim.model.config import GovsimConfig, as_config
from sim.model.summary import run_summary
from sim.studies.provenance import provenance
from sim.studies.store import write_parquet

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
