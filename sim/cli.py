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
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig

from sim import __version__
from sim.analysis import calibration, exploration, predict, records, sensitivity
from sim.errors import ConfigError, UsageError
from sim.model.compose import friendly_error, load_config
from sim.model.config import GovsimConfig, as_config, register_configs
from sim.model.forums import RULES
from sim.model.summary import headline_table, scalar
from sim.model.validate import check_value
from sim.present import exploration_report
from sim.present.analysis_figures import (
    plot_assumption_profile,
    plot_fit,
    plot_host_effect,
    sensitivity_figures,
)
from sim.present.report import build_briefing
from sim.resources import (
    CONFIG_DIR,
    add_user_config_dir,
    config_dirs,
    experiments_dirs,
    results_dir,
    search_path_override,
)
from sim.studies.launch import (
    aggregate_sweep,
    check_launcher,
    ensure_manifest,
    find_results,
    format_status,
    in_multirun,
    multirun_stored,
    record_multirun_job,
    run_study,
    study_status,
    sweep_jobs,
    write_aggregate,
)
from sim.studies.single import run
from sim.studies.spec import METRICS, UNITS, load_study, study_names
from sim.studies.store import ensure_writable_folder

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
    """The Hydra task behind ``govsim run``: errors as one line (Hydra would print a traceback)."""
    try:
        _run_job(cfg)
    except (UsageError, ConfigError) as e:
        fail(str(e))
    except OSError as e:
        fail(path_error(e))
    except Exception as e:
        report_bug(e)


def _run_job(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig  # only importable inside a Hydra app

    logging.getLogger("MESA").setLevel(logging.WARNING)
    multirun = in_multirun()  # a multirun job also writes into RunStore(sweep dir)
    # a single run reuses the config hydra_run composed and validated up front; a
    # multirun job's config is typed here and validated by the model (once per job)
    typed = _CHECKED.pop("config", None) if not multirun else None
    if typed is None:
        try:
            typed = as_config(cfg)
        except ConfigError as e:
            if multirun:
                record_multirun_job(cfg, error=e)
            raise
        except Exception as e:  # a wrong type the schema merge rejects
            if multirun:
                record_multirun_job(cfg, error=e)
            raise ConfigError(friendly_error(e)) from None
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


def precheck(overrides: Sequence[str], sweeps: bool = True) -> None:
    """Parse every override and check its numbers against the validation table, before the
    (slow) composition: ``years=0,1`` or ``behaviour.logit_noise=nan`` fails at once."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for o in overrides:
        try:
            parsed = parser.parse_overrides([o])[0]
        except Exception:
            raise UsageError(
                f"override {o!r} is not valid override syntax: KEY=VALUE, a value with spaces "
                "or non-ASCII letters in quotes (KEY='a b'), a sweep as KEY=A,B"
            ) from None
        key = parsed.key_or_group
        if parsed.is_delete() or key.startswith("hydra."):
            continue
        if parsed.is_sweep_override() and not sweeps:
            continue  # a sweep's values are checked job by job as the jobs run
        values = list(parsed.sweep_iterator()) if parsed.is_sweep_override() else [parsed.value()]
        choices = sorted(p.stem for p in (CONFIG_DIR / key).glob("*.yaml")) if key in (
            "scenario", "population", "issues", "behaviour") else None  # fmt: skip
        for v in values:
            if choices is not None and v not in choices:
                raise UsageError(f"{key}={v!r} is not a {key} config. Available options in "
                                 f"'{key}': {', '.join(choices)}")  # fmt: skip
            check_value(key, v)


_CHECKED: dict[str, object] = {}
"""The config ``hydra_run`` composed and validated, handed to the Hydra task (one run)."""


def check_overrides(overrides: Sequence[str]) -> GovsimConfig:
    """Compose and validate once, up front; a problem becomes one UsageError line."""
    precheck(overrides)
    try:
        return load_config(None, overrides)
    except ConfigError as e:
        raise UsageError(str(e)) from None


SWEEP_CHECK_LIMIT = 64
"""A ``run -m`` sweep of at most this many jobs (environment: ``GOVSIM_SWEEP_CHECK_LIMIT``)
is composed and validated job by job before any runs (about a second each); a larger one
is checked job by job as it runs, and stops at the first bad job with the same line."""


def check_sweep(overrides: Sequence[str]) -> None:
    """Validate a multirun's jobs up front: ``run -m years=0,1`` stops before any job runs."""
    limit = os.environ.get("GOVSIM_SWEEP_CHECK_LIMIT", "")
    precheck(overrides, sweeps=not (limit.strip().isdigit() and int(limit) == 0))
    try:
        jobs = sweep_jobs(overrides)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    limit = os.environ.get("GOVSIM_SWEEP_CHECK_LIMIT", "")
    limit = int(limit) if limit.strip().isdigit() else SWEEP_CHECK_LIMIT
    for job in jobs[:limit]:
        check_overrides(job)


def hydra_run(argv: Sequence[str]) -> None:
    """``govsim run [overrides]``: hand the arguments to the Hydra app."""
    import hydra

    if set(argv) & {"-h", "--help"}:
        print(RUN_HELP)
        return
    register_configs()
    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    for o in overrides:  # Hydra would make these folders and print a traceback if it cannot
        key, _, value = o.partition("=")
        if key.lstrip("+") in ("hydra.run.dir", "hydra.sweep.dir"):
            ensure_writable_folder(value, key.lstrip("+"), create=False)
    if {"-m", "--multirun"} & set(argv):
        check_sweep(overrides)
    elif not {"--cfg", "-c", "--info", "--hydra-help"} & set(argv):
        checked = check_overrides(overrides)
        if not any(a.startswith("-") for a in argv):  # no Hydra flag that changes the config
            _CHECKED["config"] = checked
    app = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")(
        _run_task
    )
    sys.argv = ["govsim run", *argv, *search_path_override()]  # user folders, if any
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


def _print_briefing(briefing: Path, findings: bool = True) -> None:
    """The findings (``findings.txt`` beside the briefing), then where the briefing is."""
    text = briefing.with_name("findings.txt")
    if findings and text.exists():
        print("\nFindings:")
        print(text.read_text().rstrip())
        print()
    print(f"briefing: {briefing}")
    print(f"          {briefing.with_suffix('.html')}")
    if briefing.with_suffix(".pptx").exists():
        print(f"          {briefing.with_suffix('.pptx')}")


def experiment(a: argparse.Namespace) -> None:
    """``govsim experiment NAME``: run a study, then draw its figures and briefing."""
    jobs = _jobs(a)
    if a.shards is not None and a.shards < 1:
        raise UsageError(f"--shards {a.shards}: give at least 1 shard")
    if a.out:  # before the (slow) study check; made only once the study is known good
        ensure_writable_folder(a.out, "--out", create=False)
    study = load_study(a.study, kind="comparison", replicates=a.replicates, years=a.years,
                       overrides=a.overrides)  # fmt: skip
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
    ensure_manifest(root)  # not a study folder: one line; a damaged manifest: rebuilt
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
    study = load_study(a.name, kind="sensitivity")
    out = Path(a.out) if a.out else results_dir() / "sensitivity" / study.name
    results = sensitivity.run_study(study, out, jobs=_jobs(a), progress=not a.quiet)
    sensitivity_figures(study, results, out)
    print(f"results: {out}")


def calibrate(a: argparse.Namespace) -> None:
    """``govsim calibrate NAME``: fit behaviour to observed attendance."""
    study = load_study(a.name, kind="calibration")
    out = Path(a.out) if a.out else results_dir() / "calibration" / study.name
    result = calibration.calibrate(study, jobs=_jobs(a) or 1)
    config_path = None if a.no_config else CONFIG_DIR / "behaviour" / "calibrated.yaml"
    est = dict(zip(result.parameters["parameter"], result.parameters["estimate"], strict=True))
    fitted = [f"{k}={v:.6g}" for k, v in est.items()]
    # second stage, for the shipped config only, at the estimate (the IGF cannot see either):
    # the mission duty against the GA's recorded votes and the reservation on the replay
    second = records.choose("default", fitted) if config_path else {}
    calibration.write_outputs(study, result, out, config_path, second)
    plot_fit(result.fit_table, out / "fit")
    if not result.assumptions.empty:
        plot_assumption_profile(result.assumptions, out / "assumption_profile")
    # the host effect over the IGF host calendar at the estimate (figure + table), with the
    # study's own overrides (e.g. a smaller population) as in the fit
    sweep = predict.host_calendar_shares(
        "default", overrides=[*study.overrides, *fitted], scenario=study.scenario
    )
    sweep.to_csv(out / "host_calendar_shares.csv", index=False, float_format="%.4g")
    plot_host_effect(sweep, calibration.observed_host_shares(result.fit_table), out / "host_effect")
    if not a.quiet:
        print(result.parameters.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print()
        print(result.fit_table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if not result.identification.empty:  # which fitted parameters are pinned down?
            print()
            print(calibration.parameter_summary(result.identification).to_string(
                index=False, float_format=lambda v: f"{v:.4g}"))  # fmt: skip
        if not result.assumptions.empty:  # can the fitted meetings tell an assumption's ends apart?
            summary = calibration.assumption_summary(result.assumptions)
            print()
            print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{result.seconds:.1f} s; results: {out}" +
          (f"; config: {config_path}" if config_path else ""))  # fmt: skip


def explore(a: argparse.Namespace) -> None:
    """``govsim explore NAME``: every design across a sample of the assumptions."""
    if a.samples is not None and a.samples < 2:
        raise UsageError(f"--samples {a.samples}: give at least 2 draws")
    study = load_study(a.name, kind="exploration", years=a.years, overrides=a.overrides)
    if a.samples is not None:
        study = study.model_copy(update={"samples": a.samples})
    out = Path(a.out).resolve() if a.out else results_dir() / "explore" / study.name
    n = len(study.designs) * study.samples * study.replicates
    print(f"study {study.name}: {n} runs ({len(study.designs)} designs × {study.samples} draws"
          f" × {study.replicates} replicates) -> {out}", file=sys.stderr)  # fmt: skip
    opts = dict(o.split("=", 1) for o in a.launcher_opt if "=" in o)
    check_launcher(a.launcher)
    _, found, report, seconds = exploration.explore(
        study, out, jobs=_jobs(a), progress=not a.quiet, launcher=a.launcher,
        shards=a.shards, launcher_opts=opts,
    )  # fmt: skip
    print(f"{len(report.done)} runs done, {len(report.skipped)} already stored, "
          f"{len(report.failed)} failed ({seconds:.1f} s)")  # fmt: skip
    if report.failed:
        for key, err in list(report.failed.items())[:10]:
            print(f"  failed {key}: {err.splitlines()[0]}")
        sys.exit(1)
    path = exploration_report.briefing(study, found, out)
    print("\nDoes the ranking hold?")
    for line in exploration_report.findings(study, found):
        print(f"  - {line}")
    _print_briefing(path)


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
    """``govsim dashboard [--port N]``: serve the Solara app on 127.0.0.1.

    The server is a ``solara run`` child process. SIGINT (Ctrl-C), SIGTERM and
    SIGHUP stop it too (terminate, then kill after 5 s), so no server is left
    holding the port.
    """
    if not 1 <= a.port <= 65535:
        raise UsageError(f"--port={a.port} must be between 1 and 65535")
    print(f"govsim dashboard: http://127.0.0.1:{a.port} (Ctrl-C to stop)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "sim.present.app", "--host", "127.0.0.1",
           "--port", str(a.port), "--production", "--no-open", "--no-check-version"]  # fmt: skip
    env = {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",  # no calls home
        "SOLARA_THEME_SHOW_BANNER": "false",  # its corner banner covered the tables' last column
    }
    child = subprocess.Popen(cmd, env=env)

    def interrupt(signum, _frame):
        # only raise here: waiting inside the handler would deadlock on the
        # Popen.wait() lock that the interrupted main-thread wait still holds
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    try:
        status = child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        print("govsim dashboard: stopped", flush=True)
        status = 0
    sys.exit(status)


# ----- govsim list -----------------------------------------------------------------------
LIST_KINDS = ("scenarios", "studies", "forums", "rules", "metrics")


def describe_yaml(path: Path) -> str:
    """A YAML file's one-line description: the first sentence of its leading comment (Hydra
    directives such as ``# @package`` skipped), at most 110 characters; for a file without
    one, its title or question."""
    import re

    text = path.read_text()
    block: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("#"):
            if block or (s and not s.startswith("#")):
                break
            continue
        s = s.lstrip("#").strip()
        if s.startswith("@"):
            continue
        if not s and block:
            break
        if s:
            block.append(s)
    if block:
        first = re.split(r"(?<=[.?!])\s(?=[A-Z])", " ".join(block), maxsplit=1)[0]
        return first if len(first) <= 110 else first[:109].rstrip() + "…"
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return ""
    return str(doc.get("title") or doc.get("question") or "").split("\n")[0] if isinstance(
        doc, dict) else ""  # fmt: skip


def list_entries(kind: str) -> list[tuple[str, str, str]]:
    """(name, description, where) for ``govsim list KIND``; user folders come first and a
    user file hides a shipped one of the same name."""
    if kind in ("scenarios", "forums"):
        group = "scenario" if kind == "scenarios" else "forum"
        out, seen = [], set()
        for d in config_dirs():
            where = "shipped" if d == CONFIG_DIR else str(d)
            for p in sorted((d / group).glob("*.yaml")):
                if p.stem not in seen:
                    seen.add(p.stem)
                    out.append((p.stem, describe_yaml(p), where))
        return out
    if kind == "studies":
        studies = set(study_names())
        out, seen = [], set()
        for d in experiments_dirs():
            where = "shipped" if d.parent.name == "sim" else str(d)
            for p in sorted(d.glob("*.yaml")):
                if p.stem in studies and p.stem not in seen:
                    seen.add(p.stem)
                    title = (yaml.safe_load(p.read_text()) or {}).get("title")
                    out.append((p.stem, str(title or describe_yaml(p)), where))
        return out
    if kind == "rules":
        return [
            (f"{k}: {name}", (fn.__doc__ or "").strip().split("\n")[0], fn.__module__)
            for k, table in RULES.items()
            for name, fn in sorted(table.items())
        ]
    return [(name, f"{label} ({UNITS.get(name, '')})", "") for name, label in METRICS.items()]


def list_command(a: argparse.Namespace) -> None:
    """``govsim list [scenarios|studies|forums|rules|metrics]``: names, one-line descriptions."""
    kinds = [a.kind] if a.kind else list(LIST_KINDS)
    for i, kind in enumerate(kinds):
        entries = list_entries(kind)
        if len(kinds) > 1:
            print(("\n" if i else "") + f"{kind}:")
        width = max((len(n) for n, _, _ in entries), default=0)
        for name, text, where in entries:
            mark = f"  [{where}]" if where and where != "shipped" and kind != "rules" else ""
            print(f"  {name:<{width}}  {text}{mark}")


# ----- the parser ------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    """``govsim`` and its subcommands."""
    p = argparse.ArgumentParser(
        prog="govsim",
        description="Participation, voice and power in internet-governance forums.",
    )
    p.add_argument("--version", action="version", version=f"govsim {__version__}")
    p.add_argument("--config-dir", metavar="DIR", action="append",
                   help="a folder of your own scenario/, forum/, ... configs and experiments/ "
                   "studies, beside the shipped ones (also: env GOVSIM_CONFIG_DIR)")  # fmt: skip
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
    r.add_argument("results", help="a study's results folder (manifest.json) or a "
                   "`govsim run -m` sweep folder (multirun.yaml)")  # fmt: skip
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

    x = sub.add_parser("explore", help="designs across a sample of uncertain assumptions")
    x.add_argument("name", help="study name or path to a YAML file (kind: exploration)")
    _common(x)
    x.add_argument("--samples", type=int, default=None, help="replace the number of draws")
    x.add_argument("--years", type=int, default=None, help="replace the horizon (years)")
    x.add_argument("--launcher", default="local", help="as for `govsim experiment`")
    x.add_argument("--shards", type=int, default=None, help="launcher jobs")
    x.add_argument("--launcher-opt", action="append", default=[], metavar="KEY=VALUE")
    x.add_argument("overrides", nargs="*", help="Hydra overrides applied to every run")
    x.set_defaults(func=explore)

    c = sub.add_parser("calibrate", help="fit behaviour to observed IGF attendance")
    c.add_argument("name", help="study name or path to a YAML file")
    _common(c)
    c.add_argument("--no-config", action="store_true",
                   help="do not write configs/behaviour/calibrated.yaml")  # fmt: skip
    c.set_defaults(func=calibrate)

    ls = sub.add_parser("list", help="scenarios, studies, forums, rules or metrics, described")
    ls.add_argument("kind", nargs="?", choices=LIST_KINDS, default=None,
                    help="what to list (default: all)")  # fmt: skip
    ls.set_defaults(func=list_command)

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


# ----- errors at the boundary --------------------------------------------------------------
def clip(text: str, limit: int = 1000) -> str:
    """One line of at most ``limit`` characters; any word over 120 characters (a 5,000-character
    name) is shortened to its ends and its length."""

    def shorten(m: re.Match) -> str:
        w = m.group(0)
        return f"{w[:60]}…{w[-30:]} ({len(w):,} characters)"

    first = next((ln for ln in str(text).splitlines() if ln.strip()), "")
    first = re.sub(r"\S{120,}", shorten, first)
    return first if len(first) <= limit else first[: limit - 1] + "…"


def fail(message: str, status: int = 2) -> NoReturn:
    """Print ``govsim: error: MESSAGE`` (one line) and exit (2: the user's input)."""
    print(f"govsim: error: {clip(message)}", file=sys.stderr)
    sys.exit(status)


def path_error(e: OSError) -> str:
    """One line naming the path and the cause of a file-system error."""
    cause = e.strerror or type(e).__name__
    if e.filename is None:
        return f"{cause}: {e}"
    where = str(e.filename)
    if e.filename2 is not None:
        where += f" -> {e.filename2}"
    return f"{where}: {cause}"


BUG_STATUS = 70
"""Exit status of an unexpected error (sysexits' EX_SOFTWARE): a bug, not the user's input."""


def report_bug(e: BaseException) -> NoReturn:
    """An unexpected error: a short line on the terminal, the traceback in a log file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = "".join(traceback.format_exception(e))
    log_path = None
    for folder in (Path(tempfile.gettempdir()) / "govsim", Path.cwd()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log_path = folder / f"govsim-crash-{stamp}-{os.getpid()}.log"
            log_path.write_text(f"govsim {__version__}\nargv: {sys.argv}\n\n{text}")
            break
        except OSError:
            log_path = None
    where = f"; details in {log_path}" if log_path else ""
    print(f"govsim: internal error (a bug in govsim, please report it): "
          f"{clip(f'{type(e).__name__}: {e}', 300)}{where}", file=sys.stderr)  # fmt: skip
    sys.exit(BUG_STATUS)


class _Warnings(logging.Handler):
    """Warnings of govsim's own loggers (a damaged run file, a stale lock), one line each,
    on whatever ``sys.stderr`` is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"govsim: warning: {clip(record.getMessage())}", file=sys.stderr)


def _warnings_to_stderr() -> None:
    """Route govsim's warnings to stderr, and switch its loggers back on if a library in this
    process configured logging with ``disable_existing_loggers`` (import-linter does)."""
    for name, known in logging.root.manager.loggerDict.items():
        if isinstance(known, logging.Logger) and name.partition(".")[0] == "govsim":
            known.disabled = False
    logger = logging.getLogger("govsim")
    if not any(isinstance(h, _Warnings) for h in logger.handlers):
        logger.addHandler(_Warnings(logging.WARNING))
        logger.propagate = False  # not again through the root logger's handlers (Hydra's)


def _take_config_dirs(argv: list[str]) -> list[str]:
    """Remove ``--config-dir DIR`` (before the command) and put DIR on the search path."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if out and out[0] not in ("-h", "--help"):  # only before the command
            out += argv[i:]
            break
        if a == "--config-dir" or a.startswith("--config-dir="):
            d = a.split("=", 1)[1] if "=" in a else (argv[i + 1] if i + 1 < len(argv) else "")
            i += 1 if "=" in a else 2
            if not d or not Path(d).is_dir():
                raise UsageError(f"--config-dir {d!r}: not a folder")
            add_user_config_dir(d)
            continue
        out.append(a)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """``govsim COMMAND ...``: a user's mistake exits 2 with one line; a bug exits 70."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _warnings_to_stderr()
    try:
        argv = _take_config_dirs(argv)
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
        args = (
            sub.parse_intermixed_args if argv[0] in ("experiment", "explore") else sub.parse_args
        )(argv[1:])
        args.func(args)
    except (UsageError, ConfigError) as e:
        fail(str(e))
    except OSError as e:  # a path that is missing, a file, unwritable, too long, ...
        fail(path_error(e))
    except UnicodeDecodeError as e:  # a file given by name that is not UTF-8 text
        named = next((a for a in argv[1:] if not a.startswith("-") and "=" not in a), "a file")
        fail(f"{named}: is not UTF-8 text ({e.reason}: byte {e.object[e.start]:#04x} at "
             f"position {e.start})")  # fmt: skip
    except KeyboardInterrupt:
        print("govsim: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # anything else is a bug: one line here, the traceback in a log
        report_bug(e)
