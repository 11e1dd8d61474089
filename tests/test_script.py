"""The script to copy: the one cell tagged `script` runs alone, with only torch, as a reader would
run it after pasting it into a file (the notebook runs it in a process of its own too)."""

import ast
import re
import subprocess
import sys

import nbformat

import nbrun

NB = nbformat.read(nbrun.NOTEBOOK, as_version=4)
CELL = next(c for c in NB.cells if "script" in c.metadata.get("tags", [])).source
MAGIC, _, SCRIPT = CELL.partition("\n")  # the first line runs the rest as a program of its own


def test_the_notebook_runs_the_script_in_a_process_of_its_own():
    assert MAGIC == "%%script {sys.executable}"  # this kernel's Python, not the notebook's names


def test_the_script_is_short_and_imports_only_torch():
    assert len(SCRIPT.splitlines()) <= 30
    imported = set()
    for node in ast.walk(ast.parse(SCRIPT)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"torch"}
    for change in ("was: nn.RNN(n_input", "was: x.unsqueeze(1)", "was: output.squeeze(1)"):
        assert change in SCRIPT, change  # the article's three changes, marked


def test_the_script_runs_alone_in_a_fresh_interpreter(tmp_path):
    path = tmp_path / "rnn_sum_script.py"
    path.write_text(SCRIPT + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-I", str(path)],  # isolated: no notebook, no project on the path
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\[1, 0, 1, 2, 0, \.\.\., 0\] -> -?\d+\.\d\d\n", result.stdout), (
        result.stdout
    )
