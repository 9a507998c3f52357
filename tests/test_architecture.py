"""The layers hold: imports point down only and no modules import each other in a circle.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``); see
docs/architecture.md for the layers and what each holds.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sim

PACKAGE = Path(sim.__file__).parent
LAZY_IMPORTS_ALLOWED = {
    # numba's compile-and-load (~0.4 s) is paid only by meetings of >= 5,000 attendees
    ("model/forums/deliberation.py", "sim.model.forums.hk_kernel"),
    # `python -m sim.studies.launch` re-imports itself by name so launcher tasks pickle
    ("studies/launch.py", "sim.studies.launch"),
}


def test_import_contracts_are_kept():
    """import-linter in a process of its own: in this one it would configure logging with
    ``disable_existing_loggers`` and silence govsim's warnings for every later test."""
    config = str(PACKAGE.parent / "pyproject.toml")
    code = "from importlinter.cli import lint_imports as lint\n"
    code += f"raise SystemExit(lint(config_filename={config!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " 0 broken" in done.stdout


def test_project_modules_are_imported_at_module_top():
    """No `from sim...` inside a function, except the measured reasons listed above."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.If):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sim"):
                    found.add((str(path.relative_to(PACKAGE)), node.module))
    assert found <= LAZY_IMPORTS_ALLOWED, sorted(found - LAZY_IMPORTS_ALLOWED)
