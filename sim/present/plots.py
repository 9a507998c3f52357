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
import matplotlib.lines  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.model.config import GROUP_LABELS, GROUPS, REGIONS, as_config  # noqa: E402
from sim.model.forums import agenda_of, resolve_links  # noqa: E402
from sim.studies.spec import Metric
from sim.studies.stats import (
    baseline_of,
    clip_summary,
    fixed_point,
    measure_range,
    summarise,
)

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
    """Wrap to ``width`` characters; a trailing parenthesis goes on a line of its own."""
    import re

    # keep a short parenthesis such as "(1 = parity)" or "(IGF)" on one line
    keep = re.sub(r"\(([^()]{1,14})\)", lambda m: m.group(0).replace(" ", "\u00a0"), text)
    lines = textwrap.wrap(keep, width, break_long_words=False)
    return "\n".join(line.replace("\u00a0", " ") for line in lines)


SAVE_FORMATS = ("png", "svg", "pdf")
"""Files written per figure (tests that only look at the layout set this to ())."""

ON_SAVE: list = []
"""Callables ``hook(fig, name)`` run on every figure just before it is saved (the tests
use one to check that no two labels overlap)."""


def save(
    fig,
    out_dir: Path,
    name: str,
    title: str,
    caption: str,
    source: str,
    rect: tuple[float, float, float, float] | None = (0, 0.035, 1, 0.97),
) -> Figure:
    """Add title and source line, lay out, save PNG (200 dpi), SVG and PDF, close the figure.

    ``rect`` is the area :meth:`~matplotlib.figure.Figure.tight_layout` fills (None: the
    figure is already laid out).
    """
    fig.suptitle(_wrap(title, 100), x=0.01, ha="left", fontweight="bold")
    fig.text(0.01, 0.005, source, ha="left", va="bottom", fontsize=9, color="#555555")
    if rect is not None:
        fig.tight_layout(rect=rect)
    for hook in ON_SAVE:
        hook(fig, name)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("png", "svg", "pdf")}
    for ext, p in paths.items():
        if ext in SAVE_FORMATS:
            fig.savefig(p, dpi=200 if ext == "png" else "figure")
    plt.close(fig)
    return Figure(name, title, caption, paths["png"], paths["svg"], paths["pdf"])


def _drawn_texts(fig) -> list:
    """The texts a figure draws: titles, labels, the tick labels inside the view, texts
    and legends (tick labels of ticks outside the axis limits exist but are not drawn)."""
    out = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)
    for leg in fig.legends:
        out += leg.get_texts()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():
                out += [tick.label1, tick.label2]
            out.append(axis.offsetText)
        out += ax.texts
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    return list(dict.fromkeys(out))


def text_overlaps(fig, pad: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of visible texts of a figure whose bounding boxes overlap, and texts that run
    off the figure (paired with ``'<edge>'``).

    Every visible, non-empty text counts: titles, axis and tick labels, legend entries,
    annotations. Boxes are shrunk by ``pad`` pixels so that texts that merely touch pass.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in _drawn_texts(fig):
        if not t.get_visible() or not t.get_text().strip():
            continue
        try:
            bb = t.get_window_extent(renderer)
        except RuntimeError:
            continue
        if bb.width < 1 or bb.height < 1:
            continue
        boxes.append((t.get_text(), bb.expanded(1, 1).padded(-pad)))
    out = []
    W, H = fig.bbox.width, fig.bbox.height
    for i, (ta, a) in enumerate(boxes):
        if a.x0 < -2 or a.y0 < -2 or a.x1 > W + 2 or a.y1 > H + 2:
            out.append((ta, "<edge>"))
        for tb, b in boxes[i + 1 :]:
            if a.overlaps(b):
                out.append((ta, tb))
    return out


def _grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return int(np.ceil(n / cols)), cols


def condition_label(row: Mapping[str, Any], study, grid_keys: Sequence[str]) -> str:
    parts = [study.label(row["scenario"])] if len(study.scenarios) > 1 else []
    parts += [f"{param_label(k)}: {value_label(row[k])}" for k in grid_keys]
    return ", ".join(parts) or study.label(row["scenario"])


def set_natural_range(ax, name: str, values: Sequence[float], axis: str = "y",
                      reference: float | None = None) -> None:  # fmt: skip
    """Axis limits from the measure's nature, not zoomed to the data.

    Shares and indices on 0–1 get the whole 0–1 axis; ratios start at 0 and always show
    parity (1) with a dashed line; other measures include the reference value (the
    baseline) and, where they cannot be negative, 0.
    """
    lo_r, hi_r = measure_range(name)
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if reference is not None and np.isfinite(reference):
        v = np.append(v, reference)
    ratio = name.startswith("representation_ratio")
    if ratio:
        v = np.append(v, 1.0)
    if (lo_r, hi_r) == (0.0, 1.0):
        lim = (-0.02, 1.02)
    elif len(v):
        lo, hi = float(v.min()), float(v.max())
        if lo_r == 0.0:
            lo = 0.0
        if name.startswith("attainment_gap"):
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        span = (hi - lo) or max(abs(hi), 1.0)
        lim = (lo - 0.06 * span if lo_r != 0.0 else 0.0, hi + 0.08 * span)
    else:
        return
    (ax.set_ylim if axis == "y" else ax.set_xlim)(*lim)
    line = ax.axhline if axis == "y" else ax.axvline
    if ratio:
        line(1.0, color="black", lw=1.2, ls="--", zorder=1)
    elif name.startswith("attainment_gap") and lim[0] < 0 < lim[1]:
        line(0.0, color="#999999", lw=0.8, zorder=1)


def _conds_of(summary: pd.DataFrame, grid_keys) -> list[dict[str, Any]]:
    return summary[["scenario", *grid_keys]].drop_duplicates().to_dict("records")


def _panel_grid(n: int, wide_labels: bool) -> tuple[int, int]:
    """Rows and columns of panels: at most two rows when condition labels need room."""
    if n <= 1:
        return 1, 1
    if wide_labels:
        rows = 1 if n <= 3 else 2
        return rows, int(np.ceil(n / rows))
    return _grid(n)


DODGE_POINTS = 4
"""At most this many grid points are drawn side by side within a scenario's row."""


def scenario_comparison(summary: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Few conditions: one panel per measure, each condition's mean and 95% interval (dot
    and whisker) on the measure's natural axis, the baseline's mean as a dotted line.

    With several scenarios and a few grid points (e.g. ``behaviour: [calibrated, default]``)
    each scenario keeps one row and its grid points sit side by side in it, one marker each
    (filled: the baseline's values; open: the others), named in a legend."""
    grid_keys = list(study.grid)
    metrics = list(study.metrics)
    conds = _conds_of(summary, grid_keys)
    scenarios = list(dict.fromkeys(c["scenario"] for c in conds))
    at = [tuple(c[k] for k in grid_keys) for c in conds]  # each condition's grid point
    points = list(dict.fromkeys(at))
    dodge = len(scenarios) > 1 and 1 < len(points) <= DODGE_POINTS
    rows, cols = _panel_grid(len(metrics), wide_labels=True)
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False, sharey=True)
    width = 22 if cols >= 4 else 28
    if dodge:
        labels = [study.label(s) for s in scenarios]
        home = dict(zip(scenarios, np.arange(len(scenarios))[::-1], strict=True))
        fixed = tuple(fixed_point(study).get(k) for k in grid_keys)
        order = [fixed, *[p for p in points if p != fixed]] if fixed in points else points
        step = 0.7 / len(order)
        shift = {p: (len(order) - 1) / 2 * step - j * step for j, p in enumerate(order)}
        marker = {p: MARKERS[j % len(MARKERS)] for j, p in enumerate(order)}
        place = [home[c["scenario"]] + shift[p] for c, p in zip(conds, at, strict=True)]
        headline = [p == order[0] for p in at]  # the baseline's grid point: filled, bold
    else:
        labels = [condition_label(c, study, grid_keys) for c in conds]
        place = list(np.arange(len(conds))[::-1])
        headline = [True] * len(conds)
    n_rows = len(labels)
    crowded = dodge and rows > 1 and n_rows >= 5  # the legend takes room from the panels
    for ax, m in zip(axes.flat, metrics, strict=False):
        d = summary[summary["metric"] == m.text]
        vals, ref = [], None
        for yi, c, p, at_point in zip(place, conds, at, headline, strict=True):
            hit = d
            for k, v in c.items():
                hit = hit[hit[k] == v]
            if not len(hit) or not np.isfinite(hit["mean"].iloc[0]):
                if at_point:
                    ax.text(0.02, yi, "no value (not applicable)", va="center", color="#777777",
                            fontsize=10, transform=ax.get_yaxis_transform())  # fmt: skip
                continue
            r = hit.iloc[0]
            is_base = baseline_of(c, study.baseline) == c
            err = None
            if np.isfinite(r["lo"]):
                err = [[max(r["mean"] - r["lo"], 0)], [max(r["hi"] - r["mean"], 0)]]
                vals += [r["lo"], r["hi"]]
            vals.append(r["mean"])
            colour = "#777777" if is_base else "black"
            style = {"fmt": "o", "ms": 7}
            if dodge:
                style = {"fmt": marker[p], "ms": 6, "mfc": colour if at_point else "white"}
            ax.errorbar(r["mean"], yi, xerr=err, color=colour, capsize=4 if not dodge else 3,
                        lw=2 if at_point else 1.4, **style)  # fmt: skip
            if is_base and at_point:
                ref = r["mean"]
                ax.axvline(r["mean"], color="#555555", ls=":", lw=1.2)
        set_natural_range(ax, m.name, vals, axis="x", reference=ref)
        ax.set_yticks(np.arange(n_rows)[::-1], [_wrap(lbl, width) for lbl in labels])
        ax.tick_params(axis="y", length=0, **({"labelsize": 10} if crowded else {}))
        ax.set_ylim(-0.6, n_rows - 0.4)
        title_width = 21 if cols >= 5 else 30 if cols == 4 else 38 if cols == 3 else 50
        ax.set_title(_wrap(m.label, title_width), loc="left",
                     fontsize=10 if cols >= 5 else 11 if cols == 4 else 12)  # fmt: skip
        ax.set_xlabel(_wrap(m.unit, 22 if cols >= 5 else 28 if cols == 4 else 40), fontsize=10)
        ax.locator_params(axis="x", nbins=2 if cols >= 5 else 4)
        if cols >= 5:
            ax.tick_params(axis="x", labelsize=9)
        ax.grid(axis="y", visible=False)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    title = f"{study.title}: headline measures by scenario"
    caption = (
        f"Mean over {study.replicates} replicates per condition"
        + (" (grid points side by side)" if dodge else "")
        + " with 95% t-intervals (cut at the measure's possible range); dotted line: the "
        f"baseline ({_baseline_text(study)}); dashed line: parity (representation ratio 1). "
        "Shares are drawn on their whole 0–1 axis, so a small difference looks small."
    )
    layout = {}
    if dodge:
        handles = [
            matplotlib.lines.Line2D([], [], color="black", marker=marker[p], ls="none", ms=7,
                                    mfc="black" if j == 0 else "white",
                                    label=", ".join(f"{param_label(k)}: {value_label(v)}"
                                                    for k, v in zip(grid_keys, p, strict=True))
                                    + (" (the baseline's values; dotted line)" if j == 0 else ""))
            for j, p in enumerate(order)
        ]  # fmt: skip
        fig.legend(handles=handles, loc="lower center", ncols=len(order), frameon=False,
                   bbox_to_anchor=(0.5, 0.045))  # fmt: skip
        layout = {"rect": (0, 0.08, 1, 0.97)}  # room for the legend
    return save(fig, out_dir, "scenario_comparison", title, caption, source, **layout)


def _axis_key(study, prefer: str | None = None) -> str:
    """The swept key to put on the x axis: numeric with the most values."""
    if prefer in study.grid:
        return prefer
    keys = list(study.grid)

    def score(k):
        vals = study.grid[k]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)
        return (numeric, len(vals))

    return max(keys, key=score)


def _line_means(summary: pd.DataFrame, study, metric, key: str) -> dict[Any, float]:
    """Means of ``metric`` along ``key`` with the other keys at the fixed point."""
    point = fixed_point(study)
    scen = study.baseline.get("scenario", study.scenarios[0])
    d = summary[(summary["metric"] == metric.text) & (summary["scenario"] == scen)]
    for k, v in point.items():
        if k != key:
            d = d[d[k] == v]
    return {r[key]: r["mean"] for r in d.to_dict("records") if np.isfinite(r["mean"])}


def _axes_keys(summary: pd.DataFrame, study, metric) -> tuple[str, str | None]:
    """The swept keys to draw a measure against: x and the key of the lines.

    x is the numeric key with the most values among those that move the measure at least
    a tenth as much as the strongest one (a line needs several points), else the strongest
    key; the lines are the strongest of the remaining keys (ties: the fewest values).
    """

    def spread(k):
        v = list(_line_means(summary, study, metric, k).values())
        return (max(v) - min(v)) if len(v) > 1 else 0.0

    def numeric(k):
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in study.grid[k])

    spreads = {k: spread(k) for k in study.grid}
    top = max(spreads.values())
    movers = [k for k in study.grid if numeric(k) and spreads[k] >= 0.1 * top]
    x = (max(movers, key=lambda k: (len(study.grid[k]), spreads[k])) if movers
         else max(study.grid, key=lambda k: (spreads[k], len(study.grid[k]))))  # fmt: skip
    rest = [k for k in study.grid if k != x]
    series = max(rest, key=lambda k: (spreads[k], -len(study.grid[k]))) if rest else None
    return x, series


def grid_overview(summary: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """A grid study's measures at a glance: each measure against the swept parameter that
    moves it most, one line per value of a second parameter (or per scenario), the other
    parameters at the baseline's values; 95% bands; the baseline condition starred."""
    point = fixed_point(study)
    metrics = list(study.metrics)
    rows, cols = _grid(len(metrics))
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False)
    base = baseline_of({"scenario": study.scenarios[0], **point}, study.baseline)
    legend: dict[str, Any] = {}
    keys = {m.text: _axes_keys(summary, study, m) for m in metrics}
    if len(study.scenarios) > 1:
        keys = {t: (x, None) for t, (x, _) in keys.items()}
    shared = len({s for _, s in keys.values()}) == 1
    for ax, m in zip(axes.flat, metrics, strict=False):
        x, series_key = keys[m.text]
        fixed = {k: v for k, v in point.items() if k not in (x, series_key)}
        xs = list(study.grid[x])
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs)
        pos = {v: (v if numeric else i) for i, v in enumerate(xs)}
        if series_key:
            series = [{"scenario": study.scenarios[0], series_key: v}
                      for v in study.grid[series_key]]  # fmt: skip
        else:
            series = [{"scenario": sc} for sc in study.scenarios]
        d = summary[summary["metric"] == m.text]
        for k, v in fixed.items():
            d = d[d[k] == v]
        vals = []
        for i, sr in enumerate(series):
            h = d
            for k, v in sr.items():
                h = h[h[k] == v]
            h = h.assign(_x=h[x].map(pos)).sort_values("_x")
            col = SERIES_COLOURS[i % 2] if len(series) <= 2 else SCENARIO_COLOURS[i % 4]
            label = (
                f"{param_label(series_key)}: {value_label(sr[series_key])}"
                if series_key
                else study.label(sr["scenario"])
            )
            (line,) = ax.plot(h["_x"], h["mean"], marker=MARKERS[i % 8], color=col,
                              ls=LINESTYLES[i % 4], lw=2, ms=6, label=label)  # fmt: skip
            legend.setdefault(label, line)
            ax.fill_between(h["_x"], h["lo"], h["hi"], color=col, alpha=0.15, lw=0)
            vals += [*h["lo"], *h["hi"], *h["mean"]]
            hb = h[h[x] == base.get(x)] if x in base else h.iloc[0:0]
            for k, v in base.items():
                if k in hb and k != x:
                    hb = hb[hb[k] == v]
            if len(hb):
                (star,) = ax.plot(hb["_x"], hb["mean"], marker="*", ms=15, ls="none",
                                  color=OKABE_ITO["orange"], zorder=5)  # fmt: skip
                legend["_baseline"] = star
        set_natural_range(ax, m.name, vals)
        if not numeric:
            ax.set_xticks(list(pos.values()), [value_label(v) for v in xs])
        else:
            ax.set_xticks(xs)
        if not shared:
            ax.legend(fontsize=9, frameon=False, loc="best", handlelength=2.5)
        ax.set_xlabel(param_label(x), fontsize=11)
        ax.set_ylabel(_wrap(m.unit, 24), fontsize=10)
        ax.set_title(_wrap(m.label, 40 if cols == 3 else 55), loc="left", fontsize=11)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    labels = [k for k in legend if k != "_baseline"] + (["baseline"] if "_baseline" in legend
                                                        else [])  # fmt: skip
    handles = [legend[k] for k in legend if k != "_baseline"] + (
        [legend["_baseline"]] if "_baseline" in legend else []
    )
    if not shared:  # each panel names its own lines: the figure legend keeps the star only
        handles, labels = handles[-1:], labels[-1:]
    fig.legend(handles, labels, loc="lower center", ncols=min(len(labels), 5), frameon=False,
               bbox_to_anchor=(0.5, 0.025), fontsize=10)  # fmt: skip
    title = f"{study.title}: each measure against the parameter that moves it most"
    held = ", ".join(f"{param_label(k)} {value_label(v)}" for k, v in point.items())
    caption = (
        f"Mean over {study.replicates} replicates (shaded: 95% t-interval, cut at the "
        f"measure's possible range) against the swept parameter along which the measure "
        f"varies most; parameters not on the axis or in the legend held at the baseline's "
        f"values ({held}); star: the baseline condition. Every grid point is in summary.csv."
    )
    return save(fig, out_dir, "grid_overview", title, caption, source, rect=(0, 0.09, 1, 0.97))


def _baseline_text(study) -> str:
    return ", ".join(
        study.label(v) if k == "scenario" else f"{param_label(k)} {value_label(v)}"
        for k, v in study.baseline.items()
    )


def _point_text(point: Mapping[str, Any]) -> str:
    """A one-point figure's grid point in words ("Behaviour default"), for its title."""
    return ", ".join(f"{param_label(k)} {value_label(v)}" for k, v in point.items())


def metric_vs_parameter(
    summary: pd.DataFrame, study, spec: Mapping[str, Any], out_dir: Path, source: str
) -> Figure:
    """Each metric against one swept parameter: lines per scenario, 95% bands."""
    x = spec["x"]
    texts = spec.get("metrics") or [m.text for m in study.metrics]
    metrics = [m for m in study.metrics if m.text in texts]
    others = [k for k in study.grid if k != x]
    fixed = {k: v for k, v in fixed_point(study).items() if k in others[1:]}
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
        vals: list[float] = []
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
            vals += [*h["lo"], *h["hi"], *h["mean"]]
        set_natural_range(ax, m.name, vals)
        if not numeric:
            ax.set_xticks(list(pos.values()), [value_label(v) for v in xs])
        else:
            ax.set_xticks(xs)
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(_wrap(m.unit, 40 if rows <= 2 else 24), fontsize=10 if rows > 2 else None)
        ax.set_title(_wrap(m.label, 45 if cols <= 2 else 30), loc="left")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if len(labels) > 1:  # inside the first panel: a figure legend collided with the title
        axes.flat[0].legend(handles, labels, frameon=False, loc="best")
    held = _point_text(fixed)
    title = f"{study.title}: the measures against {param_label(x)}" + (f" ({held})" if held else "")
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
    others = {k: v for k, v in fixed_point(study).items() if k not in (x, y)}
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
        ax.set_yticks(range(len(ys)), [_wrap(value_label(v), 10) for v in ys])
        ax.set_xlabel(param_label(x))
        ax.set_ylabel(param_label(y))
        ax.grid(False)
        ax.set_title(study.label(s), loc="left")
    # lay the panels out first, then give the colour bar its own axes to their right
    # (colorbar(ax=...) followed by subplots_adjust would draw it over the last panel)
    fig.subplots_adjust(left=0.11, right=0.84, bottom=0.14, top=0.86, wspace=0.25)
    cb = fig.colorbar(im, cax=fig.add_axes((0.87, 0.14, 0.018, 0.72)))
    cb.set_label(_wrap(f"{metric.label} ({metric.unit})", 50))
    fixed = _point_text(others)
    title = f"{metric.label}: {param_label(x)} × {param_label(y)}" + (
        f" ({fixed})" if fixed else ""
    )
    caption = f"Mean over {study.replicates} replicates in each cell" + (
        f" ({fixed})." if fixed else "."
    )
    name = f"heatmap_{metric.text.replace('@', '_').replace('/', '_')}"
    return save(fig, out_dir, name, title, caption, source, rect=None)


def participation_over_time(yearly: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Participation rate per year by stakeholder group, one panel per scenario."""
    point = fixed_point(study)
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
    where = _point_text(point)
    title = "Who keeps taking part: participation by stakeholder group over time" + (
        f" ({where})" if where else ""
    )
    caption = (
        f"Participation rate (attendances onsite or remote ÷ eligible seats, pooled over "
        f"all forums) per simulated year; mean over {study.replicates} replicates, shaded 95% "
        f"interval" + (f"; {where}." if where else ".")
    )
    return save(
        fig, out_dir, "participation_over_time", title, caption, source, rect=(0, 0.12, 1, 0.97)
    )


def representation_by_group(table: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Representation ratio by stakeholder group (pooled over forums), bars per scenario."""
    return _representation_bars(table, study, out_dir, source, by_region=False)


def representation_by_region(table: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """Representation ratio by UN region (all actors by home region), bars per scenario."""
    return _representation_bars(table, study, out_dir, source, by_region=True)


def _representation_bars(table, study, out_dir: Path, source: str, by_region: bool) -> Figure:

    point = fixed_point(study)
    t = table
    for k, v in point.items():
        t = t[t[k] == v]
    name = "representation_ratio_by_region" if by_region else "representation_ratio"
    cats = REGIONS if by_region else GROUPS
    metrics = [Metric(f"{name}@{c}", name, group=c) for c in cats]
    s = clip_summary(summarise(t, metrics, list(study.grid)), {m.text: m.name for m in metrics})
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
    top = np.nanmax(np.r_[s["hi"].to_numpy(float), s["mean"].to_numpy(float), 1.0])
    ax.set_ylim(0, top * 1.12)
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
    where = _point_text(point)
    title = f"Who is heard: representation ratio by {what}" + (f" ({where})" if where else "")
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

    point = fixed_point(study)
    t = table
    for k, v in point.items():
        t = t[t[k] == v]
    forums = [f for f in t.loc[t["kind"] == "summary", "forum"].unique() if f != "all"]
    fig, axes = plt.subplots(2, 2, figsize=SLIDE, squeeze=False)
    n = len(study.scenarios)
    width = 0.8 / n
    for ax, (name, group) in zip(axes.flat, FORUM_PANELS, strict=True):
        metrics = [Metric(f"{name}@{f}/{group}", name, forum=f, group=group) for f in forums]
        s = clip_summary(summarise(t, metrics, list(study.grid)),
                         {m.text: m.name for m in metrics})  # fmt: skip
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


def measures_by_forum(summary: pd.DataFrame, study, out_dir: Path, source: str) -> Figure:
    """One condition, measures taken in several forums: one panel per measure with the
    forums side by side (dot and 95% interval), so the figure answers "which forum"."""
    panels: dict[tuple, list] = {}
    for m in study.metrics:
        panels.setdefault((m.name, m.group, m.issue), []).append(m)
    keys = list(panels)
    rows, cols = _panel_grid(len(keys), wide_labels=False)
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False)
    s = summary.set_index("metric")
    for ax, key in zip(axes.flat, keys, strict=False):
        ms = [m for m in panels[key] if m.text in s.index]
        ms.sort(key=lambda m: -np.nan_to_num(s.loc[m.text, "mean"], nan=-np.inf))
        y = np.arange(len(ms))[::-1]
        vals = []
        for yi, m in zip(y, ms, strict=True):
            r = s.loc[m.text]
            if not np.isfinite(r["mean"]):
                ax.text(0.02, yi, "no value (not applicable)", va="center", color="#777777",
                        transform=ax.get_yaxis_transform())  # fmt: skip
                continue
            err = None
            if np.isfinite(r["lo"]):
                err = [[max(r["mean"] - r["lo"], 0)], [max(r["hi"] - r["mean"], 0)]]
                vals += [r["lo"], r["hi"]]
            vals.append(r["mean"])
            ax.errorbar(r["mean"], yi, xerr=err, fmt="o", color="black", ms=7, capsize=4, lw=2)
        set_natural_range(ax, key[0], vals, axis="x")
        ax.set_yticks(y, [m.forum.upper() if m.forum != "all" else "all forums" for m in ms])
        ax.set_ylim(-0.6, len(ms) - 0.4)
        ax.grid(axis="y", visible=False)
        ax.locator_params(axis="x", nbins=5)
        label = ms[0].label.rsplit(" (", 1)[0] if ms else ""
        ax.set_title(_wrap(label, 38 if cols == 3 else 52), loc="left", fontsize=12)
        ax.set_xlabel(_wrap(ms[0].unit if ms else "", 40), fontsize=10)
    for ax in list(axes.flat)[len(keys) :]:
        ax.set_visible(False)
    title = f"{study.title}: each measure by forum, highest first"
    caption = (
        f"Mean over {study.replicates} replicates with 95% t-intervals (cut at the measure's "
        "possible range), forums ordered from highest to lowest; dashed line: parity "
        "(representation ratio 1)."
    )
    return save(fig, out_dir, "measures_by_forum", title, caption, source)


def issue_forum_matrix(
    table: pd.DataFrame, study, meta: Mapping[str, Any], out_dir: Path, source: str
) -> Figure | None:
    """The WGEC's mapping: which forum takes up which issue, with what authority and
    bindingness, and what it adopted over the run; gaps marked; one panel per scenario.

    Cell colour: share of replicates in which the forum adopted at least one outcome on
    the issue; cell text: mean outcomes adopted per run (and, beside the baseline, the
    change against it). Blank: the issue is outside the forum's scope. Column heads: the
    forum's authority and whether its outcomes bind (after links such as a mandate).
    A public-policy issue that no binding forum may take up is a structural gap; one that
    binding forums may take up but on which none adopted anything is an outcome gap.
    """
    cfgs = meta.get("scenario_configs") or {}
    point = fixed_point(study)
    t = table[table["metric"] == "adoptions"] if "metric" in table else table.iloc[0:0]
    for k, v in point.items():
        if k in t:
            t = t[t[k] == v]
    panels = []
    for sc in study.scenarios:
        cfg = cfgs.get(sc)
        if not cfg:
            continue
        typed = as_config(cfg)
        issues = list(typed.issues)
        kinds = np.array([typed.issues[i].kind for i in issues])
        forums = list(typed.forum)
        eff = resolve_links(typed.forum, typed.links)
        scope = np.zeros((len(issues), len(forums)), bool)
        for j, f in enumerate(typed.forum.values()):
            scope[agenda_of(f, kinds, issues), j] = True
        ts = t[t["scenario"] == sc]
        mean = np.full(scope.shape, np.nan)
        share = np.full(scope.shape, np.nan)
        for j, f in enumerate(forums):
            for i, iss in enumerate(issues):
                v = ts[(ts["forum"] == f) & (ts["issue"] == iss)]["value"].to_numpy(float)
                if len(v):
                    mean[i, j], share[i, j] = v.mean(), (v > 0).mean()
        panels.append((sc, issues, typed, forums, eff, scope, mean, share, kinds))
    if not panels:
        return None
    n = len(panels)
    rows, cols = (1, n) if n <= 3 else (2, int(np.ceil(n / 2)))
    fig, axes = plt.subplots(rows, cols, figsize=SLIDE, squeeze=False)
    base_name = study.baseline.get("scenario", study.scenarios[0])
    base = next((p for p in panels if p[0] == base_name), None)
    small = n > 3
    cmap = matplotlib.colormaps["Blues"]
    for idx, (ax, (sc, issues, typed, forums, eff, scope, mean, share, kinds)) in enumerate(
        zip(axes.flat, panels, strict=False)
    ):
        img = np.where(scope, np.nan_to_num(share, nan=0.0), np.nan)
        # one panel: square cells (a full-width panel stretches them); several: fill
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1.4, aspect="equal" if n == 1 else "auto")
        for i in range(len(issues)):
            binding_in_scope = any(scope[i, j] and eff[j].binding for j in range(len(forums)))
            adopted_binding = any(
                scope[i, j] and eff[j].binding and np.nan_to_num(mean[i, j]) > 0
                for j in range(len(forums))
            )
            for j in range(len(forums)):
                if not scope[i, j]:
                    continue
                txt = "–" if not np.isfinite(mean[i, j]) else f"{mean[i, j]:.1f}"
                if base is not None and sc != base_name and np.isfinite(mean[i, j]):
                    bi = base[1].index(issues[i]) if issues[i] in base[1] else None
                    bj = base[3].index(forums[j]) if forums[j] in base[3] else None
                    if bi is not None and bj is not None and np.isfinite(base[6][bi, bj]):
                        change = mean[i, j] - base[6][bi, bj]
                        txt += f"\n({change:+.1f})" if abs(change) >= 0.05 else ""
                ax.text(j, i, txt, ha="center", va="center", fontsize=8 if small else 10,
                        color="black")  # fmt: skip
            if kinds[i] == "public_policy" and (not binding_in_scope or not adopted_binding):
                mark = "no binding forum" if not binding_in_scope else "nothing binding adopted"
                ax.add_patch(matplotlib.patches.Rectangle(
                    (-0.46, i - 0.44), len(forums) - 0.08, 0.88, fill=False,
                    ec=OKABE_ITO["vermillion"], lw=1.8, ls="--"))  # fmt: skip
                ax.text(len(forums) - 0.6, i - 0.36, "gap", color=OKABE_ITO["vermillion"],
                        fontsize=7 if small else 9, va="top", ha="right",
                        fontweight="bold")  # fmt: skip
                del mark
        heads = [
            f"{f.upper()}\n{e.authority:.2f}{' B' if e.binding else ''}"
            if small or (len(forums) > 4 and n > 1)
            else f"{f.upper()}\nauthority {e.authority:.2f}\n{'' if e.binding else 'not '}binding"
            for f, e in zip(forums, eff, strict=True)
        ]
        ax.set_xticks(range(len(forums)), heads, fontsize=8 if small else 10)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        labels = [_wrap(typed.issues[i].label or i, 14) for i in issues]
        ax.set_yticks(range(len(issues)), labels if idx % cols == 0 else [],
                      fontsize=8 if small else 10)  # fmt: skip
        ax.grid(False)
        ax.set_xlabel(study.label(sc), fontsize=10 if small else 12, fontweight="bold")
        for sp in ax.spines.values():
            sp.set_visible(False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    title = "Which forum takes up which issue, and what it adopted: the issues × forums map"
    caption = (
        "Rows: issues; columns: forums, headed by their authority (0–1) and whether their "
        "outcomes bind (B: binding), after mandates. Cell: mean outcomes adopted per run "
        "(in brackets: change against the baseline); shade: share of the "
        f"{study.replicates} replicates with at least one adoption; blank: outside the "
        "forum's scope. Dashed red row, 'gap': a public-policy issue that no binding forum "
        "may take up or on which no binding forum adopted anything (the WGEC's gap analysis)."
    )
    return save(fig, out_dir, "issue_forum_matrix", title, caption, source,
                rect=(0, 0.035, 0.97, 0.95))  # fmt: skip


def draw_all(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    yearly: pd.DataFrame,
    study,
    out_dir: Path,
    source: str,
    meta: Mapping[str, Any] | None = None,
    diffs: pd.DataFrame | None = None,
) -> list[Figure]:
    """Draw the figures that fit the study's shape, then the ones its file asks for.

    The first figure is chosen from the design: a grid study over a number gets the
    measures against its main swept key (:func:`grid_overview`; a 2-D grid also its
    heatmaps if asked), a few categorical conditions dot-and-interval panels (designs
    over a few categorical grid points side by side in their scenario's row);
    one condition with measures in several forums gets :func:`measures_by_forum`; few
    or many scenarios get dot-and-interval panels (:func:`scenario_comparison`). Every
    study gets the issues × forums map (:func:`issue_forum_matrix`).
    """
    specs = [f for f in study.figures if f["kind"] != "scenario_comparison"]
    conds = len(study.scenarios) * len(study.points)
    numeric = any(
        all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)
        for vals in study.grid.values()
    )
    side_by_side = len(study.scenarios) > 1 and 1 < len(study.points) <= DODGE_POINTS
    if study.grid and (numeric or (conds > 8 and not side_by_side)):  # lines against it
        first = "grid_overview"
    elif conds == 1:
        first = "measures_by_forum"
    else:
        first = "scenario_comparison"
    with plt.rc_context(STYLE):
        out = []
        if first == "grid_overview":
            out.append(grid_overview(summary, study, out_dir, source))
        elif first == "measures_by_forum":
            out.append(measures_by_forum(summary, study, out_dir, source))
        else:
            out.append(scenario_comparison(summary, study, out_dir, source))
        for f in specs:
            k = f["kind"]
            if k == "metric_vs_parameter":
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
        matrix = issue_forum_matrix(table, study, meta or {}, out_dir, source)
        if matrix is not None:
            out.append(matrix)
    return out
