"""Every ``govsim`` command, and nothing else.

Each command parses its arguments (argparse subcommands; ``govsim run`` hands its
Hydra overrides to a Hydra app) and calls plain functions of the layers below:
:mod:`sim.studies` to run, :mod:`sim.analysis` to analyse, :mod:`sim.present` to
draw and write briefings. A user's mistake (:class:`~sim.errors.UsageError`,
:class:`~sim.errors.ConfigError`) is printed as one line with exit status 2 and no
traceback, before any work starts.

Flags are the same across commands: ``-j/--jobs`` (worker processes),
``-q/--quiet`` (no progress or tables), ``--out`` (results folder; default
``results/...`` under the working directory).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from sim import __version__
from sim.analysis import calibration, predict, sensitivity
from sim.errors import ConfigError, UsageError
from sim.model.compose import load_config
from sim.model.config import as_config, register_configs
from sim.model.summary import headline_table, scalar
from sim.model.validate import validate
from sim.present.analysis_figures import plot_fit, plot_host_effect, sensitivity_figures
from sim.present.report import build_briefing
from sim.resources import CONFIG_DIR, results_dir
from sim.studies.experiment import load_study
from sim.studies.launch import (
    aggregate_sweep,
    check_launcher,
    find_results,
    format_status,
    in_multirun,
    multirun_stored,
    record_multirun_job,
    run_study,
    study_status,
    write_aggregate,
)
from sim.studies.single import run

RUN_HELP = """\
usage: govsim run [KEY=VALUE ...] [-m KEY=A,B ...]

Run one scenario (default: status_quo, seed 0, 10 years) and print its headline table.

examples:
  govsim run scenario=cstd_anchor seed=3
  govsim run forum.igf.remote=false years=5
  govsim run -m scenario=status_quo,cstd_anchor seed='range(3)'   # a Hydra multirun
  govsim run hydra.run.dir=/tmp/myrun                             # choose the run folder

Config groups: scenario, population, issues, behaviour (see `govsim run --cfg job`
for every key of the resolved config, and docs/user_guide.md)."""


def format_headline(summary: pd.DataFrame, forum_names: Sequence[str]) -> str:
    """The table ``govsim run`` prints: groups × headline measures, then forum lines."""
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


# ----- govsim run (a Hydra app) ----------------------------------------------------------
def _run_task(cfg: DictConfig) -> None:
    """The Hydra task behind ``govsim run``."""
    from hydra.core.hydra_config import HydraConfig  # only importable inside a Hydra app

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


def check_overrides(overrides: Sequence[str]) -> None:
    """Compose and validate once, up front; a problem becomes one UsageError line."""
    try:
        load_config(None, overrides)
    except ConfigError as e:
        raise UsageError(str(e)) from None


def hydra_run(argv: Sequence[str]) -> None:
    """``govsim run [overrides]``: hand the arguments to the Hydra app."""
    import hydra

    if set(argv) & {"-h", "--help"}:
        print(RUN_HELP)
        return
    register_configs()
    flags = {"-m", "--multirun", "--cfg", "-c", "--info", "--hydra-help"}
    if not flags & set(argv):
        check_overrides([a for a in argv if "=" in a and not a.startswith("-")])
    app = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(
        _run_task
    )
    sys.argv = ["govsim run", *argv]
    app()


# ----- studies ---------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, jobs: bool = True) -> None:
    """The flags every study command shares."""
    if jobs:
        p.add_argument("-j", "--jobs", type=int, default=None,
                       help="worker processes (default: all cores)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or tables")
    p.add_argument("--out", default=None, help="results folder (default: results/... here)")


def _jobs(a: argparse.Namespace) -> int | None:
    if a.jobs is not None and a.jobs < 1:
        raise UsageError(f"--jobs {a.jobs}: give at least 1 worker")
    return a.jobs


def _print_briefing(briefing: Path) -> None:
    print(f"briefing: {briefing}")
    print(f"          {briefing.with_suffix('.html')}")


def experiment(a: argparse.Namespace) -> None:
    """``govsim experiment NAME``: run a study, then draw its figures and briefing."""
    jobs = _jobs(a)
    if a.shards is not None and a.shards < 1:
        raise UsageError(f"--shards {a.shards}: give at least 1 shard")
    study = load_study(a.study, replicates=a.replicates, years=a.years, overrides=a.overrides)
    out = Path(a.out).resolve() if a.out else results_dir() / study.name
    check_launcher(a.launcher)
    n_runs = len(study.scenarios) * len(study.points) * study.replicates
    print(f"study {study.name}: {n_runs} runs ({len(study.scenarios)} scenarios × "
          f"{len(study.points)} grid points × {study.replicates} replicates) -> {out}",
          file=sys.stderr)  # fmt: skip
    t0 = time.perf_counter()
    opts = dict(o.split("=", 1) for o in a.launcher_opt if "=" in o)
    report = run_study(study, out, jobs=jobs, progress=not a.quiet, launcher=a.launcher,
                       shards=a.shards, launcher_opts=opts)  # fmt: skip
    briefing = build_briefing(out, study=study)
    print(f"{len(report.done)} runs done, {len(report.skipped)} already stored, "
          f"{len(report.failed)} failed ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    for key, err in report.failed.items():
        print(f"  failed {key}: {err.splitlines()[0]}")
    _print_briefing(briefing)
    if report.failed:
        sys.exit(1)


def report(a: argparse.Namespace) -> None:
    """``govsim report DIR``: rebuild figures and briefing from stored runs."""
    root = Path(a.results).resolve()
    if not (root / "manifest.json").exists():
        raise UsageError(f"{root} has no manifest.json: not a study results folder")
    _print_briefing(build_briefing(root))


def aggregate(a: argparse.Namespace) -> None:
    """``govsim aggregate DIR``: the tidy and per-run tables; exit 1 if runs are missing/failed."""
    folder = Path(a.folder).resolve()
    try:
        result = aggregate_sweep(folder)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from None
    paths = write_aggregate(result, folder)
    done = int((result.runs["status"] == "done").sum())
    print(f"{folder}: {len(result.runs)} runs expected, {done} done, "
          f"{len(result.failed)} failed, {len(result.missing)} missing")  # fmt: skip
    for key, err in result.failed.items():
        print(f"  failed {key}: {err.strip().splitlines()[0][:200]}")
    for key in result.missing[:20]:
        print(f"  missing {key}")
    if len(result.missing) > 20:
        print(f"  ... and {len(result.missing) - 20} more missing")
    for path in paths:
        print(f"wrote {path}")
    if result.failed or result.missing:
        sys.exit(1)


def status(a: argparse.Namespace) -> None:
    """``govsim status [DIR]``: done, failed and missing runs of every study below DIR."""
    root = a.results or str(results_dir())
    folders = find_results(root)
    if not folders:
        raise UsageError(f"no study (manifest.json) or sweep (multirun.yaml) under {root}")
    print(format_status([study_status(f) for f in folders]))


# ----- analyses --------------------------------------------------------------------------
def sensitivity_command(a: argparse.Namespace) -> None:
    """``govsim sensitivity NAME``: Morris screening and Sobol indices (SALib)."""
    try:
        study = sensitivity.load_study(a.name)
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise UsageError(str(e)) from None
    out = Path(a.out) if a.out else results_dir() / "sensitivity" / study.name
    results = sensitivity.run_study(study, out, jobs=_jobs(a), progress=not a.quiet)
    sensitivity_figures(study, results, out)
    print(f"results: {out}")


def calibrate(a: argparse.Namespace) -> None:
    """``govsim calibrate NAME``: fit behaviour to observed attendance."""
    try:
        study = calibration.load_study(a.name)
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise UsageError(str(e)) from None
    out = Path(a.out) if a.out else results_dir() / "calibration" / study.name
    result = calibration.calibrate(study, jobs=_jobs(a) or 1)
    config_path = None if a.no_config else CONFIG_DIR / "behaviour" / "calibrated.yaml"
    calibration.write_outputs(study, result, out, config_path)
    plot_fit(result.fit_table, out / "fit")
    # the host effect over the IGF host calendar at the estimate (figure + table)
    est = dict(zip(result.parameters["parameter"], result.parameters["estimate"], strict=True))
    sweep = predict.host_calendar_shares(
        "default", overrides=[f"{k}={v:.6g}" for k, v in est.items()], scenario=study.scenario
    )
    sweep.to_csv(out / "host_calendar_shares.csv", index=False, float_format="%.4g")
    plot_host_effect(sweep, calibration.observed_host_shares(result.fit_table), out / "host_effect")
    if not a.quiet:
        print(result.parameters.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print()
        print(result.fit_table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{result.seconds:.1f} s; results: {out}" +
          (f"; config: {config_path}" if config_path else ""))  # fmt: skip


def predict_command(a: argparse.Namespace) -> None:
    """``govsim predict --forum igf --host KEN --year 2011``: shares of a named meeting."""
    try:
        table = predict.predict_meeting(
            a.forum, a.host, a.year, behaviour=a.behaviour, replicates=a.replicates,
            scenario=a.scenario, basis=a.basis,
        )  # fmt: skip
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"{a.forum} meeting in {table.attrs['host_country']}"
          f"{f' ({a.year})' if a.year else ''}, behaviour={a.behaviour}, {a.replicates} "
          f"replicates; shares with {int(100 * 0.9)}% intervals:")  # fmt: skip
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


# ----- dashboard -------------------------------------------------------------------------
def dashboard(a: argparse.Namespace) -> None:
    """``govsim dashboard [--port N]``: serve the SolaraViz app on 127.0.0.1."""
    if not 1 <= a.port <= 65535:
        raise UsageError(f"--port={a.port} must be between 1 and 65535")
    print(f"govsim dashboard: http://127.0.0.1:{a.port} (Ctrl-C to stop)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "sim.present.app", "--host", "127.0.0.1",
           "--port", str(a.port), "--production", "--no-open", "--no-check-version"]  # fmt: skip
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}  # no calls home
    child = subprocess.Popen(cmd, env=env)

    def stop(signum, _frame):  # take the server down with us: no orphan on the port
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        sys.exit(child.wait())
    except KeyboardInterrupt:
        stop(signal.SIGINT, None)


# ----- the parser ------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    """``govsim`` and its subcommands."""
    p = argparse.ArgumentParser(
        prog="govsim",
        description="Participation, voice and power in internet-governance forums.",
    )
    p.add_argument("--version", action="version", version=f"govsim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run one scenario (Hydra overrides: key=value ...)", add_help=False)

    e = sub.add_parser("experiment", help="run a study: scenarios × grid × replicates")
    e.add_argument("study", help="study name (see `govsim status`) or path to a study file")
    _common(e)
    e.add_argument("--replicates", type=int, default=None, help="replace the study's replicates")
    e.add_argument("--years", type=int, default=None, help="replace the horizon (years)")
    e.add_argument("--launcher", default="local",
                   help="local (default), basic, joblib, submitit_local, submitit_slurm, ray, "
                        "or a config in configs/hydra/launcher/")  # fmt: skip
    e.add_argument("--shards", type=int, default=None,
                   help="launcher jobs to group runs into (default: --jobs or cores)")  # fmt: skip
    e.add_argument("--launcher-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="hydra.launcher.KEY=VALUE, e.g. n_jobs=2 or timeout_min=60")  # fmt: skip
    e.add_argument("overrides", nargs="*", help="Hydra overrides applied to every run")
    e.set_defaults(func=experiment, intermixed=True)

    r = sub.add_parser("report", help="rebuild a study's figures and briefing from its runs")
    r.add_argument("results", help="a study's results folder (holds manifest.json)")
    r.set_defaults(func=report)

    g = sub.add_parser("aggregate", help="one table from a study or `run -m` sweep folder")
    g.add_argument("folder", help="results folder (manifest.json) or sweep folder (multirun.yaml)")
    g.set_defaults(func=aggregate)

    s = sub.add_parser("status", help="done/failed/missing runs of every study below a folder")
    s.add_argument("results", nargs="?", default=None, help="folder (default: ./results)")
    s.set_defaults(func=status)

    sa = sub.add_parser("sensitivity", help="global sensitivity analysis (Morris, Sobol)")
    sa.add_argument("name", help="study name or path to a YAML file")
    _common(sa)
    sa.set_defaults(func=sensitivity_command)

    c = sub.add_parser("calibrate", help="fit behaviour to observed IGF attendance")
    c.add_argument("name", help="study name or path to a YAML file")
    _common(c)
    c.add_argument("--no-config", action="store_true",
                   help="do not write configs/behaviour/calibrated.yaml")  # fmt: skip
    c.set_defaults(func=calibrate)

    pr = sub.add_parser("predict", help="simulate a named meeting: group, region, onsite shares")
    pr.add_argument("--forum", default="igf", help="forum name (default igf)")
    pr.add_argument("--host", default=None, help="host country, ISO3 (default: the calendar's)")
    pr.add_argument("--year", type=int, default=None, help="calendar year of the meeting")
    pr.add_argument("--behaviour", default="calibrated", help="behaviour config (calibrated)")
    pr.add_argument("--replicates", type=int, default=8, help="runs (default 8)")
    pr.add_argument("--scenario", default="status_quo", help="scenario (default status_quo)")
    pr.add_argument("--basis", default="all", choices=["all", "onsite"],
                    help="group/region shares of all participants or of onsite ones")  # fmt: skip
    pr.set_defaults(func=predict_command)

    d = sub.add_parser("dashboard", help="explore a scenario in the browser")
    d.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    d.set_defaults(func=dashboard)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """``govsim COMMAND ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "run":
            hydra_run(argv[1:])
            return
        p = parser()
        if not argv:
            p.print_help()
            sys.exit(2)
        commands = p._subparsers._group_actions[0].choices  # the subcommands' parsers, by name
        if argv[0].startswith("-"):
            p.parse_args(argv)  # --help, --version
            sys.exit(2)
        if argv[0] not in commands:
            raise UsageError(f"unknown command {argv[0]!r}; commands: {', '.join(commands)}")
        sub = commands[argv[0]]
        # a study's Hydra overrides may come before or after the flags
        args = (sub.parse_intermixed_args if argv[0] == "experiment" else sub.parse_args)(argv[1:])
        args.func(args)
    except (UsageError, ConfigError) as e:
        print(f"govsim: error: {e}", file=sys.stderr)
        sys.exit(2)
