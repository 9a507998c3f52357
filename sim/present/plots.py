"""Figures for studies, in one house style, saved as PNG (200 dpi), SVG and PDF.

House style: the Okabe–Ito colour-blind-safe palette (Okabe & Ito, *Color
Universal Design*, 2008) with a fixed colour per stakeholder group; type sized
to be read on a slide (16:9 figures, 12–15 pt); titles that say what is shown;
axis labels with units; intervals always drawn (95% t-intervals over
replicates); a source line at the bottom naming the study, replicates, root
seed and git commit. Uses matplotlib's Agg backend (no display needed).

Standard figures (see :data:`sim.studies.spec.FIGURE_KINDS`):
``scenario_comparison``, ``metric_vs_parameter``, ``heatmap``,
``participation_over_time``, ``representation_by_group``, ``representation_by_region``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.model.config import GROUP_LABELS, GROUPS, REGIONS  # noqa: E402
from sim.studies.spec import Metric
from sim.studies.stats import baseline_of, summarise

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

GROUP_COLOURS = {
    "developed_gov": OKABE_ITO["blue"],
    "developing_gov": OKABE_ITO["vermillion"],
    "business": OKABE_ITO["orange"],
    "civil_society": OKABE_ITO["green"],
    "technical": OKABE_ITO["sky_blue"],
    "igo": OKABE_ITO["purple"],
}
"""One colour per stakeholder group, the same in every figure."""

SCENARIO_COLOURS = ["#505050", "#8f8f8f", "#c8c8c8", "#e6e6e6"] * 2
"""Scenarios in order, in shades of grey: colour always means a stakeholder group."""
SERIES_COLOURS = ["#000000", "#8a8a8a"]
"""Lines of one measure across a parameter (colour stays reserved for groups)."""
HATCHES = ["", "", "", "", "//", "//", "//", "//"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = ["-", "--", ":", "-."]

STYLE = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 15,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}

SLIDE = (13.33, 7.5)
"""Figure size in inches: a 16:9 slide."""


@dataclass
class Figure:
    """A saved figure: its name, title, caption and files."""

    name: str
    title: str
    caption: str
    png: Path
    svg: Path
    pdf: Path


def group_label(g: str) -> str:

    return GROUP_LABELS.get(g, g).capitalize()


def param_label(key: str) -> str:
    """``forum.igf.funded_slots`` -> 'IGF funded slots'."""
    parts = key.split(".")
    if parts[0] == "forum" and len(parts) >= 3:
        return f"{parts[1].upper()} {' '.join(parts[2:]).replace('_', ' ')}"
    return parts[-1].replace("_", " ").capitalize()


def value_label(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    return str(v).replace("_", " ")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False))


def save(fig, out_dir: Path, name: str, title: str, caption: str, source: str) -> Figure:
    """Add title and source line, save PNG (200 dpi), SVG and PDF, close the figure."""
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.text(0.01, 0.005, source, ha="left", va="bottom", fontsize=9, color="#555555")
    fig.tight_layout(rect=(0, 0.035, 1, 0.97))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("png", "svg", "pdf")}
    fig.savefig(paths["png"], dpi=200)
    fig.savefig(paths["svg"])
    fig.savefig(paths["pdf"])
    plt.close(fig)
    return Figure(name, title, caption, paths["png"], paths["svg"], paths["pdf"])


def _grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return int(np.ceil(n / cols)), cols


def condition_label(row: Mapping[str, Any], study, grid_keys: Sequence[str]) -> str:
    parts = [study.label(row["scenario"])] if len(study.scenarios) > 1 else []
    parts += [f"{param_label(k)}: {value_label(row[k])}" for k in grid_keys]
    return ", ".join(parts) or study.label(row["scenario"])


def scenario_comparison(summary: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """One panel per metric: each condition's mean with its 95% interval; baseline dashed."""

    grid_keys = list(study.grid)
    metrics = list(study.metrics)
    rows, cols = _grid(len(metrics))
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False)
    conds = summary[["scenario", *grid_keys]].drop_duplicates().to_dict("records")
    labels = [condition_label(c, study, grid_keys) for c in conds]
    for ax, m in zip(axes.flat, metrics, strict=False):
        d = summary[summary["metric"] == m.text]
        y = np.arange(len(conds))[::-1]
        for yi, c in zip(y, conds, strict=True):
            hit = d
            for k, v in c.items():
                hit = hit[hit[k] == v]
            if not len(hit) or not np.isfinite(hit["mean"].iloc[0]):
                ax.text(0.02, yi, "not defined", va="center", color="#777777",
                        transform=ax.get_yaxis_transform())  # fmt: skip
                continue
            r = hit.iloc[0]
            base = baseline_of(c, study.baseline)
            col = "#777777" if base == c else "#000000"
            err = None
            if np.isfinite(r["lo"]):
                err = [[r["mean"] - r["lo"]], [r["hi"] - r["mean"]]]
            ax.errorbar(r["mean"], yi, xerr=err, fmt="o", color=col, ms=8, capsize=5, lw=2)
            if base == c:
                ax.axvline(r["mean"], color="#555555", ls="--", lw=1)
        ax.set_yticks(y, [_wrap(lbl, 28) for lbl in labels] if ax in axes[:, 0] else [])
        ax.set_ylim(-0.6, len(conds) - 0.4)
        ax.set_title(_wrap(m.label, 36 if cols == 3 else 50), loc="left", fontsize=12)
        ax.set_xlabel(_wrap(m.unit, 40))
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    title = f"{study.title}: headline measures by scenario"
    caption = (
        f"Mean over {study.replicates} replicates per condition with 95% t-intervals; "
        f"the dashed line marks the baseline ({_baseline_text(study)})."
    )
    return save(fig, out_dir, "scenario_comparison", title, caption, source)


def _baseline_text(study) -> str:
    return ", ".join(
        study.label(v) if k == "scenario" else f"{param_label(k)} {value_label(v)}"
        for k, v in study.baseline.items()
    )


def _fixed_point(study) -> dict[str, Any]:
    """The grid point used for figures that show one point: the baseline's, else the first."""
    point = {k: vals[0] for k, vals in study.grid.items()}
    point.update({k: v for k, v in study.baseline.items() if k != "scenario"})
    return point


def metric_vs_parameter(
    summary: pd.DataFrame, study, spec: Mapping[str, Any], out_dir: Path, source: str
) -> Figure:
    """Each metric against one swept parameter: lines per scenario, 95% bands."""
    x = spec["x"]
    texts = spec.get("metrics") or [m.text for m in study.metrics]
    metrics = [m for m in study.metrics if m.text in texts]
    others = [k for k in study.grid if k != x]
    fixed = {k: v for k, v in _fixed_point(study).items() if k in others[1:]}
    others = others[:1]
    rows, cols = _grid(len(metrics))
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False)
    xs = list(study.grid[x])
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs)
    pos = {v: (v if numeric else i) for i, v in enumerate(xs)}
    for ax, m in zip(axes.flat, metrics, strict=False):
        d = summary[summary["metric"] == m.text]
        for k, v in fixed.items():
            d = d[d[k] == v]
        series = d[["scenario", *others]].drop_duplicates().to_dict("records")
        for i, sr in enumerate(series):
            h = d
            for k, v in sr.items():
                h = h[h[k] == v]
            h = h.assign(_x=h[x].map(pos)).sort_values("_x")
            si = study.scenarios.index(sr["scenario"])
            col = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            label = condition_label(sr, study, others)
            ax.plot(h["_x"], h["mean"], marker=MARKERS[i % 8], color=col, ls=LINESTYLES[si % 4],
                    lw=2.2, ms=7, label=label)  # fmt: skip
            ax.fill_between(h["_x"], h["lo"], h["hi"], color=col, alpha=0.15, lw=0)
        if not numeric:
            ax.set_xticks(list(pos.values()), [value_label(v) for v in xs])
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(_wrap(m.unit, 40))
        ax.set_title(_wrap(m.label, 45), loc="left")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if len(labels) > 1:  # inside the first panel: a figure legend collided with the title
        axes.flat[0].legend(handles, labels, frameon=False, loc="best")
    title = f"{study.title}: the measures against {param_label(x)}"
    held = ", ".join(f"{param_label(k)} {value_label(v)}" for k, v in fixed.items())
    caption = (
        f"Mean over {study.replicates} replicates at each value of {param_label(x)} "
        f"(shaded: 95% t-interval)" + (f"; {held}." if held else ".")
    )
    return save(fig, out_dir, f"metric_vs_{x.replace('.', '_')}", title, caption, source)


def heatmap(
    summary: pd.DataFrame, study, spec: Mapping[str, Any], out_dir: Path, source: str
) -> Figure:
    """One metric over two swept parameters, one panel per scenario, values annotated."""
    x, y = spec["x"], spec["y"]
    metric = next(m for m in study.metrics if m.text == spec.get("metric", study.metrics[0].text))
    d = summary[summary["metric"] == metric.text]
    others = {k: v for k, v in _fixed_point(study).items() if k not in (x, y)}
    for k, v in others.items():
        d = d[d[k] == v]
    n = len(study.scenarios)
    fig, axes = plt.subplots(1, n, figsize=SLIDE, squeeze=False)
    xs, ys = list(study.grid[x]), list(study.grid[y])
    finite = d["mean"][np.isfinite(d["mean"])]
    vmin, vmax = (finite.min(), finite.max()) if len(finite) else (0, 1)
    im = None
    for ax, s in zip(axes[0], study.scenarios, strict=True):
        grid = np.full((len(ys), len(xs)), np.nan)
        for _, r in d[d["scenario"] == s].iterrows():
            grid[ys.index(r[y]), xs.index(r[x])] = r["mean"]
        im = ax.imshow(grid, cmap="viridis", vmin=vmin, vmax=vmax, origin="lower", aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                light = (v - vmin) / ((vmax - vmin) or 1) > 0.6
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=12,
                        color="black" if light else "white")  # fmt: skip
        ax.set_xticks(range(len(xs)), [value_label(v) for v in xs])
        ax.set_yticks(range(len(ys)), [value_label(v) for v in ys])
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(param_label(y))
        ax.grid(False)
        ax.set_title(study.label(s), loc="left")
    # lay the panels out first, then give the colour bar its own axes to their right
    # (colorbar(ax=...) followed by subplots_adjust would draw it over the last panel)
    fig.subplots_adjust(left=0.07, right=0.84, bottom=0.14, top=0.86, wspace=0.25)
    cb = fig.colorbar(im, cax=fig.add_axes((0.87, 0.14, 0.018, 0.72)))
    cb.set_label(_wrap(f"{metric.label} ({metric.unit})", 50))
    title = f"{metric.label}: {param_label(x)} × {param_label(y)}"
    fixed = ", ".join(f"{param_label(k)} {value_label(v)}" for k, v in others.items())
    caption = f"Mean over {study.replicates} replicates in each cell" + (
        f" ({fixed})." if fixed else "."
    )
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.text(0.01, 0.005, source, ha="left", va="bottom", fontsize=9, color="#555555")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"heatmap_{metric.text.replace('@', '_').replace('/', '_')}"
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("png", "svg", "pdf")}
    for ext, p in paths.items():
        fig.savefig(p, dpi=200 if ext == "png" else "figure")
    plt.close(fig)
    return Figure(name, title, caption, paths["png"], paths["svg"], paths["pdf"])


def participation_over_time(yearly: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Participation rate per year by stakeholder group, one panel per scenario."""
    point = _fixed_point(study)
    d = yearly
    for k, v in point.items():
        d = d[d[k] == v]
    n = len(study.scenarios)
    rows, cols = _grid(n)
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False, sharey=True)
    for ax, s in zip(axes.flat, study.scenarios, strict=False):
        ds = d[d["scenario"] == s]
        for g in GROUPS:
            h = ds[ds["group"] == g].sort_values("year")
            if not len(h):
                continue
            col = GROUP_COLOURS[g]
            ax.plot(h["year"], h["mean"], color=col, lw=2.2, marker="o", ms=4, label=group_label(g))
            ax.fill_between(h["year"], h["lo"], h["hi"], color=col, alpha=0.18, lw=0)
        ax.set_title(study.label(s), loc="left")
        ax.set_xlabel("year of simulation")
        ax.set_ylim(0, 1)
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("participation rate\n(share of eligible seats taken)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=3, frameon=False,
               bbox_to_anchor=(0.5, 0.03))  # fmt: skip
    title = "Who keeps taking part: participation by stakeholder group over time"
    where = ", ".join(f"{param_label(k)} {value_label(v)}" for k, v in point.items())
    caption = (
        f"Participation rate (attendances onsite or remote ÷ eligible seats, pooled over "
        f"all forums) per simulated year; mean over {study.replicates} replicates, shaded 95% "
        f"interval" + (f"; {where}." if where else ".")
    )
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    fig.text(0.01, 0.005, source, ha="left", va="bottom", fontsize=9, color="#555555")
    fig.tight_layout(rect=(0, 0.12, 1, 0.97))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"participation_over_time.{ext}" for ext in ("png", "svg", "pdf")}
    for ext, p in paths.items():
        fig.savefig(p, dpi=200 if ext == "png" else "figure")
    plt.close(fig)
    return Figure(
        "participation_over_time", title, caption, paths["png"], paths["svg"], paths["pdf"]
    )


def representation_by_group(table: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Representation ratio by stakeholder group (pooled over forums), bars per scenario."""
    return _representation_bars(table, study, out_dir, source, by_region=False)


def representation_by_region(table: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Representation ratio by UN region (all actors by home region), bars per scenario."""
    return _representation_bars(table, study, out_dir, source, by_region=True)


def _representation_bars(table, study, out_dir: Path, source: str, by_region: bool) -> Figure:

    point = _fixed_point(study)
    t = table
    for k, v in point.items():
        t = t[t[k] == v]
    name = "representation_ratio_by_region" if by_region else "representation_ratio"
    cats = REGIONS if by_region else GROUPS
    metrics = [Metric(f"{name}@{c}", name, group=c) for c in cats]
    s = summarise(t, metrics, list(study.grid))
    fig, ax = plt.subplots(figsize=SLIDE)
    n = len(study.scenarios)
    width = 0.8 / n
    for i, sc in enumerate(study.scenarios):
        d = s[s["scenario"] == sc].set_index("metric").reindex([m.text for m in metrics])
        xs = np.arange(len(cats)) + (i - (n - 1) / 2) * width
        err = np.vstack([d["mean"] - d["lo"], d["hi"] - d["mean"]]).clip(min=0)
        ax.bar(xs, d["mean"], width * 0.95, color=SCENARIO_COLOURS[i % 8], label=study.label(sc),
               hatch=HATCHES[i % 8], edgecolor="white", yerr=np.nan_to_num(err), capsize=3,
               error_kw={"lw": 1.2})  # fmt: skip
    ax.axhline(1.0, color="black", lw=1.2, ls="--")
    ax.text(len(cats) - 0.5, 1.0, " parity", va="bottom", ha="right", fontsize=11)
    ax.set_xticks(range(len(cats)), [_wrap(c if by_region else group_label(c), 16) for c in cats])
    if not by_region:
        for tick, g in zip(ax.get_xticklabels(), GROUPS, strict=True):
            tick.set_color(GROUP_COLOURS[g])
            tick.set_fontweight("bold")
    ax.set_ylabel("representation ratio\n(voice share ÷ share of eligible actors; 1 = parity)")
    ax.legend(frameon=False, loc="upper right")
    ax.grid(axis="x", visible=False)
    what = "UN region" if by_region else "stakeholder group"
    title = f"Who is heard: representation ratio by {what}"
    where = ", ".join(f"{param_label(k)} {value_label(v)}" for k, v in point.items())
    whose = (
        "All actors (governments and organisations) by home region: a region's"
        if by_region
        else "A group's"
    )
    caption = (
        f"{whose} share of speaking weight divided by its share of the actors eligible to "
        "attend, averaged over meetings of all forums; above 1 it is heard more than its "
        f"numbers, below 1 less. Bars: mean over {study.replicates} replicates; whiskers: 95% "
        "interval" + (f"; {where}." if where else ".")
    )
    key = "representation_by_region" if by_region else "representation_by_group"
    return save(fig, out_dir, key, title, caption, source)


FORUM_PANELS = [
    ("participation_rate", "developing_gov"),
    ("representation_ratio", "developing_gov"),
    ("representation_ratio", "civil_society"),
    ("voice_gini", "all"),
]
"""Panels of the forum comparison: (measure, group)."""


def forum_comparison(table: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """The forums side by side: a few measures per forum, bars per scenario, 95% intervals."""

    point = _fixed_point(study)
    t = table
    for k, v in point.items():
        t = t[t[k] == v]
    forums = [f for f in t.loc[t["kind"] == "summary", "forum"].unique() if f != "all"]
    fig, axes = plt.subplots(2, 2, figsize=SLIDE, squeeze=False)
    n = len(study.scenarios)
    width = 0.8 / n
    for ax, (name, group) in zip(axes.flat, FORUM_PANELS, strict=True):
        metrics = [Metric(f"{name}@{f}/{group}", name, forum=f, group=group) for f in forums]
        s = summarise(t, metrics, list(study.grid))
        for i, sc in enumerate(study.scenarios):
            d = s[s["scenario"] == sc].set_index("metric").reindex([m.text for m in metrics])
            xs = np.arange(len(forums)) + (i - (n - 1) / 2) * width
            err = np.vstack([d["mean"] - d["lo"], d["hi"] - d["mean"]]).clip(min=0)
            ax.bar(xs, d["mean"], width * 0.95, color=SCENARIO_COLOURS[(i + 1) % 8],
                   hatch=HATCHES[i % 8], edgecolor="white", label=study.label(sc),
                   yerr=np.nan_to_num(err), capsize=3)  # fmt: skip
        ax.set_xticks(range(len(forums)), [f.upper() for f in forums])
        ax.grid(axis="x", visible=False)
        m = metrics[0]
        ax.set_title(m.label.replace(f" ({forums[0].upper()})", ""), loc="left")
        ax.set_ylabel(_wrap(m.unit, 32))
        if name == "representation_ratio":
            ax.axhline(1.0, color="black", lw=1.2, ls="--")
    if n > 1:
        axes[0, 0].legend(frameon=False)
    title = "The forums side by side: who takes part and who is heard"
    caption = (
        f"Each forum's measures pooled over its meetings; bars: mean over {study.replicates} "
        "replicates, whiskers: 95% interval; dashed line: parity (representation ratio 1)."
    )
    return save(fig, out_dir, "forum_comparison", title, caption, source)


def draw_all(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    yearly: pd.DataFrame,
    study,
    out_dir: Path,
    source: str,
) -> list[Figure]:
    """Draw the study's figures (its ``figures`` list; scenario comparison always first)."""
    specs = list(study.figures)
    if not any(f["kind"] == "scenario_comparison" for f in specs):
        specs.insert(0, {"kind": "scenario_comparison"})
    with plt.rc_context(STYLE):
        out = []
        for f in specs:
            k = f["kind"]
            if k == "scenario_comparison":
                out.append(scenario_comparison(summary, study, out_dir, source))
            elif k == "metric_vs_parameter":
                out.append(metric_vs_parameter(summary, study, f, out_dir, source))
            elif k == "heatmap":
                out.append(heatmap(summary, study, f, out_dir, source))
            elif k == "participation_over_time":
                out.append(participation_over_time(yearly, study, out_dir, source))
            elif k == "forum_comparison":
                out.append(forum_comparison(table, study, out_dir, source))
            elif k == "representation_by_group":
                out.append(representation_by_group(table, study, out_dir, source))
            elif k == "representation_by_region":
                out.append(representation_by_region(table, study, out_dir, source))
    return out
