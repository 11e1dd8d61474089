"""Whole runs: edge parameters, and determinism."""

import re

import pytest

import nbrun
from conftest import BUILT, SMALL, TRAINED

EDGES = {
    "shortest": dict(SEQ_LEN=1, STEPS=20, N_TEST=200),
    "long, short training": dict(SEQ_LEN=500, STEPS=30, N_TEST=200),
    "smallest everything, lr 1": dict(
        SEQ_LEN=8,
        HIDDEN=1,
        BATCH_SIZE=1,
        STEPS=1,
        N_TEST=100,
        LR={n: 1 for n in ["article RNN", "article LSTM", "RNN", "LSTM"]},
    ),  # fmt: skip
    "negative values": dict(SEQ_LEN=20, VALUES=(-1, 1), STEPS=60, N_TEST=200),
    "300, the live slider's top": dict(SEQ_LEN=300, STEPS=20, N_TEST=200),
    "values -2 to 2": dict(SEQ_LEN=20, VALUES=(-2, -1, 1, 2), STEPS=40, N_TEST=200),
}


@pytest.mark.parametrize("params", EDGES.values(), ids=EDGES.keys())
def test_valid_parameters_run_to_the_end(params):
    # a model that trained badly shows up as a failed claim (☒), never as a crashed cell
    with nbrun.Session(nbrun.load(params, script=False)) as session:
        rows = session.eval(f"[[r['model'], r['seq_len'], r['mse']] for r in {nbrun.SUMMARY}]")
        lens = session.eval("lens")
        at_k = session.eval(nbrun.BEYOND)
        claims = session.eval("claims")
    assert {m for m, *_ in rows} == {*TRAINED, *BUILT}
    assert {length for _, length, _ in rows} == {params["SEQ_LEN"], *lens}
    assert lens == sorted({n for n in (10, 50) if n < params["SEQ_LEN"]} | {params["SEQ_LEN"]})
    assert all(mse >= 0 or mse != mse for *_, mse in rows)  # a diverged model's MSE may be nan
    if "VALUES" in params:  # the RNN set by hand sums signed numbers at every length
        assert all(r["exact"] == 1.0 for r in at_k if r["model"] == "by hand")
    assert claims


def outputs_without_timings(nb):
    """Each code cell's text and image outputs, every time in seconds replaced by N."""
    seen = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(
            out.get("text", "")
            + "".join(v for v in out.get("data", {}).values() if isinstance(v, str))
            for out in cell.outputs
        )
        seen.append(re.sub(r"\d+(\.\d)? s\b", "N s", text))
    return seen


def test_same_parameters_same_outputs():
    first = nbrun.execute(nbrun.load(SMALL, script=False))
    second = nbrun.execute(nbrun.load(SMALL, script=False))
    a, b = outputs_without_timings(first), outputs_without_timings(second)
    assert sum(bool(t) for t in a) > 20
    assert a == b
