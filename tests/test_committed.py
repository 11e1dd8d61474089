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
    with nbrun.Session(nbrun.load(script=False)) as session:
        measured = session.eval(f"dict(summary={nbrun.SUMMARY}, claims=claims)")
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
    assert 5 <= len(fresh_claims) <= 10  # each one the story needs
    assert [text for text, holds in fresh_claims.items() if not holds] == []
    at = {
        r["model"]: r
        for r in fresh_summary
        if r["seq_len"] == 100 and r["steps"] == 3000 and r["values"] == [0, 1, 2]
    }
    assert at["counter"]["exact"] == at["by hand"]["exact"] == 1.0  # constructions


def test_the_committed_claims_all_hold_and_match_the_text():
    text = "".join(o.get("text", "") for c in CODE for o in c.outputs)
    checked = re.findall(r"^([☑☒]) (.+)$", text, flags=re.M)
    assert checked and all(mark == "☑" for mark, _ in checked)
    assert re.search(rf"{len(checked)} of {len(checked)} checked sentences hold", text)


def test_the_picture_is_attached_and_is_what_tools_sketch_draws():
    import base64

    import sketch

    cells = [c for c in NB.cells if f"(attachment:{sketch.NAME})" in c.source]
    assert len(cells) == 1 and cells[0].cell_type == "markdown"
    attached = base64.b64decode(cells[0].attachments[sketch.NAME]["image/png"])
    assert attached == sketch.png(), "run python tools/nbrun.py to redraw it"
    assert "## 1. The fix" in "".join(c.source for c in NB.cells[: NB.cells.index(cells[0])])


def words(cells):
    return sum(len(c.source.split()) for c in cells if c.cell_type == "markdown")


def test_the_reader_s_budget():
    # half the words of the previous version, at most 1,500 before Part II
    part_two = next(i for i, c in enumerate(NB.cells) if "# Part II" in c.source)
    head, _, _ = NB.cells[part_two].source.partition("# Part II")
    assert words(NB.cells) <= 3500
    assert words(NB.cells[:part_two]) + len(head.split()) <= 1500
    # short code cells: the script to copy (its first line runs it apart) and the live appendix
    for cell in CODE:
        tags, lines = cell.metadata.get("tags", []), len(cell.source.splitlines())
        if "script" in tags:
            assert lines <= 31, lines
        elif not cell.source.startswith("import ipywidgets"):
            assert lines <= 20, cell.source[:80]
    live = [c for c in CODE if c.source.startswith("import ipywidgets")]
    assert len(live) == 1 and len(live[0].source.splitlines()) <= 30


def test_part_one_is_the_lesson_without_the_machinery():
    # Part I: the fix, what every user needs, the script; the harness, the parameters and the
    # threads live in Part II, where the study uses them
    part_two = next(i for i, c in enumerate(NB.cells) if "# Part II" in c.source)
    code = "\n".join(c.source for c in NB.cells[:part_two] if c.cell_type == "code")
    for machinery in ["# helper", "def experiment", "def train", "claim(", "SEQ_LEN", "threading"]:
        assert machinery not in code, machinery
    assert "## 3. The script to copy" in "".join(c.source for c in NB.cells[:part_two])
    assert "script" in NB.cells[part_two - 1].metadata.get("tags", [])  # Part I ends with it


def test_the_readme_is_for_readers():
    readme = (nbrun.ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for picture in re.findall(r"\]\((docs/[^)]+\.png)\)", readme):
        assert (nbrun.ROOT / picture).is_file(), picture
