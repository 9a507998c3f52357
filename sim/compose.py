"""Compose a run's config from ``configs/`` with Hydra's compose API.

``load_config("cstd_anchor", ["forum.igf.remote=false"])`` gives the same
validated :class:`~sim.config.GovsimConfig` that ``govsim run
scenario=cstd_anchor forum.igf.remote=false`` runs, without starting a Hydra
app; tests, studies and the dashboard use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from sim.config import GovsimConfig, as_config, register_configs, validate

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def scenarios() -> list[str]:
    """Names of the shipped scenarios (``configs/scenario/*.yaml``)."""
    return sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


def compose_raw(overrides: Sequence[str] = ()) -> DictConfig:
    """The composed (unvalidated) DictConfig for Hydra-syntax ``overrides``."""
    register_configs()
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app: reuse its search path
        return compose("config", overrides=list(overrides))
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose("config", overrides=list(overrides))


def load_config(scenario: str | None = None, overrides: Sequence[str] = ()) -> GovsimConfig:
    """Compose, type-check and validate a run config (raises on a bad key or value)."""
    extra = [f"scenario={scenario}"] if scenario else []
    return validate(as_config(compose_raw([*extra, *overrides])))
