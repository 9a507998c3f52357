"""Where the time goes: a cProfile of one run, grouped by the model's own stages.

Usage: ``.venv/bin/python benchmarks/profile_run.py [--extra-actors N] [--years Y] [--top K]``

Prints the share of run time spent in each stage (meetings and their rules, data
collection) and then cProfile's top functions by internal time. Construction is
excluded; the run is profiled after one warm-up run.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.model import GovernanceModel  # noqa: E402
from sim.model.compose import load_config  # noqa: E402

STAGES = [
    ("meeting: hold_meeting (all rules)", "meeting.py", "hold_meeting"),
    ("  deliberation (Hegselmann-Krause)", "deliberation.py", "hegselmann_krause"),
    ("  attendance (logit choice)", "attendance.py", "logit_choice"),
    ("  support (funded slots)", "attendance.py", "funded_slots"),
    ("meeting: adapt", "meeting.py", "adapt"),
    ("data: _record (meeting rows)", "model.py", "_record"),
    ("data: _collect (step rows, reporters)", "model.py", "_collect"),
    ("  attainment (cached per policy)", "model.py", "attainment"),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-actors", type=int, default=0)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    cfg = load_config(
        "status_quo", [f"population.extra_actors={args.extra_actors}", f"years={args.years}"]
    )
    GovernanceModel(config=copy.deepcopy(cfg)).run()
    model = GovernanceModel(config=copy.deepcopy(cfg))
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    model.run()
    profiler.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    total = max(v[3] for v in stats.stats.values())  # cumulative time of the outermost call
    print(f"run: {model.pop.n:,} actors, {args.years} years, {wall:.3f} s under the profiler")
    for label, file, func in STAGES:
        cum = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(file) and k[2] == func)
        print(f"  {label:42s} {cum:8.3f} s  {cum / total:6.1%}")
    print()
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
