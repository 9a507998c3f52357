"""Results on disk: one Parquet file per run, a manifest of expected runs, aggregation.

Layout of a results folder::

    manifest.json            every expected run (key, scenario, grid values, replicate, seed),
                             the study's meta (study file text, root seed, versions, commit)
                             and the sha256 of every finished run file
    study.json               the study's meta alone (study file text, resolved configs): what
                             a damaged manifest.json is rebuilt from
    runs/<key>.parquet       one finished run; written to a temporary name, synced, renamed
                             (a study's worker writes a chunk of runs with one sync for all)
    failed/<key>.json        a run that raised, with its error (removed once it succeeds)
    damaged/<key>.parquet    a run file that could not be read or failed its checksum, moved
                             aside when its run is recomputed
    .govsim.lock(.json)      held by the study writing here (pid, host, command, start time)

A run's key is a hash of what the run is a pure function of (the resolved
config, the root seed and the replicate number), so a finished run is found
again whatever process, shard or executor computed it, and is never computed
twice. Because each file appears by an atomic rename (:func:`os.replace`), a
crash or ``kill -9`` leaves either the whole file or none of it; stray
temporaries are removed by :meth:`RunStore.clean_temporaries`.

A results folder heals: a run file that cannot be read, or whose sha256 differs from
the manifest's, counts as missing (:meth:`RunStore.check`) and is recomputed by the next
run of the study, with a warning naming it; a damaged ``manifest.json`` is rebuilt from
``study.json`` (:func:`sim.studies.launch.ensure_manifest`). One study at a time writes
a folder (:func:`folder_lock`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from sim.errors import UsageError

MANIFEST = "manifest.json"
STUDY = "study.json"
LOCK = ".govsim.lock"
TMP_PREFIX = ".tmp-"

log = logging.getLogger("govsim.store")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the same object always gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


OUTPUT_VERSION = (
    3  # 3: one output schema (issue 16); the chain, packages, blocs, gap start/change (issue 14)
)
"""Version of what a stored run contains. It is part of every run key, so bumping it when
the model's results or the stored table change makes old stores recompute instead of
silently mixing outputs of two versions of the code."""


def run_key(config: Mapping[str, Any], root_seed: int, replicate: int) -> str:
    """The key of one run: first 20 hex digits of a sha256 over config, seed and output version.

    Parameters
    ----------
    config
        The resolved run config as a plain dict (:func:`sim.model.config.to_container`).
    root_seed, replicate
        The run's random stream is ``SeedSequence(root_seed, spawn_key=(replicate,))``.
    """
    text = canonical_json(
        {
            "config": config,
            "root_seed": int(root_seed),
            "replicate": int(replicate),
            "output_version": OUTPUT_VERSION,
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _syncfs() -> Callable[[int], int] | None:
    """Linux's ``syncfs(fd)`` (flush one file system), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
    return fn


_SYNCFS = _syncfs()


def sync_files(fds: Sequence[int]) -> None:
    """Make the data written to ``fds`` durable: one ``syncfs`` of their file system on
    Linux (one flush for a whole batch of files), an ``fsync`` of each elsewhere or if
    ``syncfs`` fails. All ``fds`` must be on one file system."""
    if not fds:
        return
    if _SYNCFS is not None and len(fds) > 1 and _SYNCFS(fds[0]) == 0:
        return
    for fd in fds:
        os.fsync(fd)


def _atomic_write_bytes(path: Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)`` on a unique temporary name beside ``path``, fsync, then rename.

    Readers see the old file or the whole new one, never a part, even after a crash or
    power loss in between.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary name, fsync, rename)."""
    _atomic_write_bytes(Path(path), lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (temporary name, fsync, rename)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """A table as Parquet bytes (what a run file holds)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a table atomically: to a temporary name in the same folder, fsync, rename."""
    atomic_write_bytes(path, parquet_bytes(df))


def ensure_writable_folder(path: Path | str, what: str = "--out", create: bool = True) -> Path:
    """The folder ``path``, made if needed and checked writable; else one UsageError line.

    Names the path and the cause: a file where the folder should be, a file above it,
    no permission, a read-only file system, a name too long.
    """
    p = Path(os.path.expanduser(str(path)))
    try:
        p = p.absolute()
        if p.exists() and not p.is_dir():
            raise UsageError(f"{what} {p}: is a file, not a folder")
        above = p
        while not above.exists():
            above = above.parent
        if not above.is_dir():
            raise UsageError(f"{what} {p}: {above} is a file, so no folder can be made under it")
        if create:
            p.mkdir(parents=True, exist_ok=True)
            probe = p / f"{TMP_PREFIX}probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        elif not os.access(above, os.W_OK):
            raise UsageError(f"{what} {p}: {above} is not writable")
    except OSError as e:
        cause = e.strerror or type(e).__name__
        raise UsageError(f"{what} {p}: cannot write there ({cause})") from None
    return p


class RunStore:
    """Finished and failed runs of a study, one file each, under ``root``.

    Parameters
    ----------
    root
        The study's results folder (created on first write).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.failed = self.root / "failed"

    def path(self, key: str) -> Path:
        """Where the run ``key`` is (or will be) stored."""
        return self.runs / f"{key}.parquet"

    def has(self, key: str) -> bool:
        """Whether run ``key`` has a file (see :meth:`check` for whether it is sound)."""
        return self.path(key).exists()

    def write(self, key: str, df: pd.DataFrame) -> str:
        """Store a finished run atomically (fsynced), clear any failure record; its sha256."""
        data = parquet_bytes(df)
        atomic_write_bytes(self.path(key), data)
        fail = self.failed / f"{key}.json"
        if fail.exists():
            fail.unlink(missing_ok=True)
        return sha256_of(data)

    def write_batch(self, runs: Sequence[tuple[str, pd.DataFrame]]) -> dict[str, str]:
        """Store several finished runs with one sync for them all; each run's sha256.

        Every table goes to a temporary name beside its run file, one sync makes them all
        durable (:func:`sync_files`), then each is renamed into place and the folder synced
        once. The files are the bytes :meth:`write` gives, and each still appears whole
        or not at all: a crash before a rename leaves a temporary (removed by
        :meth:`clean_temporaries`), so that run is recomputed. A study's worker stores a
        chunk of runs this way instead of two fsyncs per run.
        """
        if not runs:
            return {}
        self.runs.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[str, Path, int, str]] = []
        try:
            try:
                for key, df in runs:
                    data = parquet_bytes(df)
                    name = f"{TMP_PREFIX}{uuid.uuid4().hex}-{key}.parquet"
                    tmp = self.runs / name
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                    staged.append((key, tmp, fd, sha256_of(data)))
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                sync_files([fd for _, _, fd, _ in staged])
            finally:
                for _, _, fd, _ in staged:
                    os.close(fd)
            for key, tmp, _, _ in staged:
                os.replace(tmp, self.path(key))
            _fsync_dir(self.runs)
        except BaseException:
            for _, tmp, _, _ in staged:  # those renamed already are whole: kept
                tmp.unlink(missing_ok=True)
            raise
        for key, _, _, _ in staged:
            fail = self.failed / f"{key}.json"
            if fail.exists():
                fail.unlink(missing_ok=True)
        return {key: checksum for key, _, _, checksum in staged}

    def check(self, key: str, checksum: str | None = None) -> str | None:
        """Why run ``key``'s file cannot be used (None: it can).

        With ``checksum`` (the sha256 the manifest recorded when the run was written) the
        file must match it byte for byte; without one it must read as a Parquet table.
        """
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return "missing"
        except OSError as e:
            return f"cannot be read ({e.strerror or type(e).__name__})"
        if checksum is not None:
            return None if sha256_of(data) == checksum else "does not match the manifest's sha256"
        try:
            pq.read_table(io.BytesIO(data))
        except Exception as e:  # pyarrow raises several kinds on a damaged file
            return f"is not a readable Parquet file ({type(e).__name__}: {str(e)[:80]})"
        return None

    def read(self, key: str) -> pd.DataFrame:
        """The stored table of run ``key``."""
        return pd.read_parquet(self.path(key))

    def read_columns(self, key: str, columns: Sequence[str]) -> dict[str, list]:
        """Some columns of run ``key``'s table as lists of values (no DataFrame): what a
        study reads back from thousands of runs to tabulate a few measures."""
        return pq.read_table(self.path(key), columns=list(columns)).to_pydict()

    def set_aside(self, key: str, reason: str) -> None:
        """Move a damaged run file to ``damaged/`` (so its run is recomputed), with a warning."""
        src = self.path(key)
        dest = self.root / "damaged" / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        log.warning("run file %s %s: moved to %s; the run is recomputed", src, reason, dest)

    def checksums(self) -> dict[str, str]:
        """The sha256 of each run file as the manifest records it (empty if none)."""
        try:
            return dict(read_manifest(self.root).get("checksums") or {})
        except (UsageError, OSError):
            return {}

    def keys(self) -> list[str]:
        """Keys of every finished run, sorted."""
        if not self.runs.exists():
            return []
        return sorted(
            p.stem for p in self.runs.glob("*.parquet") if not p.name.startswith(TMP_PREFIX)
        )

    def write_failure(self, key: str, error: str) -> None:
        """Record that run ``key`` raised ``error`` (a small JSON file)."""
        text = json.dumps({"key": key, "error": error}, indent=2)
        _atomic_write_bytes(self.failed / f"{key}.json", lambda tmp: tmp.write_text(text))

    def failures(self) -> dict[str, str]:
        """Failed runs that have not since succeeded: key -> error text."""
        if not self.failed.exists():
            return {}
        out = {}
        for p in sorted(self.failed.glob("*.json")):
            if p.name.startswith(TMP_PREFIX) or self.has(p.stem):
                continue
            try:
                out[p.stem] = json.loads(p.read_text())["error"]
            except (OSError, ValueError, KeyError):
                out[p.stem] = "unreadable failure record"
        return out

    def clean_temporaries(self) -> int:
        """Remove temporaries left by killed writers; returns how many were removed."""
        n = 0
        for folder in (self.runs, self.failed, self.root, self.root / "damaged"):
            if folder.exists():
                for p in folder.glob(f"{TMP_PREFIX}*"):
                    p.unlink(missing_ok=True)
                    n += 1
        return n


def _spec_row(spec: Any) -> dict[str, Any]:
    """The manifest entry of one run spec (anything with the RunSpec attributes, or a dict)."""
    if isinstance(spec, Mapping):
        return dict(spec)
    return {
        "key": spec.key,
        "scenario": spec.scenario,
        "grid": dict(spec.grid),
        "overrides": list(spec.overrides),
        "replicate": int(spec.replicate),
        "seed": int(spec.root_seed),
    }


def write_manifest(
    root: Path | str,
    specs: Iterable[Any],
    meta: Mapping[str, Any],
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Write ``manifest.json``: every expected run plus the study's meta, atomically.

    Parameters
    ----------
    root
        The results folder.
    specs
        Run specs (:class:`sim.studies.spec.RunSpec`) or manifest entries (dicts with
        key, scenario, grid, replicate, seed).
    meta
        Study meta: name, study file text, root seed, provenance, ...
    checksums
        sha256 of finished run files by key; None keeps those of the manifest already
        there (if it is readable) for the runs still expected.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rows = [_spec_row(s) for s in specs]
    if checksums is None:
        try:
            checksums = read_manifest(root).get("checksums") or {}
        except (UsageError, OSError):
            checksums = {}
    expected = {r["key"] for r in rows}
    kept = {k: v for k, v in sorted(checksums.items()) if k in expected}
    doc = {"meta": dict(meta), "runs": rows, "checksums": kept}
    path = root / MANIFEST
    atomic_write_text(path, json.dumps(doc, indent=1, default=str))
    return path


def record_checksums(root: Path | str, checksums: Mapping[str, str]) -> None:
    """Add run files' sha256 to the manifest (no-op without a readable manifest)."""
    if not checksums:
        return
    try:
        doc = read_manifest(root)
    except (UsageError, OSError):
        return
    merged = {**(doc.get("checksums") or {}), **checksums}
    write_manifest(root, doc["runs"], doc["meta"], merged)


class ManifestError(UsageError):
    """A results folder's manifest.json is missing or damaged (the message says which)."""


def read_manifest(root: Path | str) -> dict[str, Any]:
    """The manifest of a results folder: ``{"meta": {...}, "runs": [...], "checksums": {...}}``.

    Raises :class:`ManifestError` naming the file and what is wrong with it.
    """
    path = Path(root) / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(f"{path} not found: not a study results folder") from None
    except IsADirectoryError:
        raise ManifestError(f"{path} is a folder, not a manifest file") from None
    return parse_manifest(data, path)


def parse_manifest(data: bytes, path: Path | str) -> dict[str, Any]:
    """Check a manifest's text: JSON, an object with ``meta`` and a list of ``runs``."""
    if not data.strip():
        raise ManifestError(f"{path} is empty")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ManifestError(f"{path} is not UTF-8 text") from None
    except ValueError as e:
        raise ManifestError(f"{path} is damaged: not valid JSON ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("meta"), dict):
        raise ManifestError(f"{path} is damaged: no 'meta' object")
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise ManifestError(f"{path} is damaged: no list of 'runs'")
    for i, r in enumerate(runs):
        ok = isinstance(r, dict) and isinstance(r.get("key"), str) and "scenario" in r
        ok = ok and all(isinstance(r.get(k), int) for k in ("replicate", "seed"))
        if not ok or not isinstance(r.get("grid", {}), dict):
            raise ManifestError(f"{path} is damaged: run entry {i} lacks key, scenario, "
                                "replicate or seed")  # fmt: skip
    if not isinstance(doc.get("checksums", {}), dict):
        raise ManifestError(f"{path} is damaged: 'checksums' is not an object")
    return doc


def sound_runs(
    root: Path | str, manifest: Mapping[str, Any], quiet: bool = False
) -> tuple[set[str], dict[str, str]]:
    """Keys of the manifest whose run file is sound, and the damaged ones with the reason.

    A damaged file (unreadable, or not matching the manifest's sha256) counts as missing;
    each is named in a warning unless ``quiet``.
    """
    store = RunStore(root)
    sums = manifest.get("checksums") or {}
    sound, damaged = set(), {}
    for r in manifest["runs"]:
        key = r["key"]
        if key in sound or key in damaged or not store.has(key):
            continue
        problem = store.check(key, sums.get(key))
        if problem is None:
            sound.add(key)
        else:
            damaged[key] = problem
            if not quiet:
                log.warning("run file %s %s: counted as missing (a re-run of the study "
                            "recomputes it)", store.path(key), problem)  # fmt: skip
    return sound, damaged


def aggregate(root: Path | str) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """One tidy table for a study, plus the runs missing and failed.

    Every row of a run's table is extended with the run's ``scenario``, one
    column per swept grid key (named by the override key), ``replicate``,
    ``seed`` (the root seed; the run's stream is ``SeedSequence(seed,
    spawn_key=(replicate,))``) and ``key``. Rows follow manifest order, so the
    same finished runs always give the same table, row for row, whichever
    order or process computed them. A run file that is damaged counts as
    missing, with a warning naming it.

    Returns
    -------
    table, missing, failed
        The table; keys expected by the manifest without a sound file (failed ones
        included); failed keys with their error.
    """
    manifest = read_manifest(root)
    store = RunStore(root)
    failed_all = store.failures()
    sound, _ = sound_runs(root, manifest)
    grid_keys: list[str] = []
    for r in manifest["runs"]:
        for k in r.get("grid", {}):
            if k not in grid_keys:
                grid_keys.append(k)
    frames, missing = [], []
    for r in manifest["runs"]:
        key = r["key"]
        if key not in sound:
            missing.append(key)
            continue
        df = store.read(key)
        ident = {"scenario": r["scenario"]}
        ident.update({k: r.get("grid", {}).get(k) for k in grid_keys})
        ident.update({"replicate": int(r["replicate"]), "seed": int(r["seed"]), "key": key})
        lead = pd.DataFrame({c: [v] * len(df) for c, v in ident.items()}, index=df.index)
        frames.append(pd.concat([lead, df], axis=1))
    expected = {r["key"] for r in manifest["runs"]}
    failed = {k: v for k, v in failed_all.items() if k in expected}
    if frames:
        table = pd.concat(frames, ignore_index=True)
        # a sweep's run holds run_summary() only: give it a study run's columns
        for col, fill in (("kind", "summary"), ("issue", NO_VALUE), ("year", 0)):
            if col not in table:
                table[col] = fill
    else:
        table = pd.DataFrame(columns=["scenario", *grid_keys, "replicate", "seed", "key"])
    return table, missing, failed


# ----- one writer per folder ---------------------------------------------------------------
def lock_holder(root: Path | str) -> dict[str, Any] | None:
    """Who holds (or last held) a folder's lock: pid, host, command, started (or None)."""
    try:
        doc = json.loads((Path(root) / f"{LOCK}.json").read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _describe(holder: Mapping[str, Any] | None) -> str:
    if not holder:
        return "another process (no record of which)"
    cmd = str(holder.get("command", "?"))
    cmd = cmd if len(cmd) <= 120 else cmd[:117] + "..."
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started "
            f"{holder.get('started', '?')}: {cmd}")  # fmt: skip


def _alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError, TypeError):
        return True  # exists but not ours, or unknown: assume alive
    return True


def _program() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return "govsim" if name in ("__main__.py", "govsim", "-c") else name


@contextmanager
def folder_lock(root: Path | str, command: str | None = None) -> Iterator[None]:
    """Hold a results folder for one writer; a second one stops at once naming the holder.

    The lock is an OS file lock (``filelock``; ``fcntl.flock`` on POSIX), so it dies
    with its process: a lock left by a killed study is not held, and the next study
    takes it over, with a warning naming the dead holder. The holder's pid, host,
    command and start time are written beside it (``.govsim.lock.json``).

    Raises
    ------
    UsageError
        When another live process holds the folder.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / LOCK), timeout=0, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise UsageError(
            f"{root} is being written by another study ({_describe(lock_holder(root))}); "
            "wait for it to finish or give another --out"
        ) from None
    try:
        previous = lock_holder(root)
        if previous:
            same_host = previous.get("host") == socket.gethostname()
            state = "no longer running" if same_host and not _alive(previous.get("pid")) \
                else "which did not release it"  # fmt: skip
            log.warning("took over a stale lock on %s left by %s (%s)", root,
                        _describe(previous), state)  # fmt: skip
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command or " ".join([_program(), *sys.argv[1:]]),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_text(root / f"{LOCK}.json", json.dumps(holder, indent=1))
        yield
    finally:
        (root / f"{LOCK}.json").unlink(missing_ok=True)
        lock.release()


# ----- output tables: one schema for studies and sweeps ---------------------------------
SCHEMA_VERSION = "1"
"""Version of the output tables' schema (docs/outputs.md), stored in each Parquet file's
metadata under ``govsim_schema_version`` (with ``govsim_table``, the table's name)."""

NO_VALUE = "all"
"""What a stored run writes in ``forum``/``group``/``issue`` when a measure is not broken
down that way. Stored runs keep it (their keys and files stay valid); the output tables
(:func:`for_output`) carry a null instead."""


def for_output(table: pd.DataFrame) -> pd.DataFrame:
    """The output form of a tidy table: ``'all'`` in forum/group/issue becomes null.

    Also fills columns a sweep's runs lack (``kind`` 'summary', ``issue`` null,
    ``year`` 0), so a study's and a sweep's aggregate have the same columns.
    """
    t = table.copy()
    if "metric" in t:
        if "kind" not in t:
            t["kind"] = "summary"
        if "issue" not in t:
            t["issue"] = NO_VALUE
        if "year" not in t:
            t["year"] = 0
    for c in ("forum", "group", "issue"):
        if c in t:
            t[c] = t[c].astype(object).where(t[c] != NO_VALUE, None)
    return t


def from_output(table: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`for_output` (null -> ``'all'``), for code that reads outputs."""
    t = table.copy()
    for c in ("forum", "group", "issue"):
        if c in t:
            t[c] = t[c].astype(object).where(t[c].notna(), NO_VALUE)
    return t


def write_table(df: pd.DataFrame, path: Path | str, table: str) -> Path:
    """Write an output table as Parquet, atomically, with the schema version in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    at = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(at.schema.metadata or {})
    meta.update(
        {b"govsim_schema_version": SCHEMA_VERSION.encode(), b"govsim_table": table.encode()}
    )
    at = at.replace_schema_metadata(meta)
    _atomic_write_bytes(path, lambda tmp: pq.write_table(at, tmp))
    return path


def schema_version(path: Path | str) -> str | None:
    """The ``govsim_schema_version`` of an output Parquet file (None if it has none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    v = meta.get(b"govsim_schema_version")
    return v.decode() if v else None
