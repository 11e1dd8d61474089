"""The notebook's pieces, inspected in a kernel that ran it with small parameters."""

import json
import math
import re
import textwrap

import nbformat

import nbrun
from conftest import BUILT, PART_ONE, SMALL, TRAINED


def outputs(nb, startswith):
    """The printed text of the one code cell whose source starts with a given line."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(startswith)]
    assert len(cells) == 1, startswith
    return "".join(o.get("text", "") for o in cells[0].outputs)


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
    walks = small.eval(
        "sorted(set(make_batch(500, 9, stream('test'), WALK)[0].flatten().tolist()))"
    )
    assert walks == [-1, 0, 1]  # 0 is the padding


def test_no_two_purposes_share_a_random_stream_for_any_seed(small):
    # the seed of each (purpose, seed) pair is distinct: training never draws the test set's numbers
    seeds = small.eval("[stream(p, s).initial_seed() for s in range(50) for p in PURPOSES]")
    assert len(seeds) == len(set(seeds))


def test_the_article_predictor_is_a_one_step_network(small):
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
    # the LSTM version builds no nn.RNN to throw away
    kinds = small.eval("[type(m).__name__ for m in PredictorLSTM(12, 16, 1).modules()]")
    assert "RNN" not in kinds and "LSTM" in kinds


def test_the_sketch_is_a_figure_of_the_shapes():
    import sketch  # tools/sketch.py, which draws section 1's picture

    labels = [t.get_text() for t in sketch.draw().axes[0].texts]
    for shape in ("(B, 1, 100)", "(B, 100, 1)", "output[i, lengths[i] - 1]", "h_n (1, B, H)"):
        assert any(shape in label for label in labels), shape


def test_the_loop_by_hand_is_nn_rnn(small):
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


def test_pad_sequence_packing_and_batch_sizes(small):
    assert small.eval("[list(padded.shape), out_lens.tolist(), list(unpacked.shape)]") == [
        [3, 7],
        [4, 3, 7],
        [3, 7, 4],
    ]
    text = outputs(small.nb, "seqs = [")
    assert "packed.batch_sizes [3, 3, 3, 2, 1, 1, 1]" in text
    small.run("""
torch.manual_seed(7)
_m = RecurrentPredictor(8, nn.LSTM)
_x, _l, _ = make_batch(9, 15, torch.Generator().manual_seed(9))
_seqs = [_x[i, : _l[i]] / SCALE for i in range(9)]          # a list of variable-length tensors
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
    assert small.eval("_packed.batch_sizes.tolist()") == [
        sum(n > t for n in small.eval("_l.tolist()")) for t in range(small.eval("int(_l.max())"))
    ]
    for i in range(9):
        assert small.eval(
            f"bool(torch.allclose(_unpacked[{i}, : _l[{i}]], _alone[{i}], atol=1e-5))"
        )
        assert small.eval(f"bool(_unpacked[{i}, _l[{i}] :].eq(0).all())")
    assert small.eval("bool(torch.allclose(_m.out(_h_n[-1]), _gather, atol=1e-5))")


def test_the_errors_a_reader_meets_are_shown_with_their_fix(small):
    text = outputs(small.nb, "def first_line(")
    assert "RuntimeError: input.size(-1) must be equal to input_size. Expected 9, got 1" in text
    assert "RuntimeError: `lengths` array must be sorted in decreasing order" in text
    assert "RuntimeError: Trying to backward through the graph a second time" in text
    assert text.count("fix:") >= 2 and "enforce_sorted=False" in text and "detach()" in text


def test_the_rnn_set_by_hand_and_the_counter_sum_exactly(small):
    got = small.eval("""(lambda x: exact_rnn()(x.float(), torch.full((50,), 40)).squeeze(-1).tolist())(
        torch.randint(-9, 10, (50, 40), generator=torch.Generator().manual_seed(1)))""")
    want = small.eval("""torch.randint(-9, 10, (50, 40), generator=torch.Generator().manual_seed(1))
        .sum(1).tolist()""")
    assert got == [float(w) for w in want]
    # through the notebook's scoring, at many times the length they were built for
    for multiple in (1, 2, 10, 50):
        data = f"held_out({12 * multiple}, purpose='full-length test', fixed=True)"
        assert small.eval(f"evaluate(by_hand(12, VALUES), {data}, 12)[1]") == 1.0
        assert small.eval(f"evaluate(counter(12, VALUES), {data}, 12)[1]") == 1.0
    # the counter is ONE ReLU unit, and forgets a dip below zero; the RNN set by hand does not
    assert small.eval("sum(p.numel() for p in counter(12, VALUES).rnn.parameters())") == 2
    sums = small.eval("""[round(m(torch.tensor([[-2.0, -1, 1, 2, 2]]) / SCALE, torch.tensor([5])).item()
        * sum_stats(12, WALK)[1] + sum_stats(12, WALK)[0], 3) for m in (by_hand(12, WALK), counter(12, WALK))]""")
    assert sums == [2.0, 5.0]  # the counter: 0, 0, 1, 3, 5 (the dip below zero forgotten)
    # reach: one derivative per step of the input it is given (at most 1 for a construction: a
    # ReLU held at exactly 0 by leading zeros has derivative 0 in PyTorch)
    shorter = small.eval("reach(counter(12, VALUES), seq_len=12, on=5).tolist()")
    assert len(shorter) == 5 and all(0 <= d <= 1 + 1e-9 for d in shorter) and shorter[-1] > 0.5
    assert small.eval("all(BUILDERS[m] and m not in LR for m in BUILT)")


def test_only_a_step_that_leaves_the_state_alone_reads_the_same_after_the_padding(small):
    text = outputs(small.nb, "torch.manual_seed(0)\nuntrained = [")
    # the RNN set by hand (section 6) leaves its state alone on a zero: the same reading
    same = "(exact_rnn().readings(padded)[:, -1] - exact_rnn()(padded, seq_lens)).abs().max()"
    assert small.eval(f"float({same})") == 0
    for name in ("tanh, no bias", "nn.LSTM"):
        found = re.search(
            rf"{re.escape(name)}\s+reading after the padding - at the end: (\S+)", text
        )
        assert found and float(found.group(1)) > 0, name


def test_the_long_memory_lstm_opens_its_forget_gates(small):
    got = small.eval("""(lambda m, H: dict(
        forget=m.rnn.bias_ih_l0[H : 2 * H].tolist(), input=m.rnn.bias_ih_l0[:H].tolist(),
        hh=m.rnn.bias_hh_l0[: 2 * H].tolist(),
        default=[bool(((b.abs() <= H ** -0.5)).all()) for b in (m.rnn.bias_ih_l0[2 * H :], m.rnn.bias_hh_l0[2 * H :])],
    ))(long_memory_lstm(12), HIDDEN)""")
    assert all(0 <= f <= math.log(11) + 1e-6 for f in got["forget"])
    assert got["input"] == [-f for f in got["forget"]] and not any(got["hh"])
    assert got["default"] == [True, True]  # g and o keep PyTorch's start
    # at length 1 or 2 there is nothing to remember: the forget bias is log 1 = 0
    assert small.eval("long_memory_lstm(1).rnn.bias_ih_l0.abs().max().item() < 1")


def test_training_beats_the_baseline_and_logs_along_the_run(small):
    rows = small.eval(
        "[(k[0], k[1], list(k[2]), k[3], r['mse'], baselines(k[1], k[2])[0], r['log']) "
        "for k, r in results.items()]"
    )
    assert {(n, length) for n, length, *_ in rows} >= {(n, 12) for n in [*TRAINED, *BUILT]}
    marks = sorted({round(SMALL["STEPS"] ** (k / 24)) for k in range(25)} | {96})  # 0.8 * 120
    for name, length, values, steps, mse, baseline, log in rows:
        if name in BUILT:
            assert log == []
            continue
        assert mse < baseline, (name, length, values, mse, baseline)
        if steps == SMALL["STEPS"]:
            assert [row[0] for row in log] == marks
        assert log[-1][0] == steps
        assert all(b[1] >= a[1] for a, b in zip(log, log[1:], strict=False))  # training seconds
        assert log[-1][2] < log[0][2], (name, length, values)  # the test MSE went down


def test_training_prints_a_line_per_part_one_run(small):
    text = "".join(o.get("text", "") for c in small.nb.cells for o in c.get("outputs", []))
    for name in PART_ONE:
        assert re.search(rf"^{re.escape(name)}, length 12: \d+\.\d% exact, \d+\.\d s$", text, re.M)


def test_evaluate_passed_and_climb_on_hand_made_cases(small):
    small.run("""
class _Fixed(nn.Module):  # predicts the given numbers whatever it reads (mean 0, std 1)
    def __init__(self, pred):
        super().__init__()
        self.pred = pred
    def forward(self, x, lengths):
        return self.pred[:, None]
_data = HeldOut(torch.zeros(5, 3), torch.ones(5, dtype=torch.long), torch.tensor([1, 2, 3, 3, 0]))
_stats = sum_stats
sum_stats = lambda seq_len, values=VALUES: (0.0, 1.0)
_score = evaluate(_Fixed(torch.tensor([1.0, 2.4, 2.6, 3.6, -0.4])), _data, 3)
sum_stats = _stats
""")
    mse, exact = small.eval("_score")
    assert math.isclose(mse, (0 + 0.16 + 0.16 + 0.36 + 0.16) / 5, rel_tol=1e-5)
    # 1.0, 2.4 and 2.6 round to their sums, 3.6 does not, -0.4 rounds to 0
    assert math.isclose(exact, 0.8, rel_tol=1e-6)
    log = "[(1, 0.1, 9, 0.2), (50, 1.0, 1, 0.985), (80, 2.0, 1, 0.991), (100, 3.0, 1, 0.995)]"
    assert small.eval(f"passed({log})") == [80, 2.0]
    assert small.eval(f"passed({log}, 0.999)") is None
    assert math.isclose(small.eval(f"climb({log})"), 0.995 - 0.991)
    dip = "[(1, 0.1, 9, 0.2), (50, 1.0, 1, 0.993), (80, 2.0, 1, 0.98), (100, 3.0, 1, 0.995)]"
    assert math.isclose(small.eval(f"climb({dip})"), 0.995 - 0.993)  # from its best, not the dip
    assert small.eval("climb([(1, 0.1, 9, 0.2)])") == 0  # a one-step run: nothing before its end
    ends = {  # (step, seconds, test MSE, exact sums); predicting the mean at length 12: MSE ~56
        "still climbing": "[(80, 1, 1, 0.5), (100, 2, 1, 0.6)]",
        "plateaued": "[(80, 1, 1, 0.993), (100, 2, 1, 0.996)]",
        "stalled": "[(80, 1, 1, 0.6), (100, 2, 1, 0.6)]",
        "worse than the mean": "[(80, 1, 1, 0.5), (100, 2, float('nan'), 0.0)]",
    }
    for want, log in ends.items():
        assert small.eval(f"verdict({log}, 12)") == want


def test_a_non_finite_loss_skips_the_step_and_the_run_goes_on(small):
    small.run("""
def _broken(seq_len, values):
    model = BUILDERS["RNN"](seq_len, values)
    with torch.no_grad():
        model.out.bias.fill_(float("nan"))
    return model

BUILDERS["_broken"], LR["_broken"] = _broken, 0.01
_run = experiment("_broken", 12, steps=5, keep=False, log=False)
del BUILDERS["_broken"], LR["_broken"]
""")
    assert small.eval("all(math.isnan(row[2]) for row in _run['log'])")
    assert small.eval("bool(torch.isfinite(_run['model'].rnn.weight_hh_l0).all())")


def test_the_cache_is_keyed_on_everything_that_changes_a_run(small):
    small.run("""
_a = experiment("LSTM", 12, steps=7, log=False)
_b = experiment("LSTM", 12, steps=8, log=False)
_c = experiment("LSTM", 12, steps=7, seed=1, log=False)
_d = experiment("LSTM", 12, steps=7, log=False)
""")
    assert small.eval("[_a['log'][-1][0], _b['log'][-1][0], _c['log'][-1][0]]") == [7, 8, 7]
    assert small.eval("_a is _d and _a is not _c and _a['mse'] != _c['mse']")
    small.run("""
for _key in [k for k in results if k[3] in (7, 8)]:
    del results[_key]
""")


def test_the_summary_the_tools_read_has_every_model(small):
    summary = small.eval(nbrun.SUMMARY)
    assert {row["model"] for row in summary} >= {*TRAINED, *BUILT}
    for row in summary:
        assert 0 <= row["exact"] <= 1 and row["mse"] >= 0 and row["seconds"] >= 0
        assert row["weights"] > 0 and (row["passed"] is None or row["passed"][0] <= row["steps"])
    weights = {row["model"]: row["weights"] for row in summary if row["seq_len"] == 12}
    assert weights["by hand"] == 9 and weights["counter"] == 4 and weights["linear"] == 13


def test_every_trained_model_has_its_own_learning_rate(small):
    assert sorted(small.eval("list(LR)")) == sorted(TRAINED)
    assert small.eval("PART_ONE") == PART_ONE


def test_the_walks_are_trained_for_the_lstm_and_built_for_the_constructions(small):
    keys = {(n, length, tuple(v)) for n, length, v in small.eval("[k[:3] for k in results]")}
    for name in ("LSTM", *BUILT):
        assert (name, 12, (-1, 1)) in keys


def test_the_dataloader_pads_each_batch_and_keeps_the_lengths(small):
    got = small.eval("""(lambda batch: [list(batch[0].shape), batch[1].tolist(), batch[2].tolist(),
        batch[0].tolist()])(collate([(torch.tensor([1, 2]), torch.tensor(3)),
        (torch.tensor([2, 2, 2, 1]), torch.tensor(7)), (torch.tensor([0]), torch.tensor(0))]))""")
    assert got == [[3, 4], [2, 4, 1], [3, 7, 0], [[1, 2, 0, 0], [2, 2, 2, 1], [0, 0, 0, 0]]]
    # a whole pass over the loader: every sequence once, each batch as long as its longest
    small.run("""
_seen, _widths = [], []
for _x, _l, _s in torch.utils.data.DataLoader(Sums(100, 20, torch.Generator().manual_seed(1)),
                                             batch_size=16, collate_fn=collate):
    _seen += _s.tolist(); _widths.append((_x.shape[1], int(_l.max())))
    assert torch.equal(_x.sum(1), _s) and bool((_x * (torch.arange(_x.shape[1]) >= _l[:, None])).eq(0).all())
""")
    assert small.eval("len(_seen)") == 100
    assert all(width == longest for width, longest in small.eval("_widths"))


def test_the_masked_loss_counts_only_the_real_steps(small):
    small.run("""
_x = torch.tensor([[1, 2, 0, 0], [3, 0, 0, 0]])
_l = torch.tensor([2, 1])
_readings = torch.tensor([[1.0, 5.0, 99.0, 99.0], [2.0, 99.0, 99.0, 99.0]])
_mask = torch.arange(4) < _l[:, None]
_loss = ((_readings - _x.cumsum(1).float()) ** 2 * _mask).sum() / _mask.sum()
""")
    # real steps: (1 - 1)^2, (5 - 3)^2, (2 - 3)^2 -> 5 / 3; the 99s in the padding never count
    assert math.isclose(small.eval("_loss.item()"), 5 / 3, rel_tol=1e-6)
    assert small.eval("bool(torch.allclose(per_step, torch.cat(each).mean()))")


def test_one_hot_inputs_and_the_cell_and_the_lstm_step(small):
    assert small.eval("list(one_hot.shape)[2]") == 3  # len(VALUES)
    assert small.eval("bool(torch.equal(one_hot.sum(-1), mask.float()))")
    # nn.RNNCell in a loop, and lstm_step, against nn.RNN and nn.LSTM on other sizes
    small.run("""
torch.manual_seed(11)
_rnn, _lstm = nn.RNN(1, 5, batch_first=True), nn.LSTM(1, 6, batch_first=True)
_cell = nn.RNNCell(1, 5)
_cell.load_state_dict({k.removesuffix("_l0"): w for k, w in _rnn.state_dict().items()})
_x = torch.randn(4, 13)
_h, _hl, _cl = torch.zeros(4, 5), torch.zeros(4, 6), torch.zeros(4, 6)
for _t in range(13):
    _h = _cell(_x[:, _t : _t + 1], _h)
    _hl, _cl, _f = lstm_step(_lstm, _x[:, _t : _t + 1], _hl, _cl)
_, _h_n = _rnn(_x.unsqueeze(-1))
_, (_h_l, _c_l) = _lstm(_x.unsqueeze(-1))
_states = lstm_states(_lstm, _x)
""")
    assert small.eval("bool(torch.allclose(_h, _h_n[0], atol=1e-6))")
    assert small.eval(
        "bool(torch.allclose(_hl, _h_l[0], atol=1e-6) and torch.allclose(_cl, _c_l[0], atol=1e-6))"
    )
    assert small.eval("bool(torch.allclose(_states[1][:, -1], _c_l[0], atol=1e-6))")
    assert small.eval("bool(((_f > 0) & (_f < 1)).all())")


def test_the_reach_at_the_start(small):
    gains = small.eval("{k: v[0].item() for k, v in at_start.items()}")
    assert set(gains) == {"RNN", "RNN, orthogonal W_hh", "LSTM, PyTorch's start", "LSTM"}
    assert all(v >= 0 for v in gains.values())
    assert small.eval("bool((at_start['LSTM'][-1] - 1).abs() < 1e-9)")  # relative to the last


def test_the_sweep_trains_both_recurrent_models_at_every_length(small):
    assert small.eval("lens") == [10, 12]  # the lengths under SEQ_LEN of 10 and 50; and SEQ_LEN
    trained = {(k[0], k[1], k[3]) for k in small.eval("[list(key) for key in results]")}
    for length in (10, 12):
        for name in ("RNN", "LSTM"):
            assert (name, length, SMALL["STEPS"]) in trained


def test_every_run_trains_in_section_4s_one_call():
    # one pool for all the runs, so that neither core waits between sections: after the cell
    # that trains them, reading the results trains nothing more
    nb = nbrun.load(SMALL, script=False)
    at = next(i for i, c in enumerate(nb.cells) if "readme-figure" in c.metadata.get("tags", []))
    assert "train_all(" in nb.cells[at].source
    probe = "_trained_there = sorted(str(k) for k, r in results.items() if r['log'])"
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(probe))
    with nbrun.Session(nb) as session:
        there = session.eval("_trained_there")
        shorter = 2 * (len(session.eval("lens")) - 1)  # the sweep's tanh RNN and LSTM
        assert len(there) == 4 + 3 + shorter  # section 4's, the control and two other LSTMs
        assert session.eval("sorted(str(k) for k, r in results.items() if r['log'])") == there


def test_two_runs_at_a_time_train_exactly_as_one_at_a_time(small):
    # train_all's threads share the global random generator: each model must still be built
    # from its own seed, and train on its own batches, as when it trains alone
    small.run(
        "_jobs = [('LSTM', 9), ('RNN', 9), ('article RNN', 9), ('LSTM', 9, WALK)]\n"
        "_alone = [experiment(*job, steps=40, log=False, keep=False) for job in _jobs]\n"
        "with concurrent.futures.ThreadPoolExecutor(2) as _pool:\n"
        "    _both = list(_pool.map(lambda job: experiment(*job, steps=40, log=False, keep=False), _jobs))"
    )
    assert small.eval(
        "all(torch.equal(p, q) for a, b in zip(_alone, _both) "
        "for p, q in zip(a['model'].state_dict().values(), b['model'].state_dict().values()))"
    )
    assert small.eval("[round(r['mse'], 6) for r in _alone] == [round(r['mse'], 6) for r in _both]")
    printed = small.run("train_all([('LSTM',), ('linear',)])").outputs[0].text  # kept runs
    lines = [small.eval(f"experiment({name!r})['line']") for name in ("LSTM", "linear")]
    assert printed.splitlines() == lines  # in the order of the jobs


def test_the_kernel_free_slider_has_a_frame_per_sweep_length(small):
    html = small.eval("page")
    frames = re.search(r"frames = (\[.*?\]), lengths = (\[.*?\]);", html, flags=re.S)
    assert frames, html[:500]
    images, lengths = json.loads(frames.group(1)), json.loads(frames.group(2))
    assert lengths == [10, 12] and len(images) == len(lengths)
    assert all(image.startswith("iVBORw0KGgo") for image in images)  # PNG
    assert len(set(images)) == len(images)


def test_the_seed_ranges_are_drawn_only_for_the_parameters_they_were_measured_with(small):
    ranges = small.eval("SEED_RANGES")
    assert set(ranges) == {"params", "seeds", "exact"} and ranges["seeds"] == list(range(10))
    assert ranges["params"]["SEQ_LEN"] == 100 and small.eval("drawn") is False
    for model in ("RNN", "LSTM"):
        for low, high in ranges["exact"][model].values():
            assert 0 <= low <= high <= 100


def test_beyond_has_every_model_and_multiple(small):
    rows = small.eval(nbrun.BEYOND)
    multiples = small.eval("list(BEYOND)")
    assert sorted((r["model"], r["test_len"]) for r in rows) == sorted(
        (name, k * 12) for name in ("RNN", "LSTM", *BUILT) for k in multiples
    )
    assert all(0 <= row["exact"] <= 1 for row in rows)
    text = outputs(small.nb, "BEYOND, LONG = ")
    assert "RuntimeError: input.size(-1) must be equal to input_size. Expected 12, got 24" in text


def test_the_ceiling_bounds_every_prediction_of_a_bounded_model(small):
    # a random tanh RNN's prediction never passes its ceiling, however long the input
    small.run("""
torch.manual_seed(2)
_m = RecurrentPredictor(5).to(device)
_x = torch.full((3, 400), max(VALUES), device=device)
with torch.no_grad():
    _p = predict(_m, _x, torch.full((3,), 400, device=device), 12)
""")
    assert small.eval("_p.max().item() <= ceiling(_m, 12) + 1e-4")


def test_the_reading_after_the_last_step_is_the_prediction(small):
    gaps = small.eval("""{
        name: (lambda model, data: (
            model.readings(data.x / SCALE)[torch.arange(len(data.x)), data.lengths - 1, 0]
            - model(data.x / SCALE, data.lengths)[:, 0]
        ).abs().max().item())(experiment(name, 12)["model"], held_out(12))
        for name in ["RNN", "LSTM", *BUILT]
    }""")
    assert all(gap < 1e-5 for gap in gaps.values()), gaps


def test_the_refit_read_out_is_exact_on_a_state_that_holds_the_sum(small):
    # if the state holds the running sum itself, the refitted read-out is off by 0
    assert small.eval("rms_after(running[..., None], SEQ_LEN)") < 1e-6
    assert small.eval("rms_after(running[..., None], 2 * SEQ_LEN)") < 1e-6
    want = ["c_t", "tanh(c_t)", "h_t", "the step count", "c_t, untrained", "c_t, PyTorch's start"]
    assert small.eval("sorted(fits)") == sorted(want)


def test_the_length_baseline_is_v_times_mean_length(small):
    # from the recipe: v * E[L], with v the variance of VALUES and E[L] = (T + 1) / 2
    for code in ("held_out(12)", "make_batch(100_000, 30, torch.Generator().manual_seed(5))"):
        measured, error, recipe = small.eval(f"""(lambda x, lengths, sums: (
            lambda e2: [e2.mean().item(), (e2.std() / len(e2) ** 0.5).item(),
                        statistics.pvariance(VALUES) * (x.shape[1] + 1) / 2]
        )(((sums - statistics.fmean(VALUES) * lengths) ** 2).float()))(*{code})""")
        assert abs(measured - recipe) < 4 * error, (code, measured, recipe, error)
    assert math.isclose(
        small.eval("baselines(12)[1]"),
        small.eval(
            "(lambda d: ((d.sums - statistics.fmean(VALUES) * d.lengths) ** 2).float().mean().item())(held_out(12))"
        ),
        rel_tol=1e-6,
    )


def test_what_every_nn_rnn_user_needs(small):
    assert "time first (9, 3, 4) == batch first (3, 9, 4)" in outputs(small.nb, "time_first = ")
    assert small.eval("[list(bi_output.shape), list(bi_h_n.shape)]") == [[3, 9, 8], [4, 3, 4]]
    assert not small.eval("bool(torch.allclose(bi_h_n[-1], bi_output[:, -1, 4:]))")
    assert "output[:, -1] differs: True" in outputs(small.nb, "seqs = [")


def test_training_reports_progress_at_every_mark(small):
    calls = small.eval("""(lambda calls: (
        train(BUILDERS["LSTM"](12, VALUES).to(device), 12, 0.01, steps=45,
              progress=calls.append), calls)[1])([])""")
    assert calls == sorted({round(45 ** (k / 24)) for k in range(25)} | {36})


# Without a front end, the button's callback runs as a click would run it: in the kernel.
CLICK = """
_calls, _real = [], experiment
def experiment(*args, **kw):
    _calls.append([args[1], button.disabled, bar.description])
    return _real(*args, **kw)
{before}
button.click()
experiment = _real
"""


def test_a_click_trains_both_models_with_progress_and_plots_them(small):
    before = small.eval("len(results)")
    small.run(CLICK.format(before="slider.value, ended[0] = 5, 0.0"))
    assert small.eval("_calls") == [[5, True, "RNN"], [5, True, "LSTM"]]
    assert small.eval("len(results)") == before  # the live runs are not kept
    steps = small.eval("LIVE['steps']")
    assert small.eval("[button.disabled, bar.bar_style, bar.value, bar.max]") == [
        False, "success", steps, steps,
    ]  # fmt: skip
    assert re.fullmatch(r"done: \d+\.\d s", small.eval("bar.description"))
    images = small.eval("[o['output_type'] for o in shown.outputs if 'image/png' in o['data']]")
    assert images == ["display_data"]  # one plot of the two runs, in place of the last
    assert small.eval("slider.continuous_update") is False  # nothing starts while dragged


def test_a_click_during_a_run_or_queued_behind_it_is_ignored(small):
    small.run(CLICK.format(before="ended[0] = math.inf  # a run is training"))
    assert small.eval("_calls") == []
    small.run(CLICK.format(before="ended[0] = time.monotonic()  # a run ended just now"))
    assert small.eval("_calls") == []
    assert small.eval("button.disabled") is False


def test_a_failing_live_run_says_so_and_frees_the_button(small):
    small.run("""
_real_builder = BUILDERS["LSTM"]
def _broken(seq_len, values):
    raise RuntimeError("injected failure")
BUILDERS["LSTM"], ended[0] = _broken, 0.0
button.click()
BUILDERS["LSTM"] = _real_builder
""")
    assert small.eval("[bar.description, bar.bar_style, button.disabled]") == [
        "failed: RuntimeError: injected failure", "danger", False,
    ]  # fmt: skip


def exercise_fragments():
    """The python code blocks of the notebook's Exercises cell, dedented."""
    nb = nbformat.read(nbrun.NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "### Exercises" in c.source)
    blocks = re.findall(r"```python\n(.*?)```", cell.source, flags=re.S)
    return [textwrap.dedent(block) for block in blocks]


def test_every_exercise_fragment_runs_and_leaves_the_parameters_valid():
    fragments = exercise_fragments()
    assert len(fragments) >= 3
    with nbrun.Session(nbrun.load(SMALL, script=False)) as session:
        for fragment in fragments:
            cell = session.run(fragment)  # raises CellExecutionError if the fragment fails
            assert any(o.get("name") == "stdout" for o in cell.outputs), fragment
        for cell in session.nb.cells:  # the parameter checks still pass after every exercise
            if cell.cell_type == "code" and cell.source.startswith("PART_ONE = ["):
                session.run(cell.source)
