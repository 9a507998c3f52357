"""What a study found, in plain words: the briefing's first section and the terminal's last lines.

Built from the study's statistics only (the summary of means and the paired differences,
both already clipped to each measure's possible range), so a finding is never more than
the numbers say:

- per compared condition, one sentence per headline measure with the absolute and the
  relative change against the baseline and its 95% interval;
- a difference whose interval covers zero, or that is smaller than :data:`NEGLIGIBLE`
  (in the measure's units, or under 1% of the baseline's value), is stated as *no
  detectable difference* — a null finding is a finding, not a gap in the report;
- an interval of width zero (every replicate gave the same difference) is not a finding:
  it says the replicates did not vary, not that the difference is certain;
- grid studies are summarised by parameter: which swept parameter moves which measure
  over which range, holding the others at the baseline's values, and which parameters
  do not move it (one line, not one per grid point);
- a study with one condition and a measure taken in several forums ranks the forums
  (the difference between the top two paired by replicate);
- when the study measures ``attainment_gap_change`` its design effect (a scenario's change
  minus the baseline's, paired by replicate) leads, as "gap closed by design", with the
  starting gap beside it as context: the starting gap is an assumption, not a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.studies import stats

NEGLIGIBLE = 0.005
"""Absolute differences below this (in the measure's units) are negligible in size."""
NEGLIGIBLE_RELATIVE = 0.01
"""...as are differences below 1% of the baseline's value."""
GAP_CHANGE = "attainment_gap_change"
GAP_START = "attainment_gap_start"


@dataclass
class Findings:
    """The findings of a study: warnings, then sections of plain sentences."""

    warnings: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    """(heading, sentences): one section per compared scenario, parameter or measure."""

    def lines(self) -> list[str]:
        """Every sentence with its heading, for the terminal."""
        out = [f"WARNING: {w}" for w in self.warnings]
        for head, sentences in self.sections:
            out.append(f"{head}:" if head else "")
            out += [f"  - {s}" for s in sentences]
        return out

    def markdown(self) -> list[str]:
        """Markdown lines (warnings as a quoted block, one list per section)."""
        out = [f"> **Warning.** {w}" for w in self.warnings]
        if self.warnings:
            out.append("")
        for head, sentences in self.sections:
            if head:
                out += [f"**{head}**", ""]
            out += [f"- {s}" for s in sentences] + [""]
        return out


def _lower(label: str) -> str:
    return label[0].lower() + label[1:] if label and not label[:2].isupper() else label


def _num(v: float, signed: bool = False) -> str:
    a = abs(v)
    digits = 3 if a < 10 else 1
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def _relative(diff: float, base: float) -> str:
    if not np.isfinite(base) or abs(base) < 1e-9:
        return ""
    return f", {100 * diff / abs(base):+.0f}%"


def classify(diff: float, lo: float, hi: float, base: float = np.nan) -> str:
    """``"higher"``/``"lower"`` (detectable), ``"none"`` (the interval covers zero),
    ``"negligible"`` (the interval excludes zero but the change is below :data:`NEGLIGIBLE`
    or :data:`NEGLIGIBLE_RELATIVE` of the baseline: detectable, too small to matter),
    ``"identical"`` (zero in every replicate), ``"no_spread"`` (the same non-zero difference
    in every replicate: a zero-width interval) or ``"undefined"``."""
    if not np.isfinite(diff):
        return "undefined"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "undefined"
    if stats.zero_width(lo, hi):
        return "no_spread" if abs(diff) > 1e-12 else "identical"
    if lo <= 0 <= hi:
        return "none"
    small = abs(diff) < NEGLIGIBLE or (
        np.isfinite(base) and abs(base) > 1e-9 and abs(diff) < NEGLIGIBLE_RELATIVE * abs(base)
    )
    if small:
        return "negligible"
    return "higher" if diff > 0 else "lower"


def difference_sentence(metric, r: dict[str, Any], base_name: str) -> tuple[str, str]:
    """(verdict, sentence) for one paired difference row (``diff``, ``lo``, ``hi``, ``n``,
    ``base_mean``) of ``metric`` against the baseline called ``base_name``."""
    d, lo, hi = r["diff"], r["lo"], r["hi"]
    base = r.get("base_mean", np.nan)
    verdict = classify(d, lo, hi, base)
    what = _lower(metric.label)
    ci = f"95% CI {_num(lo, True)} to {_num(hi, True)}" if np.isfinite(lo) else ""
    if verdict in ("higher", "lower"):
        level = f"{_num(base + d)} against {_num(base)} under {base_name}" if np.isfinite(
            base) else f"compared with {base_name}"  # fmt: skip
        rel = _relative(d, base).lstrip(", ")
        return verdict, (
            f"{what}: {level} — {_num(abs(d))} {verdict} (" + (f"{rel}; " if rel else "")
            + f"{ci})."
        )  # fmt: skip
    if verdict == "identical":
        return verdict, f"{what}: identical to {base_name} in every replicate."
    if verdict == "negligible":
        return verdict, (
            f"{what}: a negligible difference from {base_name} ({_num(d, True)}, {ci}; "
            "detectable, but below 0.005 or 1% of the baseline)."
        )
    if verdict == "none":
        return verdict, (
            f"{what}: no detectable difference from {base_name} ({_num(d, True)}"
            + (f", {ci}" if ci else "")
            + "; the interval covers zero)."
        )
    if verdict == "no_spread":
        return verdict, (
            f"{what}: {_num(d, True)} in every one of the {int(r['n'])} replicates — no spread "
            "across replicates, so no interval and no finding (run more replicates)."
        )
    return verdict, f"{what}: not defined (the measure has no value in these runs)."


def _names(study) -> dict[str, str]:
    return {m.text: m.name for m in study.metrics}


def _ordered_metrics(study) -> list:
    """Headline measures in order, the gap's design effect first when the study has it."""
    ms = list(study.metrics)
    return sorted(ms, key=lambda m: m.name != GAP_CHANGE)


def _starting_gap(table: pd.DataFrame | None, study) -> str | None:
    """'starting gap 0.210 under the baseline' from the table's attainment_gap_start rows."""
    if table is None or not len(table) or "metric" not in table:
        return None
    t = table[(table["metric"] == GAP_START) & (table.get("kind", "summary") == "summary")]
    t = t[t["scenario"] == study.baseline.get("scenario", study.scenarios[0])]
    for k, v in study.baseline.items():
        if k != "scenario" and k in t:
            t = t[t[k] == v]
    vals = t["value"].to_numpy(float)
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        return None
    return (
        f"The starting attainment gap is {_num(vals.mean())} under the baseline (an "
        "assumption of the population and issue settings, not a finding); what a design "
        "can change is how the gap moves over the run."
    )


def _gap_lead(metric, r: dict[str, Any], base_name: str) -> str:
    """The design effect on the gap, as 'gap closed by design' (positive = narrowed more)."""
    d, lo, hi = r["diff"], r["lo"], r["hi"]
    verdict = classify(d, lo, hi, r.get("base_mean", np.nan))
    closed, clo, chi = -d, -hi, -lo
    ci = f"95% CI {_num(clo, True)} to {_num(chi, True)}" if np.isfinite(lo) else "no interval"
    if verdict == "higher" or verdict == "lower":
        way = "narrows" if closed > 0 else "widens"
        return (
            f"Gap closed by design: {_num(closed, True)} ({ci}) — the attainment gap "
            f"{way} by {_num(abs(closed))} more than under {base_name} over the run."
        )
    if verdict == "no_spread":
        return (
            f"Gap closed by design: {_num(closed, True)} in every replicate — no spread, so no "
            "interval and no finding."
        )
    if verdict == "negligible":
        return (
            f"Gap closed by design: negligible ({_num(closed, True)}, {ci}) — detectable, but "
            "below 0.005 or 1% of the baseline."
        )
    return f"Gap closed by design: no detectable effect ({_num(closed, True)}, {ci})."


def _level_only(metric, summary: pd.DataFrame | None, cond: dict[str, Any], base_name: str):
    """'<measure>: 0.150 [0.000, 0.321] here; <baseline> has no value…' for a measure that
    has values under a condition but none under the baseline (a mandate the baseline lacks),
    or None when the condition has no value either."""
    if summary is None or not len(summary):
        return None
    s = summary[summary["metric"] == metric.text]
    for k, v in cond.items():
        if k in s:
            s = s[s[k] == v]
    if not len(s) or not np.isfinite(s["mean"].iloc[0]):
        return None
    r = s.iloc[0]
    return (
        f"{metric.label}: {_num(r['mean'])} [95% CI {_num(r['lo'])} to {_num(r['hi'])}] here; "
        f"{base_name} has no value for it (nothing to decide there), so no difference."
    )


def scenario_findings(
    diffs: pd.DataFrame,
    study,
    cond_filter: dict[str, Any] | None = None,
    summary: pd.DataFrame | None = None,
) -> list[tuple[str, list[str]]]:
    """One section per compared condition: a sentence per measure (null ones grouped).

    With ``summary``, a measure the baseline lacks is reported by its level (not "not
    defined"), and one that neither has is listed as not applicable."""
    if not len(diffs):
        return []
    grid_keys = list(study.grid)
    d = diffs
    for k, v in (cond_filter or {}).items():
        d = d[d[k] == v]
    base_name = _baseline_name(study)
    by_metric = {m.text: m for m in study.metrics}
    order = [m.text for m in _ordered_metrics(study)]
    sections = []
    for cond, g in d.groupby(["scenario", *grid_keys], sort=False, dropna=False):
        cond = cond if isinstance(cond, tuple) else (cond,)
        row0 = dict(zip(["scenario", *grid_keys], cond, strict=True))
        head = _condition_text(row0, study, grid_keys, cond_filter or {})
        found, nulls, other, same, absent = [], [], [], [], []
        rows = {r["metric"]: r for r in g.to_dict("records")}
        for text in order:
            if text not in rows:
                continue
            m = by_metric[text]
            if m.name == GAP_CHANGE:
                found.insert(0, _gap_lead(m, rows[text], base_name))
                continue
            verdict, sentence = difference_sentence(m, rows[text], base_name)
            if verdict == "undefined":
                level = _level_only(m, summary, row0, base_name)
                if level is None and summary is not None and len(summary):
                    absent.append(m)  # no value here nor under the baseline
                    continue
                sentence = level or sentence
            if verdict in ("higher", "lower"):
                found.append(sentence[0].upper() + sentence[1:])
            elif verdict in ("none", "negligible"):
                nulls.append(m)
            elif verdict == "identical":
                same.append(m)
            else:
                other.append(sentence[0].upper() + sentence[1:])
        if same and not (found or other or nulls):
            sentences = [
                f"No detectable difference from {base_name} on any of the {len(same)} "
                f"headline measures: identical in every replicate "
                f"({'; '.join(_lower(m.label) for m in same)}) — within this horizon the "
                "change does not reach them."
            ]
        elif (nulls or same) and not found and not other:
            sentences = [
                f"No detectable difference from {base_name} on any of the "
                f"{len(nulls) + len(same)} headline measures "
                f"({'; '.join(_lower(m.label) for m in nulls + same)}): every 95% interval "
                "covers zero or the change is negligible"
                + (f" ({len(same)} identical in every replicate)." if same else ".")
            ]
        else:
            sentences = found + other
            if same:
                sentences.append(
                    "Identical to " + base_name + " in every replicate: "
                    + "; ".join(_lower(m.label) for m in same) + "."
                )  # fmt: skip
            if nulls:
                sentences.append(
                    "No detectable difference in "
                    + "; ".join(_lower(m.label) for m in nulls)
                    + " (95% intervals cover zero or the change is negligible)."
                )
        if absent:
            sentences.append(
                f"Not applicable here nor under {base_name} (no run of either has a value): "
                + "; ".join(_lower(m.label) for m in absent) + "."
            )  # fmt: skip
        sections.append((head, sentences))
    return sections


def _baseline_name(study) -> str:
    parts = []
    for k, v in study.baseline.items():
        if k == "scenario":
            parts.append(study.label(v).lower() if v == "status_quo" else study.label(v))
        else:
            parts.append(f"{_param(k)} {_value(v)}")
    return "the " + parts[0] if parts and parts[0] == "status quo" else ", ".join(parts)


def _param(key: str) -> str:
    parts = key.split(".")
    if parts[0] == "forum" and len(parts) >= 3:
        return f"{parts[1].upper()} {' '.join(parts[2:]).replace('_', ' ')}"
    return parts[-1].replace("_", " ")


def _value(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "on" if v else "off"
    return str(v).replace("_", " ")


def _condition_text(row, study, grid_keys, fixed) -> str:
    parts = [study.label(row["scenario"])] if len(study.scenarios) > 1 else []
    parts += [f"{_param(k)} {_value(row[k])}" for k in grid_keys if k not in fixed]
    return ", ".join(parts) or study.label(row["scenario"])


_NO_EFFECT = {"none", "negligible", "identical"}
"""Verdicts that say the same thing about a design: no effect that matters."""
_SAY = {"none": "no detectable difference", "negligible": "negligible",
        "identical": "identical in every replicate"}  # fmt: skip


def _line_effect(table, summary, study, m, k, at: dict[str, Any], far=None):
    """Measure ``m`` along swept key ``k`` through the point ``at`` (the other keys' values).

    Returns ``(means, start, far, difference row)``: the means at each value of ``k``, the
    point's value, the value compared with it (given, or the farthest mean from it) and
    the paired difference between the two (``None`` where it cannot be taken).
    """
    scen = study.baseline.get("scenario", study.scenarios[0])
    vals = list(study.grid[k])
    t = table[table["scenario"] == scen]
    s = summary[(summary["metric"] == m.text) & (summary["scenario"] == scen)]
    for kk, vv in at.items():
        if kk != k:
            t, s = t[t[kk] == vv], s[s[kk] == vv]
    means = {v: s[s[k] == v]["mean"] for v in vals}
    finite = {v: float(x.iloc[0]) for v, x in means.items() if len(x) and np.isfinite(x.iloc[0])}
    start = at.get(k, vals[0])
    if len(finite) < 2 or start not in finite:
        return finite, start, far, None
    if far is None:
        far = max(finite, key=lambda v: abs(finite[v] - finite[start]))
    base = {"scenario": scen, **{kk: vv for kk, vv in at.items() if kk != k}, k: start}
    grid_keys = list(study.grid)
    dd = stats.paired_differences(t, [m], base, grid_keys)
    dd = stats.clip_differences(dd, s, _names(study), base, grid_keys)
    hit = dd[dd[k] == far].to_dict("records")
    return finite, start, far, (hit[0] if hit else None)


def _kind(verdict: str) -> str:
    """A verdict, with every "no effect that matters" verdict as one ("none")."""
    return "none" if verdict in _NO_EFFECT else verdict


def _free_keys(study) -> list[str]:
    """Swept keys (more than one value) the baseline leaves free, e.g. ``behaviour``."""
    return [k for k, v in study.grid.items() if len(v) > 1 and k not in study.baseline]


def _point_words(point: dict[str, Any]) -> str:
    """A grid point in words: "behaviour default, IGF remote on"."""
    return ", ".join(f"{_param(k)} {_value(v)}" for k, v in point.items())


def grid_findings(table: pd.DataFrame, summary: pd.DataFrame, study) -> list[tuple[str, list]]:
    """Which swept parameter moves which measure, over which range (others held fixed).

    For each measure and swept key, the line through the fixed point (the baseline's
    values of the other keys) is compared end to end with a difference paired by
    replicate. Parameters that do not move a measure are named in one line. A key the
    baseline fixes (a design choice) is also compared at every other value of each key
    the baseline leaves free (an assumption such as ``behaviour``), and where the verdict
    differs there, that value's difference is said beside it.
    """
    point = stats.fixed_point(study)
    # the keys the baseline leaves free are the setting (an assumption) only where it fixes
    # others, the design choices; then each design's verdict is checked at every free value
    free = _free_keys(study) if any(k in study.baseline for k in study.grid) else []
    sections = []
    for m in _ordered_metrics(study):
        moves, still = [], []
        for k in [k for k in study.grid if len(study.grid[k]) > 1]:
            finite, start, far, r = _line_effect(table, summary, study, m, k, point)
            if not finite or r is None:
                if len(finite) >= 2:
                    still.append(_param(k))
                continue
            verdict = classify(r["diff"], r["lo"], r["hi"], r["base_mean"])
            elsewhere = _verdicts_elsewhere(table, summary, study, m, k, point, far, verdict, free)
            lo_v, hi_v = min(finite.values()), max(finite.values())
            if verdict in ("higher", "lower"):
                vals = list(study.grid[k])
                path = ", ".join(f"{_num(finite[v])}" for v in vals if v in finite)
                across = (
                    f"; at {', '.join(_value(v) for v in vals)}: {path}" if len(vals) > 2 else ""
                )
                setting = ", which the baseline leaves free," if k in free else ""
                moves.append(
                    f"{_param(k)}{setting} moves it: {_num(finite[start])} at {_value(start)}, "
                    f"{_num(finite[far])} at {_value(far)} ({_num(r['diff'], True)}"
                    f"{_relative(r['diff'], r['base_mean'])}; 95% CI "
                    f"{_num(r['lo'], True)} to {_num(r['hi'], True)}){across}.{elsewhere}"
                )
            elif verdict == "no_spread":
                moves.append(
                    f"{_param(k)}: {_num(r['diff'], True)} between {_value(start)} and "
                    f"{_value(far)} in every replicate — no spread, so no finding.{elsewhere}"
                )
            elif elsewhere:
                moves.append(
                    f"{_param(k)}: {_say(verdict)} between {_value(start)} and {_value(far)} "
                    f"({_num(r['diff'], True)}; 95% CI {_num(r['lo'], True)} to "
                    f"{_num(r['hi'], True)}).{elsewhere}"
                )
            else:
                still.append(f"{_param(k)} (range {_num(lo_v)}–{_num(hi_v)})")
        sentences = moves
        if still:
            sentences.append(
                "No detectable (or only a negligible) effect of " + "; ".join(still) + "."
            )
        if sentences:
            sections.append((m.label, sentences))
    if sections:
        held = _point_words(point)
        checked = (
            f" A design choice's verdict is also checked at every value of "
            f"{' and '.join(_param(k) for k in free)}, which the baseline leaves free; where "
            "it differs, that value's difference follows it."
            if free else ""
        )  # fmt: skip
        sections.insert(0, ("How the swept parameters move each measure", [
            f"Each parameter is varied alone, the others held at the baseline's values "
            f"({held}); a change is paired by replicate between the baseline's value and "
            f"the value farthest from it. Every grid point is in summary.csv.{checked}"
        ]))  # fmt: skip
    return sections


def _say(verdict: str) -> str:
    return _SAY.get(verdict, verdict)


def _verdicts_elsewhere(table, summary, study, m, k, point, far, verdict, free) -> str:
    """Where the change of design key ``k`` (start -> ``far``) has another verdict at another
    value of a free key, that difference as a sentence; '' where it holds (or k is free)."""
    if k not in study.baseline:
        return ""
    parts = []
    for f in [f for f in free if f != k]:
        for fv in [v for v in study.grid[f] if v != point[f]]:
            _, start, _, r = _line_effect(table, summary, study, m, k, {**point, f: fv}, far)
            if r is None:
                continue
            there = classify(r["diff"], r["lo"], r["hi"], r["base_mean"])
            if there != "undefined" and _kind(there) != _kind(verdict):
                parts.append(
                    f" At {_param(f)} {_value(fv)} the verdict differs: "
                    f"{_num(r['diff'], True)} from {_value(start)} to {_value(far)} "
                    f"({_say(there)}; 95% CI {_num(r['lo'], True)} to {_num(r['hi'], True)})."
                )
    return "".join(parts)


def effect_across_grid(diffs: pd.DataFrame, study) -> list[tuple[str, list[str]]]:
    """Does each design's effect hold at every value of a swept parameter?

    For a study comparing designs over a grid, each design's paired difference from the
    baseline on each headline measure is classified (:func:`classify`) at every value of
    each swept key that the baseline does not fix, the other keys at the fixed point.
    A measure whose verdict (higher / lower / no effect that matters) is the same at every
    value *holds*; one whose verdict changes *depends on* the key, and its difference is
    given at each value. The headline sections report the fixed point only, so this is
    where a design effect that an assumption (e.g. ``behaviour``) reverses is said.
    """
    scen_base = study.baseline.get("scenario", study.scenarios[0])
    keys = _free_keys(study)
    if len(study.scenarios) < 2 or not keys or not len(diffs):
        return []
    point = stats.fixed_point(study)
    sections = []
    for scen in [s for s in study.scenarios if s != scen_base]:
        for k in keys:
            d = diffs[diffs["scenario"] == scen]
            for kk, vv in point.items():
                if kk != k:
                    d = d[d[kk] == vv]
            holds, depends = [], []
            for m in _ordered_metrics(study):
                rows = {r[k]: r for r in d[d["metric"] == m.text].to_dict("records")}
                vals = [v for v in study.grid[k] if v in rows]
                verdicts = {v: classify(rows[v]["diff"], rows[v]["lo"], rows[v]["hi"],
                                        rows[v]["base_mean"]) for v in vals}  # fmt: skip
                if len(vals) < 2 or "undefined" in verdicts.values() or m.name == GAP_START:
                    continue
                if len({_kind(x) for x in verdicts.values()}) == 1:
                    holds.append(_lower(m.label))
                    continue
                parts = []
                for v in vals:
                    r, x = rows[v], verdicts[v]
                    ci = f"95% CI {_num(r['lo'], True)} to {_num(r['hi'], True)}"
                    parts.append(f"{_num(r['diff'], True)} at {_value(v)} ({_say(x)}; {ci})")
                depends.append(f"{m.label}: " + "; ".join(parts) + ".")
            sentences = depends
            if holds:
                sentences.append(
                    f"The same verdict at every {_param(k)}: " + "; ".join(holds) + "."
                )
            if sentences:
                head = f"{study.label(scen)} at every {_param(k)}"
                sections.append((head, sentences))
    return sections


def forum_findings(table: pd.DataFrame, summary: pd.DataFrame, study) -> list[tuple[str, list]]:
    """With one condition: rank the forums on each measure taken in several of them."""
    groups: dict[tuple, list] = {}
    for m in study.metrics:
        if m.forum != "all":
            groups.setdefault((m.name, m.group, m.issue), []).append(m)
    sections = []
    for ms in groups.values():
        if len(ms) < 2:
            continue
        s = summary.set_index("metric")
        vals = [(m, s.loc[m.text]) for m in ms if m.text in s.index]
        vals = [(m, r) for m, r in vals if np.isfinite(r["mean"])]
        if len(vals) < 2:
            continue
        vals.sort(key=lambda mr: -mr[1]["mean"])
        (top, _), (second, _) = vals[0], vals[1]
        diff = _paired_contrast(table, top, second)
        label = top.label.rsplit(" (", 1)[0]
        ranking = "; ".join(
            f"{m.forum.upper()} {_num(r['mean'])} [{_num(r['lo'])}, {_num(r['hi'])}]"
            for m, r in vals
        )
        verdict = classify(diff["mean"], diff["lo"], diff["hi"])
        if verdict in ("higher", "lower"):
            lead = (
                f"Highest in the {top.forum.upper()}: {_num(diff['mean'], True)} above the "
                f"{second.forum.upper()}, the next (95% CI {_num(diff['lo'], True)} to "
                f"{_num(diff['hi'], True)}, paired by replicate)."
            )
        elif verdict == "no_spread":
            lead = (
                f"The {top.forum.upper()} and the {second.forum.upper()} differ by "
                f"{_num(diff['mean'], True)} in every replicate — no spread, so no ranking."
            )
        else:
            lead = (
                ("A negligible" if verdict == "negligible" else "No detectable")
                + f" difference between the top two, the {top.forum.upper()} and "
                f"the {second.forum.upper()} ({_num(diff['mean'], True)}"
                + (
                    f", 95% CI {_num(diff['lo'], True)} to {_num(diff['hi'], True)})."
                    if np.isfinite(diff["lo"])
                    else ")."
                )
            )
        parity = ""
        if top.name.startswith("representation_ratio"):
            above = [m.forum.upper() for m, r in vals if r["lo"] > 1]
            below = [m.forum.upper() for m, r in vals if r["hi"] < 1]
            parity = (
                f" Above parity (interval above 1): {', '.join(above) or 'none'}; below "
                f"parity: {', '.join(below) or 'none'}."
            )
        sections.append((f"Which forum: {label}", [lead + parity, f"By forum: {ranking}."]))
    return sections


def _paired_contrast(table: pd.DataFrame, a, b) -> dict[str, float]:
    """Mean and 95% interval of ``a − b`` within each replicate (same runs)."""
    va = stats.select(table, a).set_index("key")["value"]
    vb = stats.select(table, b).set_index("key")["value"]
    return stats.t_interval((va - vb.reindex(va.index)).to_numpy())


def replicate_warnings(summary: pd.DataFrame, study) -> list[str]:
    """Warnings about too few replicates and intervals cut at a measure's possible range."""
    out = []
    n = int(summary["n"].max()) if len(summary) else 0
    reps = min(study.replicates, n) if n else study.replicates
    if reps < stats.MIN_REPLICATES:
        out.append(
            f"only {reps} replicate{'s' if reps != 1 else ''} per condition (fewer than "
            f"{stats.MIN_REPLICATES}): intervals are wide and unreliable; treat every finding "
            "as provisional and re-run with more replicates (--replicates 10 or more)."
        )
    if "clipped" in summary and summary["clipped"].any():
        k = int(summary["clipped"].sum())
        out.append(
            f"{k} interval{'s' if k > 1 else ''} ran past the measure's possible range and "
            "{} cut at it (e.g. a share below 0): another sign of too few replicates.".format(
                "were" if k > 1 else "was"
            )
        )
    return out


def study_findings(
    table: pd.DataFrame, summary: pd.DataFrame, diffs: pd.DataFrame, study
) -> Findings:
    """The findings of a study (see the module docstring)."""
    f = Findings(warnings=replicate_warnings(summary, study))
    if not len(summary):
        f.sections.append(("", ["No runs are stored yet: nothing to report."]))
        return f
    gap = _starting_gap(table, study)
    if study.grid:
        if len(study.scenarios) > 1:
            point = stats.fixed_point(study)
            held = _point_words(point)
            across = effect_across_grid(diffs, study)
            f.sections.append(("Where", [
                f"Each design is compared with {_baseline_name(study)} at {held} (the "
                "baseline's values)" + ("; whether each effect holds at the other grid "
                                        "values follows the designs." if across else ".")
            ]))  # fmt: skip
            f.sections += scenario_findings(diffs, study, point, summary)
            f.sections += across
        f.sections += grid_findings(table, summary, study)
    elif len(study.scenarios) > 1:
        f.sections += scenario_findings(diffs, study, summary=summary)
    else:
        f.sections += forum_findings(table, summary, study)
        singles = [
            m
            for m in study.metrics
            if not any(
                o is not m
                and o.forum != "all"
                and (o.name, o.group, o.issue) == (m.name, m.group, m.issue)
                for o in study.metrics
            )  # fmt: skip
            or m.forum == "all"
        ]
        s = summary.set_index("metric")
        lines = [
            f"{m.label}: {_num(s.loc[m.text, 'mean'])} (95% CI {_num(s.loc[m.text, 'lo'])} "
            f"to {_num(s.loc[m.text, 'hi'])})."
            for m in singles
            if m.text in s.index and np.isfinite(s.loc[m.text, "lo"])
        ]
        if lines:
            f.sections.append(("Levels", lines))
    if gap:
        f.sections.insert(0, ("Context", [gap]))
    return f


def findings_table(f: Findings) -> pd.DataFrame:
    """The findings as rows (section, sentence), e.g. for ``findings.csv``."""
    rows = [{"section": "warning", "sentence": w} for w in f.warnings]
    rows += [{"section": h, "sentence": s} for h, ss in f.sections for s in ss]
    return pd.DataFrame(rows, columns=["section", "sentence"])


def print_findings(f: Findings, file=None, limit: int | None = None) -> None:
    """Print the findings (for ``govsim experiment``)."""
    import sys

    lines: Sequence[str] = f.lines()
    if limit is not None and len(lines) > limit:
        lines = [*lines[:limit], f"  ... {len(f.lines()) - limit} more lines in the briefing"]
    print("\n".join(lines), file=file or sys.stdout)
