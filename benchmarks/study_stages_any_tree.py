"""Per-run stages of a one-year exploration run, on this tree or an older one.

    PYTHONPATH=/path/to/tree .venv/bin/python benchmarks/study_stages_any_tree.py [RUNS] [YEARS]

Uses only what both the tree before issue 20's round 3 and the tree after it have
(``exploration.specs``, ``run_spec``, ``RunStore.write``), so the same script, run on each
tree alternately (e.g. a ``git archive`` of the old commit), gives a before/after at the
same load. Prints medians in ms: compute (construction + run), driver planning per run
(the specs' time less composing the designs), the config copy and validation a worker
does after unpickling, the stored table (``run_spec`` less construction and run), one
single-file write and the read-back of the measures, and their sum as a share of compute.
On the old tree a spec's config is a validated object, so in this process the model only
copies it; the worker (after pickling) also validated it, which ``config`` measures. On
the new tree ``specs()`` composes nothing, so the subtraction leaves the planning at ~0:
``benchmarks/study_throughput.py`` measures it directly (~1 ms a run).
"""

from __future__ import annotations

import copy
import statistics
import sys
import tempfile
import time

from sim.analysis import exploration
from sim.analysis.sensitivity import metric_values
from sim.model import GovernanceModel
from sim.model.compose import load_config
from sim.model.config import as_config
from sim.model.model import run_seed
from sim.model.validate import validate
from sim.studies.execute import run_spec
from sim.studies.spec import load_study
from sim.studies.store import RunStore


def main(n: int, years: int) -> None:
    study = load_study("robust_designs", kind="exploration", years=years)
    study = study.model_copy(update={"samples": n // 6 + 2})
    t0 = time.perf_counter()
    for d in study.designs:
        load_config(d, study.base_overrides())
    fixed = time.perf_counter() - t0
    t0 = time.perf_counter()
    specs = exploration.specs(study, exploration.sample(study))
    plan = max(0.0, time.perf_counter() - t0 - fixed) / len(specs)
    for s in specs[:2]:
        run_spec(s)
    store = RunStore(tempfile.mkdtemp(prefix="govsim-stages-"))
    rows: dict[str, list[float]] = {}
    measures = [exploration._goal(study), *study.guards]
    for s in specs[2 : n + 2]:
        clock = time.perf_counter
        t = clock()
        cfg = s.config if isinstance(s.config, dict) else copy.deepcopy(s.config)
        validate(as_config(cfg))
        rows.setdefault("config", []).append(clock() - t)
        t = clock()
        model = GovernanceModel(config=s.config, rng=run_seed(s.root_seed, s.replicate))
        # a plain config is built and validated by the model: that part is ``config``
        own = rows["config"][-1] if isinstance(s.config, dict) else 0.0
        rows.setdefault("construct", []).append(clock() - t - own)
        t = clock()
        model.run()
        rows.setdefault("run", []).append(clock() - t)
        t = clock()
        df = run_spec(s)
        rows.setdefault("run_spec", []).append(clock() - t)
        t = clock()
        store.write(s.key, df)
        rows.setdefault("write", []).append(clock() - t)
        t = clock()
        if hasattr(store, "read_columns"):  # the tree after round 3
            from sim.analysis.sensitivity import SUMMARY_COLUMNS

            metric_values(store.read_columns(s.key, SUMMARY_COLUMNS), measures)
        else:
            metric_values(store.read(s.key), measures)
        rows.setdefault("read", []).append(clock() - t)
    m = {k: statistics.median(v) * 1e3 for k, v in rows.items()}
    compute = m["construct"] + m["run"]
    plain = isinstance(specs[0].config, dict)
    table = m["run_spec"] - m["construct"] - m["run"] - (m["config"] if plain else 0.0)
    over = plan * 1e3 + m["config"] + table + m["write"] + m["read"]
    print(f"{years} year(s), {n} runs: compute {compute:.1f} (construction {m['construct']:.1f}, "
          f"run {m['run']:.1f}) | plan {plan * 1e3:.1f}, config {m['config']:.1f}, "
          f"table {table:.1f}, write {m['write']:.1f}, read {m['read']:.1f} | overhead "
          f"{over:.1f} ms = {over / compute:.0%} of compute")  # fmt: skip


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [18, 1][len(args) :]))
