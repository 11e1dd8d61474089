"""Whole runs: edge lengths, and determinism."""

import re

import pytest

import nbrun
from conftest import SMALL, TRAINED

EDGES = {
    "shortest": dict(SEQ_LEN=1, STEPS=20, SWEEP_LENS=(1,), N_TEST=200, SWEEP_STEPS=5),
    "long, short training": dict(SEQ_LEN=500, STEPS=150, SWEEP_LENS=(), N_TEST=300),
    "smallest everything, lr 1": dict(
        SEQ_LEN=8,
        HIDDEN=1,
        BATCH_SIZE=1,
        STEPS=1,
        LR={n: 1 for n in TRAINED},
        SWEEP_LR={n: 1 for n in ("RNN", "LSTM", "IRNN")},
        SWEEP_LENS=(3,),
        N_TEST=100,
        BEYOND=(1,),
    ),
    "negative values": dict(
        SEQ_LEN=20, VALUES=(-1, 1), STEPS=60, SWEEP_LENS=(10,), N_TEST=200, BEYOND=(1, 2)
    ),
    "300, as the slider's top": dict(
        SEQ_LEN=300, STEPS=20, SWEEP_LENS=(300,), SWEEP_STEPS=10, N_TEST=200
    ),
    "random walks as the values": dict(
        SEQ_LEN=20, VALUES=(-2, -1, 1, 2), STEPS=40, SWEEP_LENS=(), N_TEST=200
    ),
}


@pytest.mark.parametrize("params", EDGES.values(), ids=EDGES.keys())
def test_valid_parameters_run_to_the_end(params):
    # a model that trained badly shows up as a failed claim (☒), never as a crashed cell
    with nbrun.Session(nbrun.load(params)) as session:
        rows = session.eval("[[r['model'], r['seq_len'], r['mse']] for r in summary]")
        claims = session.eval("claims")
    assert {m for m, *_ in rows} == {*TRAINED, "by hand"}
    assert {length for _, length, _ in rows} == {params["SEQ_LEN"], *params["SWEEP_LENS"]}
    assert all(mse >= 0 or mse != mse for *_, mse in rows)  # a diverged model's MSE may be nan
    assert claims


def test_negative_values_the_rnn_set_by_hand_still_sums():
    params = EDGES["negative values"]
    with nbrun.Session(nbrun.load(params)) as session:
        by_hand = session.eval("[r['exact'] for r in beyond if r['model'] == 'by hand']")
        claims = session.eval("claims")
    assert by_hand == [1.0, 1.0]
    assert claims["the RNN set by hand gets every held-out sum right (a check of the construction)"]


def outputs_without_timings(nb):
    """Each code cell's text and image outputs; the summary table's seconds and the run time removed."""
    seen = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(
            out.get("text", "")
            + "".join(v for v in out.get("data", {}).values() if isinstance(v, str))
            for out in cell.outputs
        )
        if "train s" in text:  # the summary table: its last column is the training seconds
            text = re.sub(r"\s+\d+\.\d$", "", text, flags=re.M)
        text = re.sub(r"This run: \d+ s", "This run: N s", text)  # the whole run's time
        seen.append(text)
    return seen


def test_same_parameters_same_outputs():
    first = nbrun.execute(nbrun.load(SMALL))
    second = nbrun.execute(nbrun.load(SMALL))
    a, b = outputs_without_timings(first), outputs_without_timings(second)
    assert sum(bool(t) for t in a) > 20
    assert a == b
