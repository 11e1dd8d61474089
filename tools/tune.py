"""The learning-rate grid behind LR: each trained model, several learning rates, seeds, lengths.

    python tools/tune.py --seeds 0-4 --jobs 2          # the grid in the README
    python tools/tune.py --models RNN,LSTM --lengths 50,100

Each seed runs in a fresh kernel that executed the notebook with SEED set (and one training
step per model, to be quick); the grid then calls the notebook's own `experiment` with each
learning rate written into `LR`, trains for --steps steps and scores it with the notebook's
`evaluate` on a validation set made by its `make_batch` from its own `stream("validation")`
(never the test set's, never the training one's). It prints, per model and learning rate, the
geometric mean of the validation MSE over seeds and lengths (the criterion: lowest wins), the
median exact sums at each length and, for recurrent models, at twice the length; then, as a
check that the choice also suits them, the same on random walks (`WALK`) at --walk-lengths.
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

LRS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
GRID = {  # model -> the learning rates tried
    "article RNN": LRS[1:],
    "article LSTM": LRS[1:],
    "linear": LRS[1:],
    "RNN": (0.001, *LRS[:-1]),
    "LSTM": LRS[1:],
    "IRNN": LRS[1:],
    "counter": LRS[2:],
}
ONE_STEP = {"article RNN", "article LSTM", "linear"}
VALIDATION = """
def _held_back(seq_len, values, fixed=False):  # the notebook's make_batch, a stream of its own
    x, lengths, sums = make_batch(N_TEST, seq_len, stream("validation"), values, fixed)
    return TestSet(x.to(device), lengths.to(device), sums.to(device))
"""


def run_seed(seed: int, models: list[str], cases: list[tuple], steps: int) -> list[dict]:
    """One kernel: the notebook with SEED = seed, then every model x rate x (length, values)."""
    params = dict(SEED=seed, STEPS=1, SWEEP_LENS=(), BEYOND=(1,), SWEEP_STEPS=1)
    rows = []
    with nbrun.Session(nbrun.load(params)) as session:
        session.run(VALIDATION)
        for model, (n, values) in itertools.product(models, cases):
            if model in ONE_STEP and values != "VALUES":
                continue
            for lr in GRID[model]:
                twice = (
                    "None"
                    if model in ONE_STEP
                    else f"evaluate(run['model'], _held_back({2 * n}, {values}, True), {n}, {values})[1]"
                )
                got = session.eval(
                    f"(lambda run: [*evaluate(run['model'], _held_back({n}, {values}), {n}, {values}),"
                    f" {twice}])((LR.__setitem__({model!r}, {lr}), experiment({model!r}, {n}, "
                    f"{values}, steps={steps}, log=False, keep=False))[1])"
                )
                rows.append(
                    dict(model=model, lr=lr, seed=seed, length=n, values=values, mse=got[0],
                         exact=got[1], exact_2x=got[2])
                )  # fmt: skip
    return rows


def report(rows: list[dict], values: str) -> dict:
    """Print the grid for one kind of values; return the best learning rate of each model."""
    best = {}
    rows = [r for r in rows if r["values"] == values]
    lengths = sorted({r["length"] for r in rows})
    for model in dict.fromkeys(r["model"] for r in rows):
        print(f"\n{model}, values {values}")
        scored = []
        for lr in GRID[model]:
            mine = [r for r in rows if r["model"] == model and r["lr"] == lr]
            logs = [
                math.log10(max(r["mse"], 1e-30)) if math.isfinite(r["mse"]) else 30.0 for r in mine
            ]
            cells = []
            for n in lengths:
                at = [r for r in mine if r["length"] == n]
                cell = f"{n}: {100 * statistics.median(r['exact'] for r in at):5.1f}%"
                if model not in ONE_STEP:
                    cell += f" ({100 * statistics.median(r['exact_2x'] for r in at):5.1f}% at 2x)"
                cells.append(cell)
            scored.append((10 ** statistics.fmean(logs), lr, "  ".join(cells)))
        scored.sort()
        best[model] = scored[0][1]
        for geo, lr, cells in scored:
            print(f"  {'*' if lr == best[model] else ' '} lr {lr:<6} MSE {geo:9.3g}   {cells}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-4"))
    parser.add_argument("--models", default=",".join(GRID))
    parser.add_argument("--lengths", default="25,100,200")
    parser.add_argument("--walk-lengths", default="100")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", metavar="PATH", help="also write every run as JSON lines")
    args = parser.parse_args()
    models = args.models.split(",")
    cases = [(int(n), "VALUES") for n in args.lengths.split(",") if n]
    cases += [(int(n), "WALK") for n in args.walk_lengths.split(",") if n]
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(run_seed, seed, models, cases, args.steps) for seed in args.seeds]
        rows = [row for job in jobs for row in job.result()]
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    seconds = time.perf_counter() - start
    print(f"grid: {len(rows)} runs, seeds {args.seeds}, {args.steps} steps each, {seconds:.0f} s")
    print("criterion: the geometric mean of the validation MSE over seeds and lengths (lowest: *);")
    print("then the median exact sums at each length (and at twice it, for recurrent models)")
    best = report(rows, "VALUES")
    if any(values == "WALK" for _, values in cases):
        print("\n--- the same on random walks (WALK), a check: LR is chosen on VALUES above ---")
        report(rows, "WALK")
    print("\nLR = {")
    for model, lr in best.items():
        print(f"    {model!r}: {lr},")
    print("}")


if __name__ == "__main__":
    main()
