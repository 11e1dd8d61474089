"""Shared fixtures: the notebook executed in a real kernel with small parameters."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import nbrun  # noqa: E402

# Every trained model, each with its own learning rate in the notebook's LR (the two
# constructions are not trained); the tests that name them all take them from here.
PART_ONE = ["article RNN", "article LSTM", "RNN", "LSTM"]
TRAINED = [*PART_ONE, "linear", "LSTM, PyTorch's start"]
BUILT = ["by hand", "counter"]

# Small enough to run in seconds, big enough to exercise every section. The self-contained
# script, which trains with its own fixed settings, runs alone in tests/test_script.py.
SMALL = dict(SEQ_LEN=12, STEPS=120, N_TEST=500)


@pytest.fixture(scope="session")
def small():
    """A kernel that ran the whole notebook with SMALL parameters, open for questions."""
    with nbrun.Session(nbrun.load(SMALL, script=False)) as session:
        yield session
