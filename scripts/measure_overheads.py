"""Per-launch and per-run overhead of each study executor (docs/scaling.md, "Measured here").

Usage (from the checkout; SLURM needs ``scripts/slurm_cluster.sh start``, Ray a running cluster
and the Ray venv)::

    PYTHONPATH=. python scripts/measure_overheads.py --engines local,submitit_local,submitit_slurm
    PYTHONPATH=. /work/venv-ray/bin/python scripts/measure_overheads.py --engines ray \\
        --ray-address 127.0.0.1:PORT

For each engine, two studies of short runs (status_quo, 1 year, shrunken population), each from
an empty store in a fresh folder, 2 workers or shards: a small one (``--small`` runs, 1 per
shard) and a large one (``--runs``). Both are timed end to end (wall clock), and

    wall = launch + (runs / 2) * per_run      (two shards side by side)

is solved for the fixed cost of a launch and the cost of one run inside a shard. The same runs
in a plain loop in this process (``run_spec``, no store) give the run's own cost, so the
difference is the executor's per-run overhead.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sim.studies.execute import run_spec
from sim.studies.launch import execute_with_launcher
from sim.studies.spec import expand, parse_study
from sim.studies.store import RunStore

STUDY = """
name: overheads
question: What does an executor cost?
scenarios: [status_quo]
grid: {}
replicates: 2
root_seed: 7
metrics: [attainment_gap]
"""
SMALL_WORLD = [
    "years=1",
    "population.counts.business=5",
    "population.counts.civil_society=5",
    "population.counts.technical=5",
    "population.counts.igo=1",
]
OPTIONS = {
    "local": {"jobs": 2},
    "submitit_local": {"timeout_min": 30},
    "submitit_slurm": {"timeout_min": 30},
    "ray": {},
}


def specs(runs: int, seed: int):
    text = STUDY.replace("root_seed: 7", f"root_seed: {seed}")
    return expand(parse_study(text, path="overheads.yaml", replicates=runs, overrides=SMALL_WORLD))


def timed(engine: str, runs: int, seed: int, options: dict) -> float:
    with tempfile.TemporaryDirectory(prefix=f"ovh-{engine}-", dir="/tmp") as root:
        store = RunStore(Path(root))
        todo = specs(runs, seed)
        t0 = time.perf_counter()
        report = execute_with_launcher(todo, store, engine, shards=2, **options)
        wall = time.perf_counter() - t0
        assert not report.failed and len(report.done) == runs, report.failed
    return wall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engines", default="local,submitit_local")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--small", type=int, default=2)
    p.add_argument("--loop", type=int, default=10, help="runs timed in process (0: skip)")
    p.add_argument("--ray-address", default="auto")
    a = p.parse_args()
    if a.loop:
        loop = specs(a.loop, 1)
        t0 = time.perf_counter()
        for spec in loop:
            run_spec(spec)
        per_run = (time.perf_counter() - t0) / a.loop
        print(f"in-process loop: {a.loop} runs, {per_run:.2f} s per run", flush=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(f"| engine | wall, {a.small} runs (s) | wall, {a.runs} runs (s) | launch (s) "
          "| per run in a shard (s) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for engine in a.engines.split(","):
        options = dict(OPTIONS.get(engine, {}))
        if engine == "ray":
            options["address"] = a.ray_address
        small = timed(engine, a.small, 2, options)
        large = timed(engine, a.runs, 3, options)
        per_run = (large - small) / ((a.runs - a.small) / 2)
        launch = small - per_run * a.small / 2
        row = f"| {engine} | {small:.1f} | {large:.1f} | {launch:.1f} | {per_run:.2f} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
