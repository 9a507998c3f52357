"""Compose a run's config from the shipped config tree with Hydra's compose API.

``load_config("cstd_anchor", ["forum.igf.remote=false"])`` gives the same
validated :class:`~sim.model.config.GovsimConfig` that ``govsim run
scenario=cstd_anchor forum.igf.remote=false`` runs, without starting a Hydra
app; tests, studies and the dashboard use it. Composition errors come back as
:class:`~sim.errors.ConfigError` with one readable line (:func:`friendly_error`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from sim.errors import ConfigError
from sim.model.config import GovsimConfig, as_config, register_configs
from sim.model.validate import validate
from sim.resources import CONFIG_DIR, config_dirs, search_path_override

__all__ = ["CONFIG_DIR", "compose_raw", "friendly_error", "load_config", "scenarios"]


def scenarios() -> list[str]:
    """Names of the scenarios: shipped (``configs/scenario/*.yaml``) and in user folders
    (``DIR/scenario/*.yaml``, see :func:`sim.resources.user_config_dirs`)."""
    return sorted({p.stem for d in config_dirs() for p in (d / "scenario").glob("*.yaml")})


def compose_raw(overrides: Sequence[str] = ()) -> DictConfig:
    """The composed (unvalidated) DictConfig for Hydra-syntax ``overrides``."""
    register_configs()
    if GlobalHydra.instance().is_initialized():  # inside a Hydra app: reuse its search path
        return compose("config", overrides=list(overrides))
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        # user folders (GOVSIM_CONFIG_DIR) join Hydra's search path ahead of the shipped tree
        return compose("config", overrides=[*search_path_override(), *overrides])


def friendly_error(exc: BaseException) -> str:
    """One readable line from a Hydra/OmegaConf composition error, with the valid keys."""
    chain, e = [], exc
    while e is not None:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, OmegaConfBaseException) and getattr(e, "full_key", None):
            kind = getattr(e, "object_type", None)
            msg = str(e).splitlines()[0]
            missing_key = isinstance(e, ConfigKeyError | ConfigAttributeError)
            if missing_key and hasattr(kind, "__dataclass_fields__"):
                valid = ", ".join(f.name for f in fields(kind))
                return f"{e.full_key}: {msg}. Valid keys of {kind.__name__}: {valid}"
            return f"{e.full_key}: {msg}"
    msg = str(exc).strip()
    if "Available options" in msg or "Could not find" in msg:
        return " ".join(msg.split(" Config search path")[0].split())
    return msg.splitlines()[0] if msg else type(exc).__name__


def load_config(scenario: str | None = None, overrides: Sequence[str] = ()) -> GovsimConfig:
    """Compose, type-check and validate a run config.

    Raises :class:`~sim.errors.ConfigError` with one line naming the key and the
    allowed values, whether the problem is a missing key, a wrong type or a value
    out of range.
    """
    extra = [f"scenario={scenario}"] if scenario else []
    try:
        return validate(as_config(compose_raw([*extra, *overrides])))
    except ConfigError:
        raise
    except Exception as e:  # Hydra/OmegaConf composition errors
        raise ConfigError(friendly_error(e)) from None
