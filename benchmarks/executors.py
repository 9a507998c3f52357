"""Runs per second of a 1,000-run study of short runs under each executor.

    .venv/bin/python benchmarks/executors.py [--runs 1000] [--executors loop,local,joblib]

The study: status quo, 1 year, 193 governments and 16 non-state actors, one grid
point, ``runs`` replicates. Each executor starts from an empty store; the
figure is wall time for the whole study (planning, launching, running, writing
every run file), so the per-run overhead of an executor is what it adds to the
in-process loop measured first.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sim.studies.execute import run_spec
from sim.studies.spec import expand, load_study
from sim.studies.store import RunStore

STUDY = """
name: bench_executors
question: How fast does each executor run many short runs?
scenarios: [status_quo]
baseline: status_quo
grid: {}
replicates: %d
root_seed: 1
years: 1
metrics: [attainment_gap]
figures: [scenario_comparison]
"""
SMALL = [
    "population.counts.business=5",
    "population.counts.civil_society=5",
    "population.counts.technical=4",
    "population.counts.igo=2",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--executors", default="loop,local,basic,joblib,submitit_local")
    args = parser.parse_args()
    from sim.studies.launch import execute_with_launcher

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_executors.yaml"
        path.write_text(STUDY % args.runs)
        specs = expand(load_study(path, overrides=SMALL))
        print(f"{len(specs)} runs of 1 year, {len(SMALL)} shrunken population overrides, 2 workers")
        for name in args.executors.split(","):
            store = RunStore(Path(tmp) / name)
            t0 = time.perf_counter()
            if name == "loop":  # in-process, no executor: the floor
                for spec in specs:
                    store.write(spec.key, run_spec(spec))
            elif name == "local":
                execute_with_launcher(specs, store, "local", shards=1, jobs=2)
            elif name == "joblib":
                execute_with_launcher(specs, store, "joblib", shards=2, n_jobs=2)
            elif name == "basic":
                execute_with_launcher(specs, store, "basic", shards=1)
            else:
                execute_with_launcher(specs, store, name, shards=2)
            wall = time.perf_counter() - t0
            done = len(store.keys())
            print(f"{name:>15}: {done} runs in {wall:7.1f} s = {done / wall:6.1f} runs/s")


if __name__ == "__main__":
    main()
