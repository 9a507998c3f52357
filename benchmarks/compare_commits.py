"""A default run timed in this tree against another commit, strictly alternating.

On a shared machine the load changes from second to second, so two versions are
compared run by run: one long-lived process per version (imports and a warm-up
run done first), asked in turn to build and run the default model; the ratio of
each pair is taken and the median of those ratios reported.

Usage: ``.venv/bin/python benchmarks/compare_commits.py --base 2f650dc [--runs 30]
[--extra-actors N --years Y]`` (the base is checked out in a temporary git worktree,
removed afterwards; ``--extra-actors``/``--years`` compare a larger run instead of the
default one, e.g. 10^5 actors over 2 years).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SERVER = r"""
import copy, sys, time
sys.path.insert(0, {root!r})
from sim.model.compose import load_config
from sim.model import GovernanceModel
cfg = load_config("status_quo", {overrides!r})
GovernanceModel(config=copy.deepcopy(cfg)).run()
print("ready", flush=True)
for _ in sys.stdin:
    c = copy.deepcopy(cfg)
    t0, c0 = time.perf_counter(), time.process_time()
    m = GovernanceModel(config=c)
    if {run_only!r}:  # time the run alone, not the construction
        t0, c0 = time.perf_counter(), time.process_time()
    m.run()
    print(time.perf_counter() - t0, time.process_time() - c0, flush=True)
    del m
"""


def compare(
    roots: dict[str, Path], runs: int, overrides: list[str], run_only: bool = False
) -> dict[str, list[tuple[float, float]]]:
    procs = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER.format(root=str(root), overrides=overrides, run_only=run_only),
            ],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, root in roots.items()
    }
    for p in procs.values():
        assert p.stdout.readline().startswith("ready")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
    for i in range(runs):
        order = list(procs.items()) if i % 2 == 0 else list(procs.items())[::-1]
        for name, p in order:
            p.stdin.write("run\n")
            p.stdin.flush()
            wall, cpu = map(float, p.stdout.readline().split())
            times[name].append((wall, cpu))
    for p in procs.values():
        p.stdin.close()
        p.wait()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="commit to compare against")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--extra-actors", type=int, default=0)
    parser.add_argument("--years", type=int, default=None)
    parser.add_argument("--run-only", action="store_true", help="time the run, not construction")
    args = parser.parse_args(argv)
    overrides = [f"population.extra_actors={args.extra_actors}"] if args.extra_actors else []
    overrides += [f"years={args.years}"] if args.years else []
    what = f"status_quo {' '.join(overrides)}" if overrides else "default run"
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-f", str(base), args.base],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            load0 = os.getloadavg()[0]
            times = compare(
                {args.base: base, "this tree": ROOT}, args.runs, overrides, args.run_only
            )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    timed = "run only" if args.run_only else "construction + run"
    print(f"{what} ({timed}), {args.runs} runs each, strictly alternating; "
          f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, t in times.items():
        wall, cpu = [x[0] for x in t], [x[1] for x in t]
        print(f"  {name:>10}: wall median {statistics.median(wall) * 1e3:6.1f} ms "
              f"(min {min(wall) * 1e3:6.1f}), CPU median {statistics.median(cpu) * 1e3:6.1f} ms "
              f"(min {min(cpu) * 1e3:6.1f})")  # fmt: skip
    a, b = times.values()
    ratios = [x[0] / y[0] for x, y in zip(a, b, strict=True)]
    print(f"  per-pair wall ratio {args.base} / this tree: median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
