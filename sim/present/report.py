"""Briefing packs: ``briefing.md``, a self-contained ``briefing.html`` and ``briefing.pptx``.

Built only from what is on disk (the manifest and the stored runs), so
``govsim report RESULTS_DIR`` gives the same pack months later without
re-running anything. Contents: the findings in plain words
(:mod:`sim.present.findings`), what was compared (each scenario's settings that
differ from the baseline's), a headline table, the figures with captions, a
method note, the data and provenance; ``briefing.pptx`` holds the same as slides
(:mod:`sim.present.slides`). The tidy data sit beside it (docs/outputs.md):
``aggregate.parquet`` (every run, every measure), ``summary.csv`` (means and
intervals), ``differences.csv`` (paired differences vs the baseline) and
``findings.csv``. A ``govsim run -m`` sweep folder gets the same pack.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.model.compose import load_config
from sim.model.config import as_config, to_container
from sim.model.forums.links import resolve_links
from sim.present import findings as fnd
from sim.present import plots, slides
from sim.studies import stats
from sim.studies.launch import ensure_manifest
from sim.studies.spec import parse_study
from sim.studies.store import (
    SCHEMA_VERSION,
    aggregate,
    atomic_write_text,
    for_output,
    write_table,
)

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


KEY_LABELS = {
    "authority": "authority (0–1)",
    "binding": "outcomes binding",
    "remote": "remote participation",
    "remote_voice": "voice of a remote participant (× onsite)",
    "remote_fixed_cost": "fixed cost of joining remotely (utility)",
    "support": "travel support",
    "funded_slots": "funded travel slots per meeting",
    "support_groups": "travel support goes to",
    "support_priority": "travel support priority",
    "membership": "membership rule",
    "decision": "decision rule",
    "threshold": "decision threshold",
    "voice": "voice rule",
    "scope": "agenda scope",
    "scope_issues": "issues in scope",
    "meeting_months": "meets in months",
    "venue": "venue",
    "host_regions": "host regions",
    "ratification": "ratification",
    "supermajority": "board majority needed to decline advice",
    "max_meetings": "meetings in the mandate",
    "polarization": "polarization of government positions (× default)",
    "travel_cost_scale": "travel cost per delegate",
    "logit_noise": "attendance choice noise",
    "remote_cost": "cost of taking part remotely",
    "remote_cost_trend": "yearly change of the remote cost (log)",
    "remote_cost_year": "year the remote cost refers to",
    "counts": "number of actors",
    "stubbornness": "weight kept on own position",
    "weight": "weight",
    "kind": "kind",
    "source": "from",
    "target": "into",
}
"""Plain-language names of config keys in the briefing's config diff (else the key's words)."""

DIFF_SECTIONS = ("forum", "links", "behaviour", "population", "issues")


def _flatten_cfg(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten_cfg(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def _show(v: Any) -> str:
    if v is None:
        return "absent"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ", ".join(map(str, v)) or "none"
    return str(v).replace("_", " ")


def _key_label(key: str) -> str:
    """``forum.cstd.funded_slots`` -> 'CSTD: funded travel slots per meeting'."""
    parts = key.split(".")
    head, rest = parts[0], parts[1:]
    words = lambda ks: " ".join(KEY_LABELS.get(k, k.replace("_", " ")) for k in ks)  # noqa: E731
    if head == "forum" and rest:
        return f"{rest[0].upper()}: {words(rest[1:])}"
    if head == "links" and rest:
        return f"link {rest[0].replace('_', ' ')}: {words(rest[1:])}"
    return f"{head}: {words(rest)}"


def config_diff(meta: dict[str, Any], study) -> dict[str, list[tuple[str, str, str]]]:
    """Per scenario, the settings that differ from the baseline scenario's.

    Compares the resolved configs (first grid point) across forums, links, behaviour,
    population and issues. A forum or link present in only one of the two is one
    entry ("added"/"removed"), not one per key.

    Returns
    -------
    dict
        scenario -> [(plain label, baseline value, scenario value)], baseline omitted.
    """
    cfgs = meta.get("scenario_configs") or {}
    base_name = study.baseline.get("scenario", study.scenarios[0])
    base = cfgs.get(base_name)
    out: dict[str, list[tuple[str, str, str]]] = {}
    if not base:
        return out
    for s in study.scenarios:
        cfg = cfgs.get(s)
        if s == base_name or not cfg:
            continue
        rows = []
        for section in DIFF_SECTIONS:
            a, b = base.get(section) or {}, cfg.get(section) or {}
            if section in ("forum", "links"):
                for name in [*a, *(k for k in b if k not in a)]:
                    what = "forum" if section == "forum" else "link"
                    if name not in b:
                        rows.append((f"{what} {_link_or_forum(name, a[name], section)}",
                                     "present", "removed"))  # fmt: skip
                        continue
                    if name not in a:
                        rows.append((f"{what} {_link_or_forum(name, b[name], section)}",
                                     "absent", "added"))  # fmt: skip
                        continue
            fa, fb = {}, {}
            _flatten_cfg(section, a, fa)
            _flatten_cfg(section, b, fb)
            for key in [*fa, *(k for k in fb if k not in fa)]:
                parts = key.split(".")
                if section in ("forum", "links") and (parts[1] not in a or parts[1] not in b):
                    continue
                if fa.get(key) != fb.get(key):
                    rows.append((_key_label(key), _show(fa.get(key)), _show(fb.get(key))))
        out[s] = rows
    return out


def _link_or_forum(name: str, c: dict[str, Any], section: str) -> str:
    if section == "forum":
        return f"{c.get('label') or name} ({name})"
    src = f" from {str(c.get('source')).replace('_', ' ')}" if c.get("source") else ""
    kind = str(c.get("kind")).replace("_", " ")
    return f"{name.replace('_', ' ')} ({kind}{src} into {str(c.get('target')).upper()}, " + (
        f"weight {c.get('weight')})"
    )


def diff_table(diff: dict[str, list[tuple[str, str, str]]], study) -> pd.DataFrame:
    """The config diff as one table: scenario, setting, baseline value, scenario value."""
    base = study.label(study.baseline.get("scenario", study.scenarios[0]))
    rows = []
    for s, entries in diff.items():
        if not entries:
            rows.append({"scenario": study.label(s), "setting": "(no setting differs)",
                         base: "", "this scenario": ""})  # fmt: skip
        for i, (label, a, b) in enumerate(entries):
            rows.append({"scenario": study.label(s) if i == 0 else "", "setting": label,
                         base: a, "this scenario": b})  # fmt: skip
    return pd.DataFrame(rows)


def _baseline_forums(meta: dict[str, Any], study) -> pd.DataFrame:
    """The baseline's forums, one row each (the parameter table without the scenario)."""
    t = parameter_table(meta, study)
    if not len(t):
        return t
    t = t.drop(columns=["scenario"])
    return t.map(lambda v: "yes" if v is True else "no" if v is False else v)


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
.warn{background:#fff4e5;border-left:4px solid #D55E00;padding:.5em 1em}
"""


def _conditions_table(summary: pd.DataFrame, study) -> pd.DataFrame:
    """Grid studies: one row per condition, one column per measure (means only)."""
    grid_keys = list(study.grid)
    cond = ["scenario", *grid_keys]
    labels = {m.text: m.label for m in study.metrics}
    wide = summary.pivot_table(index=cond, columns="metric", values="mean", sort=False)
    wide = wide[[m.text for m in study.metrics if m.text in wide.columns]]
    rows = []
    for idx, r in wide.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        c = dict(zip(cond, idx, strict=True))
        row = {} if len(study.scenarios) == 1 else {"scenario": study.label(c["scenario"])}
        row.update({plots.param_label(k): plots.value_label(c[k]) for k in grid_keys})
        row.update({labels[t]: fmt(v) for t, v in r.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def multirun_study(root: Path, manifest: dict[str, Any]):
    """A study rebuilt from a ``govsim run -m`` sweep's manifest, so its report has the
    same sections as a study's: scenarios and swept keys as found, seeds as replicates,
    the headline measures."""
    runs = manifest["runs"]
    scen = list(dict.fromkeys(r["scenario"] for r in runs))
    grid: dict[str, list[Any]] = {}
    for r in runs:
        for k, v in (r.get("grid") or {}).items():
            grid.setdefault(k, [])
            if v not in grid[k]:
                grid[k].append(v)
    grid = {k: v for k, v in grid.items() if len(v) > 1}
    seeds = sorted({int(r["seed"]) for r in runs})
    doc = {
        "name": root.name,
        "title": f"Sweep {root.name}",
        "question": "What a `govsim run -m` sweep found: " + " ".join(
            manifest["meta"].get("arguments") or []),
        "scenarios": scen,
        "baseline": scen[0],
        "grid": grid,
        "replicates": len(seeds),
        "root_seed": seeds[0] if seeds else 0,
        "metrics": ["attainment_gap", "policy_coverage", "representation_ratio@developing_gov",
                    "participation_rate@developing_gov"],
    }  # fmt: skip
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return parse_study(text, path=str(root / "multirun.yaml"), replicates=len(seeds),
                       compose=False), text  # fmt: skip


def _multirun_configs(manifest: dict[str, Any]) -> dict[str, Any]:
    """Each sweep scenario's resolved config (its first job's overrides), for the config diff."""
    out: dict[str, Any] = {}
    for r in manifest["runs"]:
        if r["scenario"] in out:
            continue
        ovr = [o for o in r.get("overrides") or [] if not o.startswith("hydra")]
        try:
            out[r["scenario"]] = to_container(load_config(None, ovr))
        except Exception:  # a config that no longer composes: no diff for it
            out[r["scenario"]] = None
    return out


def build_briefing(root: Path | str, study=None) -> Path:
    """Aggregate, compute statistics, draw figures and write the briefing pack.

    Works on a study's folder and on a ``govsim run -m`` sweep folder (whose
    manifest is rebuilt from ``multirun.yaml``; seeds are the replicates).

    Parameters
    ----------
    root
        A study's results folder (holds ``manifest.json`` and ``runs/``) or a sweep's.
    study
        The loaded study; None rebuilds it from the study text in the manifest.

    Returns
    -------
    Path
        ``root/briefing.md`` (``briefing.html``, ``briefing.pptx``, ``findings.txt`` and
        the output tables sit beside it).
    """
    root = Path(root)
    manifest = ensure_manifest(root)
    meta = dict(manifest["meta"])
    sweep = meta.get("kind") == "hydra multirun"
    table, missing, failed = aggregate(root)
    if sweep:
        if study is None:
            study, meta["study_text"] = multirun_study(root, manifest)
        meta.setdefault("scenario_configs", _multirun_configs(manifest))
        if len(table):  # pair by seed: the same seed in every scenario is the same stream
            ranks = {s: i for i, s in enumerate(sorted(table["seed"].unique()))}
            table["replicate"] = table["seed"].map(ranks)
    elif study is None:
        study = _study_from_meta(meta)
    grid_keys = list(study.grid)
    summary, diffs = stats.compare(table, study.metrics, study.baseline, grid_keys)
    yearly = stats.yearly(table, grid_keys) if len(table) else pd.DataFrame()
    if len(table):
        write_table(for_output(table), root / "aggregate.parquet", "aggregate")
    atomic_write_text(root / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(root / "differences.csv", diffs.to_csv(index=False))
    found = fnd.study_findings(table, summary, diffs, study)
    atomic_write_text(root / "findings.csv", fnd.findings_table(found).to_csv(index=False))
    atomic_write_text(root / "findings.txt", "\n".join(found.lines()) + "\n")

    prov = meta.get("provenance", {})
    commit = (prov.get("git_commit") or "unknown")[:10] + (
        " (modified)" if prov.get("git_dirty") else ""
    )
    n_rep = int(summary["n"].max()) if len(summary) else study.replicates
    few = " — FEWER THAN 5: intervals unreliable" if n_rep < stats.MIN_REPLICATES else ""
    source = (
        f"Source: govsim simulation, study '{study.name}'; n = {n_rep} replicates per "
        f"condition{few}; root seed {study.root_seed}; commit {commit}; "
        f"{prov.get('created', '')[:10]}"
    )
    figures = (
        plots.draw_all(
            table, summary, yearly, study, root / "figures", source, meta=meta, diffs=diffs
        )  # fmt: skip
        if len(table)
        else []
    )

    n_expected = len(manifest["runs"])
    title = study.title
    if study.grid:
        head = _conditions_table(summary, study) if len(summary) else pd.DataFrame()
        head_note = (
            "Every grid point's mean (95% intervals in `summary.csv`, paired differences "
            "against the baseline in `differences.csv`)."
        )
    else:
        head = headline_table(summary, diffs, study) if len(summary) else pd.DataFrame()
        head_note = (
            f"Baseline: {plots._baseline_text(study)}. Values are means with 95% intervals "
            "(cut at the measure's possible range); differences are paired by replicate."
        )
    diff = config_diff(meta, study)
    changes = diff_table(diff, study) if diff else pd.DataFrame()
    base_forums = _baseline_forums(
        {"scenario_configs": {k: v for k, v in (meta.get("scenario_configs") or {}).items()
                              if k == study.baseline.get("scenario", study.scenarios[0])}},
        study,
    )  # fmt: skip
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
        f"Intervals are 95% Student-t intervals across replicates, cut at the measure's "
        f"possible range (a share at 0 and 1, a ratio at 0). A difference counts as a finding "
        f"only when its interval excludes zero, has a width above zero and the change is at "
        f"least {fnd.NEGLIGIBLE} in the measure's units and 1% of the baseline's value."
        + (f" Swept: {points}." if points else "")
        + (f" Overrides for every run: {', '.join(study.overrides)}." if study.overrides else "")
    )
    if sweep:
        method = (
            f"A Hydra multirun ({' '.join(meta.get('arguments') or [])}): each job one run; "
            f"runs with the same seed are paired across scenarios (the seed is the replicate). "
            f"Intervals are 95% Student-t intervals across seeds, cut at the measure's possible "
            f"range."
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
        f"study file: {meta.get('study_file') or root / 'multirun.yaml'}",
        f"results folder: {root}",
        f"output schema version {SCHEMA_VERSION} (docs/outputs.md)",
    ]  # fmt: skip
    data_note = (
        "`aggregate.parquet` (every run, every measure: one row per run and measure with "
        "scenario, grid values, replicate, seed and run key; forum/group/issue null where a "
        "measure is not broken down that way), `summary.csv` (means and intervals), "
        "`differences.csv` (paired differences against the baseline), `findings.csv`, "
        f"`manifest.json`. Columns, units and ranges: docs/outputs.md (schema version "
        f"{SCHEMA_VERSION}, also in each Parquet file's metadata)."
    )

    # ---- markdown
    md = [f"# {title}: briefing", "", f"**Question.** {study.question}", "", f"*{status}*", ""]
    md += ["## Findings", ""] + found.markdown()
    md += ["## What was compared", ""]
    if len(changes):
        md += [f"Settings that differ from the baseline ({plots._baseline_text(study)}); "
               "everything else is the same.", "", _md_table(changes), ""]  # fmt: skip
    if study.grid:
        md += [f"Swept in every scenario: {points}.", ""]
    md += ["Forums of the baseline:", "", _md_table(base_forums), ""]
    md += ["## Headline", "", head_note, "", _md_table(head), ""]
    md += ["## Figures", ""]
    for f in figures:
        md += [f"![{f.title}](figures/{f.png.name})", "", f"*{f.title}.* {f.caption} "
               f"(also [SVG](figures/{f.svg.name}), [PDF](figures/{f.pdf.name}))", ""]  # fmt: skip
    md += ["## Method", "", method, ""]
    md += ["## Data", "", data_note, ""]
    if failed:
        md += (
            ["## Failed runs", ""]
            + [f"- `{k}`: {v.splitlines()[0]}" for k, v in failed.items()]
            + [""]
        )
    md += ["## Provenance", ""] + [f"- {p}" for p in prov_lines]
    md += ["", "Study file:", "", "```yaml", meta.get("study_text", "").rstrip(), "```", ""]
    md_path = root / "briefing.md"
    atomic_write_text(md_path, "\n".join(md))

    # ---- html
    e = html.escape
    warn = "".join(f"<p class='warn'><b>Warning.</b> {e(w)}</p>" for w in found.warnings)
    fhtml = "".join(
        (f"<p><b>{e(h)}</b></p>" if h else "")
        + "<ul>" + "".join(f"<li>{e(x)}</li>" for x in ss) + "</ul>"
        for h, ss in found.sections
    )  # fmt: skip
    h = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}: briefing"
         f"</title><style>{CSS}</style></head><body>", f"<h1>{e(title)}: briefing</h1>",
         f"<p class='question'><b>Question.</b> {e(study.question)}</p>",
         f"<p class='note'>{e(status)}</p>", "<h2>Findings</h2>", warn, fhtml,
         "<h2>What was compared</h2>"]  # fmt: skip
    if len(changes):
        h += [f"<p>Settings that differ from the baseline ({e(plots._baseline_text(study))}); "
              "everything else is the same.</p>", _html_table(changes)]  # fmt: skip
    if study.grid:
        h.append(f"<p>Swept in every scenario: {e(points)}.</p>")
    h += ["<p>Forums of the baseline:</p>", _html_table(base_forums)]
    h += ["<h2>Headline</h2>", f"<p>{e(head_note)}</p>", _html_table(head), "<h2>Figures</h2>"]
    for f in figures:
        data = base64.b64encode(f.png.read_bytes()).decode()
        h.append(f"<figure><img alt='{e(f.title)}' src='data:image/png;base64,{data}'>"
                 f"<figcaption><b>{e(f.title)}.</b> {e(f.caption)}"
                 "</figcaption></figure>")  # fmt: skip
    h += [f"<h2>Method</h2><p>{e(method)}</p>", f"<h2>Data</h2><p>{e(data_note)}</p>"]
    if failed:
        h.append("<h2>Failed runs</h2><ul>" + "".join(
            f"<li><code>{e(k)}</code>: {e(v.splitlines()[0])}</li>" for k, v in failed.items()
        ) + "</ul>")  # fmt: skip
    h += ["<h2>Provenance</h2><ul>" + "".join(f"<li>{e(p)}</li>" for p in prov_lines) + "</ul>",
          f"<p>Study file:</p><pre>{e(meta.get('study_text', ''))}</pre>",
          "</body></html>"]  # fmt: skip
    atomic_write_text(root / "briefing.html", "\n".join(h))
    slides.write_slides(
        root / "briefing.pptx", study=study, findings=found, figures=figures, method=method,
        provenance=prov_lines, status=status, changes=changes,
    )  # fmt: skip
    return md_path


def _years(meta: dict[str, Any]) -> str:
    cfgs = [c for c in (meta.get("scenario_configs") or {}).values() if c]
    years = meta.get("years") or (cfgs[0]["years"] if cfgs else None)
    return f"{years} simulated years" if years else "the configured horizon"
