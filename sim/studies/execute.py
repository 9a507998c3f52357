"""Running a study's runs: one run as a tidy table, many in a process pool, resumable.

:func:`run_spec` turns one :class:`~sim.studies.spec.RunSpec` into the long
table a study stores; :func:`execute` runs every spec the
:class:`~sim.studies.store.RunStore` does not hold yet, in a process pool with a
progress bar, recording failures instead of stopping.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import pandas as pd

from sim.model import GovernanceModel
from sim.model.model import run_seed
from sim.model.summary import run_summary
from sim.studies.spec import RunSpec
from sim.studies.store import RunStore

log = logging.getLogger("govsim.execute")


TABLE_COLUMNS = ["kind", "metric", "forum", "group", "issue", "year", "value"]
"""Columns of a stored run: ``kind`` is ``summary`` (whole run, ``year`` 0) or ``yearly``."""


def _issue_rows(model, tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Per issue, 1 if a forum with decision power (binding outcomes) adopted an outcome on it:
    the per-issue counterpart of policy coverage (``model.adopted_ever``)."""
    return [
        {"metric": "issue_coverage", "issue": name, "value": float(done)}
        for name, done in zip(model.issue_names, model.adopted_ever, strict=True)
    ]


def _yearly_rows(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Participation rate per year, forum (and 'all') and group."""
    att = tables["attendance"]
    if not len(att):
        return pd.DataFrame(columns=TABLE_COLUMNS)
    att = att.assign(year=(att["step"] - 1) // 12 + 1, present=att["onsite"] + att["remote"])
    frames = []
    for forum_col, d in (("all", att), (None, att)):
        keys = ["year", "group"] if forum_col else ["forum", "year", "group"]
        g = d.groupby(keys, sort=True)[["present", "eligible"]].sum().reset_index()
        if forum_col:
            g["forum"] = "all"
        g["value"] = g["present"] / g["eligible"].where(g["eligible"] > 0)
        frames.append(g)
    y = pd.concat(frames, ignore_index=True)
    y["kind"], y["metric"], y["issue"] = "yearly", "participation_rate", "all"
    return y[TABLE_COLUMNS]


def run_spec(spec: RunSpec) -> pd.DataFrame:
    """Run one spec and return its stored table (see :data:`TABLE_COLUMNS`).

    The model gets ``run_seed(root_seed, replicate)`` =
    ``SeedSequence(root_seed, spawn_key=(replicate,))``; the
    table holds :func:`sim.model.summary.run_summary` (``kind = summary``), per-issue
    coverage and the participation rate per year by forum and group
    (``kind = yearly``).
    """

    rng = run_seed(spec.root_seed, spec.replicate)
    model = GovernanceModel(config=spec.config, rng=rng).run()
    tables = model.tables()
    summary = run_summary(model)
    summary = pd.concat([summary, pd.DataFrame(_issue_rows(model, tables))], ignore_index=True)
    summary = summary.fillna({"forum": "all", "group": "all", "issue": "all"})
    summary["kind"], summary["year"] = "summary", 0
    out = pd.concat([summary[TABLE_COLUMNS], _yearly_rows(tables)], ignore_index=True)
    out["year"] = out["year"].astype("int64")
    out["value"] = out["value"].astype("float64")
    return out


# ----- execution ---------------------------------------------------------------------
@dataclass
class ExecutionReport:
    """What :func:`execute` did: keys run now, keys already stored, keys that raised."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _run_and_store(spec: RunSpec, root: str) -> tuple[str, str | None]:
    """Worker body: run, store; on an exception record it as failed. Never raises."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    store = RunStore(root)
    try:
        df = run_spec(spec)
    except Exception as e:  # a failing run must not stop the others
        err = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}"
        store.write_failure(spec.key, err)
        return spec.key, err
    store.write(spec.key, df)
    return spec.key, None


def _pool_context():
    """A forkserver that has imported the model once (spawn where there is none).

    Plain fork is unsafe once the parent has threads (pyarrow, tqdm); a
    forkserver forks workers from a clean single-threaded process instead.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.studies.spec", "sim.model.model", "sim.model.summary"])
        return ctx
    return multiprocessing.get_context("spawn")


def execute(
    specs: Sequence[RunSpec],
    store: RunStore,
    jobs: int | None = None,
    progress: bool = True,
) -> ExecutionReport:
    """Run the specs the store does not hold yet, in parallel processes.

    Parameters
    ----------
    specs
        Runs to make (duplicates by key are run once).
    store
        Where finished runs are written (each by its worker, atomically).
    jobs
        Worker processes; None means ``os.cpu_count()``; 1 runs in this process.
    progress
        Show a progress bar (done/total, time left) on stderr.

    Returns
    -------
    ExecutionReport
        Keys run now, keys skipped because stored, and failures with their error.
        A run that raises is recorded as failed; the others complete.
    """
    from tqdm import tqdm

    store.clean_temporaries()
    report = ExecutionReport()
    todo, seen = [], set()
    for s in specs:
        if s.key in seen:
            continue
        seen.add(s.key)
        (report.skipped.append(s.key) if store.has(s.key) else todo.append(s))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    tqdm.monitor_interval = 0  # no monitor thread (we fork worker processes)
    bar = tqdm(
        total=len(seen), initial=len(report.skipped), disable=not progress, file=sys.stderr,
        unit="run", desc="runs", smoothing=0.1, dynamic_ncols=True,
    )  # fmt: skip

    def record(key: str, err: str | None) -> None:
        if err is None:
            report.done.append(key)
        else:
            report.failed[key] = err
        bar.update(1)
        if report.failed:
            bar.set_postfix(failed=len(report.failed))

    try:
        if jobs == 1:
            for s in todo:
                record(*_run_and_store(s, str(store.root)))
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context()) as pool:
                pending = {pool.submit(_run_and_store, s, str(store.root)): s for s in todo}
                # as_completed waits on all futures once; calling wait(FIRST_COMPLETED) in a
                # loop re-arms every pending future per completion, O(n^2) work that starved
                # the workers of a core on 1,000-run studies
                for fut in as_completed(pending):
                    spec = pending[fut]
                    try:
                        record(*fut.result())
                    except BrokenProcessPool as e:
                        err = f"worker process died: {e}"
                        store.write_failure(spec.key, err)
                        record(spec.key, err)
    finally:
        bar.close()
    return report
