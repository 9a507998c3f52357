"""Bit-identity check for optimisations: hashes of every output table, before and after.

An optimisation must not change a single bit of what the model produces. This script
runs a fixed set of cases and hashes every table (and, for single runs, the final actor
state), so that ``--write`` before a change and ``--check`` after it prove the tables
equal bit for bit:

- ``default``: ``status_quo``, ten years (``govsim run``), every table of
  :meth:`GovernanceModel.tables`, and the final positions, engagement, expertise and
  budgets;
- ``large``: ``status_quo`` with 10^4 extra actors, ten years (the same);
- ``huge``: 10^5 extra actors, two years (the compiled deliberation kernel);
- every shipped comparison study, shrunken to 2 replicates and 2 years: the table each
  run stores (:func:`sim.studies.execute.run_spec`, what ``govsim experiment NAME
  --replicates 2 --years 2 -j 1`` writes to ``runs/*.parquet``) and, for each run, every
  table of the model.

Usage::

    .venv/bin/python benchmarks/check_identical.py --write /tmp/before.json
    .venv/bin/python benchmarks/check_identical.py --check /tmp/before.json

``--check`` prints every case whose hash differs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.model import GovernanceModel  # noqa: E402
from sim.model.compose import load_config  # noqa: E402
from sim.model.model import run_seed  # noqa: E402
from sim.studies import execute  # noqa: E402
from sim.studies.spec import expand, load_study, study_names  # noqa: E402

RUNS = {
    "default": [],
    "large": ["population.extra_actors=10000"],
    "huge": ["population.extra_actors=100000", "years=2"],
}
STATE = ("position", "engagement", "expertise", "budget")


def frame_hash(df: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, dtypes and every value (bit for bit)."""
    h = hashlib.sha256(repr([(c, str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


def array_hash(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def model_hashes(model: GovernanceModel, state: bool) -> dict[str, str]:
    out = {name: frame_hash(df) for name, df in model.tables().items()}
    if state:
        out.update({f"pop.{a}": array_hash(getattr(model.pop, a)) for a in STATE})
    return out


def hashes(only: list[str] | None = None) -> dict[str, dict[str, str]]:
    result = {}
    for case, overrides in RUNS.items():
        if only and case not in only:
            continue
        t0 = time.perf_counter()
        model = GovernanceModel(config=load_config("status_quo", overrides)).run()
        result[case] = model_hashes(model, state=True)
        print(f"  {case}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    for name in study_names("comparison"):
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        study = load_study(name, kind="comparison", replicates=2, years=2)
        for i, spec in enumerate(expand(study)):
            model = GovernanceModel(
                config=spec.config, rng=run_seed(spec.root_seed, spec.replicate)
            ).run()
            entry = model_hashes(model, state=False)
            entry["stored"] = frame_hash(execute.run_spec(spec))
            # matched by position, not by spec.key: a run key hashes the config, so a new
            # config field (even at a value that changes nothing) gives every run a new key
            result[f"{name}/{i:03d} r{spec.replicate}"] = entry
        print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="record the hashes in this JSON file")
    group.add_argument("--check", type=Path, help="compare with the hashes in this JSON file")
    parser.add_argument("--only", nargs="+", help="cases or study names to run (default: all)")
    args = parser.parse_args(argv)
    now = hashes(args.only)
    if args.write:
        args.write.write_text(json.dumps(now, indent=1, sort_keys=True))
        print(f"{len(now)} cases, {sum(map(len, now.values()))} hashes -> {args.write}")
        return 0
    before = json.loads(args.check.read_text())
    differ = [
        f"{case}: {table}"
        for case, entry in now.items()
        for table, h in entry.items()
        if before.get(case, {}).get(table) != h
    ]
    missing = [case for case in before if case not in now and not args.only]
    for line in differ + [f"{case}: not run" for case in missing]:
        print("DIFFERS", line)
    n = sum(map(len, now.values()))
    print(f"{len(now)} cases, {n} hashes: {'bit-identical' if not differ else 'CHANGED'}")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    sys.exit(main())
