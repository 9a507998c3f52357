"""The govsim dashboard: move an institutional-design lever, watch a scenario unfold, compare two.

A Solara page (``Page``) over :class:`~sim.present.dashboard_data.DashboardModel`.
The sidebar holds the levers, each showing its value and unit; **Reset** builds a
model with them, **Step** advances a month and **Run to the end** runs the rest of
the horizon in the background with a progress bar. The main panel shows where the
run stands, three charts (each downloadable as PNG, SVG and CSV), the outcome of
each forum's latest meeting, and **Compare**: two settings A and B run over
replicates through the study engine (:func:`sim.studies.launch.run_study`, cached
under ``results/dashboard/``), drawn as bands, with the design effect B − A on
the headline measures and its 95% interval, and a **save as study** download that
``govsim experiment`` runs unchanged.

Why plain Solara and not Mesa's ``SolaraViz``: SolaraViz keeps one model object
for the whole server process (a second browser session saw the first one's run),
redraws every chart on every step, and puts its own controls on the page ("Play
Interval (ms)", "Use Threads", a lone "PAGE 0" tab). Here all state lives in the
page component's hooks and in ``solara.lab.task`` objects, which Solara keeps per
browser session (virtual kernel), and charts are redrawn only when their data
change (:func:`sim.present.dashboard_data.chart_png`).

Run it with ``govsim dashboard [--port N]`` (serves on 127.0.0.1) or ``solara run
sim.present.app``. This module only reads the model: the model never imports it.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import asdict
from html import escape
from typing import Any

import numpy as np
import solara
import solara.lab

from sim.model.compose import scenarios
from sim.model.forums import describe
from sim.present.dashboard_data import (
    AS_IN_SCENARIO,
    CHARTS,
    Comparison,
    DashboardModel,
    Levers,
    bands_figure,
    behaviour_choices,
    cache_folder,
    chart_export,
    chart_png,
    comparison_study_text,
    comparison_tables,
    decision_rules,
    figure_bytes,
    fmt_interval,
    forum_choices,
    headline,
    latest_outcomes_cached,
    pending_runs,
    run_comparison,
)
from sim.resources import results_dir
from sim.studies.spec import parse_study

# Solara warns, in nine lines on every page load, that a cookie over plain http on
# 127.0.0.1 falls back to samesite=lax: true and harmless for a loopback server.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

MIME = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv", "yaml": "text/yaml"}


# ----- background work (Solara keeps one task state per browser session) -----------------
@solara.lab.task
def run_to_end(model: DashboardModel) -> int:
    """Step ``model`` to its horizon, reporting progress (percent of the months)."""
    total, shown = 12 * model.years, time.perf_counter()
    while model.running and model.steps < total:
        model.step()
        if time.perf_counter() - shown > 0.3:  # a page update costs more than a month's step
            run_to_end.progress = 100.0 * model.steps / total
            shown = time.perf_counter()
    return model.steps


@solara.lab.task
def compare(a: Levers, b: Levers, replicates: int, root: str) -> Comparison:
    """Run A and B as a study into ``root`` (stored runs reused) and compute the design effect."""
    text = comparison_study_text(a, b, replicates)
    study = parse_study(text)
    folder = cache_folder(root, study)
    total, stored = pending_runs(study, folder)
    compare.progress = 100.0 * stored / total
    out: dict[str, Any] = {}

    def work() -> None:
        try:
            out["result"] = run_comparison(text, folder)
        except Exception as e:  # shown on the page
            out["error"] = e

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        compare.progress = 100.0 * pending_runs(study, folder)[1] / total
    if "error" in out:
        raise out["error"]
    study, report = out["result"]
    if report.failed:
        key, err = next(iter(report.failed.items()))
        raise RuntimeError(f"{len(report.failed)} runs failed, e.g. {key}: {err.splitlines()[0]}")
    return comparison_tables(study, text, folder, a, b)


# ----- small pieces ---------------------------------------------------------------------
def _html(markup: str, style: str = "") -> Any:
    """A block of HTML (Solara's Markdown would load KaTeX from a CDN, which may be offline)."""
    return solara.HTML(tag="div", unsafe_innerHTML=markup, style=style)


def _downloads(name: str, make, formats=("png", "svg", "csv")) -> None:
    """Download buttons: ``make(fmt)`` gives the bytes, called only on click."""
    with solara.Row(gap="4px"):
        for fmt in formats:
            solara.FileDownload(lambda fmt=fmt: make(fmt), filename=f"{name}.{fmt}",
                                label=fmt.upper(), mime_type=MIME[fmt],
                                icon_name="mdi-download")  # fmt: skip


def _slots_label(levers: Levers) -> str:
    v = levers.funded_slots
    if v >= 0:
        return f"Funded travel slots per meeting: {v} delegates"
    f = levers.base().forum.get(levers.forum)
    now = f"{f.funded_slots} delegates" if f and f.support == "funded_slots" else "none"
    return f"Funded travel slots per meeting: as in scenario ({now})"


def effective_rule(levers: Levers) -> str:
    """The decision rule the chosen forum will use (the scenario's unless the lever sets one)."""
    if levers.decision_rule != AS_IN_SCENARIO:
        return levers.decision_rule
    f = levers.base().forum.get(levers.forum)
    return f.decision if f else ""


@solara.component
def LeverPanel(levers: solara.Reactive[Levers]):
    """The levers, each with its value and unit in its label."""
    v = levers.value

    def setter(name: str):
        return lambda x: levers.set(levers.value.set(**{name: x}))

    solara.Select("Scenario", values=scenarios(), value=v.scenario_name,
                  on_value=setter("scenario_name"))  # fmt: skip
    solara.Select("Forum to redesign", values=forum_choices(), value=v.forum,
                  on_value=setter("forum"))  # fmt: skip
    rules = [AS_IN_SCENARIO, *decision_rules()]
    solara.Select("Decision rule (none = chair's summary)", values=rules, value=v.decision_rule,
                  on_value=setter("decision_rule"))  # fmt: skip
    game = describe("decision", effective_rule(v)).game
    voting = game is not None and game.share is not None  # the rule's game has a vote share
    _slider(f"Votes needed to adopt: {v.threshold:.0%}"
            + ("" if voting else " (the rule takes no vote)"), v.threshold, setter("threshold"),
            0.5, 1.0, 0.01, disabled=not voting)  # fmt: skip
    _slider(_slots_label(v), v.funded_slots, setter("funded_slots"), -1, 100)
    solara.Select("Remote participation", values=[AS_IN_SCENARIO, "on", "off"],
                  value=v.remote, on_value=setter("remote"))  # fmt: skip
    solara.Select("Formal mandate (UNGA/ECOSOC)", values=[AS_IN_SCENARIO, "on", "off"],
                  value=v.mandate, on_value=setter("mandate"))  # fmt: skip
    solara.Select("Attendance behaviour (an assumption: see both)", values=behaviour_choices(),
                  value=v.behaviour, on_value=setter("behaviour"))  # fmt: skip
    _slider(f"Polarization: {v.polarization:.1f} × the calibrated distance", v.polarization,
            setter("polarization"), 0.0, 3.0, 0.1)  # fmt: skip
    _slider(f"Horizon: {v.years} years", v.years, setter("years"), 1, 20)
    _slider(f"Seed: {v.seed}", v.seed, setter("seed"), 0, 99)


def _slider(text: str, value, on_value, lo, hi, step=None, disabled: bool = False) -> None:
    """A slider under a line that states its value and unit (Solara's inline label squeezed it)."""
    colour = "#999" if disabled else "#333"
    _html(text, style=f"font-size: 0.9em; color: {colour}; margin-top: 10px")
    if step is None:
        solara.SliderInt("", value=value, min=lo, max=hi, on_value=on_value, thumb_label=False,
                         disabled=disabled)  # fmt: skip
    else:
        solara.SliderFloat("", value=value, min=lo, max=hi, step=step, on_value=on_value,
                           thumb_label=False, disabled=disabled)  # fmt: skip


def status_html(model: DashboardModel, pending: bool) -> str:
    """Where the run stands and what the levers changed: what an analyst reads first."""
    h = headline(model)
    gap = h["attainment_gap"]
    side = "developed" if gap > 0 else "developing"
    who = "no gap" if np.isclose(gap, 0) else f"{side} governments get more of what they want"
    changes = [escape(c) for c in model.levers.changes()] if not model.notice else []
    parts = []
    if model.notice:
        parts.append(f'<p style="color: #9c5700"><b>⚠ {escape(model.notice)}</b></p>')
    if model.steps == 0 and not pending:
        parts.append("<p><i>Press <b>Step</b> to advance a month or <b>Run to the end</b>; "
                     "<b>Reset</b> applies the levers on the left.</i></p>")  # fmt: skip
    parts += [
        f"<h3>{escape(model.scenario_name.replace('_', ' '))}: "
        f"month {h['month']} of {h['months']}</h3>",
        f"<p><b>Attainment gap {gap:+.3f}</b> ({who}) · "
        f"<b>policy coverage {h['policy_coverage']:.2f}</b> · "
        f"<b>{h['decisions']} decisions adopted</b> in {h['meetings']} meetings</p>",
        "<p><b>Changed from the scenario:</b> " + ("; ".join(changes) or "nothing") + "</p>",
        f"<p>This single run again: <code>{escape(model.command_line())}</code>. "
        "One run is one draw: use <b>Compare</b> below for replicates.</p>",
    ]
    return "\n".join(parts)


TABLE_STYLE = (
    "<style>.govsim-table td, .govsim-table th {padding: 3px 10px; text-align: left;"
    " vertical-align: top} .govsim-table tr:nth-child(even) {background: #f3f6fa}</style>"
)


def _table(df) -> None:
    table = df.to_html(index=False, border=0, escape=True, classes="govsim-table")
    solara.HTML(tag="div", unsafe_innerHTML=TABLE_STYLE + table,
                style="font-size: 0.9em; overflow: auto")  # fmt: skip


@solara.component
def ChartPanel(model: DashboardModel, name: str, version: int):
    """A chart with its heading and PNG/SVG/CSV downloads (``version`` re-renders it)."""
    heading = CHARTS[name][0]
    with solara.Card(margin=0, style="margin-bottom: 12px"):
        with solara.Row(justify="space-between", style="align-items: center"):
            _html(f"<b>{escape(heading)}</b>")
            _downloads(f"govsim_{name}_month{model.steps}",
                       lambda fmt: chart_export(model, name, fmt))  # fmt: skip
        solara.Image(chart_png(model, name), classes=["govsim-chart"])


def effects_table(comp: Comparison):
    """The design effect table as shown on the page."""
    import pandas as pd

    rows = [{
        "Measure": r.measure, "Unit": r.unit,
        "A": fmt_interval(r.A_mean, r.A_lo, r.A_hi),
        "B": fmt_interval(r.B_mean, r.B_lo, r.B_hi),
        "Design effect B − A [95% interval]": (
            fmt_interval(r.effect, r.effect_lo, r.effect_hi, signed=True)
            + (" †" if r.clipped else "")
        ),
        "Replicates": r.n,
    } for r in comp.effects.itertuples()]  # fmt: skip
    return pd.DataFrame(rows)


@solara.component
def ComparePanel(levers: solara.Reactive[Levers]):
    """Two settings side by side over replicates, with the design effect and a study file."""
    a = solara.use_reactive(Levers())
    b = solara.use_reactive(None)
    replicates = solara.use_reactive(4)
    root = str(results_dir() / "dashboard")
    with solara.Card("Compare two settings over replicates", margin=0):
        _html("<p>Set A and B from the levers on the left, then run both over replicates "
              "(common random numbers: replicate <i>r</i> of A and of B share a seed). The runs "
              f"go through the study engine into <code>{escape(root)}</code>, so a comparison "
              "run once is read back, not rerun.</p>")  # fmt: skip
        with solara.Columns([1, 1]):
            for tag, setting in (("A", a), ("B", b)):
                with solara.Column(gap="4px"):
                    desc = setting.value.describe() if setting.value else "not set yet"
                    extra = f", {setting.value.years} years" if setting.value else ""
                    _html(f"<b>Setting {tag}:</b> {escape(desc)}{escape(extra)}")
                    solara.Button(f"Set {tag} to the levers",
                                  on_click=lambda s=setting: s.set(levers.value),
                                  outlined=True, disabled=compare.pending)  # fmt: skip
        solara.SliderInt(f"Replicates per setting: {replicates.value}", value=replicates,
                         min=2, max=12, thumb_label=False)  # fmt: skip
        _html(f"<p>Seeds: root seed {a.value.seed} (A's seed lever).</p>")
        solara.Button(
            "Run comparison",
            color="primary",
            disabled=b.value is None or compare.pending,
            on_click=lambda: compare(a.value, b.value, replicates.value, root),
        )
        if compare.pending:
            _html(f"<p>Running the replicates: {compare.progress or 0:.0f}% stored</p>")
            solara.ProgressLinear(compare.progress or True)
        if compare.error:
            solara.Error(f"Comparison failed: {compare.exception}")
        if compare.finished and compare.value is not None:
            ComparisonResult(compare.value)


@solara.component
def ComparisonResult(comp: Comparison):
    """Bands, the design-effect table, and the downloads of a finished comparison."""
    png = solara.use_memo(lambda: figure_bytes(bands_figure(comp)), dependencies=[comp])
    name = comp.study.name
    runs = comp.study.replicates
    _html(f"<p><b>Participation rate by group, A and B</b> (mean and 95% band over {runs} "
          "replicates; each panel has its own scale)</p>")  # fmt: skip
    _downloads(f"{name}_bands",
               lambda fmt: comp.yearly.to_csv(index=False).encode() if fmt == "csv"
               else figure_bytes(bands_figure(comp), fmt=fmt, dpi=150))  # fmt: skip
    solara.Image(png, classes=["govsim-chart"])
    _html("<p><b>Design effect on the headline measures</b> (B − A, paired by replicate, "
          "95% t-interval: the numbers <code>govsim experiment</code> writes to "
          "<code>differences.csv</code>)</p>")  # fmt: skip
    _table(effects_table(comp))
    if comp.effects["clipped"].any():
        _html(
            "<p>† The interval ran past what the measure allows and was cut at it (as in "
            "<code>differences.csv</code>): too few replicates for a reliable interval.</p>"
        )
    with solara.Row(gap="8px", style="align-items: center; margin-top: 8px"):
        solara.FileDownload(comp.effects.to_csv(index=False).encode(),
                            filename=f"{name}_design_effect.csv", label="Design effect CSV",
                            mime_type=MIME["csv"], icon_name="mdi-download")  # fmt: skip
        solara.FileDownload(comp.text, filename=f"{name}.yaml", label="Save as study (YAML)",
                            mime_type=MIME["yaml"], icon_name="mdi-content-save")  # fmt: skip
    _html(
        f"<p>Rerun it: <code>govsim experiment {escape(name)}.yaml</code> "
        f"(runs stored in <code>{escape(str(comp.folder))}</code>).</p>"
    )


@solara.component
def Page():
    """The dashboard page. Every piece of state belongs to this browser session."""
    solara.Title("govsim dashboard")
    solara.Style(".govsim-chart img, img.govsim-chart {max-width: 100%; height: auto}")
    levers = solara.use_reactive(Levers())
    session = solara.use_memo(lambda: {"model": Levers().model()}, dependencies=[])
    tick = solara.use_reactive(0)
    model: DashboardModel = session["model"]
    busy = run_to_end.pending  # reading the task's state re-renders the page as it runs

    def reset() -> None:
        session["model"] = levers.value.model()
        tick.value += 1

    def step() -> None:
        if model.running:
            model.step()
        tick.value += 1

    with solara.AppBarTitle():
        solara.Text("govsim: institutional design dashboard")
    with solara.Sidebar():
        _html("<b>Levers</b> (press <b>Reset</b> to apply)")
        LeverPanel(levers)
        if asdict(levers.value) != asdict(model.levers):
            _html('<p style="color: #9c5700">The levers differ from the run shown: press '
                  "<b>Reset</b> to apply them.</p>")  # fmt: skip
        with solara.Row(gap="6px"):
            solara.Button("Reset", on_click=reset, color="primary", disabled=busy)
            solara.Button("Step", on_click=step, disabled=busy or not model.running)
            solara.Button("Run to the end", on_click=lambda: run_to_end(model),
                          disabled=busy or not model.running)  # fmt: skip
        if busy:
            solara.ProgressLinear(run_to_end.progress or True)
    with solara.Column(gap="0px"):  # the run: status, charts, outcomes (not while it runs)
        if busy:
            months = 12 * model.years
            _html(f"<h3>Running to the end: month {model.steps} of {months}</h3>")
            solara.ProgressLinear(run_to_end.progress or True)
        else:
            _html(status_html(model, busy), style="line-height: 1.5")
            for name in CHARTS:
                ChartPanel(model, name, tick.value)
            with solara.Card(margin=0, style="margin-bottom: 12px"):
                _html("<b>Latest meeting in each forum</b>")
                _table(latest_outcomes_cached(model))
    ComparePanel(levers)
