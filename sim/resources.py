"""Where govsim finds what it ships and where it writes.

Configs (``sim/configs``), studies (``sim/experiments``) and data (``sim/data``)
are package resources, so an installed wheel finds them wherever it runs.
Outputs go under the working directory's ``results/`` unless a command is given
``--out``.
"""

from __future__ import annotations

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
