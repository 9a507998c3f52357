"""Figures and briefing of an exploration study: does the ranking of designs hold?

Three figures in the house style of :mod:`sim.present.plots` — each design's
improvement over the baseline across the assumption draws (strip plot with
medians), its regret, and for each design that sometimes fails the PRIM peeling
trade-off with the chosen box — and ``briefing.md``/``briefing.html`` whose first
section answers, in plain words, whether the ranking holds across what we do not
know and under which assumptions each design fails.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.analysis.exploration import Exploration
from sim.present import plots
from sim.studies.spec import ExplorationStudy


def _fmt(v: float, digits: int = 3) -> str:
    return f"{v:+.{digits}f}"


def figures(study: ExplorationStudy, found: Exploration, out: Path) -> list[plots.Figure]:
    """Draw the exploration's figures into ``out/figures``; return them."""
    folder = out / "figures"
    designs = [d for d in study.designs if d != study.baseline]
    labels = [plots._wrap(study.label(d), 16) for d in designs]
    n = len(found.improvement)
    source = (
        f"govsim explore {study.name}: {len(study.designs)} designs × {n} draws "
        f"({study.sampler}), root seed {study.root_seed}"
    )
    unit = (
        f"improvement in {study.goal.metric.replace('_', ' ')} over {study.label(study.baseline)}"
    )
    saved = []
    rng = np.random.default_rng(0)  # jitter only: the data are not random here
    with plt.rc_context(plots.STYLE):
        fig, ax = plt.subplots(figsize=plots.SLIDE)
        for i, d in enumerate(designs):
            y = found.improvement[d].to_numpy()
            ax.scatter(i + rng.uniform(-0.18, 0.18, len(y)), y, s=14, alpha=0.55,
                       color=plots.OKABE_ITO["blue"], edgecolors="none")  # fmt: skip
            ax.hlines(np.median(y), i - 0.3, i + 0.3, color="black", lw=2.5)
        ax.axhline(0, color="grey", lw=1, ls="-")
        ax.axhline(study.goal.threshold, color=plots.OKABE_ITO["vermillion"], lw=1.2, ls="--",
                   label=f"goal: {study.goal.threshold:g}")  # fmt: skip
        ax.set_xticks(range(len(designs)), labels)
        ax.set_ylabel(plots._wrap(unit, 40))
        ax.legend(loc="upper left", frameon=False)
        saved.append(plots.save(
            fig, folder, "design_effects",
            "How much each design improves on the baseline, across the assumptions",
            f"One dot per draw of the assumptions ({n} draws); bar: median. Above the dashed "
            "line the design meets the goal.", source,
        ))  # fmt: skip

        fig, ax = plt.subplots(figsize=plots.SLIDE)
        regret = found.improvement.max(axis=1).to_numpy()[:, None] - found.improvement[designs]
        ax.boxplot([regret[d].to_numpy() for d in designs], showfliers=True)
        ax.set_xticks(range(1, len(designs) + 1), labels)
        ax.set_ylabel("regret: shortfall from the best design in the draw")
        ax.set_ylim(bottom=0)
        saved.append(plots.save(
            fig, folder, "regret", "Regret: how far each design falls short of the best one",
            "Box: quartiles over draws; whiskers 1.5 IQR. Lower is more robust.", source,
        ))  # fmt: skip

        for d, box in found.boxes.items():
            fig, ax = plt.subplots(figsize=plots.SLIDE)
            t = box.trajectory
            ax.plot(t["coverage"], t["density"], "-o", ms=4, color=plots.OKABE_ITO["sky_blue"])
            ax.plot(box.coverage, box.density, "o", ms=12, mfc="none", mew=2,
                    color=plots.OKABE_ITO["vermillion"], label="chosen box")  # fmt: skip
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("coverage: share of all failures inside the box")
            ax.set_ylabel("density: share of the box's draws that fail")
            ax.legend(loc="lower left", frameon=False)
            saved.append(plots.save(
                fig, folder, f"prim_{d}",
                f"Where {study.label(d)} fails: PRIM peeling trade-off",
                "Chosen box: " + box_text(box) + ".", source,
            ))  # fmt: skip
    return saved


def box_text(box) -> str:
    """The box's limits in words."""
    if not len(box.limits):
        return "no restriction (failures are spread over the whole space)"
    parts = [
        f"{plots.param_label(k)} {lim['low']:.3g}–{lim['high']:.3g}"
        for k, lim in box.limits.iterrows()
    ]
    return " and ".join(parts) + f" (coverage {box.coverage:.0%}, density {box.density:.0%})"


def findings(study: ExplorationStudy, found: Exploration) -> list[str]:
    """The plain-words answer to "does the ranking hold?"."""
    s = found.summary
    n = len(found.improvement)
    lines = []
    ranked = [d for d in s.index if d != study.baseline]
    top = [d for d in ranked if s.loc[d, "rank"] == 1]
    names = ", ".join(study.label(d) for d in top)
    if len(top) > 1:
        lines.append(f"No single design is best: nothing separates {names} on average "
                     f"across {n} draws of the assumptions (paired 95% intervals).")  # fmt: skip
    elif not top:
        lines.append(f"No design beats {study.label(study.baseline)} on average across "
                     f"{n} draws of the assumptions.")  # fmt: skip
    else:
        lines.append(f"{names} improves most on the baseline on average across {n} draws "
                     f"({_fmt(s.loc[top[0], 'mean'])}, 95% CI {_fmt(s.loc[top[0], 'lo'])} "
                     f"to {_fmt(s.loc[top[0], 'hi'])}).")  # fmt: skip
    for d in ranked:
        share = s.loc[d, "satisficing"]
        q10, q90 = s.loc[d, "effect_q0.1"], s.loc[d, "effect_q0.9"]
        line = (f"{study.label(d)}: meets the goal (improvement ≥ {study.goal.threshold:g}"
                + (" without lowering any guarded measure" if study.guards else "")
                + f") in {share:.0%} of draws; improvement ranges {_fmt(q10)} to {_fmt(q90)} "
                f"(10th–90th percentile), worst regret {s.loc[d, 'regret_max']:.3f}.")  # fmt: skip
        why = []
        if found.goal_missed is not None and found.goal_missed[d] > 0:
            why.append(f"falls short of the goal in {found.goal_missed[d]:.0%} of draws")
        if found.guard_broken is not None and found.guard_broken[d] > 0:
            why.append(f"lowers some group's participation in {found.guard_broken[d]:.0%}")
        if why:
            line += " It " + " and ".join(why) + "."
        if d in found.boxes:
            box, base = found.boxes[d], found.failures[d].mean()
            if box.density >= 1.2 * base and box.mass <= 0.6:  # a region worth naming
                line += f" Failures concentrate where {box_text(box)}."
            else:  # PRIM's densest box is about the whole space: no region stands out
                line += (
                    " No region of the assumptions concentrates its failures (PRIM's best box: "
                    f"density {box.density:.0%} against {base:.0%} overall)."
                )
        lines.append(line)
    best_regret = s.drop(index=study.baseline)["regret_max"].idxmin()
    lines.append(f"Smallest worst-case regret: {study.label(best_regret)} — the minimax-regret "
                 "choice if the assumptions cannot be narrowed.")  # fmt: skip
    return lines


def briefing(study: ExplorationStudy, found: Exploration, out: Path) -> Path:
    """Write ``briefing.md`` and a self-contained ``briefing.html``; return the markdown path."""
    figs = figures(study, found, out)
    unc = "\n".join(
        f"| {plots.param_label(p.key)} (`{p.key}`) | {p.low:g} | {p.high:g} |"
        for p in study.uncertainties
    )
    table = found.summary.drop(index=study.baseline)
    rows = "\n".join(
        f"| {study.label(d)} | {int(r['rank'])} | {_fmt(r['mean'])} [{_fmt(r['lo'])}, "
        f"{_fmt(r['hi'])}] | {r['satisficing']:.0%} | {r['regret_max']:.3f} |"
        for d, r in table.iterrows()
    )
    md = [
        f"# {study.title or study.name}",
        "",
        study.question,
        "",
        "## Does the ranking hold?",
        "",
        *[f"- {x}" for x in findings(study, found)],
        "",
        "| design | rank (ties share) | mean improvement [95% CI] | meets goal | worst regret |",
        "|---|---|---|---|---|",
        rows,
        "",
        "## Figures",
        "",
        *[f"![{f.title}](figures/{f.name}.png)\n\n*{f.caption}*\n" for f in figs],
        "## Method",
        "",
        f"{len(study.designs)} designs were each run at the same {len(found.improvement)} draws "
        f"of the uncertain assumptions ({study.sampler} sample), with common random numbers "
        "(draw j of every design uses the same seed). Improvement = the design's change minus "
        f"the baseline's ({study.label(study.baseline)}) in the same draw, signed so that "
        "positive is better. Regret: shortfall from the best design in the draw (Savage). "
        "Ranking: designs whose paired difference's 95% t-interval covers zero are tied. "
        "Failure regions: PRIM (Friedman & Fisher 1999; EMA Workbench) on the draws in which "
        "a design does not meet the goal. Definitions and sources: docs/exploration.md.",
        "",
        "## Assumptions explored",
        "",
        "| assumption | low | high |",
        "|---|---|---|",
        unc,
        "",
    ]
    path = out / "briefing.md"
    path.write_text("\n".join(md))
    body = []
    for line in md:
        if line.startswith("!["):
            name = line.split("(figures/")[1].split(")")[0]
            data = base64.b64encode((out / "figures" / name).read_bytes()).decode()
            body.append(f'<img src="data:image/png;base64,{data}" style="max-width:100%">')
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.startswith("|"):
            if set(line) <= set("|-"):
                continue
            cells = "".join(
                f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|")
            )
            body.append(f"<table><tr>{cells}</tr></table>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    (out / "briefing.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>"
        + html.escape(study.title or study.name)
        + "</title><body style='font-family:sans-serif;max-width:60em;margin:auto'>"
        + "\n".join(body)
        + "</body>"
    )
    return path
