"""The notebook's pieces, inspected in a kernel that ran it with small parameters."""

import math
import re
import textwrap

import nbformat

import nbrun
from conftest import SMALL, TRAINED


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
_rows = extrapolate(by_hand(12, VALUES), train_len=12, multiples=(1, 2, 4, 10, 50))
_off = by_hand(12, VALUES)
with torch.no_grad():  # the same model, its slope off by 1 %: exact only on short sums
    _off.out.weight *= 1.01
_off_rows = extrapolate(_off, train_len=12, multiples=(1, 50))
""")
    exact = small.eval("[(r['test_len'], r['exact']) for r in _rows]")
    assert exact == [[12, 1.0], [24, 1.0], [48, 1.0], [120, 1.0], [600, 1.0]]
    off = small.eval("[r['exact'] for r in _off_rows]")
    assert off[0] > 0.9 and off[1] < 0.1
    # every number counts once: d prediction / d x_t is 1 at every step
    assert small.eval("bool(torch.allclose(reach(by_hand(12, VALUES)), torch.ones(12).double()))")
    # ... also on shorter sequences than the length it was built for
    shorter = "reach(by_hand(12, VALUES), seq_len=12, on=5)"
    assert small.eval(f"bool(torch.allclose({shorter}, torch.ones(5).double()))")


def test_only_a_step_that_leaves_the_state_alone_reads_the_same_after_the_padding(small):
    text = outputs(small.nb, "torch.manual_seed(0)\nuntrained = [")
    assert "by hand       reading after the padding - at the end: 0\n" in text
    for name in ("tanh, no bias", "nn.LSTM"):
        found = re.search(
            rf"{re.escape(name)}\s+reading after the padding - at the end: (\S+)", text
        )
        assert found and float(found.group(1)) > 0, name


def test_the_counter_is_a_construction(small):
    # W_hh frozen at I: not a parameter that Adam steps, and still I after training
    frozen = small.eval("""(lambda m: [m.rnn.weight_hh_l0.requires_grad,
        bool(torch.equal(m.rnn.weight_hh_l0.cpu(), torch.eye(HIDDEN))), m.rnn.bias])(
        experiment("counter")["model"])""")
    assert frozen == [False, True, False]
    # the IRNN learns everything, from W_hh = I and zero biases
    learns = small.eval("""(lambda m: [p.requires_grad for p in m.parameters()])(
        make_irnn(12, VALUES))""")
    assert learns and all(learns)
    assert small.eval(
        "bool(torch.equal(make_irnn(12, VALUES).rnn.weight_hh_l0, torch.eye(HIDDEN)))"
    )
    assert small.eval("'counter' in BUILT and 'by hand' in BUILT and 'IRNN' not in BUILT")


def test_training_beats_the_baseline(small):
    rows = small.eval(
        "[(n, l, list(v), s, r['mse'], baselines(l, v)[0], r['history'][:1], "
        "statistics.fmean(r['history'][-10:] or [0])) for (n, l, v, s, _, _), r in results.items()]"
    )
    assert {(n, length) for n, length, *_ in rows} >= {(n, 12) for n in [*TRAINED, "by hand"]}
    for name, length, values, steps, mse, baseline, first, last in rows:
        if steps == SMALL["STEPS"] and name != "IRNN":  # a ReLU RNN can die: a claim, not here
            assert mse < baseline, (name, length, values, mse, baseline)
        if first and steps == SMALL["STEPS"]:  # trained: the loss went down
            assert last < first[0], (name, length, values)


def test_training_prints_a_line_per_part_one_run(small):
    text = "".join(o.get("text", "") for c in small.nb.cells for o in c.get("outputs", []))
    assert text.count("training MSE") == 4  # Part I's four models; Part II's runs are silent


def test_score_on_a_hand_made_case(small):
    mse, exact = small.eval(
        "score(torch.tensor([1.0, 2.4, 2.6, 3.6, -0.4]), torch.tensor([1, 2, 3, 3, 0]))"
    )
    assert math.isclose(mse, (0 + 0.16 + 0.16 + 0.36 + 0.16) / 5, rel_tol=1e-5)
    # 1.0, 2.4 and 2.6 round to their sums, 3.6 does not, -0.4 rounds to 0
    assert math.isclose(exact, 0.8, rel_tol=1e-6)


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
    assert small.eval("all(math.isnan(h) for h in _run['history'])")
    assert small.eval("bool(torch.isfinite(_run['model'].rnn.weight_hh_l0).all())")


def test_the_cache_is_keyed_on_everything_that_changes_a_run(small):
    small.run("""
_a = experiment("LSTM", 12, steps=7, log=False)
_b = experiment("LSTM", 12, steps=8, log=False)
_c = experiment("LSTM", 12, steps=7, seed=1, log=False)
_d = experiment("LSTM", 12, steps=7, log=False)
""")
    assert small.eval("[len(_a['history']), len(_b['history']), len(_c['history'])]") == [7, 8, 7]
    assert small.eval("_a is _d and _a is not _c and _a['mse'] != _c['mse']")
    small.run("""
for _key in [k for k in results if k[3] in (7, 8)]:
    del results[_key]
""")


def test_summary_has_every_model(small):
    summary = small.eval("summary")
    assert {row["model"] for row in summary} >= {*TRAINED, "by hand"}
    for row in summary:
        assert set(row) >= {
            "model",
            "seq_len",
            "values",
            "steps",
            "mse",
            "exact",
            "seconds",
            "kind",
        }
        assert 0 <= row["exact"] <= 1 and row["mse"] >= 0 and row["seconds"] >= 0
    kinds = {row["model"]: row["kind"] for row in summary}
    assert kinds["counter"] == kinds["by hand"] == "built" and kinds["IRNN"] == "learned"


def test_every_trained_model_has_its_own_learning_rate(small):
    assert small.eval("sorted(LR)") == sorted(TRAINED)
    assert small.eval("sorted(TRAINED)") == sorted(TRAINED)


def test_the_walks_are_trained_for_every_recurrent_model(small):
    keys = {(n, length, tuple(v)) for n, length, v in small.eval("[k[:3] for k in results]")}
    for name in ("RNN", "LSTM", "IRNN", "counter", "by hand"):
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


def test_the_reach_of_known_models(small):
    # W_hh = I, ReLU, inputs >= 0 and no bias: every number moves the prediction the same
    small.run("""
_m = make_irnn(12, VALUES, frozen=True).to(device)
with torch.no_grad():
    _m.rnn.weight_ih_l0.fill_(1.0)
_r = reach(_m)
""")
    assert small.eval("bool(torch.allclose(_r, _r[-1].expand(12)))")
    gains = small.eval("{k: v[0].item() for k, v in at_start.items()}")
    assert set(gains) == {"RNN", "RNN, orthogonal", "LSTM", "IRNN"}
    assert all(v >= 0 for v in gains.values())


def test_the_sweep_trains_every_recurrent_model_at_every_length(small):
    trained = {(k[0], k[1], k[3]) for k in small.eval("[list(key) for key in results]")}
    for length in SMALL["SWEEP_LENS"]:
        for name in ("RNN", "LSTM", "IRNN"):
            assert (name, length, SMALL["SWEEP_STEPS"]) in trained


def test_the_kernel_free_slider_has_a_frame_per_sweep_length(small):
    html = small.eval("page")
    frames = re.search(r"frames = (\[.*?\]), lengths = (\[.*?\]);", html, flags=re.S)
    assert frames, html[:500]
    import json

    images, lengths = json.loads(frames.group(1)), json.loads(frames.group(2))
    assert lengths == sorted(SMALL["SWEEP_LENS"]) and len(images) == len(lengths)
    assert all(image.startswith("iVBORw0KGgo") for image in images)  # PNG
    assert len(set(images)) == len(images)


def test_beyond_has_a_row_per_model_and_multiple(small):
    rows = small.eval("beyond")
    multiples = small.eval("list(BEYOND)")
    length = SMALL["SEQ_LEN"]
    assert len(multiples) >= 3
    names = ("RNN", "LSTM", "IRNN", "counter", "by hand")
    assert sorted((r["model"], r["test_len"]) for r in rows) == sorted(
        (name, k * length) for name in names for k in multiples
    )
    for row in rows:
        assert set(row) == {"model", "train_len", "test_len", "mse", "exact"}
        assert row["train_len"] == length and 0 <= row["exact"] <= 1


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
            model.readings(scaled(data.x))[torch.arange(len(data.x)), data.lengths - 1, 0]
            - model(scaled(data.x), data.lengths)[:, 0]
        ).abs().max().item())(experiment(name, 12)["model"], test_set(12))
        for name in ["RNN", "LSTM", "IRNN", "counter", "by hand"]
    }""")
    assert all(gap < 1e-5 for gap in gaps.values()), gaps


def test_the_refit_read_out_is_exact_on_a_state_that_holds_the_sum(small):
    # if the state holds the running sum itself, the refitted read-out is off by 0
    assert small.eval("max(refit(running[..., None]))") < 1e-6
    assert small.eval("sorted(readout)") == [
        "refit on c_t",
        "refit on h_t",
        "refit on tanh(c_t)",
        "refit on the step",
        "the LSTM's own",
    ]


def test_the_length_baseline_is_v_times_mean_length(small):
    # from the recipe: v * E[L], with v the variance of VALUES and E[L] = (T + 1) / 2
    for code in ("test_set(12)", "make_batch(100_000, 30, torch.Generator().manual_seed(5))"):
        measured, error, recipe = small.eval(f"""(lambda x, lengths, sums: (
            lambda e2: [e2.mean().item(), (e2.std() / len(e2) ** 0.5).item(),
                        statistics.pvariance(VALUES) * (x.shape[1] + 1) / 2]
        )(((sums - statistics.fmean(VALUES) * lengths) ** 2).float()))(*{code})""")
        assert abs(measured - recipe) < 4 * error, (code, measured, recipe, error)
    assert math.isclose(
        small.eval("baselines(12)[1]"),
        small.eval(
            "(lambda d: ((d.sums - statistics.fmean(VALUES) * d.lengths) ** 2).float().mean().item())(test_set(12))"
        ),
        rel_tol=1e-6,
    )


def test_what_every_nn_rnn_user_needs(small):
    assert "time first (9, 3, 4) == batch first (3, 9, 4)" in outputs(small.nb, "time_first = ")
    assert small.eval("[list(bi_output.shape), list(bi_h_n.shape)]") == [[3, 9, 8], [4, 3, 4]]
    assert not small.eval("bool(torch.allclose(bi_h_n[-1], bi_output[:, -1, 4:]))")
    assert small.eval("bias_gap") < 1e-6
    assert "output[:, -1] != the gather: True" in outputs(small.nb, "seqs = [")


def test_training_reports_progress_about_twenty_times(small):
    # every ceil(steps / 20) steps and at the last one; the main runs pass no callback at all
    calls = small.eval("""(lambda calls: (
        train(BUILDERS["LSTM"](12, VALUES).to(device), 12, 0.01, steps=45,
              progress=calls.append), calls)[1])([])""")
    assert calls == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45]


def test_live_slider_callback_trains_and_plots(small):
    before = small.eval("len(results)")
    for length in (5, 9):
        cell = small.run(f"_live = live_run({length})")
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert len(images) == 1
        for name in ("RNN", "LSTM", "IRNN"):
            assert f"{name} " in text and "exact sums" in text
        got = small.eval("{n: [len(r['history']), r['mse'], r['exact']] for n, r in _live.items()}")
        assert set(got) == {"RNN", "LSTM", "IRNN"}
        for steps, mse, exact in got.values():
            assert steps == SMALL["SWEEP_STEPS"] and mse >= 0 and 0 <= exact <= 1
    assert small.eval("len(results)") == before  # the slider's runs are not kept


def test_click_date_falls_back_where_the_kernel_has_no_get_parent(small):
    small.run("""
class _NoParent:
    pass
_real_ip = get_ipython
get_ipython = lambda: type("_IP", (), {"kernel": _NoParent()})()
_date = click_date()
get_ipython = _real_ip
""")
    assert small.eval("_date is None")


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
    assert small.eval("slider.continuous_update") is False  # nothing starts while dragged


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
        assert steps == sorted(steps) and steps[-1] == SMALL["SWEEP_STEPS"]
        assert 2 <= len(steps) <= 21
    assert small.eval("[button.disabled, button.description]") == [False, "Train"]
    text = small.eval("_text")
    assert "exact sums" in text and all(f"\n{name} " in text for name in ("RNN", "LSTM", "IRNN"))


def test_a_failing_live_run_says_so_and_frees_the_button(small):
    small.run(
        OUTPUT_AREA
        + """
_real_builder, _real_output = BUILDERS["LSTM"], live_output
def _broken(seq_len, values):
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


def exercise_fragments():
    """The python code blocks of the notebook's Exercises cell, dedented."""
    nb = nbformat.read(nbrun.NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "### Exercises" in c.source)
    blocks = re.findall(r"```python\n(.*?)```", cell.source, flags=re.S)
    return [textwrap.dedent(block) for block in blocks]


def test_every_exercise_fragment_runs_and_leaves_the_parameters_valid():
    fragments = exercise_fragments()
    assert len(fragments) >= 3
    with nbrun.Session(nbrun.load(SMALL)) as session:
        for fragment in fragments:
            cell = session.run(fragment)  # raises CellExecutionError if the fragment fails
            assert any(o.get("name") == "stdout" for o in cell.outputs), fragment
        for cell in session.nb.cells:  # the parameter checks still pass after every exercise
            if cell.cell_type == "code" and cell.source.startswith(("def check(", "TRAINED = [")):
                session.run(cell.source)
