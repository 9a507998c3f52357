"""The study schema: one typed file format for every kind of study, one loader.

A study file (``sim/experiments/NAME.yaml`` or any path) is a question asked of the
model. Every kind shares a common part — ``name``, ``title``, ``question``,
``overrides`` (Hydra overrides applied to every run), ``replicates``, ``root_seed``,
``years`` — and adds only its design and analysis:

``kind: comparison`` (:class:`ComparisonStudy`; ``govsim experiment``)
    ``scenarios`` × a ``grid`` of override values × replicates, compared with a
    ``baseline`` on ``metrics``, drawn as ``figures``.
``kind: sensitivity`` (:class:`SensitivityStudy`; ``govsim sensitivity``)
    one ``scenario``, ``parameters`` with ranges, ``metrics`` and ``stages``
    (Morris, Sobol); the algorithms are :mod:`sim.analysis.sensitivity`'s.
``kind: calibration`` (:class:`CalibrationStudy`; ``govsim calibrate``)
    one ``scenario``, free ``parameters`` with bounds, observed ``targets`` and an
    ``optimiser``; the algorithms are :mod:`sim.analysis.calibration`'s.

A file without ``kind:`` is read as the kind its keys imply (``stages`` →
sensitivity, ``targets``/``optimiser``/``assumptions`` → calibration, otherwise comparison).
:func:`load_study` reads, types and validates a file with pydantic before any run:
a wrong type, an unknown or duplicate entry, or a bad value raises
:class:`~sim.errors.UsageError` with one line naming the field (``study x:
scenarios[1]: ...``), which the CLI prints with exit status 2. Each kind is then
*prepared*: its base configs are composed and validated once
(:func:`sim.model.compose.load_config`) and metric selectors are checked against
the forums and issues those configs hold.

Seeds: replicate ``r`` of a study draws from ``SeedSequence(root_seed,
spawn_key=(r,))`` (:func:`sim.model.model.run_seed`), the convention every run
follows (docs/user_guide.md, "Seeds and reproducing a run").

Metric selectors
----------------
``name`` or ``name@a/b``, where ``name`` is a measure of
:func:`sim.model.summary.run_summary` (or ``issue_coverage``) and each qualifier is a
stakeholder group (``developing_gov``), a forum (``cstd``) or an issue
(``ai_governance``): ``representation_ratio@developing_gov`` (pooled over
forums), ``representation_ratio@igf/developing_gov``, ``deadlock_rate@cstd``,
``issue_coverage@ai_governance``. One :class:`Metric` type serves every kind.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.errors import ConfigError, UsageError
from sim.model.compose import as_dict, load_config, with_values
from sim.model.compose import scenarios as known_scenarios
from sim.model.config import GROUP_LABELS, GROUPS, REGIONS
from sim.resources import DATA_DIR, add_user_config_dir, experiments_dirs
from sim.studies.provenance import provenance
from sim.studies.store import run_key

KINDS = ("comparison", "sensitivity", "calibration", "exploration")
"""Kinds of study."""

# ----- measures ------------------------------------------------------------------------
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
    "declined_share": "share of advice sent",
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

METHODS = ("morris", "sobol")
"""Sensitivity methods (a stage's ``method``)."""

MAX_NAME = 200
"""Longest name or override echoed in a message (longer ones are cut)."""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----- one Metric ----------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    """A measure of a run, and optionally the forum, group and issue it is for.

    ``text`` is the selector as written (``representation_ratio@developing_gov``);
    ``column`` names the output where a study names its outputs (sensitivity);
    ``title`` replaces the generated label.
    """

    text: str
    name: str
    forum: str = "all"
    group: str = "all"
    issue: str = "all"
    title: str = ""
    column: str = ""

    @property
    def key(self) -> str:
        """The output's name in tables: ``column`` if given, else the selector text."""
        return self.column or self.text

    @property
    def label(self) -> str:
        """Readable name, e.g. 'Representation ratio, developing governments (IGF)'."""
        if self.title:
            return self.title
        base = METRICS.get(self.name, self.name.replace("_", " "))
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


def parse_metric(
    text: str, forums: set[str], issues: set[str], *, title: str = "", column: str = ""
) -> Metric:
    """Parse ``name[@qualifier[/qualifier]]``; raise UsageError naming what is wrong."""
    name, _, rest = str(text).partition("@")
    if name not in METRICS:
        raise UsageError(f"unknown metric {name!r} in {text!r}; metrics: {', '.join(METRICS)}")
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
            raise UsageError(
                f"metric {text!r}: {tok!r} is not a group, forum or issue of this study; "
                f"groups: {', '.join(GROUPS)}; forums: {', '.join(sorted(forums))}; "
                f"issues: {', '.join(sorted(issues))}"
            )
        if kind in parts:
            raise UsageError(f"metric {text!r} names two {kind}s")
        parts[kind] = tok
    by_region = name.endswith("_by_region")
    if name in GROUP_METRICS and "group" not in parts:
        example = "African" if by_region else "developing_gov"
        raise UsageError(f"metric {text!r} is per group: name one, e.g. {name}@{example}")
    if name in GROUP_METRICS and (parts["group"] in REGIONS) != by_region:
        raise UsageError(
            f"metric {text!r}: {name} is reported per "
            + (f"region ({', '.join(REGIONS)})" if by_region else f"group ({', '.join(GROUPS)})")
        )
    if name in ISSUE_METRICS and "issue" not in parts:
        raise UsageError(f"metric {text!r} is per issue: name one, e.g. {name}@ai_governance")
    if name not in GROUP_METRICS and "group" in parts and name != "resource_elasticity":
        raise UsageError(f"metric {text!r}: {name} is not reported per group")
    if name in RUN_METRICS and "forum" in parts:
        raise UsageError(f"metric {text!r}: {name} is a whole-run measure, not per forum")
    if name == "resource_elasticity":
        parts["group"] = "governments"
    return Metric(text=str(text), name=name, title=title, column=column, **parts)


def _measure_known(text: str) -> str:
    """The type-level check of a selector: a string whose measure exists."""
    name = text.partition("@")[0]
    if name not in METRICS:
        raise ValueError(
            f"unknown metric {name!r} in {_short(text)}; metrics: {', '.join(METRICS)}"
        )
    return text


# ----- grid values ---------------------------------------------------------------------
def hydra_value(value: Any) -> str:
    """A Python value in Hydra override syntax (``true``, ``0.5``, ``[a,b]``, ``{a:1}``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def grid_value(value: Any) -> Any:
    """A grid value as tables and labels hold it: scalars as they are, a list or mapping
    as its Hydra text (``[5,11]``), which is also what the run's override is made of."""
    if isinstance(value, list | tuple | Mapping):
        return hydra_value(value)
    return value


def point_overrides(point: Mapping[str, Any]) -> list[str]:
    """Hydra overrides for one grid point."""
    return [f"{k}={hydra_value(v)}" for k, v in point.items()]


# ----- the schema ----------------------------------------------------------------------
PositiveInt = Annotated[StrictInt, Field(ge=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class _Schema(BaseModel):
    """Shared pydantic settings: unknown keys are errors; parsed studies are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class StudyBase(_Schema):
    """What every kind of study has."""

    kind: str
    name: str = Field(min_length=1, max_length=MAX_NAME, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    question: str = ""
    overrides: tuple[str, ...] = ()
    replicates: PositiveInt = 10
    root_seed: NonNegativeInt = 0
    years: PositiveInt | None = None

    _text: str = PrivateAttr("")
    _path: str = PrivateAttr("")

    @field_validator("overrides", mode="before")
    @classmethod
    def _overrides_are_a_list(cls, v: Any) -> Any:
        if v is None:
            return ()
        if isinstance(v, str):
            raise ValueError(
                f"must be a list of key=value strings, e.g. [{_short(v, 40)[1:-1]}], not a string"
            )
        return v

    @field_validator("overrides")
    @classmethod
    def _overrides_are_key_value(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, o in enumerate(v):
            if "=" not in o:
                raise ValueError(f"[{i}] {_short(o)} is not key=value")
        return v

    @field_validator("question", mode="after")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @property
    def text(self) -> str:
        """The study file's text (recorded in manifests)."""
        return self._text

    @property
    def path(self) -> str:
        """The study file's path ('' when parsed from text)."""
        return self._path

    def base_overrides(self) -> list[str]:
        """The overrides every run gets: the file's, then ``years=`` when set."""
        return [*self.overrides, *([f"years={self.years}"] if self.years is not None else [])]


def _known_scenario(s: str) -> str:
    valid = known_scenarios()
    if s not in valid:
        raise ValueError(f"unknown scenario {_short(s)}; scenarios: {', '.join(valid)}")
    return s


class ComparisonStudy(StudyBase):
    """Scenarios × a grid × replicates, compared with a baseline (``govsim experiment``)."""

    kind: Literal["comparison"] = "comparison"
    scenarios: tuple[str, ...] = Field(min_length=1)
    baseline: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, tuple[Any, ...]] = Field(default_factory=dict)
    metrics: tuple[Metric, ...] = (
        Metric("attainment_gap", "attainment_gap"),
        Metric("policy_coverage", "policy_coverage"),
    )
    figures: tuple[dict[str, Any], ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    variants: dict[str, tuple[str, tuple[str, ...]]] = Field(default_factory=dict)
    """The study's own scenarios: name -> (the scenario it starts from, its overrides).
    Written in the file as ``scenarios: [{name: N, scenario: S, overrides: [...]}]``."""

    _configs: dict[tuple[str, int], dict[str, Any]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _scenario_entries(cls, doc: Any) -> Any:
        """A ``scenarios`` entry may be a mapping ``{name, scenario, overrides}``: a
        scenario of the study's own, composed from ``scenario`` with ``overrides``."""
        if not isinstance(doc, Mapping):
            return doc
        items = doc.get("scenarios")
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list) or not any(isinstance(x, Mapping) for x in items):
            return doc
        names, variants = [], dict(doc.get("variants") or {})
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                names.append(item)
                continue
            extra = sorted(set(item) - {"name", "scenario", "overrides"})
            if extra or not (item.get("name") or item.get("scenario")):
                raise ValueError(
                    f"scenarios[{i}]: a scenario entry is a name or a mapping with keys name, "
                    f"scenario, overrides; got {_short(dict(item))}"
                )
            n = str(item.get("name") or item["scenario"])
            ovr = item.get("overrides") or []
            if isinstance(ovr, str) or any("=" not in str(o) for o in ovr):
                raise ValueError(f"scenarios[{i}] {n}: overrides must be a list of key=value")
            variants[n] = (str(item.get("scenario") or n), tuple(str(o) for o in ovr))
            names.append(n)
        return {**doc, "scenarios": names, "variants": variants}

    @field_validator("scenarios", mode="before")
    @classmethod
    def _one_scenario_may_be_a_string(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("scenarios")
    @classmethod
    def _scenarios_distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, s in enumerate(v):
            if s in v[:i]:
                raise ValueError(f"[{i}] {_short(s)} is listed twice")
        return v

    @model_validator(mode="after")
    def _scenarios_known(self, info: ValidationInfo) -> ComparisonStudy:
        """Every scenario (or the one a variant starts from) exists — checked when the
        study is to be composed; a report rebuilt from stored runs needs no config tree."""
        if (info.context or {}).get("compose", True):
            for i, s in enumerate(self.scenarios):
                base = self.variants.get(s, (s, ()))[0]
                if base not in known_scenarios():
                    raise ValueError(
                        f"scenarios[{i}]: unknown scenario {_short(base)}; scenarios: "
                        f"{', '.join(known_scenarios())} (your own: put them in DIR/scenario/ "
                        "and pass --config-dir DIR, or beside the study file in scenario/)"
                    )
        return self

    @field_validator("baseline", mode="before")
    @classmethod
    def _baseline_mapping(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, str):
            return {"scenario": v}
        if not isinstance(v, Mapping):
            raise ValueError(
                f"must be a scenario name or a mapping like {{scenario: NAME, KEY: VALUE}}, "
                f"not {_short(v)}"
            )
        return {k: (grid_value(x) if k != "scenario" else x) for k, x in v.items()}

    @field_validator("grid", mode="before")
    @classmethod
    def _grid_lists(cls, v: Any) -> Any:
        if v is None:
            return {}
        if not isinstance(v, Mapping):
            raise ValueError(f"must map override keys to lists of values, not {_short(v)}")
        out = {}
        for k, vals in v.items():
            if not isinstance(k, str) or not k:
                raise ValueError(f"key {_short(k)} must be a config key such as forum.igf.remote")
            if not isinstance(vals, list) or not vals:
                raise ValueError(f"{k} must be a non-empty list of values, not {_short(vals)}")
            labelled = [grid_value(x) for x in vals]
            for i, x in enumerate(labelled):
                if x in labelled[:i]:
                    raise ValueError(f"{k}[{i}] {_short(vals[i])} is listed twice")
            out[k] = labelled
        return out

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_selectors(cls, v: Any) -> Any:
        if v is None:
            return cls.model_fields["metrics"].default
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            raise ValueError(f"must be a list of metric selectors, not {_short(v)}")
        out = []
        for i, m in enumerate(v):
            if isinstance(m, Metric):
                out.append(m)
                continue
            if not isinstance(m, str):
                raise ValueError(
                    f"[{i}] must be a selector such as attainment_gap, not {_short(m)}"
                )
            if m in v[:i]:
                raise ValueError(f"[{i}] {_short(m)} is listed twice")
            name = _measure_known(m).partition("@")[0]
            out.append(Metric(m, name))  # qualifiers are resolved in prepare()
        return out

    @field_validator("figures", mode="before")
    @classmethod
    def _figure_specs(cls, v: Any) -> Any:
        if v is None:
            return ()
        if not isinstance(v, list):
            raise ValueError(f"must be a list of figures, not {_short(v)}")
        out = []
        for i, f in enumerate(v):
            spec = {"kind": f} if isinstance(f, str) else f
            if not isinstance(spec, Mapping):
                raise ValueError(f"[{i}] must be a figure name or a mapping with kind")
            if spec.get("kind") not in FIGURE_KINDS:
                raise ValueError(
                    f"[{i}] unknown figure {_short(spec.get('kind'))}; "
                    f"figures: {', '.join(FIGURE_KINDS)}"
                )
            out.append(dict(spec))
        return out

    @model_validator(mode="after")
    def _cross_checks(self) -> ComparisonStudy:
        scen = self.scenarios
        base = dict(self.baseline)
        base.setdefault("scenario", scen[0])
        if base["scenario"] not in scen:
            raise ValueError(
                f"baseline: scenario {_short(base['scenario'])} is not one of the study's "
                f"scenarios: {', '.join(scen)}"
            )
        for k, v in base.items():
            if k != "scenario" and (k not in self.grid or v not in self.grid[k]):
                raise ValueError(f"baseline: {k}={_short(v)} is not a point of the grid")
        object.__setattr__(self, "baseline", base)
        keys = list(self.grid)
        texts = [m.text for m in self.metrics]
        figures = []
        for i, spec in enumerate(self.figures):
            spec, kind = dict(spec), spec["kind"]
            where = f"figures[{i}] {kind}"
            if kind == "metric_vs_parameter":
                spec.setdefault("x", keys[0] if keys else None)
                if spec["x"] not in keys:
                    raise ValueError(
                        f"{where} needs x to be a swept grid key; "
                        f"grid keys: {', '.join(keys) or '(none)'}"
                    )
            if kind == "heatmap":
                spec.setdefault("x", keys[0] if len(keys) > 0 else None)
                spec.setdefault("y", keys[1] if len(keys) > 1 else None)
                if spec["x"] not in keys or spec["y"] not in keys or spec["x"] == spec["y"]:
                    raise ValueError(
                        f"{where} needs two different swept grid keys x and y; "
                        f"grid keys: {', '.join(keys) or '(none)'}"
                    )
            used = spec.get("metrics", [])
            if not isinstance(used, list):
                raise ValueError(f"{where}: metrics must be a list")
            for m in used + ([spec["metric"]] if "metric" in spec else []):
                if m not in texts:
                    raise ValueError(
                        f"{where} uses metric {_short(m)}, not in the study's metrics: "
                        f"{', '.join(texts)}"
                    )
            figures.append(spec)
        object.__setattr__(self, "figures", tuple(figures))
        if not self.title:
            object.__setattr__(self, "title", self.name.replace("_", " ").capitalize())
        return self

    # ----- what the rest of the code reads
    @property
    def points(self) -> list[dict[str, Any]]:
        """Grid points in order (one empty point when nothing is swept)."""
        keys = list(self.grid)
        return [
            dict(zip(keys, vals, strict=True)) for vals in itertools.product(*self.grid.values())
        ]

    @property
    def configs(self) -> dict[tuple[str, int], dict[str, Any]]:
        """Resolved configs by (scenario, grid point index), composed once each."""
        return self._configs

    def label(self, scenario: str) -> str:
        """Display name of a scenario."""
        return self.labels.get(scenario, scenario.replace("_", " ").capitalize())


Study = ComparisonStudy
"""The comparison study (the kind ``govsim experiment`` runs)."""


@dataclass(frozen=True)
class Parameter:
    """One input of an analysis: a config key, its range, and whether it is an integer."""

    key: str
    low: float
    high: float
    integer: bool = False
    label: str = ""


class Range(_Schema):
    """A parameter's range as written in a study file."""

    low: Number
    high: Number
    integer: StrictBool = False
    label: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"low={self.low} must be below high={self.high}")
        return self


def _parameters(v: Any) -> Any:
    """``{key: {low, high, ...}}`` -> a list of :class:`Parameter` (types checked by Range)."""
    if v is None:
        return []
    if not isinstance(v, Mapping):
        if isinstance(v, list) and all(isinstance(p, Parameter) for p in v):
            return v
        raise ValueError(f"must map config keys to {{low: L, high: H}}, not {_short(v)}")
    out = []
    for k, spec in v.items():
        if isinstance(spec, Parameter):
            out.append(spec)
            continue
        try:
            r = Range.model_validate(spec)
        except ValidationError as e:
            raise ValueError(f"{k}: {_first_error(e)}") from None
        out.append(Parameter(str(k), r.low, r.high, r.integer, r.label))
    return out


class Stage(_Schema):
    """One sensitivity analysis: ``morris`` (trajectories, levels) or ``sobol`` (base samples,
    top)."""

    name: str = ""
    method: Literal["morris", "sobol"]
    trajectories: PositiveInt = 10
    levels: Annotated[StrictInt, Field(ge=2)] = 4
    base_samples: PositiveInt = 64
    top: NonNegativeInt = 0
    seed: NonNegativeInt | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # positional (name, method) as in Stage("1_morris", "morris", seed=1)
        for k, v in zip(("name", "method"), args, strict=False):
            kwargs[k] = v
        super().__init__(**kwargs)


class Output(_Schema):
    """A named output of a sensitivity study, as written in its file."""

    metric: str
    forum: str = "all"
    group: str = "all"
    label: str = ""

    def selector(self) -> str:
        quals = [q for q in (self.forum, self.group) if q != "all"]
        return self.metric + ("@" + "/".join(quals) if quals else "")


class SensitivityStudy(StudyBase):
    """Morris screening and Sobol indices of one scenario (``govsim sensitivity``)."""

    kind: Literal["sensitivity"] = "sensitivity"
    scenario: str = "status_quo"
    parameters: list[Parameter] = Field(min_length=2)
    metrics: list[Metric] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    replicates: PositiveInt = 2

    @field_validator("parameters", mode="before")
    @classmethod
    def _parameter_ranges(cls, v: Any) -> Any:
        return _parameters(v)

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        return _known_scenario(v) if v else v

    @field_validator("metrics", mode="before")
    @classmethod
    def _outputs(cls, v: Any) -> Any:
        if isinstance(v, list) and all(isinstance(m, Metric) for m in v):
            return v
        if not isinstance(v, Mapping):
            raise ValueError(
                f"must map output names to a selector or {{metric, forum, group, label}}, "
                f"not {_short(v)}"
            )
        out = []
        for k, spec in v.items():
            try:
                o = (
                    Output(metric=spec)
                    if isinstance(spec, str)
                    else Output.model_validate(spec if spec is not None else {"metric": k})
                )
            except ValidationError as e:
                raise ValueError(f"{k}: {_first_error(e)}") from None
            name = _measure_known(o.metric)
            out.append(Metric(o.selector(), name, o.forum, o.group, title=o.label, column=str(k)))
        return out

    @model_validator(mode="after")
    def _stage_names_and_seeds(self) -> SensitivityStudy:
        stages, seen = [], set()
        for i, s in enumerate(self.stages):
            upd = {}
            if not s.name:
                upd["name"] = f"{i + 1}_{s.method}"
            if s.seed is None:
                upd["seed"] = self.root_seed
            s = s.model_copy(update=upd) if upd else s
            if s.name in seen:
                raise ValueError(f"stages[{i}]: name {s.name!r} is used twice")
            if s.top and not any(t.method == "morris" for t in self.stages[:i]):
                raise ValueError(f"stages[{i}]: top={s.top} needs a morris stage before it")
            seen.add(s.name)
            stages.append(s)
        object.__setattr__(self, "stages", stages)
        return self


class Optimiser(_Schema):
    """Settings of the calibration search (scipy's differential evolution)."""

    popsize: PositiveInt = 6
    maxiter: PositiveInt = 12
    tol: Annotated[Number, Field(ge=0)] = 0.01
    start: dict[str, Number] = Field(default_factory=dict)
    """Where the first fit's search starts (scipy's ``x0``: it replaces the first member
    of the initial population), e.g. the previous estimate; empty: nowhere in particular.
    It names every parameter, within its bounds. Refits always start afresh."""


class CalibrationStudy(StudyBase):
    """Free parameters fitted to observed IGF attendance (``govsim calibrate``)."""

    kind: Literal["calibration"] = "calibration"
    scenario: str = "status_quo"
    parameters: list[Parameter] = Field(min_length=1)
    targets: str = str(DATA_DIR / "igf_targets.csv")
    years: PositiveInt = 1
    replicates: PositiveInt = 2
    refits: NonNegativeInt = 2
    optimiser: Optimiser = Field(default_factory=Optimiser)
    assumptions: list[Parameter] = Field(default_factory=list)
    """Assumed (unfitted) inputs with their documented ranges: after the fit, each is set
    at both ends at the estimate to show whether the fitted meetings can tell the ends
    apart (:func:`sim.analysis.calibration.profile_assumptions`)."""

    @field_validator("parameters", "assumptions", mode="before")
    @classmethod
    def _parameter_ranges(cls, v: Any) -> Any:
        return _parameters(v)

    @model_validator(mode="after")
    def _assumptions_not_fitted(self) -> CalibrationStudy:
        fitted = {p.key for p in self.parameters}
        for a in self.assumptions:
            if a.key in fitted:
                raise ValueError(f"assumptions.{a.key} is also a fitted parameter: it is either "
                                 "fitted or assumed, not both")  # fmt: skip
        return self

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        return _known_scenario(v)

    @model_validator(mode="after")
    def _start_in_bounds(self) -> CalibrationStudy:
        start = self.optimiser.start
        if not start:
            return self
        keys = [p.key for p in self.parameters]
        if sorted(start) != sorted(keys):
            raise ValueError(f"optimiser.start must name every parameter: {', '.join(keys)}")
        for p in self.parameters:
            if not p.low <= start[p.key] <= p.high:
                raise ValueError(f"optimiser.start.{p.key}={start[p.key]} is outside its "
                                 f"bounds {p.low} to {p.high}")  # fmt: skip
        return self

    @field_validator("targets")
    @classmethod
    def _shipped_or_path(cls, v: str) -> str:
        p = Path(v)
        if not p.is_absolute() and (DATA_DIR / p.name).exists():
            p = DATA_DIR / p.name  # a shipped data file (data/NAME.csv)
        return str(p)

    @property
    def popsize(self) -> int:
        return self.optimiser.popsize

    @property
    def maxiter(self) -> int:
        return self.optimiser.maxiter

    @property
    def tol(self) -> float:
        return self.optimiser.tol


class Goal(_Schema):
    """What a design should achieve in an exploration: a measure, its direction, a threshold.

    ``direction: decrease`` for a measure that should fall (the attainment gap's change):
    a design's *improvement* in a draw is then minus its design effect.
    """

    metric: str = "attainment_gap_change"
    direction: Literal["increase", "decrease"] = "decrease"
    threshold: Annotated[Number, Field(ge=0)] = 0.01
    """The improvement over the baseline a design must reach to satisfice."""


class ExplorationStudy(StudyBase):
    """Named designs crossed with a sample of uncertain assumptions (``govsim explore``).

    Each draw ``j`` of the assumptions (a Latin hypercube or Sobol sample over
    ``uncertainties``) is run once for every design with
    ``SeedSequence(root_seed, spawn_key=(j,))``: common random numbers across designs,
    so design effects are paired by draw (:mod:`sim.analysis.exploration`).
    """

    kind: Literal["exploration"] = "exploration"
    designs: tuple[str, ...] = Field(min_length=2)
    baseline: str = ""
    uncertainties: list[Parameter] = Field(min_length=1)
    sampler: Literal["lhs", "sobol"] = "lhs"
    samples: PositiveInt = 64
    goal: Goal = Field(default_factory=Goal)
    guards: tuple[Metric, ...] = ()
    """Measures no design may lower (e.g. each group's participation rate)."""
    labels: dict[str, str] = Field(default_factory=dict)
    replicates: PositiveInt = 1

    _bases: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = PrivateAttr(default_factory=dict)

    @property
    def bases(self) -> dict[tuple[str, tuple[str, ...]], dict[str, Any]]:
        """Each design's composed, validated config (plain), by (design, overrides), as
        :func:`prepare` composed it: planning the runs does not compose it again."""
        return self._bases

    @field_validator("designs")
    @classmethod
    def _designs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, s in enumerate(v):
            try:
                _known_scenario(s)
            except ValueError as e:
                raise ValueError(f"[{i}] {e}") from None
        if len(set(v)) != len(v):
            dup = next(s for s in v if v.count(s) > 1)
            raise ValueError(f"{_short(dup)} is listed twice")
        return v

    @field_validator("uncertainties", mode="before")
    @classmethod
    def _uncertainty_ranges(cls, v: Any) -> Any:
        return _parameters(v)

    @field_validator("guards", mode="before")
    @classmethod
    def _guard_selectors(cls, v: Any) -> Any:
        if v is None:
            return ()
        if not isinstance(v, list | tuple):
            raise ValueError(f"must be a list of metric selectors, not {_short(v)}")
        out = []
        for g in v:
            if isinstance(g, Metric):
                out.append(g)
                continue
            name = _measure_known(str(g))
            out.append(Metric(str(g), name))
        return tuple(out)

    @field_validator("goal")
    @classmethod
    def _goal_metric(cls, v: Goal) -> Goal:
        _measure_known(v.metric)
        return v

    @model_validator(mode="after")
    def _baseline_is_a_design(self) -> ExplorationStudy:
        base = self.baseline or self.designs[0]
        if base not in self.designs:
            raise ValueError(f"baseline {_short(base)} is not one of the designs")
        object.__setattr__(self, "baseline", base)
        return self

    def label(self, design: str) -> str:
        """Readable name of a design."""
        return self.labels.get(design, design.replace("_", " ").capitalize())


SCHEMAS: dict[str, type[StudyBase]] = {
    "comparison": ComparisonStudy,
    "sensitivity": SensitivityStudy,
    "calibration": CalibrationStudy,
    "exploration": ExplorationStudy,
}
"""Kind -> schema. A new kind adds its class here and its algorithm in :mod:`sim.analysis`."""


# ----- errors --------------------------------------------------------------------------
def _loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "literal")):
            out += ("." if out else "") + str(part)
    return out


def _first_error(e: ValidationError, fields: Sequence[str] = ()) -> str:
    """One readable line from a pydantic error: the field path and what is wrong."""
    err = e.errors(include_url=False)[0]
    where = _loc(err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = "unknown field" + (f"; allowed: {', '.join(fields)}" if fields else "")
    elif kind in ("tuple_type", "list_type"):
        msg = f"must be a list, not {_short(err.get('input'))}"
    elif kind == "dict_type":
        msg = f"must be a mapping (key: value), not {_short(err.get('input'))}"
    elif kind in ("int_type", "string_type", "bool_type", "float_type", "int_from_float"):
        wanted = {"int_type": "a whole number", "int_from_float": "a whole number",
                  "string_type": "a string", "bool_type": "true or false",
                  "float_type": "a number"}[kind]  # fmt: skip
        msg = f"must be {wanted}, not {_short(err.get('input'))}"
    elif kind == "string_pattern_mismatch":
        msg = f"{_short(err.get('input'))} may use only letters, digits, _ . and -"
    elif kind == "string_too_long":
        msg = f"is longer than {err['ctx']['max_length']} characters"
    elif kind == "missing":
        msg = "is required"
    elif kind == "greater_than_equal":
        msg = f"must be at least {err['ctx']['ge']}, not {_short(err.get('input'))}"
    elif kind == "too_short":
        msg = f"must not be empty (got {_short(err.get('input'))})"
    elif kind.startswith(("greater_than", "less_than", "finite")):
        msg = f"{msg} (got {_short(err.get('input'))})"
    return f"{where}: {msg}" if where else msg


# ----- names and paths -----------------------------------------------------------------
def read_text(path: Path) -> str:
    """A study file's text; a directory, an unreadable or a non-UTF-8 file is a UsageError."""
    if path.is_dir():
        raise UsageError(f"study file {path} is a directory; give a .yaml file or a study name")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(
            f"study file {path} is not UTF-8 text (byte {e.start}); save it as UTF-8"
        ) from None
    except OSError as e:
        raise UsageError(f"study file {path}: {e.strerror or e}") from None


def _kind_of(doc: Mapping[str, Any]) -> str:
    kind = doc.get("kind")
    if kind is None:
        if "stages" in doc:
            return "sensitivity"
        if "targets" in doc or "optimiser" in doc or "assumptions" in doc:
            return "calibration"
        if "designs" in doc or "uncertainties" in doc:
            return "exploration"
        return "comparison"
    if kind not in SCHEMAS:
        raise UsageError(f"kind: {_short(kind)} is not a kind of study; kinds: {', '.join(KINDS)}")
    return kind


def study_kinds() -> dict[str, str]:
    """Shipped study name -> kind; files that cannot be read as a study are left out."""
    out = {}
    for p in sorted(p for d in reversed(experiments_dirs()) for p in d.glob("*.yaml")):
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8"))
            if isinstance(doc, dict):
                out[p.stem] = _kind_of(doc)
        except (OSError, UnicodeDecodeError, yaml.YAMLError, UsageError):
            continue
    return out


def study_names(kind: str | None = "comparison") -> list[str]:
    """Studies shipped in ``sim/experiments/`` of one kind (all kinds with ``kind=None``)."""
    return [n for n, k in study_kinds().items() if kind is None or k == kind]


def resolve_path(name_or_path: str | Path) -> Path:
    """A shipped study name (``cstd_anchor``) or a path to a study file."""
    text = str(name_or_path)
    if len(text) > 4096:
        raise UsageError(f"study {text[:60]}...: name too long ({len(text)} characters)")
    p = Path(name_or_path)
    try:
        if p.suffix in (".yaml", ".yml") or p.exists() or "/" in text:
            if not p.exists():
                raise UsageError(f"study file {_short(text, 200)} not found")
            return p.resolve()
        cands = [d / f"{text}.yaml" for d in experiments_dirs()]  # user folders first
        cand = next((c for c in cands if c.exists()), cands[-1])
        found = cand.exists()
    except OSError as e:  # e.g. a file name longer than the file system allows
        raise UsageError(f"study {_short(text, 80)}: {e.strerror or e}") from None
    if not found:
        names = ", ".join(study_names(None))
        raise UsageError(f"unknown study {_short(text, 200)}; studies: {names}")
    return cand


def study_folder_configs(path: Path) -> Path | None:
    """The config folder that travels with a study file: its own folder when that holds
    ``scenario/`` or ``forum/``, else the parent of an ``experiments/`` folder that does."""
    for d in (path.parent, path.parent.parent if path.parent.name == "experiments" else None):
        if d is not None and ((d / "scenario").is_dir() or (d / "forum").is_dir()):
            return d
    return None


# ----- the loader ----------------------------------------------------------------------
def parse_study(
    text: str,
    *,
    path: str = "",
    kind: str | None = None,
    replicates: int | None = None,
    years: int | None = None,
    overrides: Sequence[str] = (),
    compose: bool = True,
    known_configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> StudyBase:
    """Parse, type and validate a study's YAML text, then prepare it (see :func:`load_study`).

    With ``compose=False`` no config is composed (rebuilding a report from stored runs);
    ``known_configs`` then supplies the forums and issues metric selectors may name.
    """
    where = path or "<text>"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        msg = " ".join(str(e).split())
        raise UsageError(f"study file {where} is not valid YAML: {msg}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"study file {where} must be a mapping of keys")
    found = _kind_of(doc)
    if kind is not None and found != kind:
        commands = {"comparison": "experiment", "sensitivity": "sensitivity",
                    "calibration": "calibrate", "exploration": "explore"}  # fmt: skip
        raise UsageError(
            f"study {Path(where).stem} is a {found} study (kind: {found}); this command runs "
            f"{kind} studies: run it with `govsim {commands[found]} {Path(where).stem}`"
        )
    schema = SCHEMAS[found]
    doc = {"name": Path(path).stem or "study", **doc, "kind": found}
    if replicates is not None:
        doc["replicates"] = replicates
    if years is not None:
        doc["years"] = years
    name = doc["name"] if isinstance(doc["name"], str) else Path(path).stem
    try:
        study = schema.model_validate(doc, context={"compose": compose})
    except ValidationError as e:
        msg = _first_error(e, list(schema.model_fields))
        raise UsageError(f"study {_short(name, 80)[1:-1]}: {msg}") from None
    study._text, study._path = text, str(path)
    if overrides:
        study = _with_overrides(study, overrides)
    return prepare(study, compose=compose, known_configs=known_configs)


def _with_overrides(study: StudyBase, extra: Sequence[str]) -> StudyBase:
    """The study with command-line overrides appended to its own."""
    for o in extra:
        if "=" not in str(o):
            raise UsageError(f"override {_short(o)} is not key=value")
    new = study.model_copy(update={"overrides": (*study.overrides, *map(str, extra))})
    new._text, new._path = study._text, study._path
    return new


def load_study(
    name_or_path: str | Path,
    *,
    kind: str | None = None,
    replicates: int | None = None,
    years: int | None = None,
    overrides: Sequence[str] = (),
) -> StudyBase:
    """Read, type, validate and prepare a study of any kind before any run.

    Parameters
    ----------
    name_or_path
        A study name in ``sim/experiments/`` or a path to a study file.
    kind
        The kind a command expects (``comparison`` for ``govsim experiment``); another
        kind is a UsageError naming the command to use.
    replicates, years
        Replace the file's values (e.g. a quick look with fewer replicates).
    overrides
        Extra Hydra overrides applied to every run (e.g. a smaller population).

    Returns
    -------
    StudyBase
        A :class:`ComparisonStudy`, :class:`SensitivityStudy` or
        :class:`CalibrationStudy`, by the file's ``kind``.
    """
    path = resolve_path(name_or_path)
    own = study_folder_configs(path)
    if own is not None:  # the study's own scenario/ and forum/ join the config search path
        add_user_config_dir(own)
    return parse_study(
        read_text(path), path=str(path), kind=kind, replicates=replicates, years=years,
        overrides=overrides,
    )  # fmt: skip


# ----- preparing: compose once, resolve selectors --------------------------------------
def _compose(
    scenario: str,
    overrides: Sequence[str],
    study: str,
    variants: Mapping[str, tuple[str, tuple[str, ...]]] | None = None,
) -> dict[str, Any]:
    """Compose and validate one run config; any problem becomes one UsageError line.

    ``variants`` maps a study's own scenario names to (scenario config, its overrides).
    """
    scenario_config, own = (variants or {}).get(scenario, (scenario, ()))
    overrides = [*own, *overrides]
    where = f"study {study}: scenario {scenario}" + (
        f" with {' '.join(overrides)}" if overrides else ""
    )
    try:
        return as_dict(load_config(scenario_config, list(overrides)))
    except ConfigError as e:
        raise UsageError(f"{where}: {e}") from None


def _resolved_metrics(
    study: StudyBase, metrics: Sequence[Metric], configs: Sequence[Mapping[str, Any]]
) -> tuple[Metric, ...]:
    forums = {f for c in configs for f in c["forum"]}
    issues = {i for c in configs for i in c["issues"]}
    try:
        return tuple(
            parse_metric(m.text, forums, issues, title=m.title, column=m.column) for m in metrics
        )
    except UsageError as e:
        raise UsageError(f"study {study.name}: metrics: {e}") from None


def prepare(
    study: StudyBase,
    *,
    compose: bool = True,
    known_configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> StudyBase:
    """Compose what a study runs (once) and check what needs a config to check.

    Comparison: every scenario × grid point is composed and validated once (kept in
    ``study.configs``, shared by the replicates). Sensitivity and calibration: the base
    config is composed and every parameter key is set at its low and high end on a
    typed copy (:func:`sim.model.compose.with_values`), so a key the config lacks or a
    value it refuses is reported now, not after hours of runs.
    """
    if isinstance(study, ComparisonStudy):
        points = study.points
        configs: dict[tuple[str, int], dict[str, Any]] = {}
        common = study.base_overrides()
        if compose:  # first grid point of each scenario: enough to check the metrics
            for s in study.scenarios:
                configs[(s, 0)] = _compose(
                    s, [*common, *point_overrides(points[0])], study.name, study.variants
                )
        seen = [*configs.values(), *(c for c in (known_configs or {}).values() if c)]
        object.__setattr__(study, "metrics", _resolved_metrics(study, study.metrics, seen))
        if compose:
            for s in study.scenarios:
                for i, point in enumerate(points[1:], start=1):
                    configs[(s, i)] = _compose(
                        s, [*common, *point_overrides(point)], study.name, study.variants
                    )
        study.configs.update(configs)
        return study
    if not compose:
        return study
    if isinstance(study, ExplorationStudy):
        return _prepare_exploration(study)
    try:
        base = load_config(study.scenario, study.base_overrides())
    except ConfigError as e:
        raise UsageError(f"study {study.name}: scenario {study.scenario}: {e}") from None
    _check_ends(study, base, study.parameters, "parameters")
    if isinstance(study, CalibrationStudy):
        _check_ends(study, base, study.assumptions, "assumptions")
    if isinstance(study, SensitivityStudy):
        cfg = as_dict(base)
        object.__setattr__(study, "metrics", list(_resolved_metrics(study, study.metrics, [cfg])))
    return study


def _check_ends(study: StudyBase, base: Any, params: Sequence[Parameter], field: str) -> None:
    """Set every parameter at both ends of its range on a typed copy of ``base``: a key the
    config lacks or a value it refuses is one UsageError line now, not after hours of runs."""
    for p in params:
        for end in (p.low, p.high):
            try:
                with_values(base, {p.key: int(round(end)) if p.integer else end})
            except (KeyError, ConfigError, TypeError, ValueError, AttributeError) as e:
                msg = str(e).strip("'\"")
                raise UsageError(f"study {study.name}: {field}.{p.key}: {msg}") from None


def _prepare_exploration(study: ExplorationStudy) -> ExplorationStudy:
    """Compose every design once and set each uncertainty at both ends of its range."""
    configs = []
    for d in study.designs:
        try:
            base = load_config(d, study.base_overrides())
        except ConfigError as e:
            raise UsageError(f"study {study.name}: design {d}: {e}") from None
        _check_ends(study, base, study.uncertainties, "uncertainties")
        configs.append(as_dict(base))
        study.bases[(d, tuple(study.base_overrides()))] = configs[-1]
    goal = Metric(study.goal.metric, study.goal.metric)
    resolved = _resolved_metrics(study, [goal, *study.guards], configs)
    object.__setattr__(study, "guards", tuple(resolved[1:]))
    return study


# ----- runs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSpec:
    """One run of a study: what it is (scenario, grid point, replicate) and its config.

    The run draws from ``SeedSequence(root_seed, spawn_key=(replicate,))``.
    """

    key: str
    scenario: str
    overrides: tuple[str, ...]
    grid: dict[str, Any]
    replicate: int
    root_seed: int
    config: dict[str, Any] = field(repr=False, compare=False, hash=False)

    def __hash__(self) -> int:
        return hash(self.key)


def expand(study: ComparisonStudy) -> list[RunSpec]:
    """One RunSpec per scenario × grid point × replicate, in that order."""
    specs = []
    common = study.base_overrides()
    for s in study.scenarios:
        for i, point in enumerate(study.points):
            ovr = (*common, *point_overrides(point))
            cfg = study.configs.get((s, i))
            if cfg is None:
                cfg = _compose(s, ovr, study.name, study.variants)
                study.configs[(s, i)] = cfg
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


def study_meta(study: ComparisonStudy) -> dict[str, Any]:
    """What the manifest records about a study (for reports and exact re-runs)."""
    first = {s: study.configs.get((s, 0)) for s in study.scenarios}
    return {
        "study": study.name,
        "kind": study.kind,
        "question": study.question,
        "study_file": study.path,
        "study_text": study.text,
        "root_seed": study.root_seed,
        "replicates": study.replicates,
        "years": study.years,
        "overrides": study.base_overrides(),
        "grid": {k: list(v) for k, v in study.grid.items()},
        "scenario_configs": first,
        # every resolved config (scenario/grid point), so a sweep re-runs exactly later
        "resolved_configs": {f"{s}/{i}": c for (s, i), c in study.configs.items()},
        "provenance": provenance(),
    }
