"""The package installs: a wheel built from the repo ships everything and runs anywhere.

The wheel is built from a copy of the repo's ``pyproject.toml``, ``README.md`` and
``sim/`` in a temporary folder (so nothing is written into the checkout), with the
venv's pinned setuptools (``--no-build-isolation``: no network). The fast tests
check what it holds — every file under ``sim/``, and the dependencies its metadata
declares against what the code imports. The slow test installs it with
``--no-deps`` into a throwaway target and runs ``govsim run`` and ``govsim
experiment`` from an unrelated working directory with ``PYTHONPATH`` = that
target, dependencies from the venv: the imported ``sim`` must be the installed
one, and outputs must land under that directory's ``results/``.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import sim

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
PROVIDED_BY = {"solara-ui": "solara"}
"""Distributions whose modules come with a meta-package the project declares instead."""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout (pyproject, README, sim/)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(SIM, src / "sim", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(src)],
        check=True, env=_clean_env(), cwd=tmp, capture_output=True, text=True,
    )  # fmt: skip
    (built,) = dist.glob("govsim-*.whl")
    return built


def test_wheel_holds_every_file_of_the_package(wheel):
    """Code, configs (hydra/launcher included), studies and data with their SOURCES files."""
    shipped = set(zipfile.ZipFile(wheel).namelist())
    repo = {
        p.relative_to(ROOT).as_posix()
        for p in SIM.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert repo - shipped == set()
    for needed in ("sim/configs/config.yaml", "sim/configs/hydra/launcher/slurm_example.yaml",
                   "sim/experiments/cstd_anchor.yaml", "sim/data/un_member_states.csv",
                   "sim/data/un_member_states.SOURCES.md"):  # fmt: skip
        assert needed in shipped


def _third_party_imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level names of the non-stdlib modules ``path`` imports: (at module level, anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top, every = set(), set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            root = name.split(".")[0]
            if root in sys.stdlib_module_names or root in ("sim", "__future__"):
                continue
            every.add(root)
            if node in tree.body:
                top.add(root)
    return top, every


def test_wheel_metadata_declares_what_the_code_imports(wheel):
    """What ``govsim`` loads at start-up is a base dependency; anything else at least an extra."""
    with zipfile.ZipFile(wheel) as z:
        (meta,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        requires = Parser().parsestr(z.read(meta).decode()).get_all("Requires-Dist")
    base, extras = set(), set()
    for line in requires:
        req = Requirement(line)
        (extras if req.marker else base).add(canonicalize_name(req.name))
    # the sim modules a `govsim` command loads
    loaded = subprocess.run(
        [sys.executable, "-c",
         "import sys, sim.cli; print(' '.join(m for m in sys.modules if m.startswith('sim')))"],
        check=True, capture_output=True, text=True, env=_clean_env(PYTHONPATH=str(ROOT)),
    ).stdout.split()  # fmt: skip
    dists = packages_distributions()
    for path in SIM.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        top, every = _third_party_imports(path)
        for name in every:
            declared = {canonicalize_name(PROVIDED_BY.get(d, d)) for d in dists.get(name, [name])}
            needed_at_start = module in loaded and name in top
            allowed = base if needed_at_start else base | extras
            assert declared & allowed, f"{module} imports {name}: not in the wheel's Requires-Dist"


@pytest.mark.slow
def test_installed_wheel_runs_from_an_unrelated_directory(wheel, tmp_path):
    """``govsim run`` and ``govsim experiment`` from a temp dir, the installed package imported."""
    target, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, env=_clean_env(), capture_output=True, text=True,
    )  # fmt: skip
    env = _clean_env(PYTHONPATH=str(target))

    def govsim(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sim", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip

    where = subprocess.run(
        [sys.executable, "-c", "import sim, sim.resources as r; print(sim.__file__);"
         " print(r.CONFIG_DIR)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert all(Path(p).is_relative_to(target) for p in where), where
    assert Path(where[0]).resolve() != Path(sim.__file__).resolve()

    version = govsim("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"govsim {sim.__version__}"
    # the console script installed with the wheel
    script = subprocess.run([str(target / "bin" / "govsim"), "--version"], cwd=work, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert script.stdout.strip() == f"govsim {sim.__version__}", script.stderr

    ran = govsim("run", "years=1", "seed=3", "population.counts.business=30",
                 "population.counts.civil_society=40")  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    (run_dir,) = (work / "results" / "runs").glob("*/*")
    assert (run_dir / "summary.parquet").is_file() and (run_dir / "provenance.json").is_file()
    assert str(run_dir) in ran.stdout

    study = govsim("experiment", "cstd_anchor", "--replicates", "2", "--years", "2",
                   "-j", "1", "-q")  # fmt: skip
    assert study.returncode == 0, study.stderr[-2000:]
    out = work / "results" / "cstd_anchor"
    assert (out / "aggregate.parquet").is_file() and (out / "manifest.json").is_file()
    assert (out / "briefing.md").is_file()
    assert not (target / "results").exists()  # nothing written next to the installed package
