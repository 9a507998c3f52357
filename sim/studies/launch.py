"""Sweeps beyond one process: Hydra multirun aggregation, shards and launchers.

Two ways to sweep, both writing into a :class:`sim.studies.store.RunStore`:

1. ``govsim run -m scenario=a,b seed='range(5)'`` -- Hydra's own multirun, one
   Hydra job per run. Each job writes its run's summary into the store under
   the sweep folder (:func:`record_multirun_job`). ``govsim aggregate
   SWEEP_DIR`` rebuilds the list of expected jobs from the sweep's
   ``multirun.yaml`` (:func:`expected_jobs`), so it reports missing and failed
   jobs without relying on Hydra's end-of-sweep callback, which Hydra skips as
   soon as one job fails.

2. ``govsim experiment NAME --launcher L --shards N`` -- a study's runs are
   grouped into ``N`` shards (:func:`assign_shards`) and each shard is one job
   of a tiny internal Hydra app (``python -m sim.studies.launch``), launched with
   ``-m shard=range(N) hydra/launcher=L``. Any installed Hydra launcher runs the
   shards (``basic``, ``joblib``, ``submitit_local``, ``submitit_slurm``,
   ``ray``, or a config of your own under ``configs/hydra/launcher/``), so
   thousands of runs become a handful of launcher jobs, not thousands.

Resumption and failure handling are ours, not Hydra's: a run's file appears by
atomic rename, so a shard killed mid-way leaves whole files or none; pending
runs are re-sharded from what the store lacks, so a re-run completes only what
is missing; each run key belongs to exactly one shard, so concurrent shards
never write the same file.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.errors import UsageError
from sim.model.config import GovsimConfig, as_config, register_configs, to_container
from sim.resources import CONFIG_DIR, PACKAGE
from sim.studies.execute import ExecutionReport, execute, run_spec
from sim.studies.provenance import provenance
from sim.studies.spec import Study, expand, study_meta
from sim.studies.store import (
    RunStore,
    aggregate,
    read_manifest,
    run_key,
    write_manifest,
    write_parquet,
)

log = logging.getLogger("govsim.sweep")


NOT_WORLD = ("out_dir", "quiet")
"""Config keys that change where or how loudly a run reports, not what it computes."""

# --------------------------------------------------------------------------------------
# Hydra multirun (``govsim run -m``)
# --------------------------------------------------------------------------------------


def world_config(cfg: DictConfig | GovsimConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The resolved config a run is a pure function of, as a plain dict (no output knobs)."""
    d = to_container(as_config(cfg) if not isinstance(cfg, Mapping) else cfg)
    return {k: v for k, v in d.items() if k not in NOT_WORLD}


def multirun_key(cfg: DictConfig | GovsimConfig | Mapping[str, Any]) -> str:
    """The store key of a ``govsim run`` job: ``run_key(resolved config, seed, 0)``."""
    world = world_config(cfg)
    return run_key(world, int(world["seed"]), 0)


def in_multirun() -> bool:
    """Whether the current process is a job of a Hydra multirun."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def multirun_stored(cfg: DictConfig | GovsimConfig, sweep_dir: str | Path | None = None) -> bool:
    """Whether this multirun job's run is already in the sweep's store (so it is skipped).

    Hydra cannot resume a sweep; re-running the same ``govsim run -m ...`` with the
    same ``hydra.sweep.dir`` computes only the jobs whose run is not stored.
    """
    if sweep_dir is None:
        from hydra.core.hydra_config import HydraConfig

        sweep_dir = HydraConfig.get().sweep.dir
    return RunStore(sweep_dir).has(multirun_key(cfg))


def record_multirun_job(
    cfg: DictConfig | GovsimConfig,
    summary: pd.DataFrame | None = None,
    error: BaseException | None = None,
    sweep_dir: str | Path | None = None,
) -> str:
    """Write a multirun job's summary (or its error) into ``RunStore(sweep_dir)``.

    Parameters
    ----------
    cfg
        The job's config.
    summary
        The run's summary table (:func:`sim.model.summary.run_summary`); ``None`` with ``error``.
    error
        The exception the run raised, recorded as a failure.
    sweep_dir
        The results folder; default: the current Hydra sweep folder.

    Returns
    -------
    str
        The run key.
    """
    if sweep_dir is None:
        from hydra.core.hydra_config import HydraConfig

        sweep_dir = HydraConfig.get().sweep.dir
    store = RunStore(sweep_dir)
    key = multirun_key(cfg)
    if error is not None:
        store.write_failure(key, f"{type(error).__name__}: {error}")
    elif summary is not None:
        store.write(key, summary)
    return key


def _sweep_arguments(multirun_cfg: DictConfig) -> list[str]:
    """The sweep's task overrides, as the user gave them (plus sweeper params)."""
    args = [
        f"{k}={v}"
        for k, v in (OmegaConf.select(multirun_cfg, "hydra.sweeper.params") or {}).items()
    ]
    args.extend(OmegaConf.select(multirun_cfg, "hydra.overrides.task") or [])
    return list(args)


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` under prefix ``p`` -> ``{"p.a.b": 1}``; lists become JSON text."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(f"{prefix}.{k}", v))
        return out
    if isinstance(value, list | tuple):
        return {prefix: json.dumps(list(value))}
    return {prefix: value}


def expected_jobs(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """Every job a ``govsim run -m`` sweep was asked for, rebuilt from ``multirun.yaml``.

    Expands the recorded overrides exactly as Hydra's basic sweeper does, composes
    each job's config and computes its key, so jobs that never started (a killed
    sweep) are known too.

    Returns
    -------
    list of dict
        Manifest entries in job order: ``key``, ``scenario``, ``grid`` (the swept
        keys' resolved values, flattened), ``overrides``, ``replicate`` (0), ``seed``.
    """
    from hydra import compose, initialize_config_dir
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    path = Path(sweep_dir) / "multirun.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: not a Hydra multirun folder")
    recorded = OmegaConf.load(path)
    parsed = OverridesParser.create().parse_overrides(_sweep_arguments(recorded))
    swept = [o.get_key_element() for o in parsed if o.is_sweep_override()]
    jobs = BasicSweeper.split_arguments(parsed, None)[0]
    register_configs()
    rows = []
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        for job in jobs:
            raw = compose("config", overrides=list(job))
            world = world_config(as_config(raw))
            grid: dict[str, Any] = {}
            for key in swept:
                if key in ("scenario", "seed"):
                    continue
                name = key.lstrip("+~")
                value = OmegaConf.select(OmegaConf.create(world), name, default=None)
                if value is None:  # a config-group choice: keep the chosen name
                    value = next(o.split("=", 1)[1] for o in job if o.split("=")[0] == key)
                elif isinstance(value, DictConfig):
                    value = OmegaConf.to_container(value)
                grid.update(_flatten(name, value))
            rows.append(
                {
                    "key": run_key(world, int(world["seed"]), 0),
                    "scenario": world["scenario"],
                    "grid": grid,
                    "overrides": list(job),
                    "replicate": 0,
                    "seed": int(world["seed"]),
                }
            )
    return rows


@dataclass
class SweepAggregate:
    """What ``govsim aggregate`` finds in a results folder.

    Attributes
    ----------
    table
        The tidy long table: one row per run × metric × forum × group, each row
        carrying scenario, the swept values (a column each), replicate, seed, key.
    runs
        One row per expected run: identity columns, ``status`` (done, failed,
        missing), ``error``, and the run-level scalar metrics (forum and group
        "all") as columns.
    missing, failed
        Keys expected but not finished; failed keys with their error.
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def ensure_manifest(results_dir: str | Path) -> dict[str, Any]:
    """The manifest of a study folder, or of a multirun folder (written on first use)."""
    results_dir = Path(results_dir)
    multirun = results_dir / "multirun.yaml"
    manifest = results_dir / "manifest.json"
    if manifest.exists() and (
        not multirun.exists() or manifest.stat().st_mtime >= multirun.stat().st_mtime
    ):
        return read_manifest(results_dir)
    if multirun.exists():  # (re)build: a re-run of the sweep rewrites multirun.yaml
        meta = {
            "kind": "hydra multirun",
            "arguments": _sweep_arguments(OmegaConf.load(results_dir / "multirun.yaml")),
            "provenance": provenance(),
        }
        write_manifest(results_dir, expected_jobs(results_dir), meta)
        return read_manifest(results_dir)
    raise FileNotFoundError(f"{results_dir}: neither a study folder (manifest.json) "
                            "nor a Hydra multirun folder (multirun.yaml)")  # fmt: skip


def aggregate_sweep(results_dir: str | Path) -> SweepAggregate:
    """Aggregate a study or multirun folder: tidy table, one row per run, missing, failed."""
    manifest = ensure_manifest(results_dir)
    table, missing, failed = aggregate(results_dir)
    grid_keys: list[str] = []
    for r in manifest["runs"]:
        grid_keys.extend(k for k in r.get("grid", {}) if k not in grid_keys)
    ident = ["scenario", *grid_keys, "replicate", "seed", "key"]
    scalar = table
    if len(table):  # run-level measures: whole run, all forums, all groups (and issues)
        keep = (table["forum"] == "all") & (table["group"] == "all")
        if "kind" in table:
            keep &= table["kind"] == "summary"
        if "issue" in table:
            keep &= table["issue"] == "all"
        scalar = table[keep]
    wide = (
        scalar.pivot_table(
            index="key", columns="metric", values="value", aggfunc="first", dropna=False
        )
        if len(scalar)
        else pd.DataFrame()
    )
    rows = []
    missing_set = set(missing)
    for r in manifest["runs"]:
        row = {"scenario": r["scenario"]}
        row.update({k: r.get("grid", {}).get(k) for k in grid_keys})
        row.update({"replicate": r["replicate"], "seed": r["seed"], "key": r["key"]})
        k = r["key"]
        row["status"] = "failed" if k in failed else "missing" if k in missing_set else "done"
        row["error"] = failed.get(k)
        rows.append(row)
    runs = pd.DataFrame(rows, columns=[*ident, "status", "error"])
    if len(wide):
        wide.columns = [str(c) for c in wide.columns]
        runs = runs.merge(wide, left_on="key", right_index=True, how="left")
    missing_only = [k for k in missing if k not in failed]
    return SweepAggregate(table=table, runs=runs, missing=missing_only, failed=failed)


def write_aggregate(result: SweepAggregate, results_dir: str | Path) -> list[Path]:
    """Write ``aggregate.parquet`` (tidy) and ``runs.parquet`` + ``runs.csv`` (one row a run)."""
    results_dir = Path(results_dir)
    paths = [results_dir / "aggregate.parquet", results_dir / "runs.parquet"]
    write_parquet(result.table, paths[0])
    write_parquet(result.runs, paths[1])
    result.runs.to_csv(results_dir / "runs.csv", index=False)
    return [*paths, results_dir / "runs.csv"]


# --------------------------------------------------------------------------------------
# Status of results folders
# --------------------------------------------------------------------------------------


@dataclass
class StudyStatus:
    """Counts of one study (or multirun) folder."""

    folder: Path
    name: str
    expected: int
    done: int
    failed: dict[str, str]
    missing: list[str]
    temporaries: int


def study_status(folder: str | Path) -> StudyStatus:
    """Done, failed and missing runs of one study or multirun folder."""
    folder = Path(folder)
    manifest = ensure_manifest(folder)
    store = RunStore(folder)
    expected = [r["key"] for r in manifest["runs"]]
    finished = set(store.keys())
    failures = store.failures()
    failed = {k: failures[k] for k in expected if k in failures}
    missing = [k for k in expected if k not in finished and k not in failed]
    temporaries = sum(
        1 for d in (store.runs, store.failed, folder) if d.exists() for _ in d.glob(".tmp-*")
    )
    meta = manifest.get("meta", {})
    name = meta.get("study") or meta.get("name") or folder.name
    return StudyStatus(
        folder=folder,
        name=str(name),
        expected=len(expected),
        done=sum(k in finished for k in expected),
        failed=failed,
        missing=missing,
        temporaries=temporaries,
    )


def find_results(results_dir: str | Path, depth: int = 4) -> list[Path]:
    """Study and multirun folders at or below ``results_dir`` (a few levels deep)."""
    results_dir = Path(results_dir)
    found = []
    for d in [results_dir, *_subdirs(results_dir, depth)]:
        if (d / "manifest.json").exists() or (d / "multirun.yaml").exists():
            found.append(d)
    return found


def _subdirs(root: Path, depth: int) -> Iterable[Path]:
    if depth <= 0 or not root.is_dir():
        return
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if d.name in ("runs", "failed"):
            continue
        yield d
        yield from _subdirs(d, depth - 1)


def format_status(statuses: Sequence[StudyStatus], errors: bool = True) -> str:
    """The table ``govsim status`` prints, with failed runs' errors below it."""
    lines = [f"{'study':<28} {'done':>6} {'failed':>6} {'missing':>7} {'expected':>8}  folder"]
    for s in statuses:
        lines.append(f"{s.name:<28} {s.done:>6} {len(s.failed):>6} {len(s.missing):>7} "
                     f"{s.expected:>8}  {s.folder}")  # fmt: skip
    if errors:
        for s in statuses:
            for key, err in s.failed.items():
                lines.append(f"  failed {s.name} {key}: {err.strip().splitlines()[-1][:200]}")
            if s.temporaries:
                lines.append(f"  {s.name}: {s.temporaries} stray temporary file(s) "
                             "(removed by the next run of the study)")  # fmt: skip
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Studies on Hydra launchers: shards
# --------------------------------------------------------------------------------------

LAUNCHERS = {
    "local": "sim.studies.execute.execute: a process pool on this machine, no Hydra",
    "basic": "Hydra's basic launcher: the shards one after another in one process",
    "joblib": "hydra-joblib-launcher: shards in parallel processes on this machine",
    "submitit_local": "hydra-submitit-launcher: each shard a submitit job on this machine",
    "submitit_slurm": "hydra-submitit-launcher: each shard a SLURM array task (docs/scaling.md)",
    "ray": "hydra-ray-launcher (optional extra govsim[ray]): shards as Ray tasks",
}
"""Executors ``govsim experiment --launcher`` knows; any other name is looked up as a
Hydra launcher config (e.g. ``slurm_example`` in ``configs/hydra/launcher/``)."""

PLUGIN_OF = {
    "joblib": "hydra-joblib-launcher",
    "submitit_local": "hydra-submitit-launcher",
    "submitit_slurm": "hydra-submitit-launcher",
    "ray": "hydra-ray-launcher",
}


def assign_shards(keys: Iterable[str], shards: int) -> list[list[str]]:
    """Split run keys into ``shards`` disjoint groups of near-equal size.

    Keys are sorted and dealt round-robin, so the assignment depends only on the
    set of keys (not on the order a study lists them) and every key belongs to
    exactly one shard: concurrent shards never write the same file. Empty
    shards are dropped.
    """
    if shards < 1:
        raise ValueError(f"shards={shards} must be at least 1")
    ordered = sorted(set(keys))
    groups = [ordered[i::shards] for i in range(shards)]
    return [g for g in groups if g]


@dataclass
class ShardPlan:
    """What each launcher job must run: the store and, per shard, its run specs."""

    store: str
    shards: list[list[Any]]
    launcher: str
    created: str


def write_plan(store: RunStore, specs: Sequence[Any], shards: int, launcher: str) -> Path:
    """Group the specs the store lacks into shards and save the plan for the launcher jobs.

    Returns
    -------
    Path
        The launch folder ``<store>/.launch/<time>-<launcher>/`` holding ``plan.pkl``
        (and, after the launch, Hydra's and the launcher's logs).
    """
    by_key = {s.key: s for s in specs}
    pending = [k for k in by_key if not store.has(k)]
    groups = assign_shards(pending, shards)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    folder = store.root / ".launch" / f"{stamp}-{launcher}"
    folder.mkdir(parents=True, exist_ok=True)
    plan = ShardPlan(
        store=str(store.root.resolve()),
        shards=[[by_key[k] for k in g] for g in groups],
        launcher=launcher,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    tmp = folder / ".tmp-plan.pkl"
    tmp.write_bytes(pickle.dumps(plan))
    os.replace(tmp, folder / "plan.pkl")
    return folder


def run_shard(plan_path: str | Path, shard: int) -> dict[str, int]:
    """Run one shard of a plan: each spec not yet stored, one after another, in this process.

    A run that raises is recorded as failed (with its traceback) and the shard
    goes on. Stored runs are skipped, so a shard started twice does no work
    twice. (Deliberately not :func:`sim.studies.execute.execute`, which first removes
    every temporary in the store and so must not run beside other shards.)

    Returns
    -------
    dict
        Counts: ``done``, ``skipped``, ``failed``.
    """
    import traceback

    logging.getLogger("MESA").setLevel(logging.WARNING)
    plan: ShardPlan = pickle.loads(Path(plan_path).read_bytes())
    store = RunStore(plan.store)
    counts = {"done": 0, "skipped": 0, "failed": 0}
    if shard >= len(plan.shards):
        return counts
    for spec in plan.shards[shard]:
        if store.has(spec.key):
            counts["skipped"] += 1
            continue
        try:
            df = run_spec(spec)
        except Exception as e:  # a failing run must not stop the shard
            store.write_failure(
                spec.key, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}"
            )
            counts["failed"] += 1
            continue
        store.write(spec.key, df)
        counts["done"] += 1
    return counts


@dataclass
class ShardJob:
    """Config of the internal Hydra app: which plan, which shard."""

    plan: str = "???"
    shard: int = 0


def _register_shard_app() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="govsim_shard", node=ShardJob)


def shard_task(cfg: DictConfig) -> dict[str, int]:
    """The Hydra task: one launcher job runs one shard."""
    counts = run_shard(cfg.plan, int(cfg.shard))
    log.info("shard %s: %s", cfg.shard, counts)
    return counts


def shard_main() -> None:
    """Entry point of ``python -m sim.studies.launch plan=... -m shard=range(N) ...``."""
    import hydra

    _register_shard_app()
    hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="govsim_shard")(
        shard_task
    )()


def launcher_overrides(launcher: str, opts: Mapping[str, Any] | None = None) -> list[str]:
    """Hydra overrides selecting a launcher and setting its options (``hydra.launcher.K=V``)."""
    out = [] if launcher == "basic" else [f"hydra/launcher={launcher}"]
    for k, v in (opts or {}).items():
        out.append(f"hydra.launcher.{k}={v}")
    return out


def launch_command(
    folder: Path, launcher: str, shards: int, opts: Mapping[str, Any] | None = None
) -> list[str]:
    """The command line that launches a plan's shards through a Hydra launcher."""
    return [
        sys.executable,
        "-m",
        "sim.studies.launch",
        "--multirun",
        f"plan={folder / 'plan.pkl'}",
        f"shard=range({shards})",
        f"hydra.sweep.dir={folder / 'hydra'}",
        "hydra.sweep.subdir=shard-${shard}",
        "hydra.job.chdir=false",
        *launcher_overrides(launcher, opts),
    ]


def check_launcher(launcher: str) -> None:
    """Raise UsageError if a launcher is unknown or its plugin is not installed."""
    from importlib.util import find_spec

    if launcher in ("local", "basic"):
        return
    if launcher in PLUGIN_OF:
        module = "hydra_plugins." + PLUGIN_OF[launcher].replace("-", "_")
        if find_spec(module) is None:
            extra = {"ray": "ray", "submitit_slurm": "slurm", "submitit_local": "slurm"}.get(
                launcher
            )
            hint = f" (pip install 'govsim[{extra}]')" if extra else ""
            raise UsageError(f"launcher {launcher!r} needs {PLUGIN_OF[launcher]}{hint}")
        return
    if not (CONFIG_DIR / "hydra" / "launcher" / f"{launcher}.yaml").exists():
        mine = sorted(p.stem for p in (CONFIG_DIR / "hydra" / "launcher").glob("*.yaml"))
        raise UsageError(
            f"unknown launcher {launcher!r}; launchers: {', '.join([*LAUNCHERS, *mine])}"
        )


def execute_with_launcher(
    specs: Sequence[Any],
    store: RunStore,
    launcher: str,
    shards: int,
    progress: bool = False,
    **launcher_opts: Any,
):
    """Run a study's specs through a Hydra launcher, grouped into shards.

    Parameters
    ----------
    specs
        :class:`sim.studies.spec.RunSpec` objects (those already stored are skipped).
    store
        The study's results store; every shard writes into it.
    launcher
        ``local`` (:func:`sim.studies.execute.execute`, no Hydra; ``jobs=N`` sets its
        processes), ``basic``, ``joblib``, ``submitit_local``, ``submitit_slurm``,
        ``ray`` or the name of a config in ``configs/hydra/launcher/``.
    shards
        Launcher jobs to group the pending runs into (at most one per run).
    **launcher_opts
        ``hydra.launcher.*`` settings, e.g. ``n_jobs=2`` (joblib) or
        ``timeout_min=60, partition="cpu"`` (submitit).

    Returns
    -------
    sim.studies.execute.ExecutionReport
        Keys run now, keys already stored, and failures with their error, read
        back from the store (so it is right whatever happened to the launcher).
    """
    check_launcher(launcher)
    if launcher == "local":
        return execute(specs, store, jobs=launcher_opts.get("jobs"), progress=progress)
    # Only this driver cleans temporaries, before any shard starts: a shard never
    # removes another's in-flight file.
    store.clean_temporaries()
    keys = list(dict.fromkeys(s.key for s in specs))
    skipped = [k for k in keys if store.has(k)]
    report = ExecutionReport(skipped=skipped)
    if len(skipped) == len(keys):
        return report
    folder = write_plan(store, specs, shards, launcher)
    n = len(pickle.loads((folder / "plan.pkl").read_bytes()).shards)
    cmd = launch_command(folder, launcher, n, launcher_opts)
    env = {
        **os.environ,
        # a checkout that is not installed still finds its own package in the shards
        "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")]),
    }
    record = {
        "launcher": launcher,
        "shards": n,
        "runs": len(keys) - len(skipped),
        "launcher_opts": {k: str(v) for k, v in launcher_opts.items()},
        "command": cmd,
        "provenance": provenance(),
    }
    (folder / "launch.json").write_text(json.dumps(record, indent=1, default=str))
    t0 = time.perf_counter()
    with open(folder / "launch.log", "w") as logf:
        logf.write(" ".join(cmd) + "\n")
        logf.flush()
        rc = subprocess.run(
            cmd, cwd=folder, env=env, stdout=logf, stderr=subprocess.STDOUT
        ).returncode
    log.info(
        "launcher %s: %d shards in %.1f s (exit %d)", launcher, n, time.perf_counter() - t0, rc
    )
    failures = store.failures()
    for k in keys:
        if k in skipped:
            continue
        if store.has(k):
            report.done.append(k)
        elif k in failures:
            report.failed[k] = failures[k]
        else:
            report.failed[k] = (
                f"not run: the {launcher} launch exited {rc}; see {folder}/launch.log"
            )
    return report


def run_study(
    study: Study,
    out: Path | str,
    jobs: int | None = None,
    progress: bool = True,
    launcher: str = "local",
    shards: int | None = None,
    launcher_opts: Mapping[str, Any] | None = None,
) -> ExecutionReport:
    """Write the manifest, then run what the store does not hold yet.

    ``launcher`` other than ``local`` hands the runs, grouped into ``shards``, to a
    Hydra launcher (:func:`sim.studies.launch.execute_with_launcher`). Figures and
    the briefing are the presentation layer's (:func:`sim.present.report.build_briefing`).
    """
    out = Path(out)
    specs = expand(study)
    write_manifest(out, specs, study_meta(study))
    if launcher == "local":
        return execute(specs, RunStore(out), jobs=jobs, progress=progress)
    n = shards or jobs or os.cpu_count() or 1
    return execute_with_launcher(specs, RunStore(out), launcher, n, **(launcher_opts or {}))


if __name__ == "__main__":
    from sim.studies.launch import (
        shard_main as _main,  # the importable module, so tasks pickle by name
    )

    _main()
