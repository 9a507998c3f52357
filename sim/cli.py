"""Command-line entry points: ``govsim run`` (a Hydra app) and the study commands.

Each command is a thin wrapper around a plain function that tests call
directly: :func:`run` for ``govsim run``. Configuration errors are reported as
one message naming the key and the allowed values, with exit status 2 and no
traceback, before any work starts.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.config import ConfigError, GovsimConfig, as_config, to_container, validate

ROOT = Path(__file__).resolve().parents[1]

if not OmegaConf.has_resolver("govsim.root"):
    OmegaConf.register_new_resolver("govsim.root", lambda: str(ROOT))

log = logging.getLogger("govsim")


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


def provenance(cfg: GovsimConfig | None = None) -> dict:
    """Seed, package versions and git commit: what is needed to reproduce a result."""
    import platform
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    pkgs = ("govsim", "mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf")
    launchers = ("hydra-joblib-launcher", "hydra-submitit-launcher", "submitit", "joblib")
    for pkg in (*pkgs, *launchers):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            or None
        )
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    out = {
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": commit,
        "git_dirty": dirty,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if cfg is not None:
        out["seed"] = cfg.seed
        out["scenario"] = cfg.scenario
    return out


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write atomically: to a temporary name in the same folder, then rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


def run(
    cfg: GovsimConfig | DictConfig, out_dir: str | Path | None = None
) -> dict[str, pd.DataFrame]:
    """Run one scenario and write its run folder; returns the tables and the summary.

    Writes ``meetings``, ``attendance``, ``outcomes``, ``groups``, ``steps`` and
    ``summary`` as Parquet, plus ``config.yaml`` (resolved) and ``provenance.json``.
    """
    from sim.model import GovernanceModel
    from sim.summary import run_summary

    cfg = validate(as_config(cfg))
    model = GovernanceModel(config=cfg).run()
    tables = model.tables()
    tables["summary"] = run_summary(model)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            write_parquet(df, out / f"{name}.parquet")
        (out / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(to_container(cfg))))
        (out / "provenance.json").write_text(json.dumps(provenance(cfg), indent=2))
    return tables


def format_headline(summary: pd.DataFrame, forum_names: Sequence[str]) -> str:
    """The table ``govsim run`` prints: groups × headline measures, then forum lines."""
    from sim.summary import headline_table, scalar

    table = headline_table(summary).rename(
        columns={
            "participation_rate": "participation",
            "voice_share": "voice share",
            "representation_ratio": "repr. ratio",
        }
    )
    lines = [table.to_string(float_format=lambda v: f"{v:.3f}"), ""]
    lines.append(f"attainment gap (developed - developing governments): "
                 f"{scalar(summary, 'attainment_gap'):+.3f}")  # fmt: skip
    lines.append(f"policy coverage (public-policy issues decided): "
                 f"{scalar(summary, 'policy_coverage'):.2f}")  # fmt: skip
    for f in forum_names:
        dr, dl = scalar(summary, "decision_rate", f), scalar(summary, "deadlock_rate", f)
        deadlock = "n/a (non-decisional)" if np.isnan(dl) else f"{dl:.2f}"
        lines.append(f"{f:>12}: decision rate {dr:.2f}, deadlock rate {deadlock}")
    return "\n".join(lines)


def _run_task(cfg: DictConfig) -> None:
    """The Hydra task behind ``govsim run``."""
    from hydra.core.hydra_config import HydraConfig

    from sim.sweep import in_multirun, multirun_stored, record_multirun_job

    logging.getLogger("MESA").setLevel(logging.WARNING)
    multirun = in_multirun()  # a multirun job also writes into RunStore(sweep dir)
    try:
        typed = validate(as_config(cfg))
    except ConfigError as e:
        if multirun:
            record_multirun_job(cfg, error=e)
            raise
        print(f"govsim: error: {e}", file=sys.stderr)
        sys.exit(2)
    if multirun and multirun_stored(typed):  # resuming a sweep in the same sweep dir
        print(f"scenario {typed.scenario}, seed {typed.seed}: already stored, skipped")
        return
    out = Path(typed.out_dir or HydraConfig.get().runtime.output_dir)
    t0 = time.perf_counter()
    try:
        tables = run(typed, out)
    except Exception as e:
        if multirun:
            record_multirun_job(typed, error=e)
        raise
    if multirun:
        record_multirun_job(typed, tables["summary"])
    if not typed.quiet:
        print(f"scenario {typed.scenario}, seed {typed.seed}, {typed.years} years "
              f"({time.perf_counter() - t0:.2f} s)\n")  # fmt: skip
        print(format_headline(tables["summary"], list(typed.forum)))
        print(f"\nrun folder: {out}")


def _friendly(exc: BaseException) -> str:
    """One readable line from a Hydra/OmegaConf composition error, with the valid keys."""
    from dataclasses import fields

    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

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
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_overrides(overrides: Sequence[str]) -> None:
    """Compose and validate once, up front; raise UsageError with a readable message."""
    from sim.compose import load_config

    try:
        load_config(None, overrides)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    except Exception as e:  # Hydra/OmegaConf composition errors
        msg = str(e)
        if "Available options" in msg or "Could not find" in msg:
            raise UsageError(" ".join(msg.split(" Config search path")[0].split())) from None
        raise UsageError(_friendly(e)) from None


def hydra_run(argv: Sequence[str]) -> None:
    """``govsim run [overrides]``: hand the arguments to the Hydra app."""
    import hydra

    from sim.compose import CONFIG_DIR
    from sim.config import register_configs

    register_configs()
    flags = {"-m", "--multirun", "--help", "-h", "--cfg", "-c", "--info", "--hydra-help"}
    if not flags & set(argv):
        check_overrides([a for a in argv if "=" in a and not a.startswith("-")])
    app = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(
        _run_task
    )
    sys.argv = ["govsim run", *argv]
    app()


COMMANDS = {"run": "run one scenario (Hydra overrides: key=value ...)"}
COMMANDS["aggregate"] = "one table from a study or `run -m` sweep folder: govsim aggregate DIR"
COMMANDS["status"] = "done/failed/missing runs per study: govsim status RESULTS_DIR"
COMMANDS["experiment"] = "run a study: govsim experiment NAME [-j N] [--replicates R] [--years Y]"
COMMANDS["report"] = "rebuild a study's figures and briefing: govsim report RESULTS_DIR"
COMMANDS["sensitivity"] = "global sensitivity analysis (SALib): govsim sensitivity NAME [--jobs N]"
COMMANDS["calibrate"] = "fit behaviour to observed IGF attendance: govsim calibrate NAME [--jobs N]"
COMMANDS["dashboard"] = "explore a scenario in the browser: govsim dashboard [--port N]"


def dashboard(argv: Sequence[str]) -> None:
    """``govsim dashboard [--port N]``: serve the SolaraViz app (sim.app) on 127.0.0.1."""
    import argparse
    import os
    import subprocess

    parser = argparse.ArgumentParser(prog="govsim dashboard")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port={args.port} must be between 1 and 65535")
    print(f"govsim dashboard: http://127.0.0.1:{args.port} (Ctrl-C to stop)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "sim.app", "--host", "127.0.0.1",
           "--port", str(args.port), "--production", "--no-open", "--no-check-version"]  # fmt: skip
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}  # no calls home
    try:
        sys.exit(subprocess.run(cmd, check=False, env=env).returncode)
    except KeyboardInterrupt:
        sys.exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    """``govsim COMMAND ...``: dispatch to a command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: govsim COMMAND [ARGS]\n\ncommands:")
        for name, text in COMMANDS.items():
            print(f"  {name:<12} {text}")
        sys.exit(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    try:
        if command == "run":
            hydra_run(rest)
        elif command in ("aggregate", "status"):
            from sim.sweep import aggregate_command, status_command

            (aggregate_command if command == "aggregate" else status_command)(rest)
        elif command == "experiment":
            from sim.experiment import experiment_command

            experiment_command(rest)
        elif command == "report":
            from sim.experiment import report_command

            report_command(rest)
        elif command == "sensitivity":
            from sim.sensitivity import main as sensitivity_main

            sensitivity_main(rest)
        elif command == "calibrate":
            from sim.calibration import main as calibrate_main

            calibrate_main(rest)
        elif command == "dashboard":
            dashboard(rest)
        else:
            raise UsageError(f"unknown command {command!r}; commands: {', '.join(COMMANDS)}")
    except UsageError as e:
        print(f"govsim: error: {e}", file=sys.stderr)
        sys.exit(2)
