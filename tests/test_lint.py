"""ruff on the notebook, the tests and the tools (rules chosen in pyproject.toml)."""

import subprocess
import sys

import pytest

import nbrun


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."],
        cwd=nbrun.ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
