"""Briefing packs: ``briefing.md`` and a self-contained ``briefing.html`` per study.

Built only from what is on disk (the manifest and the stored runs), so
``govsim report RESULTS_DIR`` gives the same pack months later without
re-running anything. Contents: the question, a headline table (each scenario
against the baseline, with 95% intervals), plain-language readings of the
differences whose interval excludes zero, the figures with captions, a method
note, the parameter table and provenance. The tidy data sit beside it:
``aggregate.parquet`` (every run, every measure), ``summary.csv`` (means and
intervals) and ``differences.csv`` (paired differences vs the baseline).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.config import as_config
from sim.model.forums.links import resolve_links
from sim.present import plots
from sim.studies import stats
from sim.studies.experiment import parse_study
from sim.studies.store import aggregate, read_manifest

PARAMETERS = [
    ("label", "forum"),
    ("membership", "membership"),
    ("decision", "decision rule"),
    ("voice", "voice"),
    ("authority", "authority (0–1)"),
    ("binding", "binding"),
    ("meeting_months", "meets (months)"),
    ("remote", "remote participation"),
    ("support", "travel support"),
    ("funded_slots", "funded slots per meeting"),
    ("scope", "agenda scope"),
]
"""Forum settings shown in the parameter table: (config key, column title)."""


NEGLIGIBLE = 0.005
"""Differences smaller than this (in the measure's units) are not spelt out as findings."""


def fmt(v: float, digits: int = 3) -> str:
    """A number for a table ('–' when undefined)."""
    return "–" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def fmt_ci(mean: float, lo: float, hi: float, signed: bool = False) -> str:
    if mean is None or not np.isfinite(mean):
        return "not defined"
    m = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    if not np.isfinite(lo):
        return m
    return f"{m} [{lo:.3f}, {hi:.3f}]" if not signed else f"{m} [{lo:+.3f}, {hi:+.3f}]"


def _study_from_meta(meta: dict[str, Any]):

    return parse_study(
        meta["study_text"],
        path=meta.get("study_file", ""),
        replicates=meta["replicates"],
        years=meta.get("years"),
        compose=False,
        known_configs=meta.get("scenario_configs") or {},
    )


def _condition_name(row: dict[str, Any], study, grid_keys: list[str]) -> str:
    return plots.condition_label(row, study, grid_keys)


def headline_table(summary: pd.DataFrame, diffs: pd.DataFrame, study) -> pd.DataFrame:
    """Measure × condition: mean [95% CI] and difference vs baseline [95% CI]."""
    grid_keys = list(study.grid)
    cond = ["scenario", *grid_keys]
    labels = {m.text: m.label for m in study.metrics}
    rows, last = [], None
    for _, r in summary.iterrows():
        d = diffs[(diffs["metric"] == r["metric"])]
        for k in cond:
            d = d[d[k] == r[k]]
        diff = (
            fmt_ci(d["diff"].iloc[0], d["lo"].iloc[0], d["hi"].iloc[0], signed=True)
            if len(d)
            else "baseline"
        )
        measure = labels.get(r["metric"], r["metric"])
        rows.append({
            "measure": measure if measure != last else "",
            "condition": _condition_name(r.to_dict(), study, grid_keys),
            "mean [95% CI]": fmt_ci(r["mean"], r["lo"], r["hi"]),
            "vs baseline [95% CI]": diff,
        })  # fmt: skip
        last = measure
    return pd.DataFrame(rows)


def design_lines(effects: pd.DataFrame, study) -> list[str]:
    """The lead: attainment gap closed by design per condition, the assumed start as context.

    ``effects`` is :func:`sim.studies.stats.design_effects`: the design effect is a
    condition's change in the gap minus the baseline's, paired by replicate; gap closed by
    design = −effect (positive: the design narrows the gap more than the baseline does).
    """
    if effects is None or not len(effects):
        return []
    grid_keys = list(study.grid)
    out = []
    for _, r in effects.iterrows():
        if not np.isfinite(r["effect"]):
            continue
        who = _condition_name(r.to_dict(), study, grid_keys)
        out.append(
            f"{who}: gap closed by design {fmt_ci(-r['effect'], -r['hi'], -r['lo'], signed=True)}"
            f" attainment points (change in the gap minus the baseline's, paired by replicate;"
            f" assumed starting gap {fmt(r['start'])}, baseline change"
            f" {r['baseline_change']:+.3f})."
        )
    return out


def readings(diffs: pd.DataFrame, study) -> list[str]:
    """Plain sentences for differences whose 95% interval excludes zero."""
    grid_keys = list(study.grid)
    labels = {m.text: m for m in study.metrics}
    out, small = [], 0
    for _, r in diffs.iterrows():
        if not (np.isfinite(r["lo"]) and (r["lo"] > 0 or r["hi"] < 0)):
            continue
        if abs(r["diff"]) < NEGLIGIBLE:
            small += 1
            continue
        m = labels[r["metric"]]
        who = _condition_name(r.to_dict(), study, grid_keys)
        way = "higher" if r["diff"] > 0 else "lower"
        out.append(
            f"{who}: {m.label[0].lower() + m.label[1:]} is {abs(r['diff']):.3f} {way} than the "
            f"baseline (95% CI {r['lo']:+.3f} to {r['hi']:+.3f}; {m.unit})."
        )
    if not out:
        out.append("No difference from the baseline has a 95% interval that excludes zero.")
    if small:
        out.append(
            f"{small} further difference(s) exclude zero but are smaller than {NEGLIGIBLE} "
            "in absolute value: detectable with common random numbers, negligible in size."
        )
    return out


def parameter_table(meta: dict[str, Any], study) -> pd.DataFrame:
    """Forum settings per scenario (at the first grid point), from the resolved configs.

    Authority and bindingness are shown as the links make them (a mandate raises
    a forum's authority and makes it binding), with the links into each forum.
    """

    rows = []
    for s, cfg in (meta.get("scenario_configs") or {}).items():
        if not cfg:
            continue
        typed = as_config(cfg)
        effective = dict(zip(typed.forum, resolve_links(typed.forum, typed.links), strict=True))
        for name, f in cfg["forum"].items():
            row = {"scenario": study.label(s)}
            for key, title in PARAMETERS:
                v = f.get(key)
                row[title] = ", ".join(map(str, v)) if isinstance(v, list) else v
            row["forum"] = f"{f.get('label') or name} ({name})"
            row["authority (0–1)"] = round(effective[name].authority, 3)
            row["binding"] = effective[name].binding
            row["links in"] = (
                ", ".join(
                    f"{link.kind}"
                    + (f" from {link.source}" if link.source else "")
                    + f" ({link.weight:g})"
                    for link in typed.links.values()
                    if link.target == name
                )
                or "–"
            )
            rows.append(row)
    return pd.DataFrame(rows)


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(r[c]).replace("|", "/") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in df.columns) + "</tr>"
        for _, r in df.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.8em;margin-bottom:.2em}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em;
display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.92em;color:#444;margin-top:.3em}
.question{font-size:1.15em;background:#f4f8fb;border-left:4px solid #0072B2;padding:.6em 1em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}
.note{color:#555;font-size:.92em}
"""


def build_briefing(root: Path | str, study=None) -> Path:
    """Aggregate, compute statistics, draw figures and write the briefing pack.

    Parameters
    ----------
    root
        A study's results folder (holds ``manifest.json`` and ``runs/``).
    study
        The loaded study; None rebuilds it from the study text in the manifest.

    Returns
    -------
    Path
        ``root/briefing.md`` (``briefing.html`` sits beside it).
    """
    root = Path(root)
    manifest = read_manifest(root)
    meta = manifest["meta"]
    if study is None:
        study = _study_from_meta(meta)
    table, missing, failed = aggregate(root)
    grid_keys = list(study.grid)
    if len(table):
        table.to_parquet(root / "aggregate.parquet", index=False)
    summary = stats.summarise(table, study.metrics, grid_keys) if len(table) else pd.DataFrame()
    diffs = (
        stats.paired_differences(table, study.metrics, study.baseline, grid_keys)
        if len(table)
        else pd.DataFrame()
    )
    yearly = stats.yearly(table, grid_keys) if len(table) else pd.DataFrame()
    effects = stats.design_effects(table, study.baseline, grid_keys) if len(table) else None
    lead = design_lines(effects, study)
    if effects is not None:
        effects.to_csv(root / "design_effects.csv", index=False)
    summary.to_csv(root / "summary.csv", index=False)
    diffs.to_csv(root / "differences.csv", index=False)

    prov = meta.get("provenance", {})
    commit = (prov.get("git_commit") or "unknown")[:10] + (
        " (modified)" if prov.get("git_dirty") else ""
    )
    source = (
        f"Source: govsim simulation, study '{study.name}', {study.replicates} replicates per "
        f"condition, root seed {study.root_seed}, commit {commit}, {prov.get('created', '')[:10]}"
    )
    figures = (
        plots.draw_all(table, summary, yearly, study, root / "figures", source)
        if len(table)
        else []
    )

    n_expected = len(manifest["runs"])
    title = study.title
    head = headline_table(summary, diffs, study) if len(summary) else pd.DataFrame()
    params = parameter_table(meta, study)
    points = ", ".join(
        f"{plots.param_label(k)} ∈ {{{', '.join(plots.value_label(v) for v in vals)}}}"
        for k, vals in study.grid.items()
    )
    method = (
        f"Each scenario{' at each grid point' if study.grid else ''} was simulated "
        f"{study.replicates} times for {_years(meta)} with the govsim agent-based model "
        f"(one step = one month; governments from the UN member-state table, synthetic non-state "
        f"actors; forums composed from rules; see docs/ODD.md). Replicate r uses the random "
        f"stream SeedSequence({study.root_seed}, spawn_key=(r,)) in every scenario (common "
        f"random numbers), so differences against the baseline are paired by replicate. "
        f"Intervals are 95% Student-t intervals across replicates."
        + (f" Swept: {points}." if points else "")
        + (f" Overrides for every run: {', '.join(study.overrides)}." if study.overrides else "")
    )
    status = f"{n_expected - len(missing)} of {n_expected} runs stored"
    if missing:
        status += f"; {len(missing)} missing" + (
            f", of which {len(failed)} failed" if failed else ""
        )
        status += " — the statistics use the stored runs only; re-run the study to complete it"
    status += "."
    versions = ", ".join(f"{k} {v}" for k, v in (prov.get("packages") or {}).items() if v)
    prov_lines = [
        f"git commit: {prov.get('git_commit')}"
        + (" (working tree modified)" if prov.get("git_dirty") else ""),
        f"created: {prov.get('created')}",
        f"python {prov.get('python')}; {versions}",
        f"study file: {meta.get('study_file')}",
        f"results folder: {root}",
    ]  # fmt: skip
    reads = readings(diffs, study) if len(diffs) else []

    # ---- markdown
    md = [f"# {title}: briefing", "", f"**Question.** {study.question}", "", f"*{status}*", ""]
    md += ["## Headline", ""] + [f"**{x}**" for x in lead] + ([""] if lead else [])
    md += [f"Baseline: {plots._baseline_text(study)}. "
           "Values are means with 95% intervals; differences are paired by replicate.",
           ""]  # fmt: skip
    md += [_md_table(head), "", "**Reading.**", ""] + [f"- {r}" for r in reads] + [""]
    md += ["## Figures", ""]
    for f in figures:
        md += [f"![{f.title}](figures/{f.png.name})", "", f"*{f.title}.* {f.caption} "
               f"(also [SVG](figures/{f.svg.name}), [PDF](figures/{f.pdf.name}))", ""]  # fmt: skip
    md += ["## Method", "", method, ""]
    md += ["## Parameters", "", _md_table(params), ""]
    md += ["## Data", "", "`aggregate.parquet` (every run, every measure; one row per run and "
           "measure with scenario, grid values, replicate, seed and run key), `summary.csv`, "
           "`differences.csv`, `manifest.json`.", ""]  # fmt: skip
    if failed:
        md += (
            ["## Failed runs", ""]
            + [f"- `{k}`: {v.splitlines()[0]}" for k, v in failed.items()]
            + [""]
        )
    md += ["## Provenance", ""] + [f"- {p}" for p in prov_lines]
    md += ["", "Study file:", "", "```yaml", meta.get("study_text", "").rstrip(), "```", ""]
    md_path = root / "briefing.md"
    md_path.write_text("\n".join(md))

    # ---- html
    e = html.escape
    h = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}: briefing"
         f"</title><style>{CSS}</style></head><body>", f"<h1>{e(title)}: briefing</h1>",
         f"<p class='question'><b>Question.</b> {e(study.question)}</p>",
         f"<p class='note'>{e(status)}</p>", "<h2>Headline</h2>",
         *[f"<p><b>{e(x)}</b></p>" for x in lead],
         f"<p>Baseline: {e(plots._baseline_text(study))}. Values are means with 95% intervals; "
         "differences are paired by replicate.</p>", _html_table(head),
         "<p><b>Reading.</b></p><ul>" + "".join(f"<li>{e(r)}</li>" for r in reads) + "</ul>",
         "<h2>Figures</h2>"]  # fmt: skip
    for f in figures:
        data = base64.b64encode(f.png.read_bytes()).decode()
        h.append(f"<figure><img alt='{e(f.title)}' src='data:image/png;base64,{data}'>"
                 f"<figcaption><b>{e(f.title)}.</b> {e(f.caption)}"
                 "</figcaption></figure>")  # fmt: skip
    h += [f"<h2>Method</h2><p>{e(method)}</p>", "<h2>Parameters</h2>", _html_table(params)]
    if failed:
        h.append("<h2>Failed runs</h2><ul>" + "".join(
            f"<li><code>{e(k)}</code>: {e(v.splitlines()[0])}</li>" for k, v in failed.items()
        ) + "</ul>")  # fmt: skip
    h += ["<h2>Provenance</h2><ul>" + "".join(f"<li>{e(p)}</li>" for p in prov_lines) + "</ul>",
          f"<p>Study file:</p><pre>{e(meta.get('study_text', ''))}</pre>",
          "</body></html>"]  # fmt: skip
    (root / "briefing.html").write_text("\n".join(h))
    return md_path


def _years(meta: dict[str, Any]) -> str:
    cfgs = [c for c in (meta.get("scenario_configs") or {}).values() if c]
    years = meta.get("years") or (cfgs[0]["years"] if cfgs else None)
    return f"{years} simulated years" if years else "the configured horizon"
