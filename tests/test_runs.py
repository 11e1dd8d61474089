"""Whole runs: edge lengths, and determinism."""

import re

import pytest

import nbrun
from conftest import SMALL


@pytest.mark.parametrize("seq_len", [1, 300])
def test_edge_lengths_run_to_the_end(seq_len):
    params = dict(SEQ_LEN=seq_len, STEPS=20, SWEEP_LENS=(seq_len,), N_TEST=200, LIVE_STEPS=5)
    with nbrun.Session(nbrun.load(params)) as session:
        rows = session.eval("[[r['model'], r['seq_len'], r['test_mse']] for r in summary]")
    assert {m for m, *_ in rows} == {"article RNN", "article LSTM", "RNN", "LSTM", "IRNN"}
    assert all(length == seq_len and mse >= 0 for _, length, mse in rows)


def outputs_without_timings(nb):
    """Each code cell's text and image outputs; the summary table's seconds column removed."""
    seen = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(
            out.get("text", "")
            + "".join(v for v in out.get("data", {}).values() if isinstance(v, str))
            for out in cell.outputs
        )
        if cell.source.startswith("summary = ["):
            text = re.sub(r"\s+\d+\.\d$", "", text, flags=re.M)
        seen.append(text)
    return seen


def test_same_parameters_same_outputs():
    first = nbrun.execute(nbrun.load(SMALL))
    second = nbrun.execute(nbrun.load(SMALL))
    a, b = outputs_without_timings(first), outputs_without_timings(second)
    assert sum(bool(t) for t in a) > 20
    assert a == b
