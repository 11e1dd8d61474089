"""Shared fixtures: the notebook executed in a real kernel with small parameters."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import nbrun  # noqa: E402

# Every trained model, each with its own learning rate in the notebook's LR (the RNN set by hand
# is not trained); the tests that name them all take them from here.
TRAINED = ["article RNN", "article LSTM", "RNN", "LSTM", "linear", "IRNN", "counter"]

# Small enough to run in seconds, big enough to exercise every section.
SMALL = dict(SEQ_LEN=12, STEPS=120, SWEEP_LENS=(6, 12), N_TEST=500, SWEEP_STEPS=30)


@pytest.fixture(scope="session")
def small():
    """A kernel that ran the whole notebook with SMALL parameters, open for questions."""
    with nbrun.Session(nbrun.load(SMALL)) as session:
        yield session
