"""Compose a run's config from the shipped config tree with Hydra's compose API.

This is the one conversion path from Hydra's config to a run's dataclasses, and the
one place a config is validated: :func:`load_config` composes (a DictConfig), types
(:func:`~sim.model.config.as_config`, the schema's dataclasses) and validates
(:func:`~sim.model.validate.validate`) once, and marks the result as checked;
:func:`as_dict` gives its plain-dict form (what studies hash, store and send to
worker processes) without another OmegaConf pass. The model
(:class:`~sim.model.model.GovernanceModel`) validates any config it is handed
*unless* it is the checked object itself, so ``govsim run`` validates once; a
study's stored dict is typed again in the worker process and validated there (the
model's boundary, 0.4 ms). Change a checked config in place and pass it through
:func:`sim.model.validate.validate` again (or build it with :func:`with_values`).

``load_config("cstd_anchor", ["forum.igf.remote=false"])`` gives the same
validated :class:`~sim.model.config.GovsimConfig` that ``govsim run
scenario=cstd_anchor forum.igf.remote=false`` runs, without starting a Hydra
app; tests, studies and the dashboard use it. Composition errors come back as
:class:`~sim.errors.ConfigError` with one readable line (:func:`friendly_error`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from sim.errors import ConfigError
from sim.model.config import GovsimConfig, as_config, copy_plain, register_configs
from sim.model.validate import validate
from sim.resources import CONFIG_DIR, config_dirs, search_path_override

__all__ = [
    "CONFIG_DIR", "as_dict", "checked", "compose_raw", "friendly_error",
    "is_checked", "load_config", "plain_with_values", "scenarios", "with_values",
]  # fmt: skip

_MARK = "_govsim_checked"


def checked(cfg: GovsimConfig) -> GovsimConfig:
    """Mark a config that :func:`~sim.model.validate.validate` has just accepted."""
    object.__setattr__(cfg, _MARK, id(cfg))
    return cfg


def is_checked(cfg: object) -> bool:
    """Whether ``cfg`` is a config object marked by :func:`checked` (a copy is not: the
    mark holds the object's identity)."""
    return getattr(cfg, _MARK, None) == id(cfg)


def as_dict(cfg: GovsimConfig) -> dict[str, Any]:
    """A typed config as a plain nested dict, equal to ``to_container(cfg)`` without the
    OmegaConf pass (0.3 ms instead of ~250 ms)."""
    return dataclasses.asdict(cfg)


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
        return checked(validate(as_config(compose_raw([*extra, *overrides]))))
    except ConfigError:
        raise
    except Exception as e:  # Hydra/OmegaConf composition errors
        raise ConfigError(friendly_error(e)) from None


def with_values(base: GovsimConfig, values: Mapping[str, Any]) -> GovsimConfig:
    """A validated deep copy of ``base`` with dotted ``key: value`` pairs set (no Hydra).

    Each value is coerced to the type of the value it replaces (int, float, bool,
    str); a key that does not exist raises ``KeyError`` naming it. ``base`` is not
    changed. Sensitivity and calibration studies build their design points this
    way: an OmegaConf merge per point costs about a second, a typed copy milliseconds.
    """
    return checked(validate(_set_values(copy.deepcopy(base), values)))


def plain_with_values(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the plain config ``base`` (:func:`as_dict`) with dotted values set, coerced
    as :func:`with_values` does, *not* validated.

    ``as_dict(with_values(cfg, v)) == plain_with_values(as_dict(cfg), v)``, so the run keys
    are the same; what is skipped is the validation, which the run does when its model is
    built (in the worker, in parallel). An exploration plans thousands of runs this way
    after checking each assumption at both ends of its range on the typed config
    (:func:`sim.studies.spec.prepare`): about 1 ms a run instead of ~10 in the driver.
    """
    return _set_values(copy_plain(dict(base)), values)


def value_at(cfg: Any, key: str) -> Any:
    """The value of the dotted ``key`` in a typed config or a plain dict (``KeyError`` if none)."""
    node, leaf = _leaf(cfg, key)
    return node[leaf] if isinstance(node, dict) else getattr(node, leaf)


def _leaf(cfg: Any, key: str) -> tuple[Any, str]:
    """The node holding the dotted ``key`` and the key's last part; ``KeyError`` naming the
    key (and the valid names) if the config has no such key."""
    node: Any = cfg
    parts = key.split(".")
    for part in parts[:-1]:
        try:
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        except (KeyError, AttributeError):
            raise KeyError(f"{key}: no such key ({part!r} not found)") from None
    leaf = parts[-1]
    if isinstance(node, dict):
        if leaf not in node:
            raise KeyError(f"{key}: no such key; valid: {', '.join(map(str, node))}")
    elif not dataclasses.is_dataclass(node) or leaf not in {
        f.name for f in dataclasses.fields(node)
    }:
        raise KeyError(f"{key}: no such key in {type(node).__name__}")
    return node, leaf


def _set_values(cfg: Any, values: Mapping[str, Any]) -> Any:
    """Set dotted ``key: value`` pairs on a typed config or a plain dict, in place."""
    for key, value in values.items():
        node, leaf = _leaf(cfg, key)
        old = node[leaf] if isinstance(node, dict) else getattr(node, leaf)
        if isinstance(old, bool):
            new: Any = bool(value)
        elif isinstance(old, int):
            new = int(round(float(value)))
        elif isinstance(old, float):
            new = float(value)
        else:
            new = value
        if isinstance(node, dict):
            node[leaf] = new
        else:
            setattr(node, leaf, new)
    return cfg
