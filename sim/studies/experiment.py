"""Studies: a question as a file, expanded into runs, run in parallel, resumable.

A study file (``experiments/NAME.yaml``) names the scenarios compared, a grid
of Hydra overrides to sweep, the replicates, the metrics and the figures::

    name: cstd_anchor
    question: Does anchoring enhanced cooperation in the CSTD narrow the power gap?
    scenarios: [status_quo, cstd_anchor, dual_track]
    baseline: status_quo            # or {scenario: wgec, forum.wgec.decision: consensus}
    grid: {}                        # override key -> list of values
    overrides: []                   # applied to every run (optional)
    replicates: 20
    root_seed: 20250611
    years: 10                       # optional; the config's horizon otherwise
    metrics: [attainment_gap, representation_ratio@developing_gov, deadlock_rate@cstd]
    figures: [scenario_comparison, participation_over_time, representation_by_group]

:func:`load_study` validates all of it (every scenario × grid point is composed
and validated) before anything runs; :func:`expand` gives one :class:`RunSpec`
per scenario × grid point × replicate. Replicate ``r`` is seeded with
``SeedSequence(root_seed, spawn_key=(r,))`` whatever the scenario, so scenarios
are compared under common random numbers and adding a scenario shifts no seed.
:func:`execute` runs what the :class:`~sim.studies.store.RunStore` does not hold yet.

Metric selectors
----------------
``name`` or ``name@a/b``, where ``name`` is a measure of
:func:`sim.model.summary.run_summary` (or ``issue_coverage``) and each qualifier is a
stakeholder group (``developing_gov``), a forum (``cstd``) or an issue
(``ai_governance``): ``representation_ratio@developing_gov`` (pooled over
forums), ``representation_ratio@igf/developing_gov``, ``deadlock_rate@cstd``,
``issue_coverage@ai_governance``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import ConfigError, UsageError
from sim.model.compose import load_config
from sim.model.compose import scenarios as known_scenarios
from sim.model.config import GROUP_LABELS, GROUPS, REGIONS, to_container
from sim.resources import EXPERIMENTS_DIR
from sim.studies.provenance import provenance
from sim.studies.store import run_key

GROUP_METRICS = {
    "participation_rate": "Participation rate",
    "participation_onsite": "Onsite participation rate",
    "participation_remote": "Remote participation rate",
    "voice_share": "Voice share",
    "representation_ratio": "Representation ratio",
    "attainment": "Attainment",
    "participation_rate_by_region": "Participation rate",
    "voice_share_by_region": "Voice share",
    "representation_ratio_by_region": "Representation ratio",
    "banzhaf_power": "A priori voting power (Banzhaf)",
    "shapley_shubik_power": "A priori voting power (Shapley–Shubik)",
    "board_banzhaf_power": "Board's power to decline advice (Banzhaf)",
    "board_shapley_shubik_power": "Board's power to decline advice (Shapley–Shubik)",
}
"""Measures reported per stakeholder group, or per UN region for the ``*_by_region`` ones
(a selector must name the group or region: ``representation_ratio_by_region@cstd/African``)."""

FORUM_METRICS = {
    "meetings": "Meetings held",
    "decision_rate": "Decision rate",
    "deadlock_rate": "Deadlock rate",
    "time_to_first_agreement": "Time to first agreement",
    "voice_gini": "Voice Gini",
    "theil_between": "Voice Theil index, between groups",
    "theil_within": "Voice Theil index, within groups",
    "declined": "Outcomes declined by a board",
    "declined_share": "Advice declined by the ratifying board (share of advice sent)",
    "text_adoption_rate": "Texts adopted (share of texts put to a package decision)",
    "vote_rate": "Texts put to a vote (share of package decisions)",
    "mandate_adopted": "Mandate adopted by its deciding forum",
}
"""Measures per forum (``forum = all`` pools every forum of the scenario)."""

RUN_METRICS = {
    "attainment_gap": "Attainment gap (developed − developing governments)",
    "attainment_gap_start": "Attainment gap at the start (assumed)",
    "attainment_gap_change": "Change in the attainment gap over the run",
    "resource_elasticity": "Resource elasticity of attainment (governments)",
    "policy_coverage": "Policy coverage",
}
"""Whole-run measures."""

ISSUE_METRICS = {"issue_coverage": "Share of runs with a binding decision on"}
"""Per issue: 1 when some forum with decision power adopted an outcome on it, else 0."""

METRICS = {**GROUP_METRICS, **FORUM_METRICS, **RUN_METRICS, **ISSUE_METRICS}

UNITS = {
    "participation_rate": "share of eligible seats taken",
    "participation_onsite": "share of eligible seats taken",
    "participation_remote": "share of eligible seats taken",
    "voice_share": "share of speaking weight",
    "representation_ratio": "voice share ÷ eligible share (1 = parity)",
    "participation_rate_by_region": "share of eligible seats taken",
    "voice_share_by_region": "share of speaking weight",
    "representation_ratio_by_region": "voice share ÷ eligible share (1 = parity)",
    "banzhaf_power": "share of voting power",
    "shapley_shubik_power": "share of voting power",
    "board_banzhaf_power": "share of voting power",
    "board_shapley_shubik_power": "share of voting power",
    "attainment": "index 0–1 (1 = own position)",
    "meetings": "meetings",
    "decision_rate": "share of agenda items adopted",
    "deadlock_rate": "share of decisional agenda items",
    "time_to_first_agreement": "months",
    "voice_gini": "Gini 0–1",
    "theil_between": "Theil index",
    "theil_within": "Theil index",
    "declined": "outcomes",
    "declined_share": "share of adopted advice",
    "attainment_gap": "attainment points (0–1 scale)",
    "attainment_gap_start": "attainment points (0–1 scale)",
    "attainment_gap_change": "attainment points (0–1 scale; negative = gap closed)",
    "text_adoption_rate": "share of texts",
    "vote_rate": "share of texts",
    "mandate_adopted": "share of runs",
    "resource_elasticity": "attainment per log resource",
    "policy_coverage": "salience-weighted share of issues",
    "issue_coverage": "share of runs",
}


FIGURE_KINDS = (
    "scenario_comparison",
    "metric_vs_parameter",
    "heatmap",
    "participation_over_time",
    "representation_by_group",
    "representation_by_region",
    "forum_comparison",
)

log = logging.getLogger("govsim.experiment")


def _usage(msg: str) -> UsageError:
    return UsageError(msg)


@dataclass(frozen=True)
class Metric:
    """A metric selector: a measure, and optionally the forum, group and issue it is for."""

    text: str
    name: str
    forum: str = "all"
    group: str = "all"
    issue: str = "all"

    @property
    def label(self) -> str:
        """Readable name, e.g. 'Representation ratio, developing governments (IGF)'."""
        base = METRICS[self.name]
        if self.issue != "all":
            return f"{base} {self.issue.replace('_', ' ')}"
        if self.group != "all":
            base = f"{base}, {GROUP_LABELS.get(self.group, self.group)}"
        if self.forum != "all":
            base = f"{base} ({self.forum.upper()})"
        return base

    @property
    def unit(self) -> str:
        return UNITS.get(self.name, "")


def parse_metric(text: str, forums: set[str], issues: set[str]) -> Metric:
    """Parse ``name[@qualifier[/qualifier]]``; raise UsageError naming what is wrong."""
    name, _, rest = str(text).partition("@")
    if name not in METRICS:
        raise _usage(f"unknown metric {name!r} in {text!r}; metrics: {', '.join(METRICS)}")
    parts: dict[str, str] = {}
    for tok in filter(None, rest.split("/")):
        kind = (
            "group"
            if tok in GROUPS or tok == "governments" or tok in REGIONS
            else "issue"
            if tok in issues
            else "forum"
            if tok in forums
            else None
        )
        if kind is None:
            raise _usage(
                f"metric {text!r}: {tok!r} is not a group, forum or issue of this study; "
                f"groups: {', '.join(GROUPS)}; forums: {', '.join(sorted(forums))}; "
                f"issues: {', '.join(sorted(issues))}"
            )
        if kind in parts:
            raise _usage(f"metric {text!r} names two {kind}s")
        parts[kind] = tok
    by_region = name.endswith("_by_region")
    if name in GROUP_METRICS and "group" not in parts:
        example = "African" if by_region else "developing_gov"
        raise _usage(f"metric {text!r} is per group: name one, e.g. {name}@{example}")
    if name in GROUP_METRICS and (parts["group"] in REGIONS) != by_region:
        raise _usage(
            f"metric {text!r}: {name} is reported per "
            + (f"region ({', '.join(REGIONS)})" if by_region else f"group ({', '.join(GROUPS)})")
        )
    if name in ISSUE_METRICS and "issue" not in parts:
        raise _usage(f"metric {text!r} is per issue: name one, e.g. {name}@ai_governance")
    if name not in GROUP_METRICS and "group" in parts and name != "resource_elasticity":
        raise _usage(f"metric {text!r}: {name} is not reported per group")
    if name in RUN_METRICS and "forum" in parts:
        raise _usage(f"metric {text!r}: {name} is a whole-run measure, not per forum")
    if name == "resource_elasticity":
        parts["group"] = "governments"
    return Metric(text=str(text), name=name, **parts)


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: what it is (scenario, grid point, replicate) and its config."""

    key: str
    scenario: str
    overrides: tuple[str, ...]
    grid: dict[str, Any]
    replicate: int
    root_seed: int
    config: dict[str, Any] = field(repr=False, compare=False, hash=False)

    def __hash__(self) -> int:
        return hash(self.key)


@dataclass(frozen=True)
class Study:
    """A validated study file."""

    name: str
    question: str
    scenarios: tuple[str, ...]
    baseline: dict[str, Any]
    grid: dict[str, tuple[Any, ...]]
    replicates: int
    root_seed: int
    years: int | None
    overrides: tuple[str, ...]
    metrics: tuple[Metric, ...]
    figures: tuple[dict[str, Any], ...]
    labels: dict[str, str]
    title: str = ""
    text: str = ""
    path: str = ""
    configs: dict[tuple[str, int], dict[str, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def points(self) -> list[dict[str, Any]]:
        """Grid points in order (one empty point when nothing is swept)."""
        keys = list(self.grid)
        return [
            dict(zip(keys, vals, strict=True)) for vals in itertools.product(*self.grid.values())
        ]

    def label(self, scenario: str) -> str:
        """Display name of a scenario."""
        return self.labels.get(scenario, scenario.replace("_", " ").capitalize())


def hydra_value(value: Any) -> str:
    """A Python value in Hydra override syntax (``true``, ``0.5``, ``[a,b]``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    return str(value)


def point_overrides(point: Mapping[str, Any]) -> list[str]:
    """Hydra overrides for one grid point."""
    return [f"{k}={hydra_value(v)}" for k, v in point.items()]


def study_names() -> list[str]:
    """Studies shipped in ``experiments/`` (files with ``scenarios``; other files there
    belong to other commands, e.g. sensitivity or calibration)."""
    names = []
    for p in sorted(EXPERIMENTS_DIR.glob("*.yaml")):
        try:
            doc = yaml.safe_load(p.read_text())
        except yaml.YAMLError:
            continue
        if isinstance(doc, dict) and "scenarios" in doc:
            names.append(p.stem)
    return names


def resolve_path(name_or_path: str | Path) -> Path:
    """A study name (``cstd_anchor``) or a path to a study file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise _usage(f"study file {p} not found")
        return p.resolve()
    cand = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    if not cand.exists():
        names = ", ".join(study_names())
        raise _usage(f"unknown study {str(name_or_path)!r}; studies: {names}")
    return cand


def _compose(scenario: str, overrides: Sequence[str], study: str) -> dict[str, Any]:
    """Compose and validate one run config; any problem becomes one UsageError line."""
    where = f"study {study}: scenario {scenario}" + (
        f" with {' '.join(overrides)}" if overrides else ""
    )
    try:
        return to_container(load_config(scenario, list(overrides)))
    except ConfigError as e:
        raise _usage(f"{where}: {e}") from None


def _positive_int(doc: Mapping, key: str, name: str, default: Any = None) -> int | None:
    v = doc.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _usage(f"study {name}: {key}={v!r} must be a positive whole number")
    return v


def parse_study(
    text: str,
    *,
    path: str = "",
    replicates: int | None = None,
    years: int | None = None,
    overrides: Sequence[str] = (),
    compose: bool = True,
    known_configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Study:
    """Parse and validate a study's YAML text (see :func:`load_study`).

    With ``compose=False`` the configs are not composed (used when rebuilding a
    report from stored runs); ``known_configs`` then supplies the forums and
    issues that metric selectors may name.
    """

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise _usage(f"study file {path or '<text>'} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise _usage(f"study file {path or '<text>'} must be a mapping of keys")
    allowed = {
        "name", "question", "scenarios", "baseline", "grid", "overrides", "replicates",
        "root_seed", "years", "metrics", "figures", "labels", "title",
    }  # fmt: skip
    name = str(doc.get("name") or Path(path).stem or "study")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise _usage(f"study {name}: unknown keys {unknown}; allowed: {', '.join(sorted(allowed))}")
    scen = doc.get("scenarios")
    if isinstance(scen, str):
        scen = [scen]
    if not scen:
        raise _usage(f"study {name}: 'scenarios' must list at least one scenario")
    valid = known_scenarios()
    for s in scen:
        if s not in valid:
            raise _usage(f"study {name}: unknown scenario {s!r}; scenarios: {', '.join(valid)}")
    grid_doc = doc.get("grid") or {}
    if not isinstance(grid_doc, dict):
        raise _usage(f"study {name}: 'grid' must map override keys to lists of values")
    grid: dict[str, tuple[Any, ...]] = {}
    for k, vals in grid_doc.items():
        if not isinstance(vals, list) or not vals:
            raise _usage(f"study {name}: grid {k} must be a non-empty list of values")
        grid[str(k)] = tuple(vals)
    base = doc.get("baseline", scen[0])
    base = {"scenario": base} if isinstance(base, str) else dict(base or {})
    if base.get("scenario", scen[0]) not in scen:
        raise _usage(
            f"study {name}: baseline scenario {base.get('scenario')!r} is not one of the "
            f"study's scenarios: {', '.join(scen)}"
        )
    for k, v in base.items():
        if k != "scenario" and (k not in grid or v not in grid[k]):
            raise _usage(f"study {name}: baseline {k}={v!r} is not a point of the grid")
    reps = replicates if replicates is not None else doc.get("replicates", 10)
    reps = _positive_int({"replicates": reps}, "replicates", name)
    root_seed = doc.get("root_seed", 0)
    if isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0:
        raise _usage(f"study {name}: root_seed={root_seed!r} must be a non-negative integer")
    yrs = _positive_int({"years": years if years is not None else doc.get("years")}, "years", name)
    common = [str(o) for o in doc.get("overrides") or []]
    for o in common:
        if "=" not in o:
            raise _usage(f"study {name}: override {o!r} is not key=value")
    common += [str(o) for o in overrides]
    if yrs is not None:
        common.append(f"years={yrs}")
    study = Study(
        name=name,
        question=str(doc.get("question", "")).strip(),
        scenarios=tuple(scen),
        baseline=base,
        grid=grid,
        replicates=reps,  # type: ignore[arg-type]
        root_seed=root_seed,
        years=yrs,
        overrides=tuple(common),
        metrics=(),
        figures=(),
        labels={str(k): str(v) for k, v in (doc.get("labels") or {}).items()},
        title=str(doc.get("title") or name.replace("_", " ").capitalize()),
        text=text,
        path=str(path),
    )
    configs: dict[tuple[str, int], dict[str, Any]] = {}
    points = study.points
    if compose:  # first grid point of each scenario: enough to check metrics and figures
        for s in study.scenarios:
            configs[(s, 0)] = _compose(s, [*common, *point_overrides(points[0])], name)
    seen = [*configs.values(), *(c for c in (known_configs or {}).values() if c)]
    forums = {f for c in seen for f in c["forum"]}
    issues = {i for c in seen for i in c["issues"]}
    metric_texts = doc.get("metrics") or ["attainment_gap", "policy_coverage"]
    metrics = tuple(parse_metric(m, forums, issues) for m in metric_texts)
    figures = tuple(_check_figure(f, study, metrics) for f in doc.get("figures") or [])
    object.__setattr__(study, "metrics", metrics)
    object.__setattr__(study, "figures", figures)
    if compose:
        for s in study.scenarios:
            for i, point in enumerate(points[1:], start=1):
                configs[(s, i)] = _compose(s, [*common, *point_overrides(point)], name)
    study.configs.update(configs)
    return study


def _check_figure(fig: Any, study: Study, metrics: tuple[Metric, ...]) -> dict[str, Any]:
    spec = {"kind": fig} if isinstance(fig, str) else dict(fig or {})
    kind = spec.get("kind")
    if kind not in FIGURE_KINDS:
        raise _usage(
            f"study {study.name}: unknown figure {kind!r}; figures: {', '.join(FIGURE_KINDS)}"
        )
    keys = list(study.grid)
    if kind == "metric_vs_parameter":
        spec.setdefault("x", keys[0] if keys else None)
        if spec["x"] not in keys:
            raise _usage(
                f"study {study.name}: figure {kind} needs x to be a swept grid key; "
                f"grid keys: {', '.join(keys) or '(none)'}"
            )
    if kind == "heatmap":
        spec.setdefault("x", keys[0] if len(keys) > 0 else None)
        spec.setdefault("y", keys[1] if len(keys) > 1 else None)
        if spec["x"] not in keys or spec["y"] not in keys or spec["x"] == spec["y"]:
            raise _usage(
                f"study {study.name}: figure heatmap needs two different swept grid keys x and y; "
                f"grid keys: {', '.join(keys) or '(none)'}"
            )
    texts = [m.text for m in metrics]
    for m in spec.get("metrics", []) + ([spec["metric"]] if "metric" in spec else []):
        if m not in texts:
            raise _usage(
                f"study {study.name}: figure {kind} uses metric {m!r}, not in the study's "
                f"metrics: {', '.join(texts)}"
            )
    return spec


def load_study(
    name_or_path: str | Path,
    *,
    replicates: int | None = None,
    years: int | None = None,
    overrides: Sequence[str] = (),
) -> Study:
    """Read and fully validate a study before any run.

    Every scenario × grid point is composed and validated once (the configs are
    kept on the study and shared by its replicates). Unknown scenarios, bad
    override keys or values, non-positive replicates and unknown metrics or
    figures raise :class:`sim.cli.UsageError` naming the problem.

    Parameters
    ----------
    name_or_path
        A study name in ``experiments/`` or a path to a study file.
    replicates, years
        Replace the file's values (e.g. a quick look with fewer replicates).
    overrides
        Extra Hydra overrides applied to every run (e.g. a smaller population).
    """
    path = resolve_path(name_or_path)
    return parse_study(
        path.read_text(), path=str(path), replicates=replicates, years=years, overrides=overrides
    )


def expand(study: Study) -> list[RunSpec]:
    """One RunSpec per scenario × grid point × replicate, in that order."""
    specs = []
    for s in study.scenarios:
        for i, point in enumerate(study.points):
            cfg = study.configs.get((s, i))
            if cfg is None:
                cfg = _compose(s, [*study.overrides, *point_overrides(point)], study.name)
                study.configs[(s, i)] = cfg
            ovr = (*study.overrides, *point_overrides(point))
            for r in range(study.replicates):
                specs.append(
                    RunSpec(
                        key=run_key(cfg, study.root_seed, r),
                        scenario=s,
                        overrides=ovr,
                        grid=dict(point),
                        replicate=r,
                        root_seed=study.root_seed,
                        config=cfg,
                    )
                )
    return specs


# ----- one run -----------------------------------------------------------------------
def study_meta(study: Study) -> dict[str, Any]:
    """What the manifest records about a study (for reports and exact re-runs)."""
    first = {s: study.configs.get((s, 0)) for s in study.scenarios}
    return {
        "study": study.name,
        "question": study.question,
        "study_file": study.path,
        "study_text": study.text,
        "root_seed": study.root_seed,
        "replicates": study.replicates,
        "years": study.years,
        "overrides": list(study.overrides),
        "grid": {k: list(v) for k, v in study.grid.items()},
        "scenario_configs": first,
        # every resolved config (scenario/grid point), so a sweep re-runs exactly later
        "resolved_configs": {f"{s}/{i}": c for (s, i), c in study.configs.items()},
        "provenance": provenance(),
    }
