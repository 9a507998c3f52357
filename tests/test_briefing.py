"""Briefings a policy team can hand over: findings in plain words, figures that fit the
design without overlapping labels, honest intervals at few replicates, user folders,
one output schema for studies and sweeps, and a data dictionary that matches the files.

Figures of every shipped study are drawn from a synthetic aggregate built around one
real (tiny) run, so the layout test covers every study without running any of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.compose import load_config
from sim.model.config import to_container
from sim.present import findings as fnd
from sim.present import plots
from sim.studies import stats
from sim.studies.execute import run_spec
from sim.studies.spec import RunSpec, load_study, parse_study, study_names

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "population.counts.business=10",
    "population.counts.civil_society=10",
    "population.counts.technical=6",
    "population.counts.igo=3",
]


# ----- a synthetic aggregate around one real run ------------------------------------------
@pytest.fixture(scope="module")
def template() -> pd.DataFrame:
    """One real one-year run with all five forums: every kind of row a study stores."""
    cfg = to_container(
        load_config(
            "status_quo",
            ["years=1", "+forum@forum.netmundial=netmundial", "+forum@forum.wgec=wgec", *SMALL],
        )  # fmt: skip
    )
    spec = RunSpec(key="t", scenario="status_quo", overrides=(), grid={}, replicate=0,
                   root_seed=1, config=cfg)  # fmt: skip
    return run_spec(spec)


def synthetic_aggregate(study, template: pd.DataFrame, reps: int = 2) -> pd.DataFrame:
    """Every condition × replicate: the template's rows, values shifted per condition."""
    rng = np.random.default_rng(0)
    frames = []
    for si, s in enumerate(study.scenarios):
        for pi, point in enumerate(study.points):
            for r in range(reps):
                t = template.copy()
                shift = 1 + 0.04 * si + 0.02 * pi + rng.normal(0, 0.01)
                t["value"] = t["value"] * shift
                share = t["metric"].map(lambda n: stats.measure_range(n) == (0.0, 1.0))
                t.loc[share, "value"] = t.loc[share, "value"].clip(0, 1)
                lead = {"scenario": s, **point, "replicate": r, "seed": 1, "key": f"{s}-{pi}-{r}"}
                for k, v in reversed(list(lead.items())):
                    t.insert(0, k, v)
                frames.append(t)
    return pd.concat(frames, ignore_index=True)


def _figures(study, table, out: Path) -> tuple[list, list]:
    grid = list(study.grid)
    names = {m.text: m.name for m in study.metrics}
    summary = stats.clip_summary(stats.summarise(table, study.metrics, grid), names)
    diffs = stats.paired_differences(table, study.metrics, study.baseline, grid)
    yearly = stats.yearly(table, grid)
    meta = {"scenario_configs": {s: study.configs.get((s, 0)) for s in study.scenarios}}
    found = []

    def hook(fig, name):
        found.extend((name, a, b) for a, b in plots.text_overlaps(fig))

    plots.ON_SAVE.append(hook)
    old = plots.SAVE_FORMATS
    plots.SAVE_FORMATS = ()
    try:
        figs = plots.draw_all(table, summary, yearly, study, out, "Source: test; n = 2",
                              meta=meta, diffs=diffs)  # fmt: skip
    finally:
        plots.ON_SAVE.remove(hook)
        plots.SAVE_FORMATS = old
    return figs, found


@pytest.mark.parametrize("name", study_names())
def test_no_label_overlaps_in_any_shipped_study(name, template, tmp_path):
    """Every figure of every shipped study: no two texts overlap, none runs off the figure."""
    study = load_study(name, replicates=2, overrides=SMALL)
    table = synthetic_aggregate(study, template)
    figs, overlaps = _figures(study, table, tmp_path)
    assert figs, "no figure drawn"
    assert any(f.name == "issue_forum_matrix" for f in figs)
    assert not overlaps, f"{name}: overlapping labels {overlaps[:5]}"


def test_text_overlaps_detects_an_overlap():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "first label")
    ax.text(0.5, 0.5, "second label")
    assert plots.text_overlaps(fig)
    plt.close(fig)


def test_figure_kind_follows_the_design(template, tmp_path):
    """A grid study gets lines against its swept keys, one condition a by-forum panel,
    several scenarios dot-and-interval panels; never a list of every grid point."""
    for name, first in (("travel_funding", "grid_overview"),
                        ("forum_comparison", "measures_by_forum"),
                        ("scenario_catalogue", "scenario_comparison")):  # fmt: skip
        study = load_study(name, replicates=2, overrides=SMALL)
        figs, _ = _figures(study, synthetic_aggregate(study, template), tmp_path)
        assert figs[0].name == first
        assert "scenario_comparison" not in {f.name for f in figs[1:]}


# ----- honest uncertainty at two replicates -----------------------------------------------
STUDY2 = """
name: two
question: two replicates
scenarios: [status_quo, cstd_anchor]
baseline: status_quo
replicates: 2
metrics: [participation_rate@developing_gov, deadlock_rate@cstd, attainment_gap]
"""


def _parse(text: str):
    """A study parsed without composing configs (its metrics may name the CSTD)."""
    return parse_study(text, compose=False, known_configs={"x": {"forum": {"cstd": {}},
                                                                  "issues": {}}})  # fmt: skip


def _rows(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    rows = []
    for scen, by_metric in values.items():
        for text, vals in by_metric.items():
            name, _, rest = text.partition("@")
            forum = rest if rest in ("cstd",) else "all"
            group = rest if rest == "developing_gov" else "all"
            for r, v in enumerate(vals):
                rows.append({"scenario": scen, "replicate": r, "seed": 0, "key": f"{scen}{r}",
                             "kind": "summary", "metric": name, "forum": forum, "group": group,
                             "issue": "all", "year": 0, "value": v})  # fmt: skip
    return pd.DataFrame(rows)


def test_two_replicates_warn_clip_and_give_no_zero_width_finding():
    study = _parse(STUDY2)
    table = _rows({
        "status_quo": {"participation_rate@developing_gov": [0.02, 0.60],
                       "deadlock_rate@cstd": [0.25, 0.5], "attainment_gap": [0.2, 0.3]},
        "cstd_anchor": {"participation_rate@developing_gov": [0.03, 0.61],
                        "deadlock_rate@cstd": [0.375, 0.625], "attainment_gap": [0.21, 0.29]},
    })  # fmt: skip
    names = {m.text: m.name for m in study.metrics}
    raw = stats.summarise(table, study.metrics)
    assert (raw["lo"] < 0).any()  # a t-interval from two values runs below 0 for a share
    summary = stats.clip_summary(raw, names)
    share = summary[summary["metric"] == "participation_rate@developing_gov"]
    assert (share["lo"] >= 0).all() and (share["hi"] <= 1).all() and share["clipped"].any()
    diffs = stats.paired_differences(table, study.metrics, study.baseline)
    diffs = stats.clip_differences(diffs, summary, names, study.baseline)
    dead = diffs[diffs["metric"] == "deadlock_rate@cstd"].iloc[0]
    assert dead["diff"] == pytest.approx(0.125) and dead["lo"] == dead["hi"]  # zero width
    found = fnd.study_findings(table, summary, diffs, study)
    assert any("only 2 replicates" in w for w in found.warnings)
    assert any("cut at it" in w for w in found.warnings)
    text = "\n".join(found.lines())
    assert "no spread across replicates, so no interval and no finding" in text
    assert "deadlock rate (CSTD) is" not in text and "0.125 higher" not in text
    assert "No detectable difference in attainment gap" in text
    # what a figure draws: the share's interval stays on the 0-1 axis
    assert summary["lo"].min() >= -1  # attainment gap's range is [-1, 1]


def test_findings_lead_with_gap_closed_by_design():
    """With attainment_gap_change in the metrics, its paired difference leads as the gap
    closed by design; the starting gap is context. Works from a synthetic aggregate."""
    import sim.studies.spec as ex

    ex.METRICS.setdefault("attainment_gap_change", "Change in the attainment gap")
    ex.METRICS.setdefault("attainment_gap_start", "Attainment gap at the start")
    text = STUDY2.replace(
        "metrics: [participation_rate@developing_gov, deadlock_rate@cstd, attainment_gap]",
        "metrics: [attainment_gap, attainment_gap_change]",
    )
    text = text.replace("replicates: 2", "replicates: 6")
    study = _parse(text)
    rng = np.random.default_rng(3)
    base = rng.normal(-0.02, 0.01, 6)
    table = _rows({
        "status_quo": {"attainment_gap_change": list(base), "attainment_gap_start": [0.3] * 6,
                       "attainment_gap": list(0.3 + base)},
        "cstd_anchor": {"attainment_gap_change": list(base - 0.03 + rng.normal(0, 0.002, 6)),
                        "attainment_gap_start": [0.3] * 6,
                        "attainment_gap": list(0.27 + base)},
    })  # fmt: skip
    names = {m.text: m.name for m in study.metrics}
    summary = stats.clip_summary(stats.summarise(table, study.metrics), names)
    diffs = stats.paired_differences(table, study.metrics, study.baseline)
    diffs = stats.clip_differences(diffs, summary, names, study.baseline)
    found = fnd.study_findings(table, summary, diffs, study)
    heads = [h for h, _ in found.sections]
    assert heads[0] == "Context" and "starting attainment gap is 0.300" in found.sections[0][1][0]
    first = found.sections[1][1][0]
    assert first.startswith("Gap closed by design: +0.030") and "narrows" in first


def test_a_detectable_but_tiny_change_is_called_negligible_not_undetectable():
    """An interval that excludes zero around a change below 0.005 is 'negligible' (it was
    reported as 'no detectable effect (-0.003, CI -0.005 to -0.001)', a contradiction);
    an interval covering zero is 'no detectable'; a large one is a finding."""
    assert fnd.classify(-0.003, -0.005, -0.001) == "negligible"
    assert fnd.classify(-0.003, -0.008, 0.002) == "none"
    assert fnd.classify(-0.03, -0.05, -0.01) == "lower"
    assert fnd.classify(0.2, 0.1, 0.3, base=40.0) == "negligible"  # < 1% of the baseline
    study = _parse(STUDY2)
    metric = next(m for m in study.metrics if m.name == "attainment_gap")
    row = {"diff": -0.003, "lo": -0.005, "hi": -0.001, "n": 6, "base_mean": 0.3}
    verdict, sentence = fnd.difference_sentence(metric, row, "the status quo")
    assert verdict == "negligible" and "negligible difference" in sentence
    assert "no detectable" not in sentence
    lead = fnd._gap_lead(metric, row, "the status quo")
    assert lead.startswith("Gap closed by design: negligible (+0.003")
    assert "no detectable" not in lead


def test_a_measure_the_baseline_lacks_is_reported_by_its_level():
    """A mandate only the scenario has: no paired difference, but its level is a finding
    (the briefing said 'not defined (the measure has no value in these runs)')."""
    study = _parse(STUDY2)
    metric = study.metrics[0]
    diffs = pd.DataFrame(
        [
            {
                "metric": metric.text,
                "scenario": "cstd_anchor",
                "n": 0,
                "diff": np.nan,
                "lo": np.nan,
                "hi": np.nan,
                "base_mean": np.nan,
            }
        ]
    )
    summary = pd.DataFrame([{"metric": metric.text, "scenario": "cstd_anchor", "n": 6,
                             "mean": 0.15, "lo": 0.0, "hi": 0.32}])  # fmt: skip
    ((_, sentences),) = fnd.scenario_findings(diffs, study, summary=summary)
    assert sentences == [
        f"{metric.label}: 0.150 [95% CI 0.000 to 0.320] here; the status quo "
        "has no value for it (nothing to decide there), so no difference."
    ]
    ((_, without),) = fnd.scenario_findings(diffs, study)
    assert "not defined" in without[0]
    # a design without the mandate either (the dual track): not applicable, not "not defined"
    none_here = summary.assign(mean=np.nan, lo=np.nan, hi=np.nan)
    ((_, absent),) = fnd.scenario_findings(diffs, study, summary=none_here)
    assert absent == [
        "Not applicable here nor under the status quo (no run of either has a value): "
        f"{fnd._lower(metric.label)}."
    ]


def test_null_scenario_is_stated_not_omitted():
    study = _parse(STUDY2)
    same = {"participation_rate@developing_gov": [0.5, 0.6, 0.55],
            "deadlock_rate@cstd": [0.2, 0.3, 0.25], "attainment_gap": [0.2, 0.3, 0.25]}  # fmt: skip
    table = _rows({"status_quo": same, "cstd_anchor": same})
    names = {m.text: m.name for m in study.metrics}
    summary = stats.clip_summary(stats.summarise(table, study.metrics), names)
    diffs = stats.clip_differences(
        stats.paired_differences(table, study.metrics, study.baseline), summary, names,
        study.baseline)  # fmt: skip
    found = fnd.study_findings(table, summary, diffs, study)
    ((head, sentences),) = [s for s in found.sections if s[0] == "Cstd anchor"]
    assert sentences[0].startswith("No detectable difference from the status quo on any of the 3")
    assert "identical in every replicate" in sentences[0]


# ----- user folders -------------------------------------------------------------------------
def test_user_folder_scenario_used_by_user_folder_study(tmp_path, monkeypatch, capsys):
    """A study beside its own scenario/ folder runs a scenario only that folder has, with a
    per-scenario override; `govsim list` shows it with its description."""
    from sim import cli

    monkeypatch.delenv("GOVSIM_CONFIG_DIR", raising=False)
    user = tmp_path / "mine"
    (user / "scenario").mkdir(parents=True)
    (user / "experiments").mkdir()
    (user / "scenario" / "open_cstd.yaml").write_text(
        "# @package _global_\n# An open CSTD: remote participation for every member.\n"
        "defaults:\n  - status_quo\n  - _self_\n\nscenario: open_cstd\n"
        "forum:\n  cstd:\n    remote: true\n"
    )
    study = user / "experiments" / "my_study.yaml"
    study.write_text(
        "name: my_study\nquestion: Does an open CSTD help?\n"
        "scenarios:\n  - status_quo\n  - open_cstd\n"
        "  - {name: open_funded, scenario: open_cstd, overrides: [forum.cstd.funded_slots=30,"
        " forum.cstd.support=funded_slots]}\n"
        "replicates: 1\nroot_seed: 5\nyears: 1\nmetrics: [attainment_gap]\n"
    )
    out = tmp_path / "out"
    cli.main(["experiment", str(study), "-j", "1", "-q", "--out", str(out), *SMALL])
    printed = capsys.readouterr().out
    assert "Findings:" in printed and "WARNING: only 1 replicate" in printed
    man = (out / "manifest.json").read_text()
    assert "open_funded" in man
    md = (out / "briefing.md").read_text()
    assert "CSTD: remote participation | no | yes" in md
    assert "CSTD: funded travel slots per meeting | 0 | 30" in md
    monkeypatch.setenv("GOVSIM_CONFIG_DIR", str(user))
    cli.main(["list", "scenarios"])
    listed = capsys.readouterr().out
    assert re.search(r"open_cstd\s+An open CSTD: remote participation for every member\.", listed)
    cli.main(["list", "studies"])
    assert "my_study" in capsys.readouterr().out
    monkeypatch.delenv("GOVSIM_CONFIG_DIR")
    cli.main(["--config-dir", str(user), "list", "scenarios"])
    assert "open_cstd" in capsys.readouterr().out


def test_unknown_user_scenario_names_where_to_put_it(tmp_path, monkeypatch, capsys):
    from sim import cli

    monkeypatch.delenv("GOVSIM_CONFIG_DIR", raising=False)
    p = tmp_path / "s.yaml"
    p.write_text("name: s\nscenarios: [nowhere]\nmetrics: [attainment_gap]\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["experiment", str(p), "-q"])
    assert e.value.code == 2
    assert "--config-dir" in capsys.readouterr().err


# ----- one output schema: a sweep's report, the data dictionary -----------------------------
def _govsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from sim.cli import main; main(sys.argv[1:])", *args],
        cwd=cwd, env=env, capture_output=True, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A `govsim run -m` sweep: two scenarios × two seeds, one year, small population."""
    d = tmp_path_factory.mktemp("sweep")
    r = _govsim("run", "-m", "scenario=status_quo,cstd_anchor", "seed=0,1", "years=1",
                "quiet=true", f"hydra.sweep.dir={d / 'sw'}", *SMALL, cwd=d)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    return d / "sw"


def test_report_works_on_a_multirun_sweep(sweep, capsys):
    from sim import cli

    cli.main(["report", str(sweep)])
    out = capsys.readouterr().out
    assert "Findings:" in out
    md = (sweep / "briefing.md").read_text()
    assert "## Findings" in md and "Cstd anchor" in md
    assert (sweep / "briefing.pptx").exists()
    agg = pd.read_parquet(sweep / "aggregate.parquet")
    assert set(agg["replicate"]) == {0, 1}  # seeds paired across scenarios


def _dictionary() -> dict[str, set[str]]:
    """docs/outputs.md: ``## `file` `` headings, each followed by a table of columns."""
    text = (ROOT / "docs" / "outputs.md").read_text()
    out: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^## `([^`]+)`", line)
        if m:
            current = m.group(1)
            out[current] = set()
            continue
        m = re.match(r"^\| `([^`]+)` \|", line)
        if m and current:
            out[current].add(m.group(1))
    return out


def test_data_dictionary_covers_every_column_written(sweep, tmp_path):
    """Every column of every output table of a study and of a sweep is documented, and the
    dictionary documents no column that is never written (grid columns aside)."""
    from sim.present.report import build_briefing
    from sim.studies.launch import aggregate_sweep, run_study, write_aggregate
    from sim.studies.store import SCHEMA_VERSION, schema_version

    p = tmp_path / "mini.yaml"
    p.write_text("name: mini\nscenarios: [status_quo, dual_track]\nbaseline: status_quo\n"
                 "grid: {forum.igf.remote: [true, false]}\nreplicates: 2\nroot_seed: 2\n"
                 "years: 1\nmetrics: [attainment_gap, policy_coverage]\n")  # fmt: skip
    study = load_study(p, overrides=SMALL)
    out = tmp_path / "out"
    run_study(study, out, jobs=1, progress=False)
    build_briefing(out, study=study)
    write_aggregate(aggregate_sweep(out), out)
    build_briefing(sweep)
    write_aggregate(aggregate_sweep(sweep), sweep)
    doc = _dictionary()
    grid = {"forum.igf.remote"}
    seen: dict[str, set[str]] = {}
    for folder in (out, sweep):
        for name in ("aggregate.parquet", "summary.csv", "differences.csv", "findings.csv",
                     "runs.parquet", "runs.csv"):  # fmt: skip
            f = folder / name
            cols = set(pd.read_parquet(f).columns if f.suffix == ".parquet"
                       else pd.read_csv(f).columns)  # fmt: skip
            seen.setdefault(name, set()).update(cols)
            if f.suffix == ".parquet":
                assert schema_version(f) == SCHEMA_VERSION
    for name in ("steps", "meetings", "attendance", "regions", "outcomes", "groups",
                 "summary"):  # a run folder: `govsim run` wrote one per sweep job  # fmt: skip
        seen[f"{name}.parquet"] = set(pd.read_parquet(sweep / "0" / f"{name}.parquet").columns)
    for name, cols in seen.items():
        assert name in doc, f"{name} is not in docs/outputs.md"
        documented = doc[name]
        extra = cols - documented - grid
        if name.startswith("runs."):
            extra = {c for c in extra if c not in _run_level_metrics()}
        assert not extra, f"{name}: columns written but not documented: {sorted(extra)}"
        never = documented - cols - {"<grid key>", "<measure>"}
        assert not never, f"{name}: documented but never written: {sorted(never)}"
    # nulls, not 'all', for "no value"
    agg = pd.read_parquet(out / "aggregate.parquet")
    assert not (agg[["forum", "group", "issue"]] == "all").any().any()
    assert agg["forum"].isna().any()


def _run_level_metrics() -> set[str]:
    from sim.studies.spec import METRICS

    return set(METRICS)


def test_worked_example_runs_on_a_tiny_study(tmp_path):
    """docs/examples/reading_a_study.py reproduces a figure and a paired difference."""
    from sim.present.report import build_briefing
    from sim.studies.launch import run_study

    p = tmp_path / "tiny.yaml"
    p.write_text("name: tiny\nscenarios: [status_quo, cstd_anchor]\nreplicates: 3\n"
                 "root_seed: 4\nyears: 1\nmetrics: [attainment_gap]\n")  # fmt: skip
    study = load_study(p, overrides=SMALL)
    out = tmp_path / "out"
    run_study(study, out, jobs=1, progress=False)
    build_briefing(out, study=study)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GOVSIM_STUDY_DIR": str(out)}
    r = subprocess.run([sys.executable, str(ROOT / "docs" / "examples" / "reading_a_study.py")],
                       env=env, capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "matches differences.csv" in r.stdout
    assert (out / "reading_a_study.png").exists()


def test_slides_keep_headings_with_their_sentences():
    from sim.present.slides import LINES_PER_SLIDE, _chunks

    items = [("Scenario", 18, True), *[("x" * 100, 16, False)] * (LINES_PER_SLIDE - 1),
             ("Next scenario", 18, True), ("y", 16, False)]  # fmt: skip
    chunks = _chunks(items)
    assert len(chunks) == 2
    assert all(not c[-1][2] for c in chunks)  # no slide ends on a heading
    assert chunks[1][0][0] == "Next scenario"
    long = [("Scenario", 18, True), *[("x" * 100, 16, False)] * (LINES_PER_SLIDE + 2)]
    first, second = _chunks(long)
    assert second[0] == ("Scenario (continued)", 18, True)  # a section never loses its head


def _findings_of(table: pd.DataFrame, study):
    """The findings of a study's stored table, as `govsim experiment` makes them, and the
    paired differences they come from."""
    names = {m.text: m.name for m in study.metrics}
    grid = list(study.grid)
    summary = stats.clip_summary(stats.summarise(table, study.metrics, grid), names)
    diffs = stats.paired_differences(table, study.metrics, study.baseline, grid)
    diffs = stats.clip_differences(diffs, summary, names, study.baseline, grid)
    return fnd.study_findings(table, summary, diffs, study), diffs


def test_a_design_effect_an_assumption_reverses_is_said_beside_the_headline():
    """Designs compared over a grid key the baseline does not fix (``behaviour``): the
    headline is at the first value, and a measure whose verdict differs at another value
    is given at each value; one whose verdict is the same is listed as holding."""
    text = STUDY2.replace("replicates: 2", "replicates: 8") + (
        "grid:\n  behaviour: [calibrated, default]\n"
    )
    study = _parse(text)
    rng = np.random.default_rng(5)
    frames = []
    for behaviour, gap_effect in (("calibrated", -0.03), ("default", 0.0)):
        base_gap = rng.normal(0.25, 0.02, 8)
        base_part = rng.normal(0.5, 0.02, 8)
        t = _rows({
            "status_quo": {"attainment_gap": list(base_gap),
                           "participation_rate@developing_gov": list(base_part),
                           "deadlock_rate@cstd": list(rng.uniform(0.1, 0.2, 8))},
            "cstd_anchor": {"attainment_gap": list(base_gap + gap_effect
                                                   + rng.normal(0, 0.002, 8)),
                            "participation_rate@developing_gov": list(base_part + 0.1),
                            "deadlock_rate@cstd": list(rng.uniform(0.1, 0.2, 8))},
        })  # fmt: skip
        t.insert(1, "behaviour", behaviour)
        t["key"] = t["key"] + behaviour
        frames.append(t)
    found, diffs = _findings_of(pd.concat(frames, ignore_index=True), study)
    sections = dict(found.sections)
    assert "at behaviour calibrated" in sections["Where"][0]
    headline = " ".join(sections[study.label("cstd_anchor")])
    assert "0.031 lower" in headline  # the first grid value (calibrated) is the headline
    across = sections[f"{study.label('cstd_anchor')} at every behaviour"]
    gap = next(s for s in across if s.startswith("Attainment gap"))
    assert "at calibrated (lower;" in gap and "at default (no detectable difference;" in gap
    held = next(s for s in across if s.startswith("The same verdict"))
    assert "participation rate, developing governments" in held
    assert "attainment gap" not in held.lower().replace("the same verdict at every behaviour", "")
    # the designs are scenarios, so the grid section claims no per-design check of its own
    intro = sections["How the swept parameters move each measure"][0]
    assert "checked at every value" not in intro and "leaves free" not in " ".join(
        s for _, ss in found.sections for s in ss if s.startswith("behaviour")
    )
    # no such section without a grid key left free
    plain = _parse(STUDY2)
    assert fnd.effect_across_grid(diffs, plain) == []


def test_a_grid_design_value_an_assumption_reverses_is_said_beside_it():
    """One scenario over a grid (like ``travel_funding``): a key the baseline fixes is a
    design choice, and its end-to-end effect is also checked at every value of a key the
    baseline leaves free (``behaviour``). Where the verdict differs, that value's paired
    difference follows the headline sentence; where it holds, nothing is added."""
    study = _parse(
        "name: one\nquestion: one scenario over a grid\nscenarios: [status_quo]\n"
        "baseline: {scenario: status_quo, forum.cstd.remote: true}\nreplicates: 8\n"
        "metrics: [participation_rate@developing_gov, deadlock_rate@cstd]\n"
        "grid:\n  behaviour: [default, calibrated]\n  forum.cstd.remote: [true, false]\n"
    )
    rng = np.random.default_rng(11)
    frames = []
    for behaviour, remote_off in (("default", +0.03), ("calibrated", -0.12)):
        base = rng.normal(0.5, 0.02, 8)
        deadlock = rng.uniform(0.1, 0.2, 8)
        for remote, shift in ((True, 0.0), (False, remote_off)):
            t = _rows({"status_quo": {
                "participation_rate@developing_gov": list(base + shift + rng.normal(0, 0.002, 8)),
                "deadlock_rate@cstd": list(deadlock + rng.normal(0, 0.03, 8)),
            }})  # fmt: skip
            t.insert(1, "behaviour", behaviour)
            t.insert(2, "forum.cstd.remote", remote)
            t["key"] = t["key"] + behaviour + str(remote)
            frames.append(t)
    sections = dict(_findings_of(pd.concat(frames, ignore_index=True), study)[0].sections)
    intro = sections["How the swept parameters move each measure"][0]
    assert "checked at every value of behaviour" in intro
    part = " ".join(sections["Participation rate, developing governments"])
    remote = next(s for s in sections["Participation rate, developing governments"]
                  if s.startswith("CSTD remote moves it"))  # fmt: skip
    assert "(+0.03" in remote  # the headline: behaviour default, the fixed point
    assert "At behaviour calibrated the verdict differs: -0.12" in remote.replace("−", "-")
    assert "(lower; 95% CI" in remote
    # behaviour is an assumption, not a design: its own effect is not re-checked
    assert part.count("the verdict differs") == 1
    # a measure the design does not move under either behaviour gets no such sentence
    deadlock = " ".join(sections["Deadlock rate (CSTD)"])
    assert "CSTD remote (range" in deadlock and "verdict differs" not in deadlock
