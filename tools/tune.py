"""The learning-rate grid behind RECIPES: each trained model, several settings, seeds, lengths.

    python tools/tune.py --seeds 0-4 --jobs 2          # the grid in the README
    python tools/tune.py --models RNN,LSTM --lengths 50,100

Each seed runs in a fresh kernel that executed the notebook with SEED set (and one training
step per model, to be quick); the grid then calls the notebook's own `experiment` with each
setting written into `RECIPES`, trains for --steps steps and scores it with the notebook's
`evaluate` on a validation set made by its `make_batch` from a generator of its own (never the
test set's, never the training one's). It prints, per model and setting, the geometric mean of
the validation MSE over seeds and lengths (the criterion: lowest wins), the median exact sums at
each length and, for recurrent models, the median exact sums at twice the length.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import math
import statistics
import time

from benchmark import parse_seeds

import nbrun

LRS = (0.005, 0.01, 0.02, 0.05, 0.1)
GRID = {  # model -> the settings tried; "rec": None means W_hh learns at lr like the rest
    "article RNN": dict(lr=LRS),
    "article LSTM": dict(lr=LRS),
    "linear": dict(lr=LRS),
    "RNN": dict(lr=LRS, rec=(1, 3, None)),
    "LSTM": dict(lr=LRS, rec=(1, 3, None)),
    "plain IRNN": dict(lr=LRS[1:], rec=(1, 3)),
    "IRNN": dict(lr=LRS[1:], rec=(1,), pull=(0, 0.01, 0.1)),
}
ONE_STEP = {"article RNN", "article LSTM", "linear"}
VALIDATION = """
def _held_back(seq_len, seed, fixed=False):  # the notebook's make_batch, a generator of its own
    x, lengths, sums = make_batch(N_TEST, seq_len, torch.Generator().manual_seed(seed), fixed)
    return TestSet(x.to(device), lengths.to(device), sums.to(device), None, None)
_validation = {{n: _held_back(n, SEED + 101) for n in {lengths}}}
_twice = {{n: _held_back(2 * n, SEED + 103, fixed=True) for n in {lengths}}}
"""


def settings(model: str) -> list[dict]:
    grid = GRID[model]
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    return [{k: v for k, v in c.items() if v is not None} for c in combos]


def run_seed(seed: int, models: list[str], lengths: list[int], steps: int) -> list[dict]:
    """One kernel: the notebook with SEED = seed, then every model x setting x length."""
    params = dict(SEED=seed, STEPS=1, SWEEP_LENS=(), BEYOND=(1,), LIVE_STEPS=1)
    rows = []
    with nbrun.Session(nbrun.load(params)) as session:
        session.run(VALIDATION.format(lengths=lengths))
        for model, n in itertools.product(models, lengths):
            for setting in settings(model):
                twice = (
                    "None"
                    if model in ONE_STEP
                    else f"evaluate(run['model'], _twice[{n}], train_len={n})[1]"
                )
                got = session.eval(
                    f"(lambda run: [*evaluate(run['model'], _validation[{n}]), {twice}])"
                    f"((RECIPES.__setitem__({model!r}, {setting!r}), "
                    f"experiment({model!r}, {n}, steps={steps}, log=0, keep=False))[1])"
                )
                rows.append(
                    dict(
                        model=model,
                        setting=setting,
                        seed=seed,
                        length=n,
                        mse=got[0],
                        exact=got[1],
                        exact_2x=got[2],
                    )
                )
    return rows


def label(setting: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in setting.items())


def report(rows: list[dict], lengths: list[int]) -> dict:
    """Print the grid; return the best setting of each model."""
    best = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        print(f"\n{model}")
        scored = []
        for setting in settings(model):
            mine = [r for r in rows if r["model"] == model and r["setting"] == setting]
            logs = [
                math.log10(max(r["mse"], 1e-30)) if math.isfinite(r["mse"]) else 30.0 for r in mine
            ]
            geo = 10 ** statistics.fmean(logs)
            exact = {
                n: statistics.median(r["exact"] for r in mine if r["length"] == n) for n in lengths
            }
            twice = (
                {
                    n: statistics.median(r["exact_2x"] for r in mine if r["length"] == n)
                    for n in lengths
                }
                if model not in ONE_STEP
                else {}
            )
            scored.append((geo, setting, exact, twice))
        scored.sort(key=lambda s: s[0])
        best[model] = scored[0][1]
        for geo, setting, exact, twice in scored:
            cells = "  ".join(
                f"{n}: {100 * e:5.1f}%" + (f" ({100 * twice[n]:5.1f}% at 2x)" if twice else "")
                for n, e in exact.items()
            )
            print(
                f"  {'*' if setting == best[model] else ' '} {label(setting):28s} MSE {geo:9.3g}   {cells}"
            )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-4"))
    parser.add_argument("--models", default=",".join(GRID))
    parser.add_argument("--lengths", default="25,100,200")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", metavar="PATH", help="also write every run as JSON lines")
    args = parser.parse_args()
    models, lengths = args.models.split(","), [int(n) for n in args.lengths.split(",")]
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(run_seed, seed, models, lengths, args.steps) for seed in args.seeds]
        rows = [row for job in jobs for row in job.result()]
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    print(
        f"grid: {len(rows)} runs, seeds {args.seeds}, lengths {lengths}, {args.steps} steps each, {time.perf_counter() - start:.0f} s"
    )
    print("criterion: the geometric mean of the validation MSE over seeds and lengths (lowest: *);")
    print("then the median exact sums at each length (and at twice it, for recurrent models)")
    best = report(rows, lengths)
    print("\nRECIPES = {")
    for model, setting in best.items():
        print(f"    {model!r}: dict({label(setting)}),")
    print("}")


if __name__ == "__main__":
    main()
