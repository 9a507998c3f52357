"""Exploratory modelling: every design across a sample of what we do not know.

An :class:`~sim.studies.spec.ExplorationStudy` names designs (scenarios) and
uncertain assumptions with ranges. :func:`sample` draws the assumptions (a Latin
hypercube or a scrambled Sobol sequence, :mod:`scipy.stats.qmc`); :func:`specs`
turns every design × draw into a run with ``SeedSequence(root_seed,
spawn_key=(draw,))``, so all designs in a draw share the assumptions *and* the
random numbers; :func:`run_study` runs them through the study engine's store
(resumable, any launcher) and :func:`analyse` compares designs draw by draw with
:mod:`sim.analysis.robustness` and finds, with PRIM
(:mod:`sim.analysis.discovery`), the assumptions under which each design fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.analysis import robustness
from sim.analysis.discovery import Box, prim_box
from sim.analysis.sensitivity import SUMMARY_COLUMNS, metric_values
from sim.model.compose import as_dict, load_config, plain_with_values
from sim.studies.execute import ExecutionReport
from sim.studies.launch import execute_with_launcher
from sim.studies.provenance import provenance
from sim.studies.spec import ExplorationStudy, Metric, RunSpec
from sim.studies.store import RunStore, run_key, write_manifest, write_parquet

MIN_FAILURES_FOR_PRIM = 5
"""PRIM is not run for a design that fails (or succeeds) in fewer draws than this."""


def sample(study: ExplorationStudy) -> pd.DataFrame:
    """The assumption draws: one row per draw, one column per uncertainty (scaled, rounded).

    The generator is seeded with ``root_seed``, so the same study draws the same points.
    """
    d = len(study.uncertainties)
    if study.sampler == "sobol":
        unit = qmc.Sobol(d, scramble=True, seed=study.root_seed).random(study.samples)
    else:
        unit = qmc.LatinHypercube(d, seed=study.root_seed).random(study.samples)
    low = np.array([p.low for p in study.uncertainties])
    high = np.array([p.high for p in study.uncertainties])
    values = qmc.scale(unit, low, high)
    table = pd.DataFrame(values, columns=[p.key for p in study.uncertainties])
    for p in study.uncertainties:
        if p.integer:
            table[p.key] = np.rint(table[p.key]).astype(int)
    table.index.name = "draw"
    return table


def specs(study: ExplorationStudy, draws: pd.DataFrame) -> list[RunSpec]:
    """One run per design × draw; replicate ``r`` of draw ``j`` uses spawn key ``j·R + r``."""
    out = []
    # each design composed and validated once; a draw's config is a plain copy with the
    # assumption values set (the worker validates it when it builds the model; the study's
    # preparation checked every assumption at both ends of its range)
    common = tuple(study.base_overrides())
    bases = {
        d: study.bases.get((d, common)) or as_dict(load_config(d, list(common)))
        for d in study.designs
    }
    for d in study.designs:
        for j, row in draws.iterrows():
            values = {
                k: (int(v) if isinstance(v, np.integer) else float(v)) for k, v in row.items()
            }
            config = plain_with_values(bases[d], values)
            overrides = (*study.overrides, *(f"{k}={v!r}" for k, v in values.items()))
            for r in range(study.replicates):
                stream = int(j) * study.replicates + r
                out.append(
                    RunSpec(
                        key=run_key(config, study.root_seed, stream),
                        scenario=d,
                        overrides=tuple(overrides),
                        grid={"draw": int(j), **values},
                        replicate=stream,
                        root_seed=study.root_seed,
                        config=config,
                    )
                )
    return out


def run_study(
    study: ExplorationStudy,
    out: Path,
    jobs: int | None = None,
    progress: bool = True,
    launcher: str = "local",
    shards: int | None = None,
    launcher_opts: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, ExecutionReport]:
    """Run every design × draw not stored yet; return the outcomes table and the report.

    The outcomes table has one row per design × draw (replicates averaged): ``design``,
    ``draw``, the assumption values, and one column per measure (goal and guards).
    """
    out.mkdir(parents=True, exist_ok=True)
    draws = sample(study)
    runs = specs(study, draws)
    meta = {
        "study": study.name,
        "kind": "exploration",
        "study_text": study.text,
        "root_seed": study.root_seed,
        "provenance": provenance(),
    }
    write_manifest(out, runs, meta)
    store = RunStore(out)
    opts = dict(launcher_opts or {})
    if launcher == "local":
        opts["jobs"] = jobs
    n_shards = shards or jobs or 1
    report = execute_with_launcher(runs, store, launcher, n_shards, progress=progress, **opts)
    measures = [_goal(study), *study.guards]
    rows = []
    for s in runs:
        if not store.has(s.key):
            continue
        values = metric_values(store.read_columns(s.key, SUMMARY_COLUMNS), measures)
        rows.append({"design": s.scenario, "draw": s.grid["draw"], **values})
    outcomes = pd.DataFrame(rows)
    if len(outcomes):
        outcomes = outcomes.groupby(["design", "draw"], as_index=False).mean()
        outcomes = outcomes.merge(draws.reset_index(), on="draw", how="left")
    return outcomes, report


def _goal(study: ExplorationStudy) -> Metric:
    return Metric(study.goal.metric, study.goal.metric.partition("@")[0])


@dataclass
class Exploration:
    """What :func:`analyse` finds.

    ``improvement`` is draws × designs: how much better than the baseline each design
    does on the goal in each draw (positive = better, whatever the goal's direction);
    ``summary`` has one row per design (effect quantiles, regret, satisficing, rank);
    ``boxes`` maps a design to the PRIM box of the draws in which it fails to satisfice
    (absent when it fails or succeeds too rarely to find a region).
    """

    improvement: pd.DataFrame
    guards: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    boxes: dict[str, Box] = field(default_factory=dict)
    failures: dict[str, np.ndarray] = field(default_factory=dict)
    goal_missed: pd.Series | None = None
    """Per design: share of draws in which the improvement falls short of the goal."""
    guard_broken: pd.Series | None = None
    """Per design: share of draws in which some guarded measure falls."""


def analyse(study: ExplorationStudy, outcomes: pd.DataFrame) -> Exploration:
    """Design effects, regret, satisficing and ranking across draws; PRIM per design."""
    goal = _goal(study).key
    sign = -1.0 if study.goal.direction == "decrease" else 1.0
    improvement = sign * robustness.design_effects(outcomes, goal, study.baseline)
    improvement = improvement[list(study.designs)]
    guards = {
        g.key: robustness.design_effects(outcomes, g.key, study.baseline)[list(study.designs)]
        for g in study.guards
    }
    summary = robustness.summary(improvement, study.goal.threshold, guards)
    goal_ok = improvement >= study.goal.threshold - 1e-12
    guard_ok = pd.DataFrame(True, index=improvement.index, columns=improvement.columns)
    for g in guards.values():
        guard_ok &= g >= -1e-12
    ok = goal_ok & guard_ok
    x = outcomes.drop_duplicates("draw").set_index("draw").sort_index()
    x = x[[p.key for p in study.uncertainties]].loc[improvement.index]
    boxes, failures = {}, {}
    for d in study.designs:
        if d == study.baseline:
            continue
        fail = ~ok[d].to_numpy()
        failures[d] = fail
        if MIN_FAILURES_FOR_PRIM <= fail.sum() <= len(fail) - MIN_FAILURES_FOR_PRIM:
            boxes[d] = prim_box(x, fail, min_coverage=0.7)
    missed, broken = 1 - goal_ok.mean(), 1 - guard_ok.mean()
    return Exploration(improvement, guards, summary, boxes, failures, missed, broken)


def write_outputs(study: ExplorationStudy, outcomes: pd.DataFrame, found: Exploration,
                  out: Path, seconds: float) -> None:  # fmt: skip
    """Tables (CSV + Parquet): outcomes, improvement, robustness summary, PRIM boxes."""
    write_parquet(outcomes, out / "outcomes.parquet")
    found.improvement.to_csv(out / "improvement.csv", float_format="%.6g")
    found.summary.to_csv(out / "robustness.csv", float_format="%.6g")
    for d, box in found.boxes.items():
        box.trajectory.to_csv(out / f"prim_{d}_trajectory.csv", float_format="%.6g")
        box.limits.to_csv(out / f"prim_{d}_box.csv", float_format="%.6g")
    meta = {"study": study.name, "seconds": round(seconds, 1), "provenance": provenance()}
    (out / "exploration.json").write_text(json.dumps(meta, indent=2, default=str))


def explore(
    study: ExplorationStudy, out: Path, jobs: int | None = None, progress: bool = True, **launch
) -> tuple[pd.DataFrame, Exploration, ExecutionReport, float]:
    """Run (or resume) and analyse an exploration; write its tables."""
    t0 = time.perf_counter()
    outcomes, report = run_study(study, out, jobs=jobs, progress=progress, **launch)
    if report.failed:
        return outcomes, None, report, time.perf_counter() - t0  # type: ignore[return-value]
    found = analyse(study, outcomes)
    seconds = time.perf_counter() - t0
    write_outputs(study, outcomes, found, out, seconds)
    return outcomes, found, report, seconds
