"""The committed rnn_sum.ipynb: clean, small, and what the code produces."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import nbrun

RAW = nbrun.NOTEBOOK.read_text(encoding="utf-8")
NB = nbformat.reads(RAW, as_version=4)
CODE = [c for c in NB.cells if c.cell_type == "code"]


def test_valid_nbformat():
    nbformat.validate(NB)
    assert NB.metadata.kernelspec.name == "python3"


def test_executed_in_order_without_errors():
    assert [c.execution_count for c in CODE] == list(range(1, len(CODE) + 1))
    assert not [o for c in CODE for o in c.outputs if o.output_type == "error"]


def test_no_widget_state_or_stale_widget_text():
    assert "widgets" not in NB.metadata
    assert nbrun.WIDGET_VIEW not in RAW
    assert "children=" not in RAW


def test_no_machine_paths():
    assert not re.search(r"(/root|/home|/Users|/tmp|/work)\b", RAW)


def test_small_with_figures():
    assert len(RAW.encode()) < 1_000_000
    figures = [o for c in CODE for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 4


def test_one_parameters_cell():
    tagged = [c for c in NB.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "SEQ_LEN = 100" in tagged[0].source


def test_clean_under_nbstripout():
    nbstripout = Path(sys.executable).with_name("nbstripout")
    result = subprocess.run(
        [str(nbstripout), "--keep-output", "--keep-count", "--verify", str(nbrun.NOTEBOOK)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def fresh():
    """The notebook run afresh with the defaults, its kernel asked what it measured."""
    with nbrun.Session(nbrun.load()) as session:
        measured = session.eval("dict(summary=summary, claims=claims)")
    return dict(measured, nb=session.nb)


@pytest.fixture(scope="module")
def fresh_summary(fresh):
    return fresh["summary"]


@pytest.fixture(scope="module")
def fresh_claims(fresh):
    return fresh["claims"]


def test_the_outputs_come_from_the_committed_code():
    # provenance, the same on every machine: regeneration records a hash of every code cell
    why = nbrun.stale(NB)
    assert not why, f"{why} since the outputs were made: run `python tools/nbrun.py`"


def test_the_readme_figure_is_the_notebooks():
    assert nbrun.README_FIGURE.read_bytes() == nbrun.readme_figure(NB)


def test_an_edited_code_cell_is_caught():
    edited = nbformat.reads(RAW, as_version=4)
    cell = next(c for c in edited.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("SEQ_LEN = 100", "SEQ_LEN = 50")
    assert "was edited" in nbrun.stale(edited)
    edited.cells.append(nbformat.v4.new_code_cell("print('new')"))
    cell.source = cell.source.replace("SEQ_LEN = 50", "SEQ_LEN = 100")
    assert "code cells when regenerated" in nbrun.stale(edited)


def text_of(cell):
    return "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs
    )


def test_what_training_does_not_touch_is_the_same_everywhere(fresh):
    # the data, the test sets, both baselines, the shapes, the schedule: digit for digit
    tagged = [i for i, c in enumerate(NB.cells) if "same-everywhere" in c.metadata.get("tags", [])]
    assert len(tagged) >= 6
    for i in tagged:
        assert text_of(fresh["nb"].cells[i]) == text_of(NB.cells[i]), NB.cells[i].source[:80]
        assert text_of(NB.cells[i]), NB.cells[i].source[:80]


def test_the_notebook_claims_hold_with_the_defaults(fresh_summary, fresh_claims):
    assert len(fresh_claims) >= 10
    assert [text for text, holds in fresh_claims.items() if not holds] == []
    at = {
        r["model"]: r
        for r in fresh_summary
        if r["seq_len"] == 100 and r["steps"] == 600 and r["values"] == [0, 1, 2]
    }
    assert at["counter"]["exact"] >= 0.995 and at["by hand"]["exact"] == 1.0
    assert at["LSTM"]["mse"] < at["RNN"]["mse"]
