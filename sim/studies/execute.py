"""Running a study's runs: one run as a tidy table, many in a process pool, resumable.

:func:`run_spec` turns one :class:`~sim.studies.spec.RunSpec` into the long
table a study stores; :func:`execute` runs every spec the
:class:`~sim.studies.store.RunStore` does not hold yet (or holds damaged), in a process
pool with a progress bar, recording failures instead of stopping.

A worker that dies (SIGKILL, a segfault, the out-of-memory killer) costs only its own
run: each worker marks the run it is computing in ``.inflight/`` and removes the mark
when done or when the pool stops it, so after a crash the marks left name the runs whose
worker died. The pool is rebuilt, those runs are retried once (the others simply
resubmitted), and a run whose worker dies twice is recorded as failed with the cause.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from sim.model import GovernanceModel
from sim.model.compose import checked
from sim.model.config import GovsimConfig, as_config
from sim.model.model import run_seed
from sim.model.summary import Columns, columns, run_summary_rows
from sim.model.validate import validate
from sim.studies.spec import RunSpec
from sim.studies.store import TMP_PREFIX, RunStore, record_checksums

log = logging.getLogger("govsim.execute")


TABLE_COLUMNS = ["kind", "metric", "forum", "group", "issue", "year", "value"]
"""Columns of a stored run: ``kind`` is ``summary`` (whole run, ``year`` 0) or ``yearly``."""


def _issue_rows(model, outcomes: Columns) -> list[dict]:
    """Per issue, 1 if a forum with decision power (binding outcomes) adopted an outcome on it:
    the per-issue counterpart of policy coverage (``model.adopted_ever``)."""
    rows = [
        {"metric": "issue_coverage", "issue": name, "value": float(done)}
        for name, done in zip(model.issue_names, model.adopted_ever, strict=True)
    ]
    return rows + _forum_issue_rows(model, outcomes)


def _forum_issue_rows(model, outcomes: Columns) -> list[dict]:
    """Per forum and issue: agenda items taken up and outcomes adopted over the run.

    The issues × forums matrix of the briefing (the WGEC's mapping of public-policy
    issues against existing mechanisms) reads these: every forum × issue pair of the
    run's forums gets a row, 0 where the forum never took the issue up.
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for forum, issue, adopted in zip(outcomes["forum"].tolist(), outcomes["issue"].tolist(),
                                     outcomes["adopted"].tolist(), strict=True):  # fmt: skip
        c = counts.setdefault((forum, issue), [0, 0])
        c[0] += 1
        c[1] += bool(adopted)
    rows = []
    for forum in model.forum_names:
        for issue in model.issue_names:
            size, done = counts.get((forum, issue), (0, 0))
            rows.append({"metric": "agenda_items", "forum": forum, "issue": issue,
                         "value": float(size)})  # fmt: skip
            rows.append({"metric": "adoptions", "forum": forum, "issue": issue,
                         "value": float(done)})  # fmt: skip
    return rows


def _yearly_rows(att: Columns) -> list[dict]:
    """Participation rate per year, forum ('all' first) and group: sums of attendances over
    sums of eligible opportunities, sorted by forum, year and group; nan where no one was
    eligible."""
    n = len(att["step"])
    years = ((att["step"] - 1) // 12 + 1).tolist() if n else []
    present = (att["onsite"] + att["remote"]).tolist() if n else []
    pooled: dict[tuple, list[int]] = {}
    by_forum: dict[tuple, list[int]] = {}
    forums, groups = att["forum"].tolist(), att["group"].tolist()
    eligible = att["eligible"].tolist()
    for forum, year, group, p, e in zip(forums, years, groups, present, eligible, strict=True):
        for table, key in ((pooled, (year, group)), (by_forum, (forum, year, group))):
            total = table.setdefault(key, [0, 0])
            total[0] += int(p)
            total[1] += int(e)
    rows = []
    for forum, table in (("all", pooled), (None, by_forum)):
        for key in sorted(table):
            p, e = table[key]
            f, year, group = (forum, *key) if forum else key
            rows.append({"forum": f, "year": year, "group": group,
                         "value": p / e if e > 0 else float("nan")})  # fmt: skip
    return rows


def run_spec(spec: RunSpec) -> pd.DataFrame:
    """Run one spec and return its stored table (see :data:`TABLE_COLUMNS`).

    The model gets ``run_seed(root_seed, replicate)`` =
    ``SeedSequence(root_seed, spawn_key=(replicate,))``; the
    table holds :func:`sim.model.summary.run_summary` (``kind = summary``), per-issue
    coverage and the participation rate per year by forum and group
    (``kind = yearly``).
    """

    rng = run_seed(spec.root_seed, spec.replicate)
    return stored_table(GovernanceModel(config=spec.config, rng=rng).run())


def _typed_configs(specs: Sequence[RunSpec]) -> dict[int, tuple[object, GovsimConfig]]:
    """Each plain config that several of ``specs`` share (a condition's replicates), built
    and validated once: ``id(dict) -> (dict, typed config)`` (the dict is kept, so its id
    is not reused). A config used once is left to the model, which builds and validates
    it without the extra copy a shared typed config needs."""
    uses = Counter(id(s.config) for s in specs if isinstance(s.config, dict))
    typed = {}
    for s in specs:
        if uses.get(id(s.config), 0) > 1 and id(s.config) not in typed:
            typed[id(s.config)] = (s.config, checked(validate(as_config(s.config))))
    return typed


def _chunk_tables(
    specs: Sequence[RunSpec], root: str
) -> tuple[list[tuple[str, pd.DataFrame]], list[tuple[str, str | None, str | None]]]:
    """Run a chunk's specs one after another: the tables of those that finished, and a
    (key, error, None) result for each that raised (recorded as failed in the store)."""
    store = RunStore(root)
    typed = _typed_configs(specs)
    global _current_mark
    finished, failed = [], []
    for spec in specs:
        mark = _mark(root, spec.key)
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(str(os.getpid()))
        _current_mark = mark
        try:
            shared = typed.get(id(spec.config))
            run = replace(spec, config=shared[1]) if shared else spec
            finished.append((spec.key, run_spec(run)))
        except Exception as e:  # a failing run must not stop the others
            err = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=8)}"
            store.write_failure(spec.key, err)
            failed.append((spec.key, err, None))
        finally:
            _current_mark = None
            mark.unlink(missing_ok=True)
    return finished, failed


def run_chunk(specs: Sequence[RunSpec], root: str) -> list[tuple[str, str | None, str | None]]:
    """Worker body: run a chunk of specs, then store their tables in one batch
    (:meth:`~sim.studies.store.RunStore.write_batch`: one sync for the chunk, not two
    fsyncs a run). Never raises for a run that raises: it is recorded as failed.

    Returns (key, error or None, sha256 of the run file or None) per spec.
    """
    logging.getLogger("MESA").setLevel(logging.WARNING)
    finished, failed = _chunk_tables(specs, root)
    sums = RunStore(root).write_batch(finished)
    return [(key, None, sums[key]) for key, _ in finished] + failed


def chunk_size(runs: int, jobs: int) -> int:
    """Runs per pool task: about four tasks per worker, at most :data:`CHUNK_MAX`, so the
    workers stay balanced while a task's pickling, pool round trip and store sync are
    shared by its runs."""
    return max(1, min(CHUNK_MAX, runs // (4 * max(jobs, 1))))


def stored_table(model: GovernanceModel) -> pd.DataFrame:
    """The table a study stores for a finished model (see :func:`run_spec`).

    Built in one DataFrame from plain rows and the tables' numpy columns
    (:func:`sim.model.summary.columns`), in the row order and with the dtypes the
    pandas version had (summary rows, issue rows, yearly rows), so its Parquet bytes are
    the same; that version's groupbys cost several times a one-year run.
    """
    summary = run_summary_rows(model)
    summary += _issue_rows(model, columns(model, "outcomes"))
    yearly = _yearly_rows(columns(model, "attendance"))
    rows = summary + yearly
    cols = {
        "kind": ["summary"] * len(summary) + ["yearly"] * len(yearly),
        "metric": [r.get("metric", "participation_rate") for r in rows],
        **{c: [r.get(c, "all") for r in rows] for c in ("forum", "group", "issue")},
        "year": [r.get("year", 0) for r in rows],
        "value": [r["value"] for r in rows],
    }
    out = pd.DataFrame(cols)
    if not yearly:  # the pandas version added an empty frame of object columns
        out = pd.concat([out, pd.DataFrame(columns=TABLE_COLUMNS)], ignore_index=True)
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


INFLIGHT = ".inflight"
"""Folder of the store holding one mark per run a worker is computing (``<key>``: its pid)."""

ATTEMPTS = 2
"""Tries per run when its worker dies: the first, and one retry."""

CHUNK_MAX = 16
"""Most runs one pool task computes before storing them in one batch (see :func:`chunk_size`)."""

CHECKSUM_FLUSH_SECONDS = 30.0
"""How often the driver adds finished runs' sha256 to the manifest while a study runs."""


def _mark(root: str, key: str) -> Path:
    return Path(root) / INFLIGHT / key


_current_mark: Path | None = None
"""The in-flight mark of the run this worker process is computing."""


def _stopped_by_pool(signum, frame) -> None:
    """SIGTERM in a worker: the pool stops it after another worker died. Its mark is
    removed, so its run is resubmitted, not blamed for the crash."""
    if _current_mark is not None:
        _current_mark.unlink(missing_ok=True)
    os._exit(128 + signum)


def _worker_init() -> None:
    signal.signal(signal.SIGTERM, _stopped_by_pool)


def _pool_context():
    """A forkserver that has imported the model once (spawn where there is none).

    Plain fork is unsafe once the parent has threads (pyarrow, tqdm); a
    forkserver forks workers from a clean single-threaded process instead.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            ["sim.studies.spec", "sim.model.model", "sim.model.summary", "sim.studies.execute"]
        )
        return ctx
    return multiprocessing.get_context("spawn")


def _death_cause(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker process died"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = {"SIGKILL": " (killed, e.g. by the out-of-memory killer)",
                "SIGSEGV": " (a crash in compiled code)"}.get(name, "")  # fmt: skip
        return f"worker process died of {name}{hint}"
    return f"worker process exited with status {exitcode}"


def _run_pool(todo, store, jobs, record, attempts) -> list[RunSpec]:
    """Run ``todo`` in one pool until it finishes or breaks; the runs still to do after."""
    root = str(store.root)
    ctx = _pool_context()
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)
    unfinished = {s.key: s for s in todo}
    broken = False
    try:
        size = chunk_size(len(todo), jobs)
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        pending = {}
        processes = {}  # pid -> Process, for causes
        try:
            for c in chunks:
                pending[pool.submit(run_chunk, c, root)] = c
                processes.update(getattr(pool, "_processes", None) or {})
        except BrokenProcessPool:  # a worker died while chunks were still being queued
            broken = True
        # as_completed waits on all futures once; calling wait(FIRST_COMPLETED) in a
        # loop re-arms every pending future per completion, O(n^2) work that starved
        # the workers of a core on 1,000-run studies
        for fut in as_completed(pending):
            try:
                results = fut.result()
            except BrokenProcessPool:
                broken = True
                continue
            for result in results:
                unfinished.pop(result[0], None)
                record(*result)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not broken:
        return list(unfinished.values())
    # the pool broke: the marks left behind name the runs whose worker died
    exitcodes = {}
    for pid, proc in processes.items():
        try:
            proc.join(timeout=1)
            exitcodes[int(pid)] = proc.exitcode
        except Exception:  # best effort: the cause is a nicety
            pass
    blamed = {}
    for key in list(unfinished):
        mark = _mark(root, key)
        if mark.exists():
            try:
                pid = int(mark.read_text() or 0)
            except (OSError, ValueError):
                pid = 0
            blamed[key] = _death_cause(exitcodes.get(pid))
            mark.unlink(missing_ok=True)
    if not blamed:  # nothing identifies the run: blame them all, so this cannot loop
        blamed = {k: "worker process died" for k in unfinished}
    again = []
    for key, spec in unfinished.items():
        if key not in blamed:
            again.append(spec)
            continue
        attempts[key] = attempts.get(key, 0) + 1
        cause = blamed[key]
        if attempts[key] >= ATTEMPTS:
            err = f"{cause}, on each of {attempts[key]} attempts; not retried again"
            store.write_failure(key, err)
            record(key, err, None)
        else:
            log.warning("run %s: %s; rebuilding the worker pool and retrying it once", key,
                        cause)  # fmt: skip
            again.append(spec)
    return again


def execute(
    specs: Sequence[RunSpec],
    store: RunStore,
    jobs: int | None = None,
    progress: bool = True,
) -> ExecutionReport:
    """Run the specs the store does not hold yet (or holds damaged), in parallel processes.

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
        A run that raises is recorded as failed; the others complete. A stored run file
        that is unreadable or fails its checksum is moved to ``damaged/`` and recomputed.
        A run whose worker process dies is retried once in a rebuilt pool, then recorded
        as failed with the cause; the others complete.
    """
    from tqdm import tqdm

    store.clean_temporaries()
    (store.root / INFLIGHT).mkdir(parents=True, exist_ok=True)
    for mark in (store.root / INFLIGHT).iterdir():  # left by a killed study
        if not mark.name.startswith(TMP_PREFIX):
            mark.unlink(missing_ok=True)
    sums = store.checksums()
    report = ExecutionReport()
    todo, seen = [], set()
    for s in specs:
        if s.key in seen:
            continue
        seen.add(s.key)
        problem = store.check(s.key, sums.get(s.key)) if store.has(s.key) else "missing"
        if problem is None:
            report.skipped.append(s.key)
            continue
        if problem != "missing":
            store.set_aside(s.key, problem)
        todo.append(s)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    tqdm.monitor_interval = 0  # no monitor thread (we fork worker processes)
    bar = tqdm(
        total=len(seen), initial=len(report.skipped), disable=not progress, file=sys.stderr,
        unit="run", desc="runs", smoothing=0.1, dynamic_ncols=True,
    )  # fmt: skip
    new_sums: dict[str, str] = {}
    last_flush = time.monotonic()

    def record(key: str, err: str | None, checksum: str | None = None) -> None:
        nonlocal last_flush
        if err is None:
            report.done.append(key)
            if checksum:
                new_sums[key] = checksum
        else:
            report.failed[key] = err
        bar.update(1)
        if report.failed:
            bar.set_postfix(failed=len(report.failed))
        if time.monotonic() - last_flush > CHECKSUM_FLUSH_SECONDS:
            record_checksums(store.root, new_sums)
            last_flush = time.monotonic()

    try:
        if jobs == 1:
            size = chunk_size(len(todo), 1)
            for i in range(0, len(todo), size):
                for result in run_chunk(todo[i : i + size], str(store.root)):
                    record(*result)
        else:
            attempts: dict[str, int] = {}
            while todo:
                todo = _run_pool(todo, store, min(jobs, len(todo)), record, attempts)
    finally:
        bar.close()
        record_checksums(store.root, new_sums)
        try:
            (store.root / INFLIGHT).rmdir()  # only if empty
        except OSError:
            pass
    return report
