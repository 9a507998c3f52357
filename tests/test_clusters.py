"""Studies on real clusters: a single-node SLURM cluster and a local Ray cluster.

Every test runs ``govsim experiment cstd_anchor`` shrunken (2 replicates, 1 year, a small
population: 12 runs) as a user would, in a subprocess, and compares the study's
``aggregate.parquet`` with a local ``-j 1`` run of the same study, byte for byte.

- SLURM: needs the cluster of ``scripts/slurm_cluster.sh start`` (with accounting, so
  submitit notices killed jobs) and ``GOVSIM_SLURM=1``; skipped otherwise.
- Ray: needs ``ray`` (``requirements-ray.txt``, installed by CI in a separate venv); the
  fixture starts a head on 127.0.0.1 and one worker node, and stops both by PID.

Every wait is bounded. Marked slow: ``pytest -m slow tests/test_clusters.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import pandas as pd
import pytest
from packaging.version import Version

from sim.studies.launch import _launch_cause
from sim.studies.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
SHRUNKEN = [
    "--replicates", "2", "--years", "1", "--quiet",
    "population.counts.business=5",
    "population.counts.civil_society=5",
    "population.counts.technical=6",
    "population.counts.igo=1",
]  # fmt: skip
RUNS = 12  # 3 scenarios × 2 behaviours (the study's grid) × 2 replicates
STUDY_TIMEOUT = 600  # seconds any one `govsim experiment` may take before the test fails

slurm_up = pytest.mark.skipif(
    os.environ.get("GOVSIM_SLURM") != "1" or shutil.which("sbatch") is None,
    reason="no SLURM cluster: run `scripts/slurm_cluster.sh start` and set GOVSIM_SLURM=1",
)
ray_installed = pytest.mark.skipif(
    find_spec("ray") is None,
    reason="ray not installed: run in a venv with requirements-ray.txt (CI: /work/venv-ray)",
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}


def _cmd(out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "sim", "experiment", "cstd_anchor", "--out", str(out),
            *SHRUNKEN, *args]  # fmt: skip


def _govsim(out: Path, *args: str, timeout: float = STUDY_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        _cmd(out, *args), cwd=out.parent, env=_env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def _counts(stdout: str) -> tuple[int, int, int]:
    """(done, already stored, failed) from the line `N runs done, M already stored, F failed`."""
    m = re.search(r"(\d+) runs done, (\d+) already stored, (\d+) failed", stdout)
    assert m, stdout
    return int(m[1]), int(m[2]), int(m[3])


def _assert_same_aggregate(out: Path, reference: Path) -> None:
    got = pd.read_parquet(out / "aggregate.parquet")
    want = pd.read_parquet(reference / "aggregate.parquet")
    pd.testing.assert_frame_equal(got, want)
    assert (out / "aggregate.parquet").read_bytes() == (
        reference / "aggregate.parquet"
    ).read_bytes()  # the file is deterministic: same rows, same bytes


def _wait(what: str, condition, timeout: float, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _finish(proc: subprocess.Popen, timeout: float = STUDY_TIMEOUT) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"govsim experiment hung: still running after {timeout} s") from None
    return proc.returncode, out


def _start(out: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        _cmd(out, *args), cwd=out.parent, env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The shrunken study run locally, one process: the aggregate every cluster must match."""
    out = tmp_path_factory.mktemp("local") / "study"
    r = _govsim(out, "-j", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _counts(r.stdout) == (RUNS, 0, 0)
    return out


def test_failed_launch_reports_the_cluster_cause(tmp_path):
    """The cause a failed launch reports: the launcher's last error, on one line (fast)."""
    log = tmp_path / "launch.log"
    log.write_text(
        "[2026-12-01 12:38:38,138][HYDRA] \t#0 : plan=plan.pkl shard=0\n"
        "Traceback (most recent call last):\n"
        '  File "submitit/core/core.py", line 385, in _get_outcome_and_result\n'
        "submitit.core.utils.UncompletedJobError: Job 6_1 (task: 0) with path "
        "/x/.submitit/6_1/6_1_0_result.pkl\n"
        "has not produced any output (state: CANCELLED by 0)\n"
        "Error stream produced:\n"
        "----------------------------------------\n"
        "slurmstepd-vm: error: *** JOB 7 ON vm CANCELLED AT 2026-12-01T12:37:50 ***\n"
    )  # fmt: skip
    assert _launch_cause(tmp_path, 1) == (
        " (submitit.core.utils.UncompletedJobError: Job 6_1 (task: 0) "
        "has not produced any output (state: CANCELLED by 0))"
    )
    assert _launch_cause(tmp_path, 0) == ""
    log.write_text("shard 0: {'done': 3}\nshard 1 failed: WorkerCrashedError: The worker died\n")
    assert _launch_cause(tmp_path, 1) == " (shard 1 failed: WorkerCrashedError: The worker died)"
    log.write_text("no error here\n")
    assert _launch_cause(tmp_path, 1) == ""


def test_launcher_dependencies_keep_the_pins():
    """No launcher's dependencies replaced a pinned hydra-core, omegaconf or cloudpickle, and
    none is a pre-release (run in the main venv and in the Ray venv)."""
    pins = {}
    for name in ("requirements.txt", "requirements-ray.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                package, pinned = line.split("==")
                pins[package.strip().lower()] = pinned.strip()
    checked = ["hydra-core", "omegaconf", "cloudpickle", "submitit"]
    checked += ["ray", "msgpack", "protobuf"] if find_spec("ray") else []
    for package in checked:
        installed = version(package)
        assert installed == pins[package], f"{package} {installed}, pinned {pins[package]}"
        assert not Version(installed).is_prerelease


# ----- SLURM ----------------------------------------------------------------------------


def _array_tasks(job: str | None = None) -> list[tuple[str, str]]:
    """(task id like '12_1', state) of the queue's array tasks, optionally of one job."""
    r = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True)
    rows = [tuple(line.split()) for line in r.stdout.splitlines() if line.strip()]
    return [(i, s) for i, s in rows if job is None or i.startswith(f"{job}_")]


def _sacct_states(job: str) -> dict[str, str]:
    r = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", job],
                       capture_output=True, text=True, check=True)  # fmt: skip
    return dict(line.split("|", 1) for line in r.stdout.splitlines() if line.strip())


def _slurm_jobs(out: Path) -> list[str]:
    """SLURM job ids of a study's launches, from submitit's folders (`<job>[_<task>]`)."""
    folders = out.glob(".launch/*/hydra/.submitit/*")
    return sorted({p.name.split("_")[0] for p in folders if p.is_dir()})


@pytest.mark.slow
@pytest.mark.slurm
@slurm_up
def test_slurm_study_matches_local_run(tmp_path, reference):
    out = tmp_path / "slurm"
    r = _govsim(out, "--launcher", "submitit_slurm", "--shards", "2",
                "--launcher-opt", "timeout_min=10")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert _counts(r.stdout) == (RUNS, 0, 0)
    # it really ran on SLURM: one array job of two tasks, both COMPLETED in accounting
    (job,) = _slurm_jobs(out)
    assert _sacct_states(job) == {f"{job}_0": "COMPLETED", f"{job}_1": "COMPLETED"}
    _assert_same_aggregate(out, reference)


@pytest.mark.slow
@pytest.mark.slurm
@slurm_up
def test_slurm_scancel_is_reported_and_rerun_completes_only_the_missing(tmp_path, reference):
    out = tmp_path / "slurm"
    args = ("--launcher", "submitit_slurm", "--shards", "2", "--launcher-opt", "timeout_min=10")
    proc = _start(out, *args)
    store = RunStore(out)
    # mid-study: as soon as the array's task 1 runs (task 0 runs beside it). Not later: submitit
    # ignores SIGTERM, so a cancelled task lives on for SLURM's KillWait (5 s here, often 30 s
    # on real clusters) and a shard of a few short runs could finish in that grace.
    try:
        _wait("array task 1 running",
              lambda: any(i.endswith("_1") and s == "RUNNING" for i, s in _array_tasks()),
              timeout=300)  # fmt: skip
        task = next(i for i, s in _array_tasks() if i.endswith("_1"))
        subprocess.run(["scancel", task], check=True)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    rc, stdout = _finish(proc)
    assert rc == 1, stdout
    done, _, failed = _counts(stdout)
    stored = store.keys()
    assert failed == RUNS - len(stored) >= 1 and done == len(stored)
    # each missing run is reported with the cause: SLURM's CANCELLED, seen through sacct
    reported = [ln for ln in stdout.splitlines() if ln.startswith("  failed ")]
    assert len(reported) == failed
    assert all("CANCELLED" in ln for ln in reported), stdout
    assert _sacct_states(task.split("_")[0])[task].startswith("CANCELLED")

    rerun = _govsim(out, *args)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _counts(rerun.stdout) == (RUNS - len(stored), len(stored), 0)
    _assert_same_aggregate(out, reference)


@pytest.mark.slow
@pytest.mark.slurm
@slurm_up
def test_slurm_time_limit_is_reported_not_hung(tmp_path):
    """A shard slowed past its time limit (a `sleep` in the job's setup lines) -> TIMEOUT."""
    out = tmp_path / "slurm"
    t0 = time.monotonic()
    r = _govsim(out, "--launcher", "submitit_slurm", "--shards", "1",
                "--launcher-opt", "timeout_min=1", "--launcher-opt", "setup=['sleep 600']",
                timeout=400)  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert _counts(r.stdout) == (0, 0, RUNS)
    reported = [ln for ln in r.stdout.splitlines() if ln.startswith("  failed ")]
    assert len(reported) == RUNS and all("TIMEOUT" in ln for ln in reported), r.stdout
    (job,) = _slurm_jobs(out)
    assert _sacct_states(job) == {job: "TIMEOUT"}  # one shard: a plain job, not an array
    assert RunStore(out).keys() == []
    print(f"time limit of 1 min reported after {time.monotonic() - t0:.0f} s")


# ----- Ray ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group of a `ray start --block`, SIGKILL it after 30 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _descendants(pid: int) -> set[int]:
    """PIDs below ``pid`` in the process tree (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def ray_cluster():
    """A Ray head on 127.0.0.1 (no CPUs: it only schedules) and one worker node with 2 CPUs.

    Yields ``(address, worker)``: the GCS address and the worker node's ``ray start`` process.
    Both are stopped by PID (their process groups) at the end.
    """
    ray_bin = str(Path(sys.executable).parent / "ray")
    temp = Path(tempfile.mkdtemp(prefix="gr", dir="/tmp"))  # Ray's socket paths must be short
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--num-cpus", "0", "--object-store-memory", str(100 * 2**20),
              "--disable-usage-stats"]  # fmt: skip
    logs = open(temp / "ray-start.log", "w")  # noqa: SIM115 - closed at the end of the module
    started: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        proc = subprocess.Popen([ray_bin, "start", *args], env=_env(), stdout=logs,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        started.append(proc)
        return proc

    def cpus() -> float:
        probe = (f"import ray; ray.init(address={address!r}, logging_level='ERROR'); "
                 "print(ray.cluster_resources().get('CPU', 0))")  # fmt: skip
        r = subprocess.run([sys.executable, "-c", probe], env=_env(), capture_output=True,
                           text=True, timeout=60)  # fmt: skip
        return float(r.stdout.split()[-1]) if r.returncode == 0 and r.stdout.split() else 0.0

    try:
        start("--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
              "--include-dashboard", "false", "--temp-dir", str(temp), *common)  # fmt: skip
        _wait("the Ray head's GCS port", lambda: _port_open(port), timeout=90)
        worker = start("--address", address, *common[:1], "--num-cpus", "2", *common[3:])
        _wait("the worker node's 2 CPUs", lambda: cpus() >= 2, timeout=120, poll=2)
        yield address, worker
    finally:
        for proc in reversed(started):
            _stop_group(proc)
        logs.close()
        shutil.rmtree(temp, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
@pytest.mark.ray
@ray_installed
def test_ray_study_matches_local_run(tmp_path, reference, ray_cluster):
    address, _ = ray_cluster
    out = tmp_path / "ray"
    r = _govsim(out, "--launcher", "ray", "--shards", "2", "--launcher-opt", f"address={address}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _counts(r.stdout) == (RUNS, 0, 0)
    log = next(out.glob(".launch/*-ray/launch.log")).read_text()
    assert "shard 0: {" in log and "shard 1: {" in log  # both shards ran as Ray tasks
    _assert_same_aggregate(out, reference)


@pytest.mark.slow
@pytest.mark.ray
@ray_installed
def test_ray_killed_worker_is_reported_and_rerun_heals(tmp_path, reference, ray_cluster):
    address, worker = ray_cluster
    out = tmp_path / "ray"
    args = ("--launcher", "ray", "--shards", "2", "--launcher-opt", f"address={address}")
    proc = _start(out, *args)
    store = RunStore(out)
    try:  # mid-study: the first run is stored; SIGKILL one worker process running a shard
        _wait("a run stored", lambda: store.keys(), timeout=300)
        # polled: a worker's title names its task once Ray has set it, which can lag the
        # first stored run (a local run once saw none at a single look)
        shard_workers = _wait(
            "a Ray worker process running a shard",
            lambda: [p for p in _descendants(worker.pid) if "run_shard" in _title(p)],
            timeout=60,
        )
        os.kill(shard_workers[0], signal.SIGKILL)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    rc, stdout = _finish(proc)
    assert rc == 1, stdout
    done, _, failed = _counts(stdout)
    stored = store.keys()
    assert failed == RUNS - len(stored) >= 1 and done == len(stored)
    reported = [ln for ln in stdout.splitlines() if ln.startswith("  failed ")]
    assert len(reported) == failed and all("Worker" in ln for ln in reported), stdout

    rerun = _govsim(out, *args)  # the same worker node (Ray started a new worker process)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _counts(rerun.stdout) == (RUNS - len(stored), len(stored), 0)
    _assert_same_aggregate(out, reference)
