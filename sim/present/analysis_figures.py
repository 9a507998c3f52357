"""Figures of the analysis layer: Morris and Sobol indices, and the calibration fit.

Drawn in the house style.from what
:mod:`sim.analysis.sensitivity` and :mod:`sim.analysis.calibration` compute.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.calibration import assumption_summary
from sim.analysis.sensitivity import StageResult
from sim.present import plots
from sim.present.plots import param_label
from sim.studies.spec import Metric, SensitivityStudy


def sensitivity_figures(study: SensitivityStudy, results: Sequence[StageResult], out: Path) -> None:
    """Draw each stage's figure into ``out/<stage>/`` (Morris μ*–σ or Sobol bars)."""
    for res in results:
        stage, folder = res.stage, out / res.stage.name
        source = (
            f"govsim sensitivity {study.name}, stage {stage.name}: {len(res.design)} points x "
            f"{study.replicates} replicates, root seed {study.root_seed}, design seed {stage.seed}"
        )
        if stage.method == "morris":
            plot_morris(res.indices, study.metrics, folder / "morris_mu_star_sigma", source)
        else:
            plot_sobol(res.indices, study.metrics, folder / "sobol_indices", source)


def _short(key: str) -> str:
    return param_label(key)


def plot_morris(
    indices: pd.DataFrame, metrics: Sequence[Metric], path: Path, source: str = ""
) -> list[Path]:
    """μ*–σ plot per metric, with μ* confidence bars, in the house style.

    Saved as ``path`` + .png (200 dpi), .svg and .pdf.
    """
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(metrics), figsize=plots.SLIDE, squeeze=False)
        for ax, m in zip(axes[0], metrics, strict=True):
            t = indices[indices["metric"] == m.key]
            ax.errorbar(t["mu_star"], t["sigma"], xerr=t["mu_star_conf"], fmt="o", ms=6,
                        color=plots.OKABE_ITO["blue"], ecolor="#9ab", capsize=3)  # fmt: skip
            lim = max(float(t["mu_star"].max()), float(t["sigma"].max()), 1e-12) * 1.15
            ax.plot([0, lim], [0, lim], ls=":", color="grey", lw=1, label="σ = μ*")
            for _, r in t.iterrows():
                ax.annotate(_short(r["parameter"]), (r["mu_star"], r["sigma"]), fontsize=9,
                            xytext=(4, 3), textcoords="offset points")  # fmt: skip
            ax.set_xlabel("μ*: mean |elementary effect| over the range\n(units of the measure)")
            ax.set_ylabel("σ: sd of elementary effects (units of the measure)")
            ax.set_title(plots._wrap(m.label, 45))
            ax.set_xlim(0, lim)
            ax.set_ylim(0, lim)
            ax.legend(loc="upper left", frameon=False)
        title = "Morris screening: which parameters move the equity measures"
        caption = (
            "Bars: 95% bootstrap interval of μ*. Above the dotted line: non-linear or interacting."
        )
        fig_ = plots.save(fig, path.parent, path.name, title, caption, source)
    return [fig_.png, fig_.svg, fig_.pdf]


def replot(study: SensitivityStudy, out: Path) -> None:
    """Redraw every stage's figure from its ``indices.csv`` (no runs)."""
    for stage in study.stages:
        folder = out / stage.name
        indices = pd.read_csv(folder / "indices.csv")
        source = f"govsim sensitivity {study.name}, stage {stage.name}, root seed {study.root_seed}"
        if stage.method == "morris":
            plot_morris(indices, study.metrics, folder / "morris_mu_star_sigma", source)
        else:
            plot_sobol(indices, study.metrics, folder / "sobol_indices", source)


def plot_sobol(
    indices: pd.DataFrame, metrics: Sequence[Metric], path: Path, source: str = ""
) -> list[Path]:
    """S1 and ST bars with 95% intervals per metric, in the house style."""
    with plt.rc_context(plots.STYLE):
        fig, axes = plt.subplots(1, len(metrics), figsize=plots.SLIDE, squeeze=False)
        for ax, m in zip(axes[0], metrics, strict=True):
            t = indices[indices["metric"] == m.key].reset_index(drop=True)
            x = np.arange(len(t))
            ax.bar(x - 0.2, t["S1"], 0.4, yerr=t["S1_conf"], capsize=4,
                   color=plots.OKABE_ITO["blue"], label="S1 (first order)")  # fmt: skip
            ax.bar(x + 0.2, t["ST"], 0.4, yerr=t["ST_conf"], capsize=4,
                   color=plots.OKABE_ITO["orange"], label="ST (total)")  # fmt: skip
            ax.set_xticks(x, [_short(p) for p in t["parameter"]], rotation=25, ha="right")
            ax.axhline(0, color="black", lw=0.8)
            ax.set_ylabel("share of output variance (dimensionless)")
            ax.set_title(plots._wrap(m.label, 45))
            ax.legend(frameon=False)
        title = "Sobol indices: share of the variance of each equity measure"
        caption = "Error bars: 95% bootstrap intervals (SALib). ST - S1: interactions."
        fig_ = plots.save(fig, path.parent, path.name, title, caption, source)
    return [fig_.png, fig_.svg, fig_.pdf]


def plot_fit(table: pd.DataFrame, path: Path) -> list[Path]:
    """Observed vs simulated shares, one marker per target, coloured by set (fit, held out,
    test), shaped by dimension; the band is the ±5-point goal."""
    fig, ax = plt.subplots(figsize=(6, 5.6))
    markers = {"stakeholder": "o", "region": "s", "mode": "^"}
    colours = {"fit": "#1f4e79", "holdout": "#e69f00", "test": "#b22222"}
    sets = table["set"] if "set" in table else pd.Series("fit", index=table.index)
    for (st, dim), e in table.groupby([sets, "dimension"], sort=False):
        ax.errorbar(e["observed"], e["simulated"], yerr=e["simulated_sd"].fillna(0),
                    fmt=markers[dim], color=colours.get(st, "grey"), ms=5, capsize=2,
                    label=f"{st}: {dim}")  # fmt: skip
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=0.8)
    ax.fill_between([0, 1], [-0.05, 0.95], [0.05, 1.05], color="grey", alpha=0.12, lw=0)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("observed share of participants")
    ax.set_ylabel("simulated share of delegates (mean ± sd over replicates)")
    ax.set_title("IGF attendance: calibrated model vs observations")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return _save_png_svg(fig, path)


def plot_host_effect(sim: pd.DataFrame, observed: pd.DataFrame, path: Path) -> list[Path]:
    """Each region's share of participants when it hosts the IGF and when it does not.

    Bars: simulated mean over the in-person IGFs of the host calendar 2006-2025
    (``sim``: :func:`sim.analysis.predict.host_calendar_shares`, onsite basis), with the
    range over meetings. Markers: observed shares (``observed``: the region rows of the
    targets with ``hosting``), filled = onsite basis, open = all participants.
    """
    regions = list(dict.fromkeys(sim["region"]))
    x = np.arange(len(regions))
    colours = {True: plots.OKABE_ITO["vermillion"], False: plots.OKABE_ITO["blue"]}
    fig, ax = plt.subplots(figsize=(9, 5.2))
    on = sim[sim["basis"] == "onsite"]
    for k, hosting in enumerate((True, False)):
        g = on[on["hosting"] == hosting].groupby("region")["share"]
        mean, lo, hi = (g.mean().reindex(regions), g.min().reindex(regions),
                        g.max().reindex(regions))  # fmt: skip
        pos = x + (k - 0.5) * 0.38
        ax.bar(
            pos,
            mean,
            width=0.36,
            color=colours[hosting],
            alpha=0.55,
            label=f"simulated, {'host region' if hosting else 'elsewhere'} (onsite; range)",
        )
        ax.errorbar(pos, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="#444",
                    capsize=3, lw=1)  # fmt: skip
        o = observed[observed["hosting"] == hosting]
        for basis, filled in (("onsite", True), ("all", False)):
            ob = o[o["basis"] == basis]
            # spread the markers of one bar sideways so that equal values stay visible
            rank = ob.groupby("category").cumcount().to_numpy()
            px = x[[regions.index(r) for r in ob["category"]]] + (k - 0.5) * 0.38
            px = px + 0.05 * (rank - 1.5) + (0.02 if filled else -0.02)
            ax.scatter(
                px,
                ob["observed"],
                s=46,
                zorder=3,
                marker="o" if hosting else "s",
                facecolors=colours[hosting] if filled else "white",
                edgecolors="black",
                linewidths=1,
                label=f"observed, {'host' if hosting else 'elsewhere'}, {basis} basis",
            )
            if hosting:  # name the host meetings (few); the others are listed in the docs
                for xx, (_, r) in zip(px, ob.iterrows(), strict=True):
                    ax.annotate(r["meeting"], (xx, r["observed"]), xytext=(6, -3),
                                textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set_xticks(x, regions)
    ax.set_ylabel("share of participants")
    ax.set_ylim(0, 1)
    ax.set_title("IGF 2006-2025: each region's share when it hosts vs when it does not")
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08),
              ncols=3)  # fmt: skip
    fig.text(0.01, -0.02, "Observed: IGF Secretariat / UN figures (sim/data/igf_targets.csv); "
             "onsite basis = share of onsite participants, all = onsite + registered remote. "
             "Simulated: status quo, IGF held in each calendar host, 3 runs per meeting.",
             fontsize=7, color="#555")  # fmt: skip
    return _save_png_svg(fig, path)


def plot_assumption_profile(profile: pd.DataFrame, path: Path) -> list[Path]:
    """Each assumed input at the ends of its range (``profile``:
    :func:`sim.analysis.calibration.profile_assumptions`): left, the change of the fit loss
    from the assumed value (mean, and min to max over the paired streams; > 0 = the fitted
    meetings fit worse); right, the worst error at the held-out and test meetings at the
    end (filled) against the assumed value (open), with the 7-point goal."""
    summary = assumption_summary(profile)
    assumed = summary[summary["role"] == "assumed"].set_index("assumption")
    stats = summary[summary["role"] != "assumed"].reset_index(drop=True)
    mean = stats["change_mean"]

    def label(key: str, value: float) -> str:  # population.region_factor.WEOG -> region factor WEOG
        name = param_label(key) if key.startswith("forum.") else key.split(".", 1)[-1]
        return f"{name.replace('_', ' ').replace('.', ' ')} = {value:g}"

    labels = [label(a, v) for a, v in zip(stats["assumption"], stats["value"], strict=True)]
    y = np.arange(len(stats))[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.45 * len(stats) + 1.8), sharey=True)
    left.barh(y, mean, color=plots.OKABE_ITO["blue"], alpha=0.6, height=0.6)
    left.errorbar(mean, y, xerr=[mean - stats["change_min"], stats["change_max"] - mean],
                  fmt="none", ecolor="#444", capsize=3, lw=1)  # fmt: skip
    left.axvline(0, color="grey", lw=0.8)
    left.set_yticks(y, labels, fontsize=8)
    left.set_xlabel(
        "change in fit loss from the assumed value\n(bar: mean; whiskers: min to max over streams)"
    )
    left.set_title("Can the fitted meetings tell? (> 0: they fit worse)", fontsize=10)
    sets = profile.drop_duplicates("meeting").set_index("meeting")["set"]
    others = [m for m in sets.index if sets[m] != "fit"]
    palette = itertools.cycle(plots.OKABE_ITO[c] for c in ("vermillion", "purple", "sky_blue"))
    for j, m in enumerate(others):
        colour = plots.OKABE_ITO["orange"] if sets[m] == "holdout" else next(palette)
        yy = y + (j - (len(others) - 1) / 2) * 0.18
        at = stats[m].to_numpy() * 100
        was = assumed.loc[stats["assumption"], m].to_numpy() * 100
        right.hlines(yy, np.minimum(at, was), np.maximum(at, was), color=colour, lw=0.8)
        right.scatter(was, yy, s=22, facecolors="none", edgecolors=colour)
        right.scatter(at, yy, s=22, color=colour, label=f"{m} ({sets[m]})")
    right.axvline(7, color="grey", ls=":", lw=0.8)
    right.set_xlim(left=0)
    right.set_xlabel("worst error, points\n(open: at the assumed value; dotted: the 7-point goal)")
    right.set_title("Held-out and test meetings (reported, never used)", fontsize=10)
    right.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                 ncol=len(others))  # fmt: skip
    return _save_png_svg(fig, path)


def _save_png_svg(fig, path: Path) -> list[Path]:
    """Lay out, save as PNG (200 dpi) and SVG beside ``path``, close; return the files."""
    fig.tight_layout()
    out = []
    for ext in ("png", "svg"):
        p = path.with_suffix(f".{ext}")
        fig.savefig(p, dpi=200, bbox_inches="tight")
        out.append(p)
    plt.close(fig)
    return out
