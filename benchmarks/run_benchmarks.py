"""govsim benchmarks: speed and memory, printed as figures (``make bench``).

Every figure is a median over repeats, and every ratio is measured in the same
invocation, because the machine may be shared and noisy. Timings cover compute
only: imports and config composition happen before the clock starts.

Sections (all by default; pick with ``--only``):

- ``default``: one default run (status quo, 10 years): model construction and run;
- ``collect``: per-step overhead of data collection (the same run with the
  DataCollector's reporters and table rows switched off);
- ``scale``: meeting throughput (actor-meetings per second, an actor-meeting
  being one eligible actor at one meeting), time per actor-meeting against 10^3, and
  peak memory (``ru_maxrss`` of a fresh subprocess per size) at 10^3, 10^4, 10^5 and
  10^6 actors (synthetic non-state actors added with ``population.extra_actors``), the
  load average beside each size;
- ``hk``: Hegselmann–Krause at the size of the IGF at 10^5 actors (67,000
  attendees who all speak, 5 issues, 3 rounds): the numpy path against the
  compiled (numba) kernel, and the one-off cost of loading the kernel;
- ``reference``: the vectorized core against the per-agent reference
  (``benchmarks/reference.py``) at 10^3 and 10^4 actors, one simulated year;
- ``workers``: study throughput (runs per second) with 1 and 2 worker processes;
- ``study``: wall time of ``govsim experiment cstd_anchor -j 2``.

Usage: ``.venv/bin/python benchmarks/run_benchmarks.py [--quick] [--only SECTION ...]``
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from sim.model import GovernanceModel  # noqa: E402
from sim.model.compose import load_config  # noqa: E402

SECTIONS = ("default", "collect", "scale", "hk", "reference", "workers", "study")


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` over ``repeats`` calls (and all the times)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def default_run(repeats: int) -> None:
    cfg = load_config("status_quo")
    build = lambda: GovernanceModel(config=copy.deepcopy(cfg))  # noqa: E731
    build().run()  # warm caches (member-state table, rule registry)
    t_build, _ = median_time(build, repeats)
    t_total, times = median_time(lambda: build().run(), repeats)
    cpu = []
    for _ in range(repeats):
        c0 = time.process_time()
        build().run()
        cpu.append(time.process_time() - c0)
    print(f"default run (status_quo, 10 years), median of {repeats}:")
    print(f"  construction {t_build * 1e3:8.1f} ms")
    print(f"  construction + run {t_total * 1e3:8.1f} ms wall (min {min(times) * 1e3:.1f} ms), "
          f"{statistics.median(cpu) * 1e3:.1f} ms CPU (min {min(cpu) * 1e3:.1f} ms)")  # fmt: skip
    print(f"  target < 100 ms: {'met' if t_total < 0.1 else 'NOT met'}; "
          f"load average {load_now()}")  # fmt: skip


def collect_overhead(repeats: int) -> None:
    cfg = load_config("status_quo")

    def run(collect: bool) -> None:
        m = GovernanceModel(config=copy.deepcopy(cfg))
        if not collect:
            m._collect = lambda: None
            m._record = lambda *args: None
        m.run()

    run(True)
    pairs = [(median_time(lambda: run(True), 1)[0], median_time(lambda: run(False), 1)[0])
             for _ in range(repeats)]  # fmt: skip
    with_dc = statistics.median(p[0] for p in pairs)
    without = statistics.median(p[1] for p in pairs)
    steps = 12 * cfg.years
    print(f"data collection overhead (status_quo, {steps} steps), median of {repeats} pairs:")
    print(f"  run with collection {with_dc * 1e3:8.1f} ms, without {without * 1e3:8.1f} ms")
    print(f"  per step: {(with_dc - without) / steps * 1e6:8.1f} µs "
          f"({(with_dc - without) / with_dc:.0%} of the run)")  # fmt: skip


SCALE_CHILD = r"""
import json, resource, statistics, sys, time
sys.path.insert(0, {root!r})
from sim.model.compose import load_config
from sim.model import GovernanceModel
from sim.model.forums import deliberation
n, years, repeats = {n}, {years}, {repeats}
cfg = load_config("status_quo", [f"population.extra_actors={{n}}", f"years={{years}}"])
t0 = time.perf_counter()
if n >= deliberation.COMPILED_MIN:  # import numba, load (or compile) the kernel: once a process
    import numpy as np
    kernel = deliberation.compiled_kernel()
    if kernel is not None:  # the first call loads the machine code from the cache
        deliberation._hk_compiled(np.zeros((1, 2)), np.ones(2), np.zeros(2), 0.1, 1, kernel)
jit = time.perf_counter() - t0
times, cpus, builds = [], [], []
for r in range(repeats):
    t0 = time.perf_counter()
    m = GovernanceModel(config=cfg)
    builds.append(time.perf_counter() - t0)
    seen = []
    record = m._record
    m._record = lambda fi, res, before: (seen.append(len(res.idx)), record(fi, res, before))
    t0, c0 = time.perf_counter(), time.process_time()
    m.run()
    times.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
    del m
print(json.dumps(dict(n=n, jit=jit, build=statistics.median(builds),
    run=statistics.median(times), cpu=statistics.median(cpus),
    actor_meetings=sum(seen), meetings=len(seen),
    maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def load_now() -> str:
    """The 1-minute load average (the machine has ``os.cpu_count()`` cores)."""
    return f"{os.getloadavg()[0]:.1f}"


def scale(repeats: int, sizes=(1_000, 10_000, 100_000, 1_000_000)) -> None:
    """Throughput, growth and peak memory per size; 10^6 is run once (~20 s a run)."""
    print(f"meeting throughput and peak memory (status_quo + extra actors, 2 years), "
          f"median of {repeats} runs per size (1 at 10^6), a fresh process per size:")  # fmt: skip
    print(f"  {'extra actors':>12} {'jit s':>6} {'build s':>8} {'run s':>8} {'cpu s':>7} "
          f"{'actor-mtgs':>11} {'actor-mtgs/s':>13} {'ns/actor-mtg':>13} {'vs 10^3':>8} "
          f"{'peak MB':>8} {'load':>5}")  # fmt: skip
    per = {}
    for n in sizes:
        load = load_now()
        reps = 1 if n >= 1_000_000 else repeats
        code = SCALE_CHILD.format(root=str(ROOT), n=n, years=2, repeats=reps)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rate = r["actor_meetings"] / r["run"]
        per[n] = r["run"] / r["actor_meetings"]
        ratio = f"{per[n] / per[sizes[0]]:8.2f}" if sizes[0] in per else f"{'-':>8}"
        print(f"  {n:>12,} {r['jit']:6.2f} {r['build']:8.2f} {r['run']:8.3f} {r['cpu']:7.3f} "
              f"{r['actor_meetings']:>11,} {rate:>13,.0f} {per[n] * 1e9:>13.0f} {ratio} "
              f"{r['maxrss_mb']:>8.0f} {load:>5}")  # fmt: skip
    print("  (run s: wall, cpu s: CPU time of the run; rates and ratios from wall time)")
    print("  targets (issue 20): >= 1e7 actor-mtgs/s at 10^5; time per actor-meeting at 10^6 "
          "<= 2x 10^3; peak < 1 GB at 10^6")  # fmt: skip


def hk(repeats: int, n: int = 67_000, issues: int = 5, rounds: int = 3) -> None:
    import numpy as np

    from sim.model.forums import deliberation

    t0 = time.perf_counter()
    kernel = deliberation.compiled_kernel()
    load = time.perf_counter() - t0
    rng = np.random.default_rng(5)
    x, weight, stubbornness = rng.random((issues, n)), rng.random(n), 0.5 * rng.random(n)
    eps = 0.25
    print(f"Hegselmann-Krause, {n:,} attendees (all speak) x {issues} issues x {rounds} rounds, "
          f"median of {repeats}:")  # fmt: skip
    t_np, _ = median_time(lambda: [deliberation._hk_sorted(r, weight, stubbornness, eps, rounds)
                                   for r in x], repeats)  # fmt: skip
    print(f"  numpy (sorted path)    {t_np * 1e3:8.1f} ms")
    if kernel is None:
        print("  compiled kernel: unavailable (numba not installed or GOVSIM_NO_NUMBA set)")
        return
    t_jit, _ = median_time(
        lambda: deliberation._hk_compiled(x, weight, stubbornness, eps, rounds, kernel), repeats
    )
    print(f"  compiled (numba)       {t_jit * 1e3:8.1f} ms   ratio {t_np / t_jit:.1f}x; "
          f"per attendee-issue-round {t_jit / (n * issues * rounds) * 1e9:.1f} ns")  # fmt: skip
    print(f"  kernel load in this process (import numba + on-disk cache, or compile): {load:.2f} s")


def reference(repeats: int, sizes=(1_000, 10_000)) -> None:
    from reference import ReferenceModel

    print("vectorized core vs per-agent reference (status_quo + extra actors, 1 year, run only):")
    for n in sizes:
        cfg = load_config("status_quo", [f"population.extra_actors={n}", "years=1"])
        core_models = [GovernanceModel(config=copy.deepcopy(cfg)) for _ in range(repeats)]
        t_core, _ = median_time(lambda models=core_models: models.pop().run(), repeats)
        ref_repeats = max(1, repeats // 2) if n >= 10_000 else repeats
        ref_models = [ReferenceModel(config=copy.deepcopy(cfg)) for _ in range(ref_repeats)]
        t_ref, _ = median_time(lambda models=ref_models: models.pop().run(), ref_repeats)
        print(f"  +{n:>6,} actors: core {t_core * 1e3:9.1f} ms (median of {repeats}), "
              f"reference {t_ref * 1e3:9.1f} ms (median of {ref_repeats}), "
              f"ratio {t_ref / t_core:6.1f}x")  # fmt: skip


def _one_run(seed: int) -> float:
    cfg = load_config("status_quo", [f"seed={seed}"])
    t0 = time.perf_counter()
    GovernanceModel(config=cfg).run().tables()
    return time.perf_counter() - t0


def workers(repeats: int, runs: int = 16) -> None:
    print(f"study throughput: {runs} default runs (run + tables), warm worker processes, "
          f"median of {repeats}:")  # fmt: skip
    rates = {}
    for n_workers in (1, 2):
        with ProcessPoolExecutor(n_workers) as pool:
            list(pool.map(_one_run, range(100, 100 + 2 * n_workers)))  # warm imports/config
            t, _ = median_time(lambda: list(pool.map(_one_run, range(runs))), repeats)
        rates[n_workers] = runs / t
        print(f"  {n_workers} worker(s): {rates[n_workers]:6.2f} runs/s")
    print(
        f"  speed-up 2 vs 1: {rates[2] / rates[1]:.2f}x (target >= 1.8x); "
        f"cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f}"
    )


def study() -> None:
    govsim = Path(sys.executable).with_name("govsim")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(govsim), "experiment", "cstd_anchor", "-j", "2", "--out", tmp, "-q"]
        help_out = subprocess.run([str(govsim), "--help"], capture_output=True, text=True)
        if "experiment" not in help_out.stdout + help_out.stderr:
            print("cstd_anchor study: skipped (`govsim experiment` is not available)")
            return
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        t = time.perf_counter() - t0
    if done.returncode:
        print(f"cstd_anchor study: failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        return
    print(f"cstd_anchor study (3 scenarios x 30 replicates, 10 years, -j 2): {t:.1f} s wall "
          "(one invocation, including interpreter start-up, imports, config composition, "
          "writing results and figures)")  # fmt: skip


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = parser.parse_args(argv)
    reps = 3 if args.quick else 7
    print(f"machine: {machine()}; load average at start: {os.getloadavg()[0]:.1f}")
    print(f"peak RSS of this process so far: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB\n")  # fmt: skip
    for section in args.only:
        t0 = time.perf_counter()
        {
            "default": lambda: default_run(reps * 3),
            "collect": lambda: collect_overhead(reps),
            "scale": lambda: scale(3 if not args.quick else 1),
            "hk": lambda: hk(reps),
            "reference": lambda: reference(reps if not args.quick else 2),
            "workers": lambda: workers(3 if not args.quick else 1),
            "study": study,
        }[section]()
        print(f"  [{section}: {time.perf_counter() - t0:.0f} s]\n", flush=True)


if __name__ == "__main__":
    main()
