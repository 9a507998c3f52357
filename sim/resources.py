"""Where govsim finds what it ships and where it writes.

Configs (``sim/configs``), studies (``sim/experiments``) and data (``sim/data``)
are package resources, so an installed wheel finds them wherever it runs.
Outputs go under the working directory's ``results/`` unless a command is given
``--out``.

A *user folder* holds a user's own configs and studies beside the shipped ones, laid
out like ``sim/configs`` (``scenario/``, ``forum/``, ``population/``, ...) plus
``experiments/`` for studies. Name it with ``govsim --config-dir DIR`` or the
environment variable ``GOVSIM_CONFIG_DIR`` (several folders separated by the path
separator, ``:`` on Linux and macOS); Hydra then composes from the user folders first
and the shipped tree second (its config search path), so a user scenario may build on a
shipped one (``defaults: [status_quo, _self_]``) and a user file of the same name wins.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

PACKAGE = Path(str(files("sim")))
CONFIG_DIR = PACKAGE / "configs"
"""The Hydra config tree: population/, issues/, behaviour/, forum/, scenario/, hydra/."""
EXPERIMENTS_DIR = PACKAGE / "experiments"
"""The shipped study files."""
DATA_DIR = PACKAGE / "data"
"""Shipped data with their SOURCES files."""


def results_dir() -> Path:
    """The default results folder: ``results/`` under the current working directory."""
    return Path.cwd() / "results"


USER_CONFIG_ENV = "GOVSIM_CONFIG_DIR"
"""Environment variable naming user folders (``os.pathsep``-separated)."""


def user_config_dirs() -> list[Path]:
    """The user folders named by ``GOVSIM_CONFIG_DIR``, in order, that exist."""
    raw = os.environ.get(USER_CONFIG_ENV, "")
    out: list[Path] = []
    for part in raw.split(os.pathsep):
        p = Path(part).expanduser()
        if part and p.is_dir() and p.resolve() not in out:
            out.append(p.resolve())
    return out


def add_user_config_dir(path: Path | str) -> Path:
    """Put a user folder on the search path (first), for this process and its children."""
    p = Path(path).expanduser().resolve()
    rest = [str(d) for d in user_config_dirs() if d != p]
    os.environ[USER_CONFIG_ENV] = os.pathsep.join([str(p), *rest])
    return p


def config_dirs() -> list[Path]:
    """Where configs are looked up: the user folders, then the shipped tree."""
    return [*user_config_dirs(), CONFIG_DIR]


def experiments_dirs() -> list[Path]:
    """Where studies are looked up by name: each user folder's ``experiments/``, then the
    shipped ``sim/experiments``."""
    return [*(d / "experiments" for d in user_config_dirs()), EXPERIMENTS_DIR]


def search_path_override() -> list[str]:
    """The Hydra override that adds the user folders to the config search path (or none)."""
    dirs = user_config_dirs()
    if not dirs:
        return []
    return ["hydra.searchpath=[" + ",".join(f"file://{d}" for d in dirs) + "]"]
