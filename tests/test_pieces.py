"""The notebook's pieces, inspected in a kernel that ran it with small parameters."""

import math
import re
import textwrap

import nbformat

import nbrun
from conftest import SMALL, TRAINED


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


def test_the_loop_by_hand_is_nn_rnn(small):
    # the notebook's loop, and the same formula on other sizes and random weights
    assert small.eval("[len(loop_states), list(output.shape), list(h_n.shape)]") == [
        9,
        [3, 9, 4],
        [1, 3, 4],
    ]
    small.run("""
torch.manual_seed(5)
_rnn = nn.RNN(1, 6, batch_first=True)
_x = torch.randn(4, 11)
_h, _steps = torch.zeros(4, 6), []
for _t in range(11):
    _h = torch.tanh(_x[:, _t : _t + 1] @ _rnn.weight_ih_l0.T + _rnn.bias_ih_l0 + _h @ _rnn.weight_hh_l0.T + _rnn.bias_hh_l0)
    _steps.append(_h)
_out, _h_n = _rnn(_x.unsqueeze(-1))
""")
    assert small.eval("bool(torch.allclose(torch.stack(_steps, 1), _out, atol=1e-6))")
    assert small.eval("bool(torch.allclose(_h, _h_n[0], atol=1e-6))")


def test_the_chunked_state_is_one_run(small):
    # the notebook's chunks: the detached second chunk holds the same numbers as steps 6-9
    assert small.eval("bool(torch.allclose(rest, one_run[:, 5:], atol=1e-6))")
    assert small.eval("reached") == [6, 7, 8, 9]
    small.run("""
torch.manual_seed(6)
_lstm = nn.LSTM(1, 5, batch_first=True)
_x = torch.randn(3, 20, 1)
_whole, (_h, _c) = _lstm(_x)
_a, _state = _lstm(_x[:, :7])
_b, _state = _lstm(_x[:, 7:13], _state)
_rest, (_h2, _c2) = _lstm(_x[:, 13:], _state)
""")
    assert small.eval("bool(torch.allclose(torch.cat([_a, _b, _rest], 1), _whole, atol=1e-6))")
    assert small.eval(
        "bool(torch.allclose(_h2, _h, atol=1e-6) and torch.allclose(_c2, _c, atol=1e-6))"
    )


def test_pad_sequence_and_pad_packed_sequence(small):
    assert small.eval("[list(padded.shape), out_lens.tolist(), list(unpacked.shape)]") == [
        [3, 7],
        [4, 3, 7],
        [3, 7, 4],
    ]
    small.run("""
torch.manual_seed(7)
_m = RecurrentPredictor(8, nn.LSTM)
_x, _l, _ = make_batch(9, 15, torch.Generator().manual_seed(9))
_seqs = [scaled(_x[i, : _l[i]]) for i in range(9)]          # a list of variable-length tensors
_padded = pad_sequence(_seqs, batch_first=True)               # (9, max length)
_noisy = _padded + 5 * (torch.arange(_padded.shape[1]) >= _l[:, None])   # garbage in the padding
with torch.no_grad():
    _packed = pack_padded_sequence(_noisy.unsqueeze(-1), _l, batch_first=True, enforce_sorted=False)
    _out, (_h_n, _) = _m.rnn(_packed)
    _unpacked, _lens = pad_packed_sequence(_out, batch_first=True)
    _alone = [_m.rnn(s[None, :, None])[0][0] for s in _seqs]  # each sequence run by itself
    _gather = _m(_noisy, _l)
""")
    assert small.eval("bool(torch.equal(_lens, _l))")
    for i in range(9):
        assert small.eval(
            f"bool(torch.allclose(_unpacked[{i}, : _l[{i}]], _alone[{i}], atol=1e-5))"
        )
        assert small.eval(f"bool(_unpacked[{i}, _l[{i}] :].eq(0).all())")
    assert small.eval("bool(torch.allclose(_m.out(_h_n[-1]), _gather, atol=1e-5))")


def test_the_rnn_set_by_hand_sums_exactly(small):
    got = small.eval("""(lambda x: exact_rnn()(x.float(), torch.full((50,), 40)).squeeze(-1).tolist())(
        torch.randint(-9, 10, (50, 40), generator=torch.Generator().manual_seed(1)))""")
    want = small.eval("""torch.randint(-9, 10, (50, 40), generator=torch.Generator().manual_seed(1))
        .sum(1).tolist()""")
    assert got == [float(w) for w in want]
    # through the notebook's scoring, at every multiple of the training length
    small.run("""
_rows = extrapolate(by_hand(12), train_len=12, multiples=(1, 2, 4, 10, 50))
_off = by_hand(12)
with torch.no_grad():  # the same model, its slope off by 1 %: exact only on short sums
    _off.out.weight *= 1.01
_off_rows = extrapolate(_off, train_len=12, multiples=(1, 50))
""")
    exact = small.eval("[(r['test_len'], r['exact_acc']) for r in _rows]")
    assert exact == [[12, 1.0], [24, 1.0], [48, 1.0], [120, 1.0], [600, 1.0]]
    off = small.eval("[r['exact_acc'] for r in _off_rows]")
    assert off[0] > 0.9 and off[1] < 0.1


def test_a_bias_free_counter_reads_the_same_after_the_padding(small):
    text = outputs(small.nb, "torch.manual_seed(0)\nfor name, model in")
    assert "by hand  reading after the padding - at the end: 0\n" in text
    assert not re.search(r"nn.LSTM\s+reading after the padding - at the end: 0\n", text)


def test_training_beats_the_baseline(small):
    rows = small.eval(
        "[(n, l, r['test_mse'], test_set(l).baseline, r['history'][:1], statistics.fmean(r['history'][-10:] or [0]))"
        " for (n, l), r in results.items()]"
    )
    assert {(n, length) for n, length, *_ in rows} >= {(n, 12) for n in [*TRAINED, "by hand"]}
    for name, length, test_mse, baseline, first, last in rows:
        assert test_mse < baseline, (name, length, test_mse, baseline)
        if first:  # trained: the loss went down
            assert last < first[0], (name, length)


def test_training_prints_a_few_lines_per_run(small):
    text = "".join(o.get("text", "") for c in small.nb.cells for o in c.get("outputs", []))
    assert text.count("train MSE") == len(TRAINED) * 6  # step 1, then five lines


def test_score_on_a_hand_made_case(small):
    mse, exact = small.eval(
        "score(torch.tensor([1.0, 2.4, 2.6, 3.6, -0.4]), torch.tensor([1, 2, 3, 3, 0]))"
    )
    assert math.isclose(mse, (0 + 0.16 + 0.16 + 0.36 + 0.16) / 5, rel_tol=1e-5)
    # 1.0, 2.4 and 2.6 round to their sums, 3.6 does not, -0.4 rounds to 0
    assert math.isclose(exact, 0.8, rel_tol=1e-6)


def test_a_non_finite_loss_skips_the_step_and_the_run_goes_on(small):
    cell = small.run("""
def _broken(seq_len):
    model = BUILDERS["RNN"](seq_len)
    with torch.no_grad():
        model.out.bias.fill_(float("nan"))
    return model

BUILDERS["_broken"], RECIPES["_broken"] = _broken, dict(lr=0.01)
_run = experiment("_broken", 12, steps=5, keep=False)
del BUILDERS["_broken"], RECIPES["_broken"]
""")
    assert "the loss or the gradient is not finite" in "".join(
        o.get("text", "") for o in cell.outputs
    )
    assert small.eval("bool(torch.isfinite(_run['model'].rnn.weight_hh_l0).all())")


def test_summary_has_every_model(small):
    summary = small.eval("summary")
    assert {row["model"] for row in summary} >= {*TRAINED, "by hand"}
    for row in summary:
        assert set(row) >= {"model", "seq_len", "test_mse", "exact_acc", "train_seconds"}
        assert 0 <= row["exact_acc"] <= 1 and row["test_mse"] >= 0 and row["train_seconds"] >= 0


def test_every_model_has_its_own_recipe_and_the_irnn_learns_w_hh(small):
    assert small.eval("sorted(RECIPES)") == sorted(TRAINED)
    assert small.eval("results['IRNN', SEQ_LEN]['model'].rnn.weight_hh_l0.requires_grad")
    assert small.eval("results['plain IRNN', SEQ_LEN]['model'].rnn.weight_hh_l0.requires_grad")
    # the pull: a run with it moves W_hh less than the same run without it
    small.run("_saved = dict(RECIPES['IRNN'])")
    moved = small.eval("""[
        (lambda run: (run["model"].rnn.weight_hh_l0 - torch.eye(HIDDEN)).abs().max().item())(
            (RECIPES.__setitem__("IRNN", dict(RECIPES["IRNN"], pull=pull)),
             experiment("IRNN", 12, keep=False, log=0))[1])
        for pull in (0, 0.1)]""")
    small.run("RECIPES['IRNN'] = _saved")
    assert moved[1] < moved[0]


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
    assert "Failed: RuntimeError: injected failure" in text and "Try a shorter length" in text
    assert small.eval("[button.disabled, button.description]") == [False, "Train"]


def test_training_reports_progress_about_twenty_times(small):
    # every ceil(steps / 20) steps and at the last one; the main run passes no callback at all
    calls = small.eval("""(lambda calls: (
        train(BUILDERS["IRNN"](12).to(device), 12, lr=0.01, steps=45, log=0, progress=calls.append),
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
    names = ("RNN", "LSTM", "plain IRNN", "IRNN", "by hand")
    assert sorted((r["model"], r["test_len"]) for r in rows) == sorted(
        (name, k * length) for name in names for k in multiples
    )
    for row in rows:
        assert set(row) == {"model", "train_len", "test_len", "test_mse", "exact_acc"}
        assert row["train_len"] == length and 0 <= row["exact_acc"] <= 1


def test_the_reading_after_the_last_step_is_the_prediction(small):
    gaps = small.eval("""{
        name: (lambda model, data: (
            model.readings(scaled(data.x))[torch.arange(len(data.x)), data.lengths - 1, 0]
            - model(scaled(data.x), data.lengths)[:, 0]
        ).abs().max().item())(results[name, 12]["model"], test_set(12))
        for name in ["RNN", "LSTM", "plain IRNN", "IRNN", "by hand"]
    }""")
    assert all(gap < 1e-5 for gap in gaps.values()), gaps


def test_the_gradient_figure_and_the_recurrent_weights(small):
    reach = small.eval("{f'{m} {w}': v for (m, w), v in reach.items()}")
    assert len(reach) == 6 and all(v >= 0 for v in reach.values())
    # IRNN at initialisation: W_hh = I and ReLU pass the gradient back undiminished on active units
    assert reach["IRNN at initialisation"] > 0.01
    # the RNN set by hand on sums of non-negative numbers: only its positive unit is ever active,
    # and W_hh on it is [[1]]
    units, lam, moved = small.eval("list(leak(exact_rnn().to(device)))")
    assert units == 1 and math.isclose(lam, 1.0) and moved == 1.0
    units, lam, moved = small.eval("list(leak(make_irnn(12).to(device)))")
    assert math.isclose(lam, 1.0) and moved == 0.0
    # forget gates read from the weights: (B, T, H), each in (0, 1), and ~1 with a large f bias
    small.run("""
_lstm = nn.LSTM(1, 5, batch_first=True).to(device)
_x = torch.rand(4, 7, device=device)
_f = forget_gates(_lstm, _x)
with torch.no_grad():
    _lstm.bias_ih_l0[5:10] = 30.0
_open = forget_gates(_lstm, _x)
""")
    assert small.eval("list(_f.shape)") == [4, 7, 5]
    assert small.eval("bool(((_f > 0) & (_f < 1)).all()) and bool((_open > 0.999).all())")
    assert 0 < small.eval("gates['at initialisation'].mean().item()") < 1


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
        small.eval(
            "(lambda d: ((d.sums - statistics.fmean(VALUES) * d.lengths) ** 2).float().mean().item())(test_set(12))"
        ),
        rel_tol=1e-6,  # one sum on the CPU, the other on the device
    )


def outputs(nb, startswith):
    """The printed text of the code cells whose source starts with a given line."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(startswith)]
    assert len(cells) == 1, startswith
    return "".join(o.get("text", "") for o in cells[0].outputs)


def test_what_every_nn_rnn_user_needs(small):
    # layouts: time-first == batch-first transposed; a 2-D input chains the samples
    assert "time first (9, 3, 4) == batch first (3, 9, 4)" in outputs(small.nb, "time_first = ")
    # h_n: (layers * directions, B, H), and its last entry is not output[:, -1]
    assert small.eval("[list(bi_output.shape), list(bi_h_n.shape)]") == [[3, 9, 8], [4, 3, 4]]
    assert not small.eval("bool(torch.allclose(bi_h_n[-1], bi_output[:, -1, 4:]))")
    # two biases: only their sum matters
    assert small.eval("bias_gap") < 1e-6
    # enforce_sorted and reading the padding
    assert "output[:, -1] != the gather: True" in outputs(small.nb, "seqs = [")


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
