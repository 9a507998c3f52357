"""Malformed input, as a new user would type it: every case exits 2 with one line, no traceback.

Cases are generated from the schema and the validation table where possible and run
through the CLI in-process (``sim.cli.main``): run overrides (every numeric field out of
range), cross-field mistakes, multiruns, paths, flags, a few study files, and damaged
results folders (which heal with a warning naming the file, or exit 2 naming it when
nothing can be rebuilt). A hypothesis test drives the validation table itself over every
numeric field with arbitrary bad values, through ``validate`` and ``GovernanceModel``.

``python tests/test_fuzz.py`` prints the counts (cases, clean errors, tracebacks, silent
accepts, hangs) for whatever ``sim`` is on the path.
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.studies.store import RunStore, run_key, write_manifest

LONG = "x" * 5000

# ----- the cases --------------------------------------------------------------------------
EXAMPLE_KEY = {
    # one concrete key per pattern of the validation table (status_quo: cstd, igf, gac)
    "seed": "seed",
    "years": "years",
    "first_year": "first_year",
    "population.counts.*": "population.counts.business",
    "population.region_mix.*.*": "+population.region_mix.business.African",
    "population.income_factor.*": "population.income_factor.low",
    "population.population_elasticity": "population.population_elasticity",
    "population.government_sigma": "population.government_sigma",
    "population.nonstate.*.median": "population.nonstate.business.median",
    "population.nonstate.*.sigma": "population.nonstate.igo.sigma",
    "population.region_factor.*": "population.region_factor.WEOG",
    "population.capacity_scale": "population.capacity_scale",
    "population.capacity_exponent": "population.capacity_exponent",
    "population.max_delegation": "population.max_delegation",
    "population.expertise.*": "population.expertise.technical",
    "population.multistakeholder_preference.*": "population.multistakeholder_preference.igo",
    "population.stubbornness.*": "population.stubbornness.business",
    "population.initial_engagement": "population.initial_engagement",
    "population.extra_actors": "population.extra_actors",
    "issues.*.status_quo": "issues.ai_governance.status_quo",
    "issues.*.position.*": "issues.cybersecurity.position.developing_gov",
    "issues.*.salience.*": "issues.data_flows.salience.business",
    "issues.*.spread": "issues.dns_numbering.spread",
    "behaviour.logit_noise": "behaviour.logit_noise",
    "behaviour.benefit_scale": "behaviour.benefit_scale",
    "behaviour.networking_value": "behaviour.networking_value",
    "behaviour.travel_cost_scale": "behaviour.travel_cost_scale",
    "behaviour.cost_aversion": "behaviour.cost_aversion",
    "behaviour.remote_cost": "behaviour.remote_cost",
    "behaviour.remote_cost_trend": "behaviour.remote_cost_trend",
    "behaviour.remote_cost_year": "behaviour.remote_cost_year",
    "behaviour.timezone_penalty": "behaviour.timezone_penalty",
    "behaviour.polarization": "behaviour.polarization",
    "behaviour.engagement_rate": "behaviour.engagement_rate",
    "behaviour.expertise_gain": "behaviour.expertise_gain",
    "behaviour.expertise_decay": "behaviour.expertise_decay",
    "behaviour.objection_tolerance": "behaviour.objection_tolerance",
    "behaviour.reservation": "behaviour.reservation",
    "behaviour.concession_step": "behaviour.concession_step",
    "behaviour.soft_law_weight": "behaviour.soft_law_weight",
    "behaviour.role_influence.*": "behaviour.role_influence.member",
    "forum.*.authority": "forum.cstd.authority",
    "forum.*.start_year": "forum.igf.start_year",
    "forum.*.end_year": "forum.gac.end_year",
    "forum.*.max_meetings": "forum.igf.max_meetings",
    "forum.*.seats.*": "forum.cstd.seats.African",
    "forum.*.group_seats.*": "+forum.igf.group_seats.business",
    "forum.*.term_years": "forum.cstd.term_years",
    "forum.*.cohorts": "forum.cstd.cohorts",
    "forum.*.participant_voice": "forum.igf.participant_voice",
    "forum.*.meeting_months[]": "forum.gac.meeting_months",
    "forum.*.remote_voice": "forum.cstd.remote_voice",
    "forum.*.remote_fixed_cost": "forum.gac.remote_fixed_cost",
    "forum.*.funded_slots": "forum.cstd.funded_slots",
    "forum.*.confidence": "forum.igf.confidence",
    "forum.*.rounds": "forum.cstd.rounds",
    "forum.*.threshold": "forum.gac.threshold",
    "forum.*.concession_rounds": "forum.cstd.concession_rounds",
    "forum.*.blocking_objections": "forum.cstd.blocking_objections",
    "forum.*.board_seats.*": "forum.igf.board_seats.business",
    "forum.*.supermajority": "forum.gac.supermajority",
    "forum.*.board_deference": "forum.igf.board_deference",
    "links.*.weight": "+links.extra.weight",
    # participation (issue 13)
    "population.local_counts.*": "population.local_counts.business",
    "population.local_scale": "population.local_scale",
    "population.local_elasticity": "population.local_elasticity",
    "behaviour.distance_exponent": "behaviour.distance_exponent",
    "behaviour.local_cost": "behaviour.local_cost",
    "behaviour.mission_cost": "behaviour.mission_cost",
    "behaviour.mission_duty": "behaviour.mission_duty",
    "behaviour.home_capacity": "behaviour.home_capacity",
    "behaviour.host_delegation": "behaviour.host_delegation",
    "behaviour.host_elasticity": "behaviour.host_elasticity",
    "behaviour.delegation_returns": "behaviour.delegation_returns",
    # negotiation (issue 14)
    "forum.*.vote_request": "forum.cstd.vote_request",
    "forum.*.bloc_voice": "forum.cstd.bloc_voice",
    "links.*.stance": "+links.extra.stance",
    "behaviour.bloc_cohesion": "behaviour.bloc_cohesion",
    # the board and the IANA chain (issue 15)
    "forum.*.board_term_years": "forum.gac.board_term_years",
    "forum.*.board_noise": "forum.gac.board_noise",
    "forum.*.oversight_tolerance": "forum.gac.oversight_tolerance",
    "forum.*.oversight_support": "forum.gac.oversight_support",
    "forum.*.oversight_max_objecting": "forum.gac.oversight_max_objecting",
}
"""A concrete key for every pattern of ``sim.model.validate.RANGES`` (checked below)."""

BAD_NUMBERS = ("nan", "inf", "-inf", "-1e12", "1e12")


@dataclass
class Case:
    """One malformed input: the command line, what the one error line must name, the exit."""

    id: str
    argv: list[str]
    names: tuple[str, ...]
    status: int = 2
    setup: Callable[[Path], None] | None = None
    warns: tuple[str, ...] = ()
    extra: list[str] = field(default_factory=list)


def _range_cases() -> list[Case]:
    cases = []
    for i, (pattern, key) in enumerate(sorted(EXAMPLE_KEY.items())):
        for bad in (BAD_NUMBERS[i % 5], BAD_NUMBERS[(i + 2) % 5]):
            value = f"[{bad}]" if pattern.endswith("[]") else bad
            if key.startswith("+links."):  # a link needs its kind, source and target
                field_name = key.rsplit(".", 1)[1]
                arg = (f"+links.extra={{kind: feeds, source: igf, target: cstd, "
                       f"{field_name}: {bad}}}")  # fmt: skip
            else:
                arg = f"{key}={value}"
            shown = key.lstrip("+").removesuffix(".weight")
            cases.append(Case(f"range-{pattern}-{bad}", ["run", arg], (shown,)))
    return cases


CROSS = [
    ("years-zero", ["years=0"], "years"),
    ("years-huge", ["years=100000000"], "years"),
    ("years-text", ["years=abc"], "years"),
    ("years-float", ["years=1.5"], "years"),
    ("seed-negative", ["seed=-1"], "seed"),
    ("noise-nan", ["behaviour.logit_noise=nan"], "behaviour.logit_noise"),
    ("engagement-5", ["behaviour.engagement_rate=5"], "behaviour.engagement_rate"),
    ("travel-negative", ["behaviour.travel_cost_scale=-1"], "behaviour.travel_cost_scale"),
    ("term-400-cohorts-200", ["forum.cstd.term_years=400", "forum.cstd.cohorts=200"], "forum.cstd"),
    ("end-year-negative", ["forum.igf.end_year=-1"], "forum.igf.end_year"),
    ("months-13", ["forum.igf.meeting_months=[13]"], "forum.igf.meeting_months"),
    ("months-0", ["forum.igf.meeting_months=[0,5]"], "forum.igf.meeting_months"),
    ("extra-actors-negative", ["population.extra_actors=-5"], "population.extra_actors"),
    ("capacity-negative", ["population.capacity_scale=-2"], "population.capacity_scale"),
    ("rounds-negative", ["forum.igf.rounds=-3"], "forum.igf.rounds"),
    ("blocking-negative", ["forum.cstd.blocking_objections=-1"], "forum.cstd.blocking_objections"),
    ("influence-negative", ["behaviour.role_influence.member=-1"], "behaviour.role_influence"),
    ("link-weight", ["+links.x={kind: feeds, source: igf, target: cstd, weight: 9}"], "links.x"),
    ("scenario-non-ascii", ["scenario=café"], "scenario=café"),
    ("scenario-long", [f"scenario={LONG}"], "scenario"),
    ("override-garbage", ["forum.igf.remote=[1,"], "forum.igf.remote"),
    ("run-dir-long", [f"hydra.run.dir=/tmp/{LONG}"], "hydra.run.dir"),
]
"""Run overrides checked without composing (their numbers or their syntax are wrong)."""

COMPOSED = [
    ("seats-over-region", ["forum.cstd.seats.WEOG=40"], "forum.cstd.seats.WEOG"),
    ("cohorts-not-dividing", ["forum.cstd.cohorts=3"], "forum.cstd.cohorts"),
    ("host-regions-empty", ["forum.gac.host_regions=[]"], "forum.gac.host_regions"),
    ("start-after-horizon", ["years=2", "forum.igf.start_year=5"], "forum.igf.start_year"),
    ("unknown-rule", ["forum.igf.decision=nope"], "forum.igf.decision"),
    ("unknown-key", ["forum.igf.bogus=1"], "bogus"),
    ("unknown-scenario", ["scenario=nope"], "nope"),
    ("listed-without-issues", ["forum.igf.scope=listed"], "forum.igf.scope"),
]
"""Run overrides only the composed config shows to be wrong (a second or so each)."""

GROUP_NAMES = ("developed_gov", "developing_gov", "business", "civil_society", "technical", "igo")
ROLES_NONE = [f"forum.igf.roles.{g}=none" for g in GROUP_NAMES]
COMPOSED.append(("forum-without-anyone", ROLES_NONE, "forum.igf"))

MULTIRUN = [
    ("years-0-1", ["years=0,1"], "years"),
    ("noise-nan", ["behaviour.logit_noise=nan,0.2"], "behaviour.logit_noise"),
    ("seed-range-negative", ["seed=range(-2,2)"], "seed"),
    ("seats-sweep", ["forum.cstd.seats.African=100,1"], "forum.cstd.seats.African"),
    ("bad-syntax", ["years=1,"], "years=1,"),
    ("non-ascii", ["scenario=status_quo,café"], "café"),
    ("months-sweep", ["forum.igf.meeting_months=[5],[14]"], "forum.igf.meeting_months"),
]


def _tiny_study(tmp: Path) -> None:
    (tmp / "tiny.yaml").write_text(
        "name: tiny\nscenarios: [status_quo]\nreplicates: 1\nyears: 1\nmetrics: [attainment_gap]\n"
    )


def _file(tmp: Path) -> None:
    (tmp / "afile").write_text("not a folder")
    _tiny_study(tmp)


def _folders(tmp: Path) -> None:
    _file(tmp)
    (tmp / "empty").mkdir()
    (tmp / "adir.yaml").mkdir()
    (tmp / "latin1.yaml").write_bytes("name: café\n".encode("latin-1"))


PATHS = [
    Case("out-is-file", ["experiment", "{tmp}/tiny.yaml", "--out", "{tmp}/afile"], ("afile",)),
    Case(
        "out-under-file", ["experiment", "{tmp}/tiny.yaml", "--out", "{tmp}/afile/x"], ("afile",)
    ),  # fmt: skip
    Case(
        "out-name-too-long",
        ["experiment", "{tmp}/tiny.yaml", "--out", f"{{tmp}}/{LONG}"],
        ("--out",),
    ),  # fmt: skip
    Case(
        "out-unwritable",
        ["experiment", "{tmp}/tiny.yaml", "--out", "/proc/govsim-out"],
        ("/proc/govsim-out",),
    ),  # fmt: skip
    Case("study-is-dir", ["experiment", "{tmp}/adir.yaml"], ("adir.yaml",)),
    Case("study-missing", ["experiment", "{tmp}/nope.yaml"], ("nope.yaml",)),
    Case("study-unknown-name", ["experiment", "no_such_study"], ("no_such_study",)),
    Case("study-long-name", ["experiment", LONG], ("xxxx",)),
    Case("report-missing", ["report", "{tmp}/nope"], ("nope",)),
    Case("report-file", ["report", "{tmp}/afile"], ("afile",)),
    Case("report-empty", ["report", "{tmp}/empty"], ("empty",)),
    Case("report-long", ["report", f"{{tmp}}/{LONG}"], ("xxxx",)),
    Case("aggregate-missing", ["aggregate", "{tmp}/nope"], ("nope",)),
    Case("aggregate-file", ["aggregate", "{tmp}/afile"], ("afile",)),
    Case("aggregate-empty", ["aggregate", "{tmp}/empty"], ("empty",)),
    Case("aggregate-long", ["aggregate", f"{{tmp}}/{LONG}"], ("xxxx",)),
    Case("status-missing", ["status", "{tmp}/nope"], ("nope",)),
    Case("status-file", ["status", "{tmp}/afile"], ("afile",)),
    Case("status-empty", ["status", "{tmp}/empty"], ("empty",)),
    Case("status-long", ["status", f"{{tmp}}/{LONG}"], ("xxxx",)),
    Case("run-dir-file", ["run", "hydra.run.dir={tmp}/afile"], ("afile",)),
    Case("run-dir-under-file", ["run", "hydra.run.dir={tmp}/afile/run"], ("afile",)),
    Case("sweep-dir-file", ["run", "-m", "seed=0,1", "hydra.sweep.dir={tmp}/afile"], ("afile",)),
    Case("sensitivity-missing", ["sensitivity", "{tmp}/nope.yaml"], ("nope",)),
    Case("sensitivity-dir", ["sensitivity", "{tmp}/adir.yaml"], ("adir.yaml",)),
    Case("calibrate-missing", ["calibrate", "{tmp}/nope.yaml"], ("nope",)),
    Case("calibrate-dir", ["calibrate", "{tmp}/adir.yaml"], ("adir.yaml",)),
    Case("sensitivity-latin1", ["sensitivity", "{tmp}/latin1.yaml"], ("latin1.yaml",)),
    Case("calibrate-latin1", ["calibrate", "{tmp}/latin1.yaml"], ("latin1.yaml",)),
    Case("experiment-latin1", ["experiment", "{tmp}/latin1.yaml"], ("latin1.yaml",)),
]
for _c in PATHS:
    _c.setup = _folders

FLAGS = [
    Case("jobs-zero", ["experiment", "{tmp}/tiny.yaml", "-j", "0"], ("--jobs",)),
    Case("jobs-text", ["experiment", "{tmp}/tiny.yaml", "-j", "abc"], ("--jobs",)),
    Case(
        "replicates-zero", ["experiment", "{tmp}/tiny.yaml", "--replicates", "0"], ("replicates",)
    ),  # fmt: skip
    Case(
        "replicates-negative",
        ["experiment", "{tmp}/tiny.yaml", "--replicates", "-3"],
        ("replicates",),
    ),  # fmt: skip
    Case("years-zero", ["experiment", "{tmp}/tiny.yaml", "--years", "0"], ("years",)),
    Case("shards-zero", ["experiment", "{tmp}/tiny.yaml", "--shards", "0"], ("--shards",)),
    Case("port-zero", ["dashboard", "--port", "0"], ("--port",)),
    Case("port-huge", ["dashboard", "--port", "70000"], ("--port",)),
    Case("unknown-command", ["frobnicate"], ("frobnicate",)),
    Case("no-study", ["experiment"], ("study",)),
]
for _c in FLAGS:
    _c.setup = _tiny_study

STUDIES = [
    ("not-yaml", "name: [unclosed\n", "not valid YAML"),
    ("not-mapping", "- a\n- b\n", "mapping"),
    ("unknown-scenario", "scenarios: [nope]\n", "nope"),
    ("replicates-zero", "scenarios: [status_quo]\nreplicates: 0\n", "replicates"),
    ("root-seed-negative", "scenarios: [status_quo]\nroot_seed: -4\n", "root_seed"),
    ("unknown-key", "scenarios: [status_quo]\nbogus: 1\n", "bogus"),
    ("no-scenarios", "name: x\n", "scenarios"),
    ("grid-not-list", "scenarios: [status_quo]\ngrid: {years: 3}\n", "grid"),
]


# ----- damaged results folders --------------------------------------------------------------
ROWS = [("kind", "summary"), ("metric", "attainment_gap"), ("forum", "all"), ("group", "all"),
        ("issue", "all"), ("year", 0)]  # fmt: skip


def _table(v: float) -> pd.DataFrame:
    return pd.DataFrame({**{k: [x] for k, x in ROWS}, "value": [v]})


def _meta() -> dict:
    configs = {f"a/{i}": {"v": i} for i in range(2)}
    return {
        "study": "fz", "grid": {"x": [1, 2]}, "scenario_configs": {"a": configs["a/0"]},
        "resolved_configs": configs, "root_seed": 3, "replicates": 2, "overrides": [],
    }  # fmt: skip


def make_folder(root: Path) -> list[str]:
    """A small study folder (2 grid points x 2 replicates), like ``run_study`` leaves it."""
    meta = _meta()
    runs = []
    for i, x in enumerate((1, 2)):
        cfg = meta["resolved_configs"][f"a/{i}"]
        for r in range(2):
            key = run_key(cfg, 3, r)
            runs.append({"key": key, "scenario": "a", "grid": {"x": x}, "overrides": [f"x={x}"],
                         "replicate": r, "seed": 3})  # fmt: skip
    store = RunStore(root)
    sums = {}
    for j, row in enumerate(runs):
        out = store.write(row["key"], _table(float(j)))
        if isinstance(out, str):
            sums[row["key"]] = out
    write_manifest(root, runs, meta)
    if sums:
        doc = json.loads((root / "manifest.json").read_text())
        doc["checksums"] = sums
        (root / "manifest.json").write_text(json.dumps(doc))
    (root / "study.json").write_text(json.dumps(meta))
    return [r["key"] for r in runs]


def _first_run(root: Path) -> Path:
    return sorted((root / "runs").glob("*.parquet"))[0]


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])


def _flip(p: Path) -> None:
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))


DAMAGE = {
    # name: (damage, exit status of `aggregate`, words its output must contain)
    "run-truncated": (lambda r: _truncate(_first_run(r)), 1, "parquet"),
    "run-empty": (lambda r: _first_run(r).write_bytes(b""), 1, "parquet"),
    "run-garbage": (lambda r: _first_run(r).write_bytes(b"\x00garbage" * 50), 1, "parquet"),
    "run-bit-flip": (lambda r: _flip(_first_run(r)), 1, "parquet"),
    "manifest-truncated": (lambda r: _truncate(r / "manifest.json"), 0, "manifest.json"),
    "manifest-empty": (lambda r: (r / "manifest.json").write_bytes(b""), 0, "manifest.json"),
    "manifest-latin1": (
        lambda r: (r / "manifest.json").write_bytes("{é}".encode("latin-1")),
        0,
        "manifest.json",
    ),  # fmt: skip
    "manifest-list": (lambda r: (r / "manifest.json").write_text("[]"), 0, "manifest.json"),
    "manifest-no-runs": (
        lambda r: (r / "manifest.json").write_text('{"meta": {}}'),
        0,
        "manifest.json",
    ),  # fmt: skip
    "manifest-bad-entry": (
        lambda r: (r / "manifest.json").write_text('{"meta": {}, "runs": [{"scenario": "a"}]}'),
        0,
        "manifest.json",
    ),  # fmt: skip
    "manifest-deleted": (lambda r: (r / "manifest.json").unlink(), 0, "manifest.json"),
    "manifest-and-study-damaged": (
        lambda r: [(r / "manifest.json").write_text("{"), (r / "study.json").write_text("{")],
        2,
        "study.json",
    ),  # fmt: skip
    "manifest-damaged-no-study": (
        lambda r: [(r / "manifest.json").write_text("{"), (r / "study.json").unlink()],
        2,
        "manifest.json",
    ),  # fmt: skip
    "failure-record-garbage": (
        lambda r: (r / "failed").mkdir() or (r / "failed" / "zz.json").write_bytes(b"\xff"),
        0,
        "4 done",
    ),  # fmt: skip
    "lock-sidecar-garbage": (lambda r: (r / ".govsim.lock.json").write_text("{"), 0, "4 done"),
}


def _damaged_cases() -> list[Case]:
    cases = []
    for name, (damage, status, words) in DAMAGE.items():

        def setup(tmp: Path, damage=damage) -> None:
            make_folder(tmp / "res")
            damage(tmp / "res")

        cases.append(Case(f"damaged-{name}-aggregate", ["aggregate", "{tmp}/res"], (words,),
                          status=status, setup=setup))  # fmt: skip
        shown = words if status == 2 else "damaged" if name.startswith("run-") else "fz"
        cases.append(Case(f"damaged-{name}-status", ["status", "{tmp}/res"], (shown,),
                          status=0, setup=setup))  # fmt: skip
    return cases


def all_cases() -> list[Case]:
    """Every CLI case of this file (used by the tests and by the counting script below)."""
    cases = _range_cases()
    cases += [Case(f"run-{i}", ["run", *a], (n,)) for i, a, n in CROSS]
    cases += [Case(f"composed-{i}", ["run", *a], (n,)) for i, a, n in COMPOSED]
    cases += [Case(f"multirun-{i}", ["run", "-m", *a, "hydra.sweep.dir={tmp}/sweep"], (n,))
              for i, a, n in MULTIRUN]  # fmt: skip
    cases += PATHS + FLAGS
    for i, text, n in STUDIES:

        def setup(tmp: Path, text=text) -> None:
            (tmp / "study.yaml").write_text(text)

        cases.append(Case(f"study-{i}", ["experiment", "{tmp}/study.yaml"], (n,), setup=setup))
    cases += _damaged_cases()
    return cases


CASES = all_cases()


# ----- running a case ---------------------------------------------------------------------------
def govsim(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``govsim ARGV`` in this process: exit status, stdout, stderr."""
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def _argv(case: Case, tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in case.argv]


@pytest.fixture(scope="module", autouse=True)
def composing_once():
    """Compose inside one Hydra context for the whole module (no case reaches a Hydra app:
    each must stop before), which halves the time of each composition."""
    from hydra import initialize_config_dir

    from sim.model.config import register_configs
    from sim.resources import CONFIG_DIR

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        yield


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_is_one_clean_line(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written by mistake lands here
    if case.setup:
        case.setup(tmp_path)
    code, out, err = govsim(_argv(case, tmp_path), capsys)
    text = out + err
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    assert code == case.status, text[-2000:]
    if case.status == 2:
        lines = [ln for ln in err.splitlines() if "error:" in ln]
        assert len(lines) == 1, err
        line = lines[0]
        assert len(line) < 1100  # a 5,000-character name is shortened
    else:
        line = text
    assert any(n in line for n in case.names), f"{case.names} not in: {line[:400]}"


def test_every_field_of_the_table_has_a_cli_case():
    from sim.model.validate import RANGES

    assert set(EXAMPLE_KEY) == set(RANGES)
    assert len(CASES) >= 150


# ----- the validation table itself, with arbitrary bad values (hypothesis) --------------------
@pytest.fixture(scope="module")
def base_config():
    from sim.model.compose import load_config

    return load_config("status_quo", ["years=2"])


def _concrete(pattern: str) -> list[str | int]:
    """A path into the status-quo config for a table pattern (``[]``: the list's first item)."""
    return EXAMPLE_KEY[pattern].lstrip("+").split(".")


def _get(cfg, parts: list[str], item: bool):
    obj = cfg
    for p in parts:
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p)
    return obj[0] if item else obj


def _set(cfg, parts: list[str], value, item: bool) -> None:
    """Set a field (``item``: the first item of a list field) to ``value``."""
    obj = cfg
    for p in parts[:-1]:
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p)
    last = parts[-1]
    if isinstance(obj, dict):
        obj[last] = value
    else:
        current = getattr(obj, last)
        setattr(obj, last, [value, *current[1:]] if item else value)


def _bad_values():
    from hypothesis import strategies as st

    from sim.model.validate import RANGES

    def bad_for(pattern):
        rng = RANGES[pattern]
        below = st.floats(max_value=float(rng.lo), allow_nan=False).filter(
            lambda v: v < rng.lo or (rng.lo_open and v == rng.lo)
        )
        above = st.floats(min_value=float(rng.hi), allow_nan=False).filter(lambda v: v > rng.hi)
        odd = st.sampled_from([math.nan, math.inf, -math.inf, "3", None, True, [1]])
        values = st.one_of(below, above, odd)
        if rng.integer:
            values = st.one_of(values, st.just(rng.lo + 0.5))
        return values.map(lambda v: (pattern, v))

    return st.sampled_from(sorted(RANGES)).flatmap(bad_for)


def test_validate_rejects_any_bad_number_naming_the_field(base_config):
    from hypothesis import given, settings

    from sim.errors import ConfigError
    from sim.model.config import LinkConfig
    from sim.model.model import GovernanceModel
    from sim.model.validate import validate

    cfg = copy.deepcopy(base_config)
    cfg.links["extra"] = LinkConfig(kind="feeds", source="igf", target="cstd")
    cfg.population.region_mix["business"] = {"African": 1.0}
    cfg.forum["igf"].group_seats["business"] = 1
    validate(cfg)  # sound before each bad value is put in (and taken out again)

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(_bad_values())
    def check(case):
        pattern, value = case
        parts, item = _concrete(pattern), pattern.endswith("[]")
        before = _get(cfg, parts, item)
        _set(cfg, parts, value, item)
        name = ".".join(parts).replace(".", r"\.")
        try:
            with pytest.raises(ConfigError, match=name):
                validate(cfg)
            with pytest.raises(ConfigError, match=name):
                GovernanceModel(config=cfg)  # the Python API validates alike
        finally:
            _set(cfg, parts, before, item)

    check()


def test_governance_model_api_rejects_a_bad_horizon():
    from sim.errors import ConfigError
    from sim.model.model import GovernanceModel

    with pytest.raises(ConfigError, match="years"):
        GovernanceModel(years=0)


# ----- counts for the report: `python tests/test_fuzz.py` -------------------------------------
def _count() -> None:  # pragma: no cover - a measuring script, not a test
    import contextlib
    import io
    import tempfile
    import time

    class Hang(BaseException):  # not caught by Hydra's handlers
        pass

    def alarm(*_):
        raise Hang

    signal.signal(signal.SIGALRM, alarm)
    tally: dict[str, list[str]] = {}
    for case in CASES:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            os.chdir(tmp)
            if case.setup:
                case.setup(tmp)
            out, err = io.StringIO(), io.StringIO()
            t0 = time.time()
            signal.alarm(60)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        main(_argv(case, tmp))
                        code = 0
                    except SystemExit as e:
                        code = e.code if isinstance(e.code, int) else 1
                    except Hang:
                        raise
                    except BaseException:
                        import traceback

                        traceback.print_exc(file=err)
                        code = -1
            except Hang:
                code = "hang"
            finally:
                signal.alarm(0)
            text = out.getvalue() + err.getvalue()
            if code == "hang":
                kind = "hang"
            elif "Traceback" in text or code == -1:
                kind = "traceback"
            elif code == case.status and any(n in text for n in case.names):
                kind = "clean" if case.status == 2 else "healed"
            elif code == 0:
                kind = "silently accepted"
            else:
                kind = f"other (exit {code})"
            tally.setdefault(kind, []).append(f"{case.id} ({time.time() - t0:.1f} s)")
    print(f"{len(CASES)} cases")
    for kind, ids in sorted(tally.items()):
        print(f"  {kind}: {len(ids)}")
        if kind not in ("clean", "healed"):
            for i in ids:
                print(f"      {i}")


if __name__ == "__main__":  # pragma: no cover
    sys.setrecursionlimit(10000)
    _count()
