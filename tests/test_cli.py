"""The command line: a run on defaults, overrides, and clear errors without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from sim.resources import PACKAGE

ROOT = PACKAGE.parent

GOVSIM = [sys.executable, "-m", "sim"]
SMALL = ["years=1", "population.counts.business=20", "population.counts.civil_society=20"]


def _govsim(*args, tmp_path):
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [*GOVSIM, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )


def test_run_writes_a_run_folder_and_prints_the_headline(tmp_path):
    out = tmp_path / "run"
    p = _govsim(
        "run", *SMALL, "seed=3", "forum.igf.remote=false", f"hydra.run.dir={out}", tmp_path=tmp_path
    )
    assert p.returncode == 0, p.stderr
    assert "developing_gov" in p.stdout and "attainment gap" in p.stdout
    for name in ("meetings", "attendance", "outcomes", "groups", "steps", "summary"):
        assert len(pd.read_parquet(out / f"{name}.parquet")) > 0
    assert "remote: false" in (out / "config.yaml").read_text()
    assert '"seed": 3' in (out / "provenance.json").read_text()
    assert not (ROOT / "outputs").exists()


@pytest.mark.parametrize(
    "override, expected",
    [
        ("forum.igf.remot=false", "Valid keys of ForumConfig"),
        ("scenario=nope", "scenario='nope' is not a scenario config"),
        ("forum.cstd.decision=vote", "choose one of: none, consensus"),
        ("forum.cstd.authority=3", "out of range"),
        ("years=0", "years=0 is out of range; allowed: a whole number from 1 to 200"),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_the_key_and_no_traceback(
    override, expected, tmp_path
):
    p = _govsim("run", override, tmp_path=tmp_path)
    assert p.returncode == 2
    assert expected in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert not list(tmp_path.iterdir())  # nothing was written


def test_unknown_command_is_a_usage_error(tmp_path):
    p = _govsim("frobnicate", tmp_path=tmp_path)
    assert p.returncode == 2 and "unknown command" in p.stderr
