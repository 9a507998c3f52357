"""What is needed to reproduce a result: versions, git commit, time (and seed and scenario)."""

from __future__ import annotations

import platform
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version

from sim.model.config import GovsimConfig
from sim.resources import PACKAGE

PACKAGES = ("govsim", "mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf")
LAUNCHERS = ("hydra-joblib-launcher", "hydra-submitit-launcher", "submitit", "joblib")


def _git(*args: str) -> str | None:
    """``git -C <the package's folder> ARGS`` (None outside a checkout)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(PACKAGE), *args], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def provenance(cfg: GovsimConfig | None = None) -> dict:
    """Seed, package versions and git commit of the code that ran (None when installed)."""
    versions = {}
    for pkg in (*PACKAGES, *LAUNCHERS):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    commit = _git("rev-parse", "HEAD") or None
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    out = {
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if cfg is not None:
        out["seed"] = cfg.seed
        out["scenario"] = cfg.scenario
    return out
