"""The govsim dashboard: move an institutional-design lever and watch a scenario unfold.

A Mesa SolaraViz app over :class:`~sim.model.GovernanceModel`. The sidebar holds
the levers (scenario, the forum to redesign and its decision rule, supermajority
threshold, funded travel slots, remote participation and formal mandate, plus
polarization, horizon and seed); **Reset** builds a model with them and **Step**
or **▶** advance it month by month. The main panel shows where the run stands,
the representation ratio of each stakeholder group in each forum, the attainment
gap, participation by mode, and the outcome of each forum's latest meeting.

Run it with ``govsim dashboard [--port N]`` (serves on 127.0.0.1) or
``solara run sim.present.app``. The levers map onto Hydra overrides of the scenario
(shown on the page, so a setting found here can be rerun as a study with
``govsim run``); forum levers left at "as in scenario" keep the scenario's own
design. This module only reads the model: the model never imports it.
"""

from __future__ import annotations

import copy
import functools
from html import escape
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from sim.model import GovernanceModel
from sim.model.compose import CONFIG_DIR, load_config, scenarios
from sim.model.config import GROUP_LABELS, GROUPS, ConfigError, GovsimConfig, LinkConfig
from sim.present.plots import GROUP_COLOURS

AS_IN_SCENARIO = "as in scenario"
"""Value of a forum lever that keeps the scenario's own design."""

DECISION_RULES = ("package_consensus", "consensus", "majority", "rough_consensus", "none")
"""Decision rules offered on the page (see :mod:`sim.model.forums.decision`)."""

MANDATE_WEIGHT = 0.3
"""Authority a formal mandate adds when the dashboard switches one on (as in ``cstd_anchor``)."""

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ----- configs and levers ------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def scenario_config(scenario: str, overrides: tuple[str, ...] = ()) -> GovsimConfig:
    """The validated config of ``scenario`` with Hydra ``overrides``, composed once and cached.

    Callers must not mutate the result (:class:`DashboardModel` deep-copies it).
    """
    return load_config(scenario, overrides)


def forum_choices() -> list[str]:
    """The forum presets in ``configs/forum/`` (scenarios mount them under the same key)."""
    return sorted(p.stem for p in (CONFIG_DIR / "forum").glob("*.yaml"))


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
    decision rule (chosen or the scenario's) is ``majority``. A forum the
    scenario does not include gets no overrides.
    """
    if forum not in base.forum:
        return []
    f, key, out = base.forum[forum], f"forum.{forum}", []
    rule = f.decision if decision_rule == AS_IN_SCENARIO else decision_rule
    if rule != f.decision:
        out.append(f"{key}.decision={rule}")
    if rule == "majority" and not np.isclose(threshold, f.threshold):
        out.append(f"{key}.threshold={round(float(threshold), 4)}")
    if funded_slots >= 0 and (f.support != "funded_slots" or funded_slots != f.funded_slots):
        out += [f"{key}.support=funded_slots", f"{key}.funded_slots={int(funded_slots)}"]
    if remote != AS_IN_SCENARIO and (remote == "on") != f.remote:
        out.append(f"{key}.remote={'true' if remote == 'on' else 'false'}")
    return out


def set_mandate(cfg: GovsimConfig, forum: str, mandate: str) -> str | None:
    """Switch a formal mandate on ``forum`` on or off in ``cfg`` (in place).

    Returns a description of the change, or None when there is none. "on" adds a
    ``mandate`` link of weight :data:`MANDATE_WEIGHT` unless one exists; "off"
    removes every mandate link to the forum.
    """
    if mandate == AS_IN_SCENARIO or forum not in cfg.forum:
        return None
    existing = [k for k, v in cfg.links.items() if v.kind == "mandate" and v.target == forum]
    if mandate == "on" and not existing:
        cfg.links[f"{forum}_mandate"] = LinkConfig(
            kind="mandate", target=forum, weight=MANDATE_WEIGHT
        )
        return f"formal mandate on {forum} (authority +{MANDATE_WEIGHT}; not binding by itself)"
    if mandate == "off" and existing:
        for k in existing:
            del cfg.links[k]
        return f"no formal mandate on {forum}"
    return None


class DashboardModel(GovernanceModel):
    """A :class:`GovernanceModel` built from the dashboard's levers.

    Args:
        scenario_name: a scenario in ``configs/scenario/`` (named so as not to clash
            with Mesa's own ``Model.scenario``).
        forum: the forum the forum levers redesign.
        decision_rule: that forum's decision rule, or "as in scenario".
        threshold: share of votes needed to adopt when the rule is ``majority``.
        funded_slots: funded travel slots per meeting in that forum (< 0: as in scenario).
        remote: remote participation in that forum: "on", "off" or "as in scenario".
        mandate: formal UNGA/ECOSOC mandate on that forum: "on", "off" or "as in scenario".
        polarization: distance between developed and developing governments' positions.
        years: horizon in years.
        seed: the run's seed (the same levers and seed give the same run).
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
        polarization: float = 1.0,
        years: int = 10,
        seed: int = 0,
    ) -> None:
        self.scenario_name = scenario_name
        self.forum = forum
        self.decision_rule = decision_rule
        self.threshold = threshold
        self.funded_slots = funded_slots
        self.remote = remote
        self.mandate = mandate
        self.polarization = polarization
        self.horizon = years
        self.seed = seed

        base = scenario_config(scenario_name)
        self.notice = None
        if forum not in base.forum:
            self.notice = (
                f"Forum '{forum}' is not part of scenario '{scenario_name}' "
                f"(it has {', '.join(base.forum)}): the forum levers are ignored."
            )
        self.overrides = lever_overrides(
            base, forum, decision_rule, threshold, funded_slots, remote
        )
        try:
            cfg = copy.deepcopy(scenario_config(scenario_name, tuple(self.overrides)))
        except ConfigError as e:
            self.notice = f"These levers give an invalid design ({e}); showing the scenario as is."
            self.overrides = []
            cfg = copy.deepcopy(base)
        self.mandate_change = set_mandate(cfg, forum, mandate)
        super().__init__(config=cfg, years=years, polarization=polarization, rng=seed)

    def command_line(self) -> str:
        """The ``govsim run`` line that reruns these levers (the mandate switch excepted)."""
        parts = [f"scenario={self.scenario_name}", *self.overrides, f"seed={self.seed}"]
        parts.append(f"years={self.years}")
        if not np.isclose(self.polarization, 1.0):
            parts.append(f"behaviour.polarization={self.polarization}")
        return "govsim run " + " ".join(parts)


# ----- what the page shows (plain functions on a model; tested without a browser) ----
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
        return pd.DataFrame(columns=["forum", "step", "group", "representation_ratio", "years"])
    return df[["forum", "step", "group", "representation_ratio"]].assign(
        years=years_elapsed(df["step"])
    )


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
        "meetings": len(model.datacollector.get_table_dataframe("meetings")),
    }


# ----- figures -------------------------------------------------------------------------
def _forum_axes(model: GovernanceModel, height: float = 3.0) -> tuple[Figure, list]:
    n = len(model.forum_names)
    fig = Figure(figsize=(2.6 * n + 0.6, height), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, forum in zip(axes, model.forum_names, strict=True):
        ax.set_title(forum_label(model, forum), fontsize=10)
        ax.set_xlim(0, model.years)
        ax.set_xlabel("years")
        ax.grid(alpha=0.3)
    return fig, list(axes)


def representation_figure(model: GovernanceModel) -> Figure:
    """Representation ratio (voice share ÷ eligible share) by group, one panel per forum."""
    df = representation_by_group(model)
    fig, axes = _forum_axes(model)
    for ax, forum in zip(axes, model.forum_names, strict=True):
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        sub = df[df["forum"] == forum]
        for g in GROUPS:
            line = sub[sub["group"] == g]
            if not line.empty:
                ax.plot(line["years"], line["representation_ratio"], marker="o", ms=3, lw=1.2,
                        color=GROUP_COLOURS[g], label=GROUP_LABELS[g])  # fmt: skip
        if sub.empty:
            ax.text(0.5, 0.5, "no meeting yet", ha="center", va="center", transform=ax.transAxes,
                    color="grey")  # fmt: skip
    axes[0].set_ylabel("representation ratio\n(1 = parity)")
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines() if h.get_marker() == "o"}
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center",
                   ncols=3, fontsize=8, frameon=False)  # fmt: skip
    return fig


def participation_figure(model: GovernanceModel) -> Figure:
    """Share of eligible actors attending each meeting, onsite and remote (stacked)."""
    df = participation_by_mode(model)
    fig, axes = _forum_axes(model)
    for ax, forum in zip(axes, model.forum_names, strict=True):
        sub = df[df["forum"] == forum]
        ax.bar(sub["years"], sub["onsite"], width=0.2, color="#1f4e79", label="onsite")
        ax.bar(sub["years"], sub["remote"], width=0.2, bottom=sub["onsite"], color="#9dc3e6",
               label="remote")  # fmt: skip
        ax.set_ylim(0, 1)
        if sub.empty:
            ax.text(0.5, 0.5, "no meeting yet", ha="center", va="center", transform=ax.transAxes,
                    color="grey")  # fmt: skip
    axes[0].set_ylabel("share of eligible\nattending")
    h, lab = axes[0].get_legend_handles_labels()
    fig.legend(h[:2] or None, lab[:2] or ["onsite", "remote"], loc="outside lower center",
               ncols=2, fontsize=8, frameon=False)  # fmt: skip
    return fig


def attainment_figure(model: GovernanceModel) -> Figure:
    """Attainment gap (developed − developing governments) and policy coverage over time."""
    df = attainment_gap_series(model)
    fig = Figure(figsize=(6.0, 3.0), layout="constrained")
    ax = fig.subplots()
    ax.axhline(0.0, color="black", lw=0.8, ls="--")
    ax.plot(df["years"], df["attainment_gap"], color="#c00000", lw=1.8, marker=".", ms=3,
            label="attainment gap (developed − developing)")  # fmt: skip
    ax.plot(df["years"], df["policy_coverage"], color="#548235", lw=1.2, ls=":",
            label="policy coverage (binding decisions)")  # fmt: skip
    ax.set_xlim(0, model.years)
    ax.set_xlabel("years")
    ax.set_ylabel("gap / coverage")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8, frameon=False)
    return fig


# ----- Solara components ---------------------------------------------------------------
def _html(markup: str, style: str = "") -> Any:
    """A block of HTML (Solara's Markdown would load KaTeX from a CDN, which may be offline)."""
    return solara.HTML(tag="div", unsafe_innerHTML=markup, style=style)


def StatusCard(model: DashboardModel):
    """Where the run stands and what the levers changed: what an analyst reads first."""
    h = headline(model)
    gap = h["attainment_gap"]
    side = "developed" if gap > 0 else "developing"
    changes = [f"<code>{escape(o)}</code>" for o in model.overrides]
    if model.mandate_change:
        changes.append(escape(model.mandate_change))
    if not np.isclose(model.polarization, 1.0):
        changes.append(f"polarization {model.polarization:g}")
    who = "no gap" if np.isclose(gap, 0) else f"{side} governments get more of what they want"
    parts = []
    if model.notice:
        parts.append(f'<p style="color: #9c5700"><b>⚠ {escape(model.notice)}</b></p>')
    if model.steps == 0:
        parts.append("<p><i>Press <b>Step</b> (or ▶) to advance month by month; <b>Reset</b> "
                     "applies the levers on the left.</i></p>")  # fmt: skip
    parts += [
        f"<h3>{escape(model.scenario_name.replace('_', ' '))}: "
        f"month {h['month']} of {h['months']}</h3>",
        f"<p><b>Attainment gap {gap:+.3f}</b> ({who}) · "
        f"<b>policy coverage {h['policy_coverage']:.2f}</b> · "
        f"<b>{h['decisions']} decisions adopted</b> in {h['meetings']} meetings</p>",
        "<p><b>Changed from the scenario:</b> " + ("; ".join(changes) or "nothing") + "</p>",
        f"<p>Rerun as a study: <code>{escape(model.command_line())}</code></p>",
    ]
    return _html("\n".join(parts), style="line-height: 1.5")


def _chart(heading: str, figure: Figure):
    """A titled matplotlib chart panel."""
    with solara.Column(gap="0px") as main:
        _html(heading)
        solara.FigureMatplotlib(figure, format="png", dpi=90)
    return main


def RepresentationChart(model: GovernanceModel):
    """Representation ratio by group, per forum."""
    return _chart(
        "<b>Representation ratio by group</b> (voice share ÷ share of the eligible)",
        representation_figure(model),
    )


def AttainmentChart(model: GovernanceModel):
    """Attainment gap and policy coverage over time."""
    return _chart(
        "<b>Attainment gap</b> (developed − developing governments; 0 = equal)",
        attainment_figure(model),
    )


def ParticipationChart(model: GovernanceModel):
    """Participation by mode, per forum."""
    return _chart(
        "<b>Participation by mode</b> (share of the eligible attending)",
        participation_figure(model),
    )


def OutcomeTable(model: GovernanceModel):
    """The latest meeting's outcome in each forum."""
    df = latest_outcomes(model)
    with solara.Column(gap="0px") as main:
        _html("<b>Latest meeting in each forum</b>")
        table = df.to_html(index=False, border=0, escape=True, classes="govsim-outcomes")
        solara.HTML(tag="div", unsafe_innerHTML=TABLE_STYLE + table,
                    style="font-size: 0.85em; overflow: auto")  # fmt: skip
    return main


TABLE_STYLE = (
    "<style>.govsim-outcomes td, .govsim-outcomes th {padding: 3px 10px; text-align: left;"
    " vertical-align: top} .govsim-outcomes tr:nth-child(even) {background: #f3f6fa}</style>"
)

MODEL_PARAMS: dict[str, Any] = {
    "scenario_name": {
        "type": "Select", "value": "status_quo", "values": scenarios(), "label": "Scenario",
    },
    "forum": {
        "type": "Select", "value": "cstd", "values": forum_choices(),
        "label": "Forum to redesign",
    },
    "decision_rule": {
        "type": "Select", "value": AS_IN_SCENARIO, "values": [AS_IN_SCENARIO, *DECISION_RULES],
        "label": "Decision rule",
    },
    "threshold": {
        "type": "SliderFloat", "value": 0.67, "min": 0.5, "max": 1.0, "step": 0.01,
        "label": "Supermajority (majority rule)",
    },
    "funded_slots": {
        "type": "SliderInt", "value": -1, "min": -1, "max": 100, "step": 1,
        "label": "Funded slots (-1: scenario)",
    },
    "remote": {
        "type": "Select", "value": AS_IN_SCENARIO, "values": [AS_IN_SCENARIO, "on", "off"],
        "label": "Remote participation",
    },
    "mandate": {
        "type": "Select", "value": AS_IN_SCENARIO, "values": [AS_IN_SCENARIO, "on", "off"],
        "label": "Formal mandate (UNGA/ECOSOC)",
    },
    "polarization": {
        "type": "SliderFloat", "value": 1.0, "min": 0.0, "max": 3.0, "step": 0.1,
        "label": "Polarization",
    },
    "years": {"type": "SliderInt", "value": 10, "min": 1, "max": 20, "step": 1,
              "label": "Horizon (years)"},
    "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 99, "step": 1, "label": "Seed"},
}  # fmt: skip
"""The sidebar's levers: keyword arguments of :class:`DashboardModel`."""

COMPONENTS = [StatusCard, RepresentationChart, AttainmentChart, ParticipationChart, OutcomeTable]


def make_page(model: DashboardModel | None = None):
    """The SolaraViz element over ``model`` (default: the status quo)."""
    return SolaraViz(
        DashboardModel() if model is None else model,
        components=COMPONENTS,
        model_params=MODEL_PARAMS,
        name="govsim: institutional design dashboard",
        play_interval=150,
    )


page = make_page()
