"""The layers' import contracts hold, and a wrong-way import breaks them (so CI fails on one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the packages under ``tree``, with the project's contracts."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"),
                           "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """A copy of the project's packages and contracts, to break on purpose."""
    for package in ("app", "workers", "schemas"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_its_layers(tree_copy: Path):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "wrong_way"), [
    ("app/store/jobs.py", "app.web.errors"),       # SQL reaching up into HTTP
    ("app/web/routes/batch.py", "workers.engine"),  # the web importing worker code
    ("schemas/records.py", "app.catalogue"),        # schemas importing the service
])
def test_a_wrong_way_import_breaks_the_contract(tree_copy: Path, module: str, wrong_way: str):
    with (tree_copy / module).open("a") as source:
        source.write(f"\nimport {wrong_way}  # noqa: E402, F401\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout or "broken" in result.stdout
    assert wrong_way in result.stdout
