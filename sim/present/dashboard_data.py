"""What the dashboard computes, without a browser: levers, the model, page data, charts, studies.

:mod:`sim.present.app` is the Solara page; everything it shows comes from the
plain functions here, so the fast tests exercise them without a server.

- :class:`Levers` is one setting of the sidebar's levers. Every lever becomes a
  Hydra override of the scenario (:meth:`Levers.overrides`), including the formal
  mandate, so a setting found on the page reruns with ``govsim run`` and goes
  into a study file unchanged.
- :class:`DashboardModel` is the model those levers build.
- :func:`chart_png` draws a chart once per change of its data (the
  representation and participation charts change only when a forum meets), which
  is what makes a month step fast (docs/dashboard.md has the measurements).
- :func:`comparison_study_text` writes two settings A and B as a study file
  (scenarios, a grid over the keys where they differ, replicates);
  :func:`run_comparison` runs it through the study engine into a cache folder
  and :func:`comparison_tables` gives the design effect B − A on the headline
  measures with the same paired-difference statistics as ``govsim experiment``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from PIL import Image

from sim.model import GovernanceModel
from sim.model.compose import CONFIG_DIR, load_config
from sim.model.config import GROUP_LABELS, GROUPS, ConfigError, GovsimConfig, to_container
from sim.model.forums import RULES, describe
from sim.present.plots import GROUP_COLOURS
from sim.studies import stats
from sim.studies.execute import ExecutionReport
from sim.studies.launch import run_study
from sim.studies.spec import METRICS, Study, expand, hydra_value, parse_study
from sim.studies.store import RunStore, aggregate

AS_IN_SCENARIO = "as in scenario"
"""Value of a forum lever that keeps the scenario's own design."""

MANDATE_WEIGHT = 0.3
"""Authority a formal mandate adds when the dashboard switches one on (as in ``cstd_anchor``)."""

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

RATIO_FLOOR = 0.1
"""Representation ratios below this (a group absent: 0) are drawn at it on the log scale."""

RATIO_TOP = 16.0
"""Top of the representation chart's fixed log scale (ratios above are drawn at it)."""

DPI = 90
"""Resolution of the charts on the page."""

HEADLINE_METRICS = (
    "attainment_gap",
    "attainment_gap_change",
    "policy_coverage",
    "representation_ratio@developing_gov",
    "participation_rate@developing_gov",
)
"""The comparison's measures (those :data:`sim.studies.spec.METRICS` knows)."""


def decision_rules() -> list[str]:
    """Decision rules a forum may use: the names registered in :data:`sim.model.forums.RULES`."""
    return list(RULES["decision"])


def behaviour_choices() -> list[str]:
    """The attendance behaviours in ``configs/behaviour/`` (``default`` first)."""
    names = sorted(p.stem for p in (CONFIG_DIR / "behaviour").glob("*.yaml"))
    return sorted(names, key=lambda n: n != "default")


def forum_choices() -> list[str]:
    """The forum presets in ``configs/forum/`` (scenarios mount them under the same key)."""
    return sorted(p.stem for p in (CONFIG_DIR / "forum").glob("*.yaml"))


@functools.lru_cache(maxsize=64)
def scenario_config(scenario: str, overrides: tuple[str, ...] = ()) -> GovsimConfig:
    """The validated config of ``scenario`` with Hydra ``overrides``, composed once and cached.

    Callers must not mutate the result (:class:`DashboardModel` deep-copies it).
    """
    return load_config(scenario, overrides)


# ----- levers -> overrides ---------------------------------------------------------------
def _num(x: float) -> str:
    return f"{round(float(x), 4):g}"


def lever_overrides(
    base: GovsimConfig,
    forum: str,
    decision_rule: str = AS_IN_SCENARIO,
    threshold: float = 0.67,
    funded_slots: int = -1,
    remote: str = AS_IN_SCENARIO,
) -> list[str]:
    """Hydra overrides that put the forum levers on top of the scenario config ``base``.

    Levers at :data:`AS_IN_SCENARIO` (``funded_slots`` < 0) add nothing, and so does a
    value equal to the scenario's; ``threshold`` applies only when the forum's
    decision rule (chosen or the scenario's) declares a vote share in its voting game
    (the registry's ``game.share``: ``majority``'s ``threshold``). A forum the scenario
    does not include gets no overrides.
    """
    if forum not in base.forum:
        return []
    f, key, out = base.forum[forum], f"forum.{forum}", []
    rule = f.decision if decision_rule == AS_IN_SCENARIO else decision_rule
    if rule != f.decision:
        out.append(f"{key}.decision={rule}")
    game = describe("decision", rule).game
    share = game.share if game is not None else None
    if share is not None and not np.isclose(threshold, getattr(f, share)):
        out.append(f"{key}.{share}={_num(threshold)}")
    if funded_slots >= 0 and (f.support != "funded_slots" or funded_slots != f.funded_slots):
        out += [f"{key}.support=funded_slots", f"{key}.funded_slots={int(funded_slots)}"]
    if remote != AS_IN_SCENARIO and (remote == "on") != f.remote:
        out.append(f"{key}.remote={'true' if remote == 'on' else 'false'}")
    return out


def mandate_overrides(base: GovsimConfig, forum: str, mandate: str) -> tuple[list[str], str | None]:
    """Overrides that switch a formal UNGA/ECOSOC mandate on ``forum`` on or off, and what changed.

    A ``mandate`` link raises its target's authority by its weight (capped at 1); it
    never makes outcomes binding (binding force comes only from the chain of authority,
    :mod:`sim.model.forums.chain`). "on" gives the forum exactly that as a plain key
    (authority + :data:`MANDATE_WEIGHT`), so the setting can be swept in a study's grid;
    "off" deletes every mandate link to the forum (``~links.NAME``, which a study can
    apply to all its runs).
    """
    if mandate == AS_IN_SCENARIO or forum not in base.forum:
        return [], None
    links = {k: v for k, v in base.links.items() if v.kind == "mandate" and v.target == forum}
    f = base.forum[forum]
    if mandate == "on" and not links:
        out = []
        authority = min(1.0, f.authority + MANDATE_WEIGHT)
        if not np.isclose(authority, f.authority):
            out.append(f"forum.{forum}.authority={_num(authority)}")
        what = f"formal mandate on {forum} (authority {f.authority:g} → {authority:g})"
        return out, what if out else None
    if mandate == "off" and links:
        out = [f"~links.{k}" for k in links]
        return out, f"no formal mandate on {forum}"
    return [], None


@dataclass(frozen=True)
class Levers:
    """One setting of the dashboard's levers (the keyword arguments of :class:`DashboardModel`).

    Attributes
    ----------
    scenario_name
        A scenario in ``configs/scenario/``.
    forum
        The forum the forum levers redesign.
    decision_rule, threshold, funded_slots, remote, mandate
        That forum's design; "as in scenario" (``funded_slots`` < 0) keeps the scenario's.
    behaviour
        The attendance behaviour (a ``configs/behaviour/`` group): ``default``, or
        ``calibrated`` (fitted on IGF attendance; ``docs/participation.md`` 3a says where
        each fits the records). An assumption, not a design: compare designs under both.
    polarization
        Distance between developed and developing governments' positions (1 = calibrated).
    years, seed
        Horizon in years and the run's seed.
    """

    scenario_name: str = "status_quo"
    forum: str = "cstd"
    decision_rule: str = AS_IN_SCENARIO
    threshold: float = 0.67
    funded_slots: int = -1
    remote: str = AS_IN_SCENARIO
    mandate: str = AS_IN_SCENARIO
    behaviour: str = "default"
    polarization: float = 1.0
    years: int = 10
    seed: int = 0

    def set(self, **changes: Any) -> Levers:
        """A copy with ``changes``."""
        return replace(self, **changes)

    def group(self) -> tuple[str, ...]:
        """The behaviour group as a Hydra override (none for ``default``, the primary's)."""
        return () if self.behaviour == "default" else (f"behaviour={self.behaviour}",)

    def base(self) -> GovsimConfig:
        """The scenario under the chosen behaviour: what the other levers change."""
        return scenario_config(self.scenario_name, self.group())

    def overrides(self) -> list[str]:
        """Every lever as a Hydra override of the scenario (horizon and seed excepted)."""
        base = self.base()
        out = [*self.group()]
        out += lever_overrides(
            base, self.forum, self.decision_rule, self.threshold, self.funded_slots, self.remote
        )
        out += mandate_overrides(base, self.forum, self.mandate)[0]
        if not np.isclose(self.polarization, base.behaviour.polarization):
            out.append(f"behaviour.polarization={_num(self.polarization)}")
        return out

    def changes(self) -> list[str]:
        """What the levers change from the scenario, in words and overrides."""
        base = self.base()
        out = lever_overrides(
            base, self.forum, self.decision_rule, self.threshold, self.funded_slots, self.remote
        )
        mandate = mandate_overrides(base, self.forum, self.mandate)[1]
        out += [mandate] if mandate else []
        if self.behaviour != "default":
            out.insert(0, f"{self.behaviour} behaviour")
        if not np.isclose(self.polarization, base.behaviour.polarization):
            out.append(f"polarization {self.polarization:g}")
        return out

    def describe(self) -> str:
        """One line: the scenario and what the levers change."""
        ch = self.changes()
        return f"{self.scenario_name}" + (": " + "; ".join(ch) if ch else " as it is")

    def model(self) -> DashboardModel:
        return DashboardModel(**asdict(self))


# ----- the model ---------------------------------------------------------------------------
class DashboardModel(GovernanceModel):
    """A :class:`GovernanceModel` built from the dashboard's levers (see :class:`Levers`).

    ``scenario_name`` is so named so as not to clash with Mesa's own ``Model.scenario``.
    A forum the scenario lacks, or levers that give an invalid design, leave the
    scenario as it is and set :attr:`notice`.
    """

    def __init__(
        self,
        scenario_name: str = "status_quo",
        forum: str = "cstd",
        decision_rule: str = AS_IN_SCENARIO,
        threshold: float = 0.67,
        funded_slots: int = -1,
        remote: str = AS_IN_SCENARIO,
        mandate: str = AS_IN_SCENARIO,
        behaviour: str = "default",
        polarization: float = 1.0,
        years: int = 10,
        seed: int = 0,
    ) -> None:
        self.levers = Levers(scenario_name, forum, decision_rule, threshold, funded_slots,
                             remote, mandate, behaviour, polarization, years, seed)  # fmt: skip
        self.scenario_name = scenario_name
        self.forum = forum
        self.polarization = polarization
        self.seed = seed
        base = self.levers.base()
        self.notice = None
        if forum not in base.forum:
            self.notice = (
                f"Forum '{forum}' is not part of scenario '{scenario_name}' "
                f"(it has {', '.join(base.forum)}): the forum levers are ignored."
            )
        self.overrides = self.levers.overrides()
        self.mandate_change = mandate_overrides(base, forum, mandate)[1]
        try:
            cfg = copy.deepcopy(scenario_config(scenario_name, tuple(self.overrides)))
        except ConfigError as e:
            self.notice = f"These levers give an invalid design ({e}); showing the scenario as is."
            self.overrides, self.mandate_change = [], None
            cfg = copy.deepcopy(base)
        super().__init__(config=cfg, years=years, rng=seed)
        self._charts: dict[str, tuple[Any, bytes]] = {}
        self._figures: dict[str, Figure] = {}
        self._blit: dict[str, dict[str, Any]] = {}

    def command_line(self) -> str:
        """The ``govsim run`` line that reruns this single run."""
        parts = [f"scenario={self.scenario_name}", *self.overrides, f"seed={self.seed}"]
        parts.append(f"years={self.years}")
        return "govsim run " + " ".join(f'"{p}"' if "{" in p else p for p in parts)

    def meetings_held(self) -> int:
        """Meetings so far in all forums (cheap: no DataFrame)."""
        return len(self.datacollector.tables["meetings"]["step"])


# ----- what the page shows (plain functions on a model) -----------------------------------
def years_elapsed(step: pd.Series | np.ndarray | int) -> Any:
    """Time in years since the start for a step number (one step = one month)."""
    return np.asarray(step) / 12.0


def forum_label(model: GovernanceModel, forum: str) -> str:
    """The forum's display label from its config (its key when it has none)."""
    return model.config.forum[forum].label or forum


def representation_by_group(model: GovernanceModel) -> pd.DataFrame:
    """Representation ratio per forum, meeting and group, with the time in years."""
    df = model.datacollector.get_table_dataframe("attendance")
    if df.empty:
        return pd.DataFrame(columns=["forum", "step", "years", "group", "representation_ratio"])
    return df[["forum", "step", "group", "representation_ratio"]].assign(
        years=years_elapsed(df["step"])
    )[["forum", "step", "years", "group", "representation_ratio"]]


def participation_by_mode(model: GovernanceModel) -> pd.DataFrame:
    """Participation rate (attendances / eligible) per forum and meeting, onsite and remote."""
    df = model.datacollector.get_table_dataframe("meetings")
    if df.empty:
        return pd.DataFrame(columns=["forum", "step", "years", "onsite", "remote"])
    eligible = df["eligible"].clip(lower=1)
    return pd.DataFrame({
        "forum": df["forum"], "step": df["step"], "years": years_elapsed(df["step"]),
        "onsite": df["onsite"] / eligible, "remote": df["remote"] / eligible,
    })  # fmt: skip


def attainment_gap_series(model: GovernanceModel) -> pd.DataFrame:
    """Attainment gap and policy coverage after every step so far."""
    df = model.datacollector.get_model_vars_dataframe().rename_axis("step").reset_index()
    return df.assign(years=years_elapsed(df["step"]))


def latest_outcomes(model: GovernanceModel) -> pd.DataFrame:
    """One row per forum: its latest meeting, who came, and what became of each agenda issue."""
    meetings = model.datacollector.get_table_dataframe("meetings")
    outcomes = model.datacollector.get_table_dataframe("outcomes")
    labels = {k: (v.label or k) for k, v in model.config.issues.items()}
    rows = []
    for forum in model.forum_names:
        row = {"Forum": forum_label(model, forum)}
        held = meetings[meetings["forum"] == forum] if not meetings.empty else meetings
        if held.empty:
            rows.append({**row, "Latest meeting": "not met yet", "Attendance": "", "Outcome": ""})
            continue
        m = held.iloc[-1]
        out = outcomes[(outcomes["forum"] == forum) & (outcomes["step"] == m["step"])]
        rows.append({
            **row,
            "Latest meeting": f"year {m['year']}, {MONTHS[m['month'] - 1]} ({m['host']})",
            "Attendance": f"{m['onsite']} onsite + {m['remote']} remote of {m['eligible']}",
            "Outcome": _outcome_text(out, labels, bool(m["decisional"])),
        })  # fmt: skip
    return pd.DataFrame(rows)


def latest_outcomes_cached(model: DashboardModel) -> pd.DataFrame:
    """:func:`latest_outcomes`, recomputed only after a meeting."""
    version = ("outcomes", model.meetings_held())
    cached = model._charts.get("outcomes")
    if cached is None or cached[0] != version:
        cached = (version, latest_outcomes(model))
        model._charts["outcomes"] = cached
    return cached[1]


def _outcome_text(out: pd.DataFrame, labels: dict[str, str], decisional: bool) -> str:
    if not decisional:
        return "chair's summary only (no decision): " + ", ".join(labels[i] for i in out["issue"])
    parts = []
    for r in out.itertuples():
        if r.adopted and r.declined:
            verdict = "declined by the board"
        elif r.adopted:
            verdict = f"adopted at {r.outcome:.2f} (was {r.status_quo:.2f})"
        else:
            verdict = f"blocked ({r.objections} objecting)"
        parts.append(f"{labels[r.issue]}: {verdict}")
    return "; ".join(parts)


def headline(model: GovernanceModel) -> dict[str, Any]:
    """Where the run stands: time, attainment gap, policy coverage, decisions adopted."""
    return {
        "month": model.steps,
        "months": 12 * model.years,
        "year": model.year,
        "attainment_gap": float(model.attainment_gap()),
        "policy_coverage": float(model.policy_coverage()),
        "decisions": int(model.decisions),
        "meetings": len(model.datacollector.tables["meetings"]["step"]),
    }


# ----- charts -----------------------------------------------------------------------------
FONT = 10
"""Font size of legends and labels (the old page's 8-point legends were ~5 px on screen)."""


def _reuse(fig: Figure | None) -> Figure | None:
    """Empty a chart's axes of its data (lines, bars, notes, legends) for a redraw.

    Building axes is most of the cost of a chart (their ticks and transforms), so a
    redraw keeps them, and the legends, and replaces only what the data drew.
    """
    if fig is None:
        return None
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.patches, *ax.texts, *ax.collections]:
            artist.remove()
        ax.containers.clear()
        ax.relim()
    return fig


def _forum_axes(model: GovernanceModel, height: float = 3.3, fig: Figure | None = None):
    if _reuse(fig) is not None:
        return fig, list(fig.axes)
    n = len(model.forum_names)
    width = max(9.0, 2.7 * n + 0.9)
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=0.9 / width, right=0.98, top=0.9, bottom=0.33, wspace=0.12)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, forum in zip(axes, model.forum_names, strict=True):
        ax.set_title(forum_label(model, forum), fontsize=FONT + 1)
        ax.set_xlim(0, model.years)
        ax.set_xlabel("years", fontsize=FONT - 1)
        ax.tick_params(labelsize=FONT - 1)
        ax.grid(alpha=0.3)
    return fig, list(axes)


def _empty(ax) -> None:
    ax.text(0.5, 0.5, "no meeting yet", ha="center", va="center", transform=ax.transAxes,
            color="grey", fontsize=FONT)  # fmt: skip


def representation_figure(model: GovernanceModel, fig: Figure | None = None) -> Figure:
    """Representation ratio (voice share ÷ eligible share) by group, one panel per forum.

    A log scale: a ratio of 2 and one of 0.5 sit equally far from parity, and one
    group far above parity (the CSTD's developed governments, ~6) no longer
    flattens the others against the axis.
    """
    df = representation_by_group(model)
    fig, axes = _forum_axes(model, fig=fig)
    for ax, forum in zip(axes, model.forum_names, strict=True):
        ax.set_yscale("log", base=2)
        ax.axhline(1.0, color="black", lw=0.9, ls="--")
        sub = df[df["forum"] == forum]
        by_group = dict(tuple(sub.groupby("group", sort=False)))
        for g in GROUPS:
            line = by_group.get(g)
            if line is not None:
                y = line["representation_ratio"].clip(RATIO_FLOOR, RATIO_TOP)
                ax.plot(line["years"], y, marker="o", ms=3.5, lw=1.4, color=GROUP_COLOURS[g],
                        label=GROUP_LABELS[g])  # fmt: skip
        if sub.empty:
            _empty(ax)
    if not fig.legends:  # first draw: fixed scale and legend (a redraw paints data only)
        axes[0].set_ylim(RATIO_FLOOR * 0.9, RATIO_TOP)
        ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16]
        axes[0].set_yticks(ticks, [f"{t:g}" for t in ticks])
        axes[0].set_ylabel("representation ratio\n(log scale; 1 = parity)", fontsize=FONT - 1)
        handles = [Line2D([], [], color=GROUP_COLOURS[g], marker="o", ms=3.5, lw=1.4)
                   for g in GROUPS]  # fmt: skip
        fig.legend(handles, [GROUP_LABELS[g] for g in GROUPS], loc="lower center", ncols=3,
                   fontsize=FONT, frameon=False)  # fmt: skip
    return fig


def participation_figure(model: GovernanceModel, fig: Figure | None = None) -> Figure:
    """Share of eligible actors attending each meeting, onsite and remote (stacked)."""
    df = participation_by_mode(model)
    fig, axes = _forum_axes(model, fig=fig)
    fig.subplots_adjust(bottom=0.28)
    for ax, forum in zip(axes, model.forum_names, strict=True):
        sub = df[df["forum"] == forum]
        ax.bar(sub["years"], sub["onsite"], width=0.2, color="#1f4e79", label="onsite")
        ax.bar(sub["years"], sub["remote"], width=0.2, bottom=sub["onsite"], color="#9dc3e6",
               label="remote")  # fmt: skip
        ax.set_ylim(0, 1)
        if sub.empty:
            _empty(ax)
    if not fig.legends:
        axes[0].set_ylabel("share of eligible\nattending", fontsize=FONT - 1)
        fig.legend([Patch(color="#1f4e79"), Patch(color="#9dc3e6")], ["onsite", "remote"],
                   loc="lower center", ncols=2, fontsize=FONT, frameon=False)  # fmt: skip
    return fig


def attainment_figure(model: GovernanceModel, fig: Figure | None = None) -> Figure:
    """Attainment gap (developed − developing governments) and policy coverage over time."""
    df = attainment_gap_series(model)
    if _reuse(fig) is None:
        fig = Figure(figsize=(9.0, 3.0), dpi=DPI)
        fig.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.27)
        fig.subplots()
    ax = fig.axes[0]
    ax.axhline(0.0, color="black", lw=0.8, ls="--")
    ax.plot(df["years"], df["attainment_gap"], color="#c00000", lw=1.8,
            label="attainment gap (developed − developing)")  # fmt: skip
    ax.plot(df["years"], df["policy_coverage"], color="#548235", lw=1.4, ls=":",
            label="policy coverage (binding decisions)")  # fmt: skip
    ax.set_xlim(0, model.years)
    values = df[["attainment_gap", "policy_coverage"]].to_numpy(float)
    lo, hi = np.nanmin(values, initial=0.0), np.nanmax(values, initial=0.1)
    limits = (min(0.0, np.floor(lo * 10 - 0.2) / 10), np.ceil(hi * 10 + 0.2) / 10)
    if tuple(ax.get_ylim()) != limits:  # steps of 0.1: the scale rarely changes
        ax.set_ylim(*limits)
    ax.set_xlabel("years", fontsize=FONT - 1)
    ax.set_ylabel("gap / coverage (0–1)", fontsize=FONT - 1)
    ax.tick_params(labelsize=FONT - 1)
    ax.grid(alpha=0.3)
    if not fig.legends:
        fig.legend(loc="lower center", ncols=2, fontsize=FONT, frameon=False)
    return fig


CHARTS: dict[str, tuple[str, Callable, Callable]] = {
    "representation": (
        "Representation ratio by group (voice share ÷ share of the eligible; "
        "a group with no voice is drawn at the bottom edge)",
        representation_figure, representation_by_group,
    ),
    "attainment": (
        "Attainment gap (developed − developing governments; 0 = equal) and policy coverage",
        attainment_figure, attainment_gap_series,
    ),
    "participation": (
        "Participation by mode (share of the eligible attending)",
        participation_figure, participation_by_mode,
    ),
}  # fmt: skip
"""Chart name -> (heading, figure function, data function)."""


def chart_version(model: DashboardModel, name: str) -> tuple[int, ...]:
    """What a chart depends on: the month for the attainment chart, else the meetings held."""
    return (model.steps,) if name == "attainment" else (model.meetings_held(),)


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 90) -> bytes:
    """A figure as PNG or SVG bytes."""
    buf = io.BytesIO()
    # fast zlib level for PNG: the encoder was a third of a chart's cost at the default
    extra = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
    fig.savefig(buf, format=fmt, dpi=dpi, **extra)
    return buf.getvalue()


BLIT = ("representation", "participation", "attainment")
"""Charts redrawn by painting only the data on a saved background (redrawn when a scale moves)."""


def _data_artists(ax) -> list:
    return sorted([*ax.lines, *ax.patches, *ax.texts, *ax.collections], key=lambda a: a.zorder)


def blit_png(fig: Figure, state: dict[str, Any]) -> bytes:
    """PNG of ``fig``: axes, ticks and legends drawn once and kept (``state``), data on top.

    A full draw of a three-panel chart spends most of its time on ticks, labels and
    legends that rarely change; this paints only the lines, bars and notes, and
    draws the background again only when an axis' limits moved.
    """
    canvas = state.get("canvas")
    if canvas is None:
        canvas = state["canvas"] = FigureCanvasAgg(fig)
    for ax in fig.axes:
        for a in _data_artists(ax):
            a.set_animated(True)
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in fig.axes]
    if state.get("limits") != limits:  # a scale moved: the background changes
        state.pop("background", None)
        state["limits"] = limits
    if "background" not in state:
        canvas.draw()  # animated artists are skipped: this is the background
        state["background"] = canvas.copy_from_bbox(fig.bbox)
    else:
        canvas.restore_region(state["background"])
    for ax in fig.axes:
        for a in _data_artists(ax):
            ax.draw_artist(a)
    w, h = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def chart_png(model: DashboardModel, name: str) -> bytes:
    """The chart ``name`` of :data:`CHARTS` as PNG, redrawn only when its data changed."""
    version = chart_version(model, name)
    cached = model._charts.get(name)
    if cached is None or cached[0] != version:
        fig = CHARTS[name][1](model, model._figures.get(name))
        model._figures[name] = fig
        if name in BLIT:
            png = blit_png(fig, model._blit.setdefault(name, {}))
        else:
            png = figure_bytes(fig, dpi=DPI)
        cached = (version, png)
        model._charts[name] = cached
    return cached[1]


def chart_export(model: DashboardModel, name: str, fmt: str) -> bytes:
    """The chart ``name`` as ``png`` (150 dpi), ``svg`` or its data as ``csv``."""
    if fmt == "csv":
        return CHARTS[name][2](model).to_csv(index=False).encode()
    return figure_bytes(CHARTS[name][1](model), fmt=fmt, dpi=150)


# ----- comparison: two settings as a study --------------------------------------------------
class ComparisonError(ValueError):
    """Two settings that a study file cannot express (message says why)."""


def _lookup(cfg: dict[str, Any], key: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        node = node[part]
    return node


def _split(overrides: list[str]) -> tuple[dict[str, str], list[str]]:
    """``k=v`` overrides as a dict; deletions (``~k=...``) apart."""
    keys, deletes = {}, []
    for o in overrides:
        if o.startswith("~"):
            deletes.append(o)
        else:
            k, _, v = o.partition("=")
            keys[k] = v
    return keys, deletes


def _grid(differ: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """Grid keys for the keys where A and B differ: one per forum (or other node).

    Keys under the same node (``forum.cstd.decision`` and ``forum.cstd.threshold``)
    become one grid key whose two values are Hydra dicts merged into the node
    (``forum.cstd={decision:majority,threshold:0.6}``), so A and B are two grid
    points instead of the corners of a larger grid.
    """
    nodes: dict[str, dict[str, tuple[Any, Any]]] = {}
    for k, v in differ.items():
        node, _, leaf = k.rpartition(".")
        if "." not in node:  # a top-level section's key (behaviour.polarization): as it is
            node, leaf = k, ""
        nodes.setdefault(node, {})[leaf] = v
    grid: dict[str, list[Any]] = {}
    for node, leaves in nodes.items():
        if len(leaves) == 1:
            leaf, values = next(iter(leaves.items()))
            grid[f"{node}.{leaf}" if leaf else node] = list(values)
        else:
            grid[node] = [
                "{" + ",".join(f"{leaf}:{hydra_value(v[i])}" for leaf, v in leaves.items()) + "}"
                for i in (0, 1)
            ]
    return grid


def comparison_study(a: Levers, b: Levers, replicates: int) -> dict[str, Any]:
    """The study (as a YAML-ready dict) that runs settings A and B with ``replicates`` each.

    A and B share the replicates' seeds (root seed = A's seed; common random
    numbers). Scenarios: A's, and B's if different. The keys whose values differ
    between A and B become grid keys with values [A's, B's] (one per forum, see
    :func:`_grid`; the behaviour group is one key, ``behaviour``, whatever parameters it
    sets); the rest are common overrides. The baseline is A's condition,
    so ``govsim experiment`` reports B − A. With k grid keys the grid has 2^k points
    per scenario: the mixed points are run too, and A and B are two of them.
    """
    (ka, da), (kb, db) = _split(a.overrides()), _split(b.overrides())
    for k in (ka, kb):  # the behaviour group: one grid key by its name (below), not its keys
        k.pop("behaviour", None)
    if sorted(da) != sorted(db):
        raise ComparisonError(
            "A study file cannot remove a mandate link for one setting only: "
            "set the mandate lever the same in A and B (or compare on/as in scenario)"
        )
    ca = to_container(scenario_config(a.scenario_name, tuple(a.overrides())))
    cb = to_container(scenario_config(b.scenario_name, tuple(b.overrides())))
    if ca == cb and a.years == b.years:
        raise ComparisonError("A and B are the same setting: change a lever and set B again")
    common, differ = list(da), {}
    for k in sorted(set(ka) | set(kb)):
        va, vb = _lookup(ca, k), _lookup(cb, k)
        if va == vb:
            common.append(f"{k}={hydra_value(va)}")
        else:
            differ[k] = (va, vb)
    grid = _grid(differ)
    if a.behaviour != b.behaviour:
        grid = {"behaviour": [a.behaviour, b.behaviour], **grid}
    elif a.behaviour != "default":
        common.insert(0, f"behaviour={a.behaviour}")
    if a.years != b.years:
        grid["years"] = [a.years, b.years]
    scen = [a.scenario_name] + ([b.scenario_name] if b.scenario_name != a.scenario_name else [])
    metrics = [m for m in HEADLINE_METRICS if m.partition("@")[0] in METRICS]
    doc: dict[str, Any] = {
        "title": "Dashboard comparison: A vs B",
        "question": f"How does B ({b.describe()}) differ from A ({a.describe()})?",
        "scenarios": scen,
        "baseline": {"scenario": a.scenario_name, **{k: v[0] for k, v in grid.items()}},
        "grid": grid,
        "overrides": common,
        "replicates": int(replicates),
        "root_seed": int(a.seed),
        "metrics": metrics,
        "figures": ["scenario_comparison"],
    }
    if a.years == b.years:
        doc["years"] = int(a.years)
    digest = hashlib.sha256(yaml.safe_dump(doc, sort_keys=True).encode()).hexdigest()[:10]
    return {"name": f"dashboard_{digest}", **doc}


def comparison_study_text(a: Levers, b: Levers, replicates: int) -> str:
    """The study file for A vs B (see :func:`comparison_study`), ready for ``govsim experiment``."""
    doc = comparison_study(a, b, replicates)
    head = (
        "# Written by the govsim dashboard: setting A vs setting B, replicates under common\n"
        f"# random numbers. A: {a.describe()}\n# B: {b.describe()}\n"
        f"# Run it: govsim experiment {doc['name']}.yaml\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def condition_of(study: Study, levers: Levers, which: int) -> dict[str, Any]:
    """The condition (scenario and grid values) of setting A (``which=0``) or B (1)."""
    return {"scenario": levers.scenario_name, **{k: v[which] for k, v in study.grid.items()}}


def cache_folder(root: Path | str, study: Study) -> Path:
    """Where the dashboard keeps a comparison's runs: ``root/NAME`` (NAME hashes the study)."""
    return Path(root) / study.name


def pending_runs(study: Study, folder: Path) -> tuple[int, int]:
    """(runs in the study, runs already stored in ``folder``)."""
    keys = {s.key for s in expand(study)}
    store = RunStore(folder)
    return len(keys), sum(store.has(k) for k in keys)


def run_comparison(text: str, folder: Path) -> tuple[Study, ExecutionReport]:
    """Run the study ``text`` into ``folder`` with one worker (stored runs are reused)."""
    study = parse_study(text, path=str(folder / "study.yaml"))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(text)
    report = run_study(study, folder, jobs=1, progress=False)
    return study, report


@dataclass
class Comparison:
    """A finished comparison: the design effect, both settings' means and their yearly bands."""

    study: Study
    text: str
    folder: Path
    effects: pd.DataFrame
    yearly: pd.DataFrame


def comparison_tables(study: Study, text: str, folder: Path, a: Levers, b: Levers) -> Comparison:
    """Design effect B − A per headline measure (paired by replicate) and participation bands.

    Uses :func:`sim.studies.stats.compare` on the stored runs (means and paired differences,
    intervals clipped to each measure's possible range), the computation behind
    ``govsim experiment``'s ``summary.csv`` and ``differences.csv``, so the numbers are equal.
    """
    table, _, _ = aggregate(folder)
    keys = list(study.grid)
    cond = stats.conditions(table, keys)
    ca, cb = condition_of(study, a, 0), condition_of(study, b, 1)

    def pick(df: pd.DataFrame, c: dict[str, Any]) -> pd.DataFrame:
        mask = np.ones(len(df), bool)
        for k in cond:
            mask &= (df[k] == c[k]).to_numpy()
        return df[mask]

    summary, diffs = stats.compare(table, study.metrics, study.baseline, keys)
    diffs = pick(diffs, cb)
    sa, sb = pick(summary, ca).set_index("metric"), pick(summary, cb).set_index("metric")
    rows = []
    for m in study.metrics:
        d = diffs[diffs["metric"] == m.text].iloc[0]
        rows.append({
            "metric": m.text, "measure": m.label, "unit": m.unit,
            "A_mean": sa.at[m.text, "mean"], "A_lo": sa.at[m.text, "lo"],
            "A_hi": sa.at[m.text, "hi"],
            "B_mean": sb.at[m.text, "mean"], "B_lo": sb.at[m.text, "lo"],
            "B_hi": sb.at[m.text, "hi"],
            "effect": d["diff"], "effect_lo": d["lo"], "effect_hi": d["hi"], "n": int(d["n"]),
            "clipped": bool(d["clipped"]),
        })  # fmt: skip
    yearly = stats.yearly(table, keys)
    parts = [pick(yearly, c).assign(setting=s) for s, c in (("A", ca), ("B", cb))]
    bands = pd.concat(parts, ignore_index=True)[["setting", "group", "year", "n", "mean", "lo",
                                                  "hi"]]  # fmt: skip
    return Comparison(study, text, folder, pd.DataFrame(rows), bands)


def bands_figure(comp: Comparison) -> Figure:
    """Participation rate per year and group, A and B: mean and 95% band over replicates.

    One panel per group, each with its own scale (governments' rates and
    non-state groups' differ by an order of magnitude).
    """
    fig = Figure(figsize=(10.0, 5.0))
    fig.subplots_adjust(left=0.07, right=0.99, top=0.93, bottom=0.14, hspace=0.45, wspace=0.25)
    axes = fig.subplots(2, 3).ravel()
    colours = {"A": "#0072B2", "B": "#D55E00"}
    styles = {"A": {"lw": 2.4, "ls": "-"}, "B": {"lw": 1.8, "ls": "--"}}  # both seen when equal
    for ax, g in zip(axes, GROUPS, strict=True):
        sub = comp.yearly[comp.yearly["group"] == g]
        for s, c in colours.items():
            d = sub[sub["setting"] == s].sort_values("year")
            ax.plot(d["year"], d["mean"], color=c, label=f"setting {s}", **styles[s])
            ax.fill_between(d["year"], d["lo"], d["hi"], color=c, alpha=0.2, lw=0)
        ax.set_title(GROUP_LABELS[g], fontsize=FONT)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=FONT - 1)
        ax.grid(alpha=0.3)
        ax.set_xlabel("year", fontsize=FONT - 1)
    axes[0].set_ylabel("participation rate", fontsize=FONT - 1)
    axes[3].set_ylabel("participation rate", fontsize=FONT - 1)
    h, lab = axes[0].get_legend_handles_labels()
    fig.legend(h, [f"{x} (mean, 95% band)" for x in lab], loc="lower center", ncols=2,
               fontsize=FONT, frameon=False)  # fmt: skip
    return fig


def fmt_interval(mean: float, lo: float, hi: float, signed: bool = False) -> str:
    """``0.123 [0.100, 0.150]`` (no interval with fewer than two replicates)."""
    f = "{:+.3f}" if signed else "{:.3f}"
    if not np.isfinite(mean):
        return "n/a"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f.format(mean)
    return f"{f.format(mean)} [{f.format(lo)}, {f.format(hi)}]"


def lever_fields() -> list[str]:
    """The names of the levers (fields of :class:`Levers`)."""
    return [f.name for f in fields(Levers)]
