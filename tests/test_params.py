"""Bad parameters stop the run in the one cell that checks them, before anything is trained."""

import pytest
from nbclient.exceptions import CellExecutionError

import nbrun
from conftest import PART_ONE

BAD = [
    ("SEQ_LEN", 0),
    ("SEQ_LEN", -5),
    ("SEQ_LEN", 2.5),
    ("SEQ_LEN", "100"),
    ("SEQ_LEN", None),
    ("SEQ_LEN", 10**7),
    ("HIDDEN", 0),
    ("HIDDEN", True),
    ("BATCH_SIZE", 0),
    ("STEPS", 0),
    ("STEPS", 1.5),
    ("SEED", -1),
    ("N_TEST", 10),
    ("VALUES", ()),
    ("VALUES", (1, 1)),
    ("VALUES", (0, 101)),
    ("VALUES", (0, 1.5)),
    ("VALUES", "012"),
    ("LR", 0.05),
    ("LR", {"RNN": 0.01}),
    ("LR", {n: -0.1 for n in PART_ONE}),
    ("LR", {n: True for n in PART_ONE}),
    ("LR", {n: 2 for n in PART_ONE}),
]


def first_training_cell(nb):
    return next(
        i for i, c in enumerate(nb.cells) if "experiment(" in c.source and "def " not in c.source
    )


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v!r}"[:40] for n, v in BAD])
def test_bad_parameter_stops_with_a_clear_message(name, value):
    nb = nbrun.load({name: value}, script=False)
    with pytest.raises(CellExecutionError) as failure:
        nbrun.execute(nb, timeout=120)
    assert "ValueError" in str(failure.value)
    errors = [
        (i, o)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert len(errors) == 1
    index, error = errors[0]
    assert error.ename == "ValueError"
    assert error.evalue.startswith(f"{name} = {value!r}:"), error.evalue
    assert "use " in error.evalue  # says what to use instead
    assert index < first_training_cell(nb)
    assert "make_batch" not in "".join(c.source for c in nb.cells[: index + 1])
    assert all(
        c.get("execution_count") is None for c in nb.cells[index + 1 :] if c.cell_type == "code"
    )
