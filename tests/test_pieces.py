"""The notebook's pieces, inspected in a kernel that ran it with small parameters."""

import math
import re
import textwrap

import nbformat
import pytest

import nbrun
from conftest import SMALL


def test_data_function(small):
    checks = small.eval("""(lambda: (
        lambda b1, b2, b3: {
            "sums": all(int(s) == sum(row[:n].tolist()) for row, n, s in zip(*b1)),
            "zeros_after": bool((b1[0] * (torch.arange(30) >= b1[1][:, None])).eq(0).all()),
            "nonzero_inside": bool(b1[0].ne(0).any()),
            "min_len": int(b1[1].min()), "max_len": int(b1[1].max()),
            "values": sorted(set(b1[0].flatten().tolist())),
            "same_seed_same": all(bool((u == v).all()) for u, v in zip(b1, b2)),
            "other_seed_differs": not bool((b1[0] == b3[0]).all()),
            "shapes": [list(t.shape) for t in b1],
        })(make_batch(4000, 30, torch.Generator().manual_seed(7)),
           make_batch(4000, 30, torch.Generator().manual_seed(7)),
           make_batch(4000, 30, torch.Generator().manual_seed(8))))()""")
    assert checks["sums"] and checks["zeros_after"] and checks["nonzero_inside"]
    assert (checks["min_len"], checks["max_len"]) == (1, 30)
    assert checks["values"] == [0, 1, 2]
    assert checks["same_seed_same"] and checks["other_seed_differs"]
    assert checks["shapes"] == [[4000, 30], [4000], [4000]]


def test_article_predictor_is_one_step_mlp(small):
    small.run("""
torch.manual_seed(3)
_m = Predictor(12, 16, 1)
_x = torch.rand(7, 12)                                   # (B, T)
_out, _hp = _m(_x)
_raw, _ = _m.rnn(_x.unsqueeze(1))                        # (B, 1, H)
_by_hand = torch.tanh(_x @ _m.rnn.weight_ih_l0.T + _m.rnn.bias_ih_l0 + _m.rnn.bias_hh_l0)
""")
    shapes = small.eval("[list(_out.shape), list(_hp.shape), list(_raw.shape)]")
    assert shapes == [[7, 1], [1, 7, 16], [7, 1, 16]]
    assert small.eval("bool(torch.allclose(_raw.squeeze(1), _by_hand, atol=1e-6))")
    assert small.eval("bool(torch.allclose(_out, _m.out(_by_hand), atol=1e-6))")


@pytest.mark.parametrize("cell", ["nn.LSTM", "nn.RNN"])
def test_packing_ignores_padding(small, cell):
    small.run(f"""
torch.manual_seed(4)
_m = SumRNN({cell}, 8)
_x, _l, _ = make_batch(9, 15, torch.Generator().manual_seed(9))
_x = _x.float()
_noisy = _x + 5 * (torch.arange(15) >= _l[:, None])     # garbage in the padding
with torch.no_grad():
    _packed = _m(_x, _l, packed=True)
    _packed_noisy = _m(_noisy, _l, packed=True)
    _alone = torch.cat([_m(_x[i : i + 1, : _l[i]], _l[i : i + 1]) for i in range(9)])
    _gather = _m(_noisy, _l)
""")
    assert small.eval("list(_packed.shape)") == [9, 1]
    assert small.eval("bool(torch.allclose(_packed, _alone, atol=1e-5))")
    assert small.eval("bool(torch.allclose(_packed, _packed_noisy, atol=1e-5))")
    assert small.eval("bool(torch.allclose(_packed, _gather, atol=1e-5))")


def test_training_beats_the_baseline(small):
    rows = small.eval(
        "[(n, l, r['test_mse'], test_set(l).baseline, r['history'][0], statistics.fmean(r['history'][-10:]))"
        " for (n, l), r in results.items()]"
    )
    assert {(n, length) for n, length, *_ in rows} >= {
        ("article RNN", 12),
        ("article LSTM", 12),
        ("RNN", 12),
        ("LSTM", 12),
        ("IRNN", 12),
        ("RNN", 6),
        ("LSTM", 6),
    }
    for name, length, test_mse, baseline, first, last in rows:
        assert test_mse < baseline, (name, length, test_mse, baseline)
        assert last < first, (name, length)


def test_training_prints_a_few_lines_per_run(small):
    text = "".join(o.get("text", "") for c in small.nb.cells for o in c.get("outputs", []))
    assert text.count("train MSE") == 5 * 6  # five logged runs: the untrained loss, then five lines


def test_score_on_a_hand_made_case(small):
    mse, exact = small.eval(
        "score(torch.tensor([1.0, 2.4, 2.6, 3.6, -0.4]), torch.tensor([1, 2, 3, 3, 0]))"
    )
    assert math.isclose(mse, (0 + 0.16 + 0.16 + 0.36 + 0.16) / 5, rel_tol=1e-5)
    # 1.0, 2.4 and 2.6 round to their sums, 3.6 does not, -0.4 rounds to 0
    assert math.isclose(exact, 0.8, rel_tol=1e-6)


def test_a_non_finite_loss_stops_training_and_the_run_goes_on(small):
    cell = small.run("""
_m = BUILDERS["RNN"](12)
with torch.no_grad():
    _m.out.bias.fill_(float("nan"))
_history = train(_m, 12, steps=5, log_lines=0)
""")
    assert "stopped, lower LR" in "".join(o.get("text", "") for o in cell.outputs)
    assert small.eval("len(_history)") == 0
    assert small.eval("bool(torch.isfinite(_m.rnn.weight_hh_l0).all())")


def test_summary_has_every_model(small):
    summary = small.eval("summary")
    assert {row["model"] for row in summary} >= {
        "article RNN",
        "article LSTM",
        "RNN",
        "LSTM",
        "IRNN",
    }
    for row in summary:
        assert set(row) >= {"model", "seq_len", "test_mse", "exact_acc", "train_seconds"}
        assert 0 <= row["exact_acc"] <= 1 and row["test_mse"] >= 0 and row["train_seconds"] > 0


def test_live_slider_callback_trains_and_plots(small):
    for length in (5, 9):
        cell = small.run(f"_live = live_run({length})")
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert len(images) == 1
        for name in ("RNN", "LSTM", "IRNN"):
            assert f"{name} " in text and "exact sums" in text
        got = small.eval(
            "{n: [len(r['history']), r['test_mse'], r['exact_acc']] for n, r in _live.items()}"
        )
        assert set(got) == {"RNN", "LSTM", "IRNN"}
        for steps, mse, exact in got.values():
            assert steps == 30 and mse >= 0 and 0 <= exact <= 1
    # the slider's runs are not mixed into the notebook's results
    assert small.eval("sorted({l for (_, l) in results})") == [6, 12]


# The Output widget needs a live front end: this stand-in collects what is printed into it.
OUTPUT_AREA = """
import contextlib, io
class _Area:
    def __init__(self):
        self.text = io.StringIO()
    def clear_output(self, wait=False):
        self.text.seek(0)
        self.text.truncate()
    def __enter__(self):
        self._redirect = contextlib.redirect_stdout(self.text)
        return self._redirect.__enter__()
    def __exit__(self, *exc):
        return self._redirect.__exit__(*exc)
"""


def test_slider_button_is_wired_to_the_callback(small):
    small.run(
        OUTPUT_AREA
        + """
_calls, _real_run, _real_output = [], live_run, live_output
live_run = lambda seq_len, progress=None: _calls.append(seq_len)
live_output = _Area()
slider.value = 4
button.click()
live_run, live_output = _real_run, _real_output
"""
    )
    assert small.eval("_calls") == [4]


def test_the_slider_starts_nothing_while_dragged(small):
    assert small.eval("slider.continuous_update") is False


def test_a_live_run_shows_progress_with_the_button_disabled(small):
    small.run(
        OUTPUT_AREA
        + """
_seen, _real_run, _real_output = [], live_run, live_output
def _spy(seq_len, progress=None):
    def watch(name, step, steps):
        progress(name, step, steps)
        _seen.append([name, step, steps, button.disabled, button.description])
    return _real_run(seq_len, progress=watch)
live_run, live_output = _spy, _Area()
slider.value = 5
button.click()
_text = live_output.text.getvalue()
live_run, live_output = _real_run, _real_output
"""
    )
    seen = small.eval("_seen")
    assert seen and all(disabled and label == "Training..." for *_, disabled, label in seen)
    for name in ("RNN", "LSTM", "IRNN"):
        steps = [step for model, step, total, *_ in seen if model == name]
        assert steps == sorted(steps) and steps[-1] == SMALL["LIVE_STEPS"]
        assert 2 <= len(steps) <= 21
    assert small.eval("[button.disabled, button.description]") == [False, "Train"]
    text = small.eval("_text")
    assert "exact sums" in text and all(f"\n{name} " in text for name in ("RNN", "LSTM", "IRNN"))


def test_a_failing_live_run_says_so_and_frees_the_button(small):
    small.run(
        OUTPUT_AREA
        + """
_real_builder, _real_output = BUILDERS["LSTM"], live_output
def _broken(seq_len):
    raise RuntimeError("injected failure")
BUILDERS["LSTM"], live_output = _broken, _Area()
slider.value = 5
button.click()
_text = live_output.text.getvalue()
BUILDERS["LSTM"], live_output = _real_builder, _real_output
"""
    )
    text = small.eval("_text")
    assert "failed: RuntimeError: injected failure" in text and "Try a shorter length" in text
    assert small.eval("[button.disabled, button.description]") == [False, "Train"]


def test_training_reports_progress_about_twenty_times(small):
    # every ceil(steps / 20) steps and at the last one; the main run passes no callback at all
    calls = small.eval("""(lambda calls: (
        train(BUILDERS["IRNN"](12).to(device), 12, steps=45, log_lines=0, progress=calls.append),
        calls)[1])([])""")
    assert calls == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45]


def test_the_sweep_trains_every_recurrent_model_at_every_length(small):
    trained = {tuple(key) for key in small.eval("[list(key) for key in results]")}
    for length in SMALL["SWEEP_LENS"]:
        for name in ("RNN", "LSTM", "IRNN"):
            assert (name, length) in trained


def test_beyond_has_a_row_per_model_and_multiple(small):
    rows = small.eval("beyond")
    multiples = small.eval("list(BEYOND)")
    length = SMALL["SEQ_LEN"]
    assert len(multiples) >= 3
    assert sorted((r["model"], r["test_len"]) for r in rows) == sorted(
        (name, k * length) for name in ("RNN", "LSTM", "IRNN") for k in multiples
    )
    for row in rows:
        assert set(row) == {"model", "train_len", "test_len", "test_mse", "exact_acc"}
        assert row["train_len"] == length and 0 <= row["exact_acc"] <= 1


def test_a_hand_built_counter_is_exact_at_every_multiple(small):
    # an IRNN whose weights are set by hand to add exactly: unit 0 holds the running total,
    # the head maps it to the standardised sum; any failure would be the scoring code's
    small.run("""
_mean, _std = sum_stats(12)
_counter = make_irnn(12).to(device)
with torch.no_grad():
    _counter.rnn.weight_ih_l0.zero_()
    _counter.rnn.weight_ih_l0[0, 0] = 1.0
    _counter.out.weight.zero_()
    _counter.out.weight[0, 0] = max(VALUES) / _std
    _counter.out.bias.fill_(-_mean / _std)
_exact_rows = extrapolate(_counter, train_len=12, multiples=(1, 2, 4, 10, 50))
with torch.no_grad():  # the same counter, off by 1 % in its slope: exact only on short sums
    _counter.out.weight[0, 0] *= 1.01
_off_rows = extrapolate(_counter, train_len=12, multiples=(1, 50))
""")
    exact = small.eval("[(r['test_len'], r['exact_acc']) for r in _exact_rows]")
    assert exact == [[12, 1.0], [24, 1.0], [48, 1.0], [120, 1.0], [600, 1.0]]
    off = small.eval("[r['exact_acc'] for r in _off_rows]")
    assert off[0] > 0.9 and off[1] < 0.1


def test_the_reading_after_the_last_step_is_the_prediction(small):
    gaps = small.eval("""{
        name: (
            predict(results[name, 12]["model"], x_test, None)[torch.arange(len(x_test)), len_test - 1]
            - predict(results[name, 12]["model"], x_test, len_test)
        ).abs().max().item()
        for name in ["RNN", "LSTM", "IRNN"]
    }""")
    assert all(gap < 1e-4 for gap in gaps.values()), gaps


def test_one_loss_panel_per_sweep_length(small):
    assert small.eval("len(panels.axes)") == len(SMALL["SWEEP_LENS"])


def test_the_length_baseline_is_v_times_mean_length(small):
    # from the recipe: v * E[L], with v the variance of VALUES and E[L] = (T + 1) / 2
    assert math.isclose(small.eval("length_baseline_mse(12)"), (2 / 3) * 6.5, rel_tol=1e-12)
    # measured on the test set and on a large fresh sample: within 4 standard errors of it
    for code in ("test_set(12)[:3]", "make_batch(100_000, 30, torch.Generator().manual_seed(5))"):
        measured, error, recipe = small.eval(f"""(lambda x, lengths, sums: (
            lambda e2: [e2.mean().item(), (e2.std() / len(e2) ** 0.5).item(),
                        length_baseline_mse(x.shape[1])]
        )(((sums - statistics.fmean(VALUES) * lengths) ** 2).float()))(*{code})""")
        assert abs(measured - recipe) < 4 * error, (code, measured, recipe, error)
    assert math.isclose(
        small.eval("test_set(12).length_baseline"),
        small.eval("((y_test - statistics.fmean(VALUES) * len_test) ** 2).float().mean().item()"),
        rel_tol=1e-6,  # one sum on the CPU, the other on the device
    )


def outputs(nb, startswith):
    """The printed text of the code cells whose source starts with a given line."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(startswith)]
    assert len(cells) == 1, startswith
    return "".join(o.get("text", "") for o in cells[0].outputs)


def test_each_pitfall_shows_the_wrong_way_and_the_right_way(small):
    # 1. a 2-D input is one unbatched sequence: the batch order changes the outputs
    assert small.eval("moved") > 1e-3
    assert "in another order: their outputs change" in outputs(small.nb, "article_rnn = ")
    # 2. h_n is (layers, B, H) even with batch_first=True
    assert small.eval("[list(output.shape), list(h_n.shape)]") == [[5, 12, 16], [1, 5, 16]]
    assert "layers first" in outputs(small.nb, "steps = scaled(")
    # 3. output[:, -1] reads the padding; the gather does not
    text = outputs(small.nb, "i = int((len_test - SEQ_LEN // 4)")
    assert "output[:, -1] ->" in text and "gather at lengths - 1 ->" in text
    assert small.eval("abs(last_padded[-1].item() - at_length.item())") > 1e-4
    # 4. unsorted lengths need enforce_sorted=False
    text = outputs(small.nb, "rising = ")
    assert "enforce_sorted=True: RuntimeError" in text and "[3, 3, 3, 2, 2, 1, 1, 1, 1]" in text
    # 5. the backward half of output[:, -1] has seen one step
    assert "after ONE step: True" in outputs(small.nb, "torch.manual_seed(SEED)\nbi = ")


def exercise_fragments():
    """The python code blocks of the notebook's Exercises cell, dedented."""
    nb = nbformat.read(nbrun.NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "### Exercises" in c.source)
    blocks = re.findall(r"```python\n(.*?)```", cell.source, flags=re.S)
    return [textwrap.dedent(block) for block in blocks]


def test_every_exercise_fragment_runs():
    fragments = exercise_fragments()
    assert len(fragments) >= 5
    with nbrun.Session(nbrun.load(SMALL)) as session:
        for fragment in fragments:
            cell = session.run(fragment)  # raises CellExecutionError if the fragment fails
            assert any(o.get("name") == "stdout" for o in cell.outputs), fragment
