"""Global sensitivity analysis with SALib: Morris screening and Sobol indices.

A sensitivity study (``kind: sensitivity`` in ``experiments/<name>.yaml``, typed by
:class:`sim.studies.spec.SensitivityStudy`) lists parameters (Hydra
override keys of :class:`~sim.model.config.GovsimConfig`) with ranges, the metrics to
explain, the replicates per design point, and one or more *stages*: Morris
elementary effects (Morris 1991; μ* of Campolongo, Cariboni & Saltelli 2007)
and Sobol first- and total-order indices from a Saltelli design (Saltelli 2002;
Saltelli et al. 2010). A Sobol stage may keep only the ``top`` parameters of the
preceding Morris stage (ranked by μ* relative to the largest μ* of each metric).

The work follows SALib's split: :func:`sample` gives the design, a
:class:`Runner` evaluates it, :func:`analyse` turns outputs into indices. For
the model, :class:`ModelRunner` turns each design point into one
:class:`~sim.studies.spec.RunSpec` per replicate and runs them with
:func:`sim.studies.execute.execute` through a :class:`~sim.studies.store.RunStore`, so an
interrupted study resumes and runs in parallel like any other study. Replicate
``r`` uses the same random stream at every design point (common random
numbers), so differences between points are differences of parameters, not
of luck; the output at a point is the mean over replicates.

Integer parameters (``integer: true``) are rounded before they are run; the
analysis uses the unrounded design, so Morris effects of an integer parameter
are per nominal step of its range.

Configs are built without calling Hydra per point: the base config is
composed once (:func:`sim.model.compose.load_config`) and each point's values are set
on a deep copy of the typed :class:`~sim.model.config.GovsimConfig`
(:func:`sim.model.compose.with_values`, which coerces each value to the type of the
field it replaces, refuses unknown keys and validates the copy). Going through OmegaConf
(``OmegaConf.update`` + ``as_config``) costs about a second per config on this
machine; the typed copy costs milliseconds.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.model.compose import load_config, with_values
from sim.model.config import GovsimConfig
from sim.studies.execute import execute
from sim.studies.provenance import provenance
from sim.studies.spec import METHODS, Metric, Parameter, RunSpec, SensitivityStudy, Stage
from sim.studies.store import RunStore, run_key, write_manifest, write_parquet

__all__ = [
    "METHODS", "FunctionRunner", "Metric", "ModelRunner", "Parameter", "SensitivityStudy",
    "Stage", "StageResult", "analyse", "metric_values", "problem", "rounded", "run_stage",
    "run_study", "sample", "top_parameters", "with_values",
]  # fmt: skip


# ----- configs without Hydra -------------------------------------------------------
def plain(cfg: GovsimConfig) -> dict[str, Any]:
    """The config as a plain nested dict (what the run key hashes)."""
    return dataclasses.asdict(cfg)


# ----- sample -> run -> analyse ---------------------------------------------------
def problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """SALib's problem dict for ``parameters``."""
    return {
        "num_vars": len(parameters),
        "names": [p.key for p in parameters],
        "bounds": [[p.low, p.high] for p in parameters],
    }


def sample(parameters: Sequence[Parameter], stage: Stage) -> np.ndarray:
    """The design of a stage, (points, parameters), unrounded, seeded by ``stage.seed``."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    prob = problem(parameters)
    if stage.method == "morris":
        return morris_sample.sample(
            prob, stage.trajectories, num_levels=stage.levels, seed=stage.seed
        )
    return sobol_sample.sample(prob, stage.base_samples, calc_second_order=False, seed=stage.seed)


def rounded(parameters: Sequence[Parameter], design: np.ndarray) -> np.ndarray:
    """The design as it is run: integer parameters rounded to the nearest whole number."""
    out = np.array(design, dtype=float, copy=True)
    for j, p in enumerate(parameters):
        if p.integer:
            out[:, j] = np.round(out[:, j])
    return out


def analyse(
    parameters: Sequence[Parameter],
    stage: Stage,
    design: np.ndarray,
    outputs: np.ndarray,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Indices of one output vector: a row per parameter.

    Morris: ``mu``, ``mu_star``, ``sigma``, ``mu_star_conf`` (bootstrap interval
    half-width). Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    prob = problem(parameters)
    y = np.asarray(outputs, dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{np.sum(~np.isfinite(y))} outputs are not finite; cannot analyse")
    if stage.method == "morris":
        res = morris_analyze.analyze(
            prob, design, y, num_levels=stage.levels, conf_level=conf_level, seed=stage.seed
        )
        cols = ["mu", "mu_star", "sigma", "mu_star_conf"]
    else:
        res = sobol_analyze.analyze(
            prob, y, calc_second_order=False, conf_level=conf_level, seed=stage.seed
        )
        cols = ["S1", "S1_conf", "ST", "ST_conf"]
    table = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in cols})
    table.insert(0, "parameter", [p.key for p in parameters])
    return table


class Runner(Protocol):
    """Evaluates a design: (points, parameters) -> a table with a column per output."""

    def __call__(self, parameters: Sequence[Parameter], design: np.ndarray) -> pd.DataFrame: ...


@dataclass
class FunctionRunner:
    """A runner around a plain vectorised function ``f(X) -> y`` or ``-> {name: y}``."""

    function: Callable[[np.ndarray], Any]
    name: str = "y"

    def __call__(self, parameters: Sequence[Parameter], design: np.ndarray) -> pd.DataFrame:
        out = self.function(np.asarray(design, float))
        if isinstance(out, Mapping):
            return pd.DataFrame({k: np.asarray(v, float) for k, v in out.items()})
        return pd.DataFrame({self.name: np.asarray(out, float)})


@dataclass
class ModelRunner:
    """Runs each design point as replicated model runs through a run store.

    Parameters
    ----------
    study
        The sensitivity study (scenario, base overrides, years, metrics, replicates, seed).
    root
        The stage's results folder (the run store lives here).
    jobs
        Worker processes for :func:`sim.studies.execute.execute` (None: its default).
    progress
        Whether ``execute`` prints progress.
    """

    study: SensitivityStudy
    root: Path
    jobs: int | None = None
    progress: bool = False
    report: Any = None

    def base_config(self) -> GovsimConfig:
        """The study's base config, composed with Hydra once."""
        return load_config(self.study.scenario, self.study.base_overrides())

    def specs(self, parameters: Sequence[Parameter], design: np.ndarray) -> list[Any]:
        """One RunSpec per (design point, replicate); design already rounded.

        ``RunSpec.config`` holds the typed config (the model takes it without
        another OmegaConf pass); the key hashes its plain-dict form.
        """
        base = self.base_config()
        specs = []
        for i, row in enumerate(design):
            values = {
                p.key: int(v) if p.integer else float(v)
                for p, v in zip(parameters, row, strict=True)
            }
            config = with_values(base, values)
            overrides = tuple([*self.study.overrides, *(f"{k}={v!r}" for k, v in values.items())])
            for r in range(self.study.replicates):
                specs.append(
                    RunSpec(
                        key=run_key(plain(config), self.study.root_seed, r),
                        scenario=self.study.scenario,
                        overrides=overrides,
                        grid={"point": i, **values},
                        replicate=r,
                        root_seed=self.study.root_seed,
                        config=config,
                    )
                )
        return specs

    def __call__(self, parameters: Sequence[Parameter], design: np.ndarray) -> pd.DataFrame:
        specs = self.specs(parameters, design)
        store = RunStore(self.root)
        write_manifest(
            self.root,
            specs,
            {"study": self.study.name, "kind": "sensitivity", "study_text": self.study.text,
             "root_seed": self.study.root_seed},
        )  # fmt: skip
        unique = list({s.key: s for s in specs}.values())
        self.report = execute(unique, store, jobs=self.jobs, progress=self.progress)
        missing = [s.key for s in unique if not store.has(s.key)]
        if missing:
            errors = store.failures()
            first = errors.get(missing[0], "no result")
            raise RuntimeError(f"{len(missing)} runs did not finish; first error: {first}")
        cache: dict[str, dict[str, float]] = {}
        values = np.full((len(design), self.study.replicates, len(self.study.metrics)), np.nan)
        for s in specs:
            if s.key not in cache:
                table = store.read_columns(s.key, SUMMARY_COLUMNS)
                cache[s.key] = metric_values(table, self.study.metrics)
            values[s.grid["point"], s.replicate] = [cache[s.key][m.key] for m in self.study.metrics]
        mean = values.mean(axis=1)
        return pd.DataFrame({m.key: mean[:, j] for j, m in enumerate(self.study.metrics)})


SUMMARY_COLUMNS = ("kind", "metric", "forum", "group", "value")
"""The columns of a stored run that :func:`metric_values` reads."""


def metric_values(
    summary: pd.DataFrame | Mapping[str, Sequence[Any]], metrics: Sequence[Metric]
) -> dict[str, float]:
    """The study's metrics out of one run's summary, by output name (nan when absent).

    ``summary`` is a run's table, as a DataFrame or as columns of values
    (:meth:`sim.studies.store.RunStore.read_columns`); a metric's value is that of the
    first summary row with its metric, forum and group, as
    :func:`sim.model.summary.scalar` finds it, looked up in one pass over the rows.
    """
    if isinstance(summary, pd.DataFrame):
        summary = {c: summary[c].tolist() for c in SUMMARY_COLUMNS if c in summary.columns}
    n = len(summary["metric"])
    kinds = summary["kind"] if "kind" in summary else ["summary"] * n
    first: dict[tuple, Any] = {}
    rows = zip(kinds, summary["metric"], summary["forum"], summary["group"], summary["value"],
               strict=True)  # fmt: skip
    for kind, metric, forum, group, value in rows:
        if kind == "summary":
            first.setdefault((metric, forum, group), value)
    return {m.key: float(first.get((m.name, m.forum, m.group), np.nan)) for m in metrics}


@dataclass
class StageResult:
    """What one stage produced: the parameters, design, outputs and an indices table."""

    stage: Stage
    parameters: list[Parameter]
    design: np.ndarray
    outputs: pd.DataFrame
    indices: pd.DataFrame
    seconds: float


def run_stage(
    stage: Stage, parameters: Sequence[Parameter], runner: Runner, conf_level: float = 0.95
) -> StageResult:
    """Sample, run and analyse one stage; indices for every output column, stacked."""
    t0 = time.perf_counter()
    design = sample(parameters, stage)
    outputs = runner(parameters, rounded(parameters, design))
    tables = []
    for name in outputs.columns:
        t = analyse(parameters, stage, design, outputs[name].to_numpy(), conf_level)
        t.insert(0, "metric", name)
        t.insert(0, "method", stage.method)
        tables.append(t)
    return StageResult(
        stage, list(parameters), design, outputs, pd.concat(tables, ignore_index=True),
        time.perf_counter() - t0,
    )  # fmt: skip


def top_parameters(
    indices: pd.DataFrame, parameters: Sequence[Parameter], n: int
) -> list[Parameter]:
    """The ``n`` parameters with the largest Morris μ*, each metric's μ* scaled by its maximum.

    Scaling makes metrics in different units comparable; a parameter's score is
    its largest scaled μ* over the metrics.
    """
    t = indices.copy()
    t["scaled"] = t["mu_star"] / t.groupby("metric")["mu_star"].transform("max").replace(0, np.nan)
    score = t.groupby("parameter")["scaled"].max().fillna(0.0)
    order = sorted(parameters, key=lambda p: (-score.get(p.key, 0.0), p.key))
    return order[:n]


# ----- the command ----------------------------------------------------------------
def _write_table(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path.with_suffix(".csv"), index=False, float_format="%.6g")
    write_parquet(df, path.with_suffix(".parquet"))


def run_study(
    study: SensitivityStudy,
    out: Path,
    jobs: int | None = None,
    progress: bool = True,
    runner_factory: Callable[[Path], Runner] | None = None,
) -> list[StageResult]:
    """Run every stage of a sensitivity study; write indices, design and outputs.

    Each stage gets ``out/<stage name>/`` holding its run store (``runs/``,
    ``manifest.json``), ``indices.csv``/``.parquet`` and ``design.parquet`` (the
    rounded design with the outputs); figures are drawn by
    :func:`sim.present.analysis_figures.sensitivity_figures`. ``runner_factory(folder)``
    replaces the model runner (tests use it to run a test function).
    """
    out.mkdir(parents=True, exist_ok=True)
    results: list[StageResult] = []
    timings = {}
    for stage in study.stages:
        params = list(study.parameters)
        if stage.top:
            morris = [r for r in results if r.stage.method == "morris"]
            if not morris:
                raise ValueError(f"stage {stage.name}: top={stage.top} needs a morris stage first")
            params = top_parameters(morris[-1].indices, morris[-1].parameters, stage.top)
        folder = out / stage.name
        folder.mkdir(parents=True, exist_ok=True)
        runner = (
            runner_factory(folder)
            if runner_factory
            else ModelRunner(study, folder, jobs=jobs, progress=progress)
        )
        res = run_stage(stage, params, runner)
        results.append(res)
        timings[stage.name] = round(res.seconds, 2)
        _write_table(res.indices, folder / "indices")
        design = pd.DataFrame(rounded(params, res.design), columns=[p.key for p in params])
        _write_table(pd.concat([design, res.outputs], axis=1), folder / "design")
        if progress:
            print(f"stage {stage.name}: {stage.method}, {len(params)} parameters, "
                  f"{len(res.design)} points x {study.replicates} replicates, "
                  f"{res.seconds:.1f} s")  # fmt: skip
            print(res.indices.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    meta = {"study": study.name, "timings_s": timings, "provenance": provenance()}
    (out / "sensitivity.json").write_text(json.dumps(meta, indent=2, default=str))
    return results
