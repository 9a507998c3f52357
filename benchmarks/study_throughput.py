"""Where a study run's wall time goes, and how many runs a study makes per second.

    .venv/bin/python benchmarks/study_throughput.py [--stage-runs 30] [--pool-runs 120]
        [--explore-runs 600] [--out DIR] [--only stages,pool,explore]

The runs are those of the shipped exploration ``robust_designs`` at one year and the
default population (553 actors): every design × draw is a distinct config, which is the
case a config cache cannot help.

1. **stages** (one process, median per run over ``--stage-runs`` runs, at one year and at
   the default ten, ``--stage-years``): the run's own
   compute (``GovernanceModel`` construction without the config copy and validation, and
   ``run()``), and the overhead around it: planning the run in the driver (the draw's
   plain config and its run key), the typed config and its validation in the worker,
   pickling the spec and the result (what crosses the pool), the stored table
   (``run_summary`` rows, issue and yearly rows), the store's batch write (Parquet bytes,
   sha256, one sync per chunk of runs), and reading the run back for the outcomes.
2. **pool**: runs/s of :func:`sim.studies.execute.execute` with 1 and 2 workers on the
   same ``--pool-runs`` runs, each into an empty store (planning excluded).
3. **explore**: wall time of ``explore()`` (plan, run with 2 workers, read outcomes,
   analyse, write tables) for ``--explore-runs`` runs (rounded to whole draws of the six
   designs), into ``--out`` or a temporary folder.

Every figure is printed with the load average beside it: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time
from pathlib import Path

from sim.analysis import exploration
from sim.analysis.sensitivity import SUMMARY_COLUMNS, metric_values
from sim.model import GovernanceModel
from sim.model.compose import as_dict, checked, load_config, plain_with_values
from sim.model.config import as_config
from sim.model.model import run_seed
from sim.model.validate import validate
from sim.studies import execute as ex
from sim.studies.spec import load_study
from sim.studies.store import RunStore, run_key


def load() -> str:
    """The 1-minute load average, for printing beside a figure."""
    return f"load {os.getloadavg()[0]:.1f}"


def study_of(draws: int, years: int = 1):
    """The shipped exploration at ``years`` and ``draws`` samples."""
    study = load_study("robust_designs", kind="exploration", years=years)
    return study.model_copy(update={"samples": max(2, draws)})


def specs_of(study) -> list:
    """The study's run specs (draws, configs, keys)."""
    return exploration.specs(study, exploration.sample(study))


def stages(n: int, years: int = 1) -> dict[str, float]:
    """Median seconds per run of each stage, over ``n`` runs in this process."""
    study = study_of(-(-n // 6) + 1, years)
    specs = specs_of(study)[: n + 2]
    bases = {d: as_dict(load_config(d, study.base_overrides())) for d in study.designs}
    for s in specs[:2]:  # warm-up: imports, caches
        ex.run_spec(s)
    tmp = Path(tempfile.mkdtemp(prefix="govsim-stages-"))
    store = RunStore(tmp)
    rows: dict[str, list[float]] = {}
    measures = [exploration._goal(study), *study.guards]

    def add(name: str, seconds: float) -> None:
        rows.setdefault(name, []).append(seconds)

    tables = []
    for spec in specs[2:]:
        # what the driver does per run: the draw's plain config and its key
        values = {k: v for k, v in spec.grid.items() if k != "draw"}
        t = time.perf_counter()
        run_key(plain_with_values(bases[spec.scenario], values), spec.root_seed, spec.replicate)
        add("plan: config and key (driver)", time.perf_counter() - t)
        t = time.perf_counter()
        spec = pickle.loads(pickle.dumps(spec, pickle.HIGHEST_PROTOCOL))
        add("pool: pickle the spec", time.perf_counter() - t)
        # what the model does first with a plain config: build it typed and validate it
        t = time.perf_counter()
        checked(validate(as_config(spec.config)))
        t_config = time.perf_counter() - t
        add("config: build and validate", t_config)
        t = time.perf_counter()
        model = GovernanceModel(config=spec.config, rng=run_seed(spec.root_seed, spec.replicate))
        add("model: construction", time.perf_counter() - t - t_config)
        t = time.perf_counter()
        model.run()
        add("model: run", time.perf_counter() - t)
        t = time.perf_counter()
        tables.append((spec.key, ex.stored_table(model)))
        add("tables: stored table", time.perf_counter() - t)
        t = time.perf_counter()
        pickle.loads(pickle.dumps((spec.key, None, "0" * 64), pickle.HIGHEST_PROTOCOL))
        add("pool: pickle the result", time.perf_counter() - t)
    size = ex.CHUNK_MAX
    for i in range(0, len(tables), size):
        batch = tables[i : i + size]
        t = time.perf_counter()
        store.write_batch(batch)
        per_run = (time.perf_counter() - t) / len(batch)
        for _ in batch:
            add(f"store: batch write ({size} a sync)", per_run)
    for key, _ in tables:
        t = time.perf_counter()
        metric_values(store.read_columns(key, SUMMARY_COLUMNS), measures)
        add("outcomes: read back, measures", time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in rows.items()}


def print_stages(n: int, years: int = 1) -> None:
    before = load()
    res = stages(n, years)
    after = load()
    compute = res["model: construction"] + res["model: run"]
    overhead = sum(v for k, v in res.items() if not k.startswith("model:"))
    print(f"where a run's time goes: robust_designs, {years} year(s), default population; "
          f"median of {n} runs, one process ({before} -> {after})")  # fmt: skip
    for k, v in sorted(res.items(), key=lambda kv: not kv[0].startswith("model:")):
        print(f"  {k:<36} {v * 1e3:8.2f} ms")
    print(f"  model compute per run                {compute * 1e3:8.2f} ms")
    print(f"  overhead per run                     {overhead * 1e3:8.2f} ms   "
          f"ratio {overhead / compute:5.1%} of compute (target <= 15%)")  # fmt: skip


def pool(n: int, workers: tuple[int, ...] = (1, 2)) -> None:
    study = study_of(-(-n // 6))
    specs = specs_of(study)[:n]
    print(f"runs/s of execute(): {len(specs)} runs, empty store each time")
    rates = {}
    for w in workers:
        with tempfile.TemporaryDirectory(prefix="govsim-pool-") as tmp:
            before = load()
            t0 = time.perf_counter()
            rep = ex.execute(specs, RunStore(tmp), jobs=w, progress=False)
            wall = time.perf_counter() - t0
            assert not rep.failed, rep.failed
            rates[w] = len(specs) / wall
            print(f"  {w} worker(s): {rates[w]:6.1f} runs/s ({wall:5.1f} s; {before} -> {load()})")
    if 1 in rates and 2 in rates:
        print(f"  speed-up 2 vs 1: {rates[2] / rates[1]:.2f}x")


def explore(n: int, out: str | None) -> None:
    draws = max(2, round(n / 6))
    study = study_of(draws)
    runs = 6 * draws
    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="govsim-explore-"))
    before = load()
    t0 = time.perf_counter()
    outcomes, found, report, seconds = exploration.explore(study, folder, jobs=2, progress=False)
    wall = time.perf_counter() - t0
    assert not report.failed, list(report.failed.items())[:3]
    print(f"exploration robust_designs, {runs} runs of 1 year (6 designs x {draws} draws), "
          f"-j 2, into {folder}: {wall:.1f} s wall = {runs / wall:.1f} runs/s "
          f"({len(report.done)} run now, {len(report.skipped)} stored; "
          f"{before} -> {load()})")  # fmt: skip
    if runs:
        print(
            f"  10,000 runs at this rate: {10_000 / (runs / wall) / 60:.1f} min (target < 10 min)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage-runs", type=int, default=30)
    parser.add_argument("--stage-years", default="1,10", help="horizons of the stage table")
    parser.add_argument("--pool-runs", type=int, default=120)
    parser.add_argument("--explore-runs", type=int, default=600)
    parser.add_argument("--out", default=None, help="exploration folder (default: temporary)")
    parser.add_argument("--only", default="stages,pool,explore")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; {load()}")
    parts = args.only.split(",")
    if "stages" in parts:
        for years in args.stage_years.split(","):
            print_stages(args.stage_runs, int(years))
    if "pool" in parts:
        pool(args.pool_runs)
    if "explore" in parts:
        explore(args.explore_runs, args.out)


if __name__ == "__main__":
    main()
