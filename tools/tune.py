"""The grid behind LR: each trained model, several learning rates (and starts), ten seeds.

    python tools/tune.py --seeds 0-9 --jobs 2                 # the grid in the README
    python tools/tune.py --models "LSTM;RNN" --lengths 50,100 --steps 2000 --batch 32

Each seed runs in a fresh kernel that executed the notebook with SEED set (and one
training step per model, to be quick); the grid then calls the notebook's own `experiment` with
each rate written into `LR`, trains for --steps steps of --batch sequences, and scores it with
the notebook's `evaluate`, along the run as its `train` does, on a validation set drawn by its
`make_batch` from its own `stream("validation")`: in the grid's kernel, `held_out` gives the
validation set where the notebook asks for the test set, which the grid never sees.

The criterion is time to accuracy: for each model and rate, the median over seeds of the first
step at which 99% of the validation sums are exactly right, among the rates with which every seed
gets there; where no rate gets every seed there, the lowest geometric mean of the final
validation MSE. It prints, per model and rate, both, with the median and the worst seed's exact
sums at the end, and the proposed LR.
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

GRID = {  # model -> the learning rates tried
    "article RNN": (0.01, 0.02, 0.05),
    "article LSTM": (0.01, 0.02, 0.05),
    "RNN": (0.002, 0.005, 0.01),
    "LSTM": (0.05, 0.1, 0.2),
    "LSTM, PyTorch's start": (0.02, 0.03, 0.05, 0.1, 0.2),  # the LSTM without the open gates
    "linear": (0.01, 0.02, 0.05, 0.1),
}
SETUP = """
_test_held_out = held_out
def held_out(seq_len, values=VALUES, purpose="test", fixed=False):  # the grid never sees the test set
    return _test_held_out(seq_len, values, "validation" if purpose == "test" else purpose, fixed)
def _grid_run(name, lr, n, values, steps):
    LR[name] = lr
    run = experiment(name, n, values, steps=steps, log=False, keep=False)
    return dict(log=[(step, exact) for step, _, _, exact in run["log"]], valid=[run["mse"], run["exact"]])
"""


def run_seed(seed: int, models: list, cases: list, steps: int, batch: int, path=nbrun.NOTEBOOK):
    """One kernel: the notebook with SEED = seed, then every model x rate x (length, values)."""
    params = dict(SEED=seed, STEPS=1, BATCH_SIZE=batch)
    rows = []
    with nbrun.Session(nbrun.load(params, path=path, script=False)) as session:
        session.run(SETUP)
        for model, (n, values) in itertools.product(models, cases):
            for lr in GRID[model]:
                got = session.eval(f"_grid_run({model!r}, {lr}, {n}, {values}, {steps})")
                rows.append(dict(model=model, lr=lr, seed=seed, length=n, values=values, **got))
    return rows


def first_99(log: list) -> float:
    return next((step for step, exact in log if exact >= 0.99), math.inf)


def report(rows: list[dict]) -> dict:
    """Print the grid; return the chosen learning rate of each model."""
    chosen = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        print(f"\n{model}")
        scored = []
        for lr in GRID[model]:
            mine = [r for r in rows if r["model"] == model and r["lr"] == lr]
            if not mine:
                continue
            firsts = [first_99(r["log"]) for r in mine]
            mses = [r["valid"][0] for r in mine]
            geo = 10 ** statistics.fmean(
                math.log10(max(m, 1e-30)) if math.isfinite(m) else 30.0 for m in mses
            )
            exact = [100 * r["valid"][1] for r in mine]
            every = all(math.isfinite(f) for f in firsts)
            key = (0, statistics.median(firsts), geo) if every else (1, geo, 0)
            scored.append((key, lr, firsts, geo, exact))
        scored.sort()
        chosen[model] = scored[0][1]
        for _key, lr, firsts, geo, exact in scored:
            reached = sum(math.isfinite(f) for f in firsts)
            median = statistics.median(firsts)
            print(
                f"  {'*' if lr == chosen[model] else ' '} lr {lr:<6} 99% on {reached}/{len(firsts)} "
                f"seeds, median step {median:>6}   validation MSE {geo:9.3g}   exact at the end: "
                f"median {statistics.median(exact):5.1f}%, worst {min(exact):5.1f}%"
            )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    parser.add_argument("--models", default=";".join(GRID), help="separated by ;")
    parser.add_argument("--lengths", default="100")
    parser.add_argument("--walk-lengths", default="", help="also on random walks, (-1, 1)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", metavar="PATH", help="also write every run as JSON lines")
    parser.add_argument("--notebook", default=str(nbrun.NOTEBOOK), help="the notebook to tune")
    args = parser.parse_args()
    models = args.models.split(";")
    cases = [(int(n), "VALUES") for n in args.lengths.split(",") if n]
    cases += [(int(n), "(-1, 1)") for n in args.walk_lengths.split(",") if n]
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        jobs = [
            pool.submit(run_seed, seed, models, cases, args.steps, args.batch, args.notebook)
            for seed in args.seeds
        ]
        rows = [row for job in jobs for row in job.result()]
    if args.save:
        with open(args.save, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    seconds = time.perf_counter() - start
    print(
        f"grid: {len(rows)} runs, seeds {args.seeds}, {args.steps} steps of {args.batch}, {seconds:.0f} s"
    )
    print("criterion: the median step at which 99% of the validation sums are right, over the")
    print("rates that get every seed there; else the geometric mean of the validation MSE")
    for case in cases:
        print(f"\n=== length {case[0]}, values {case[1]} ===")
        chosen = report([r for r in rows if (r["length"], r["values"]) == case])
        print("\nLR = {" + ", ".join(f"{m!r}: {lr}" for m, lr in chosen.items()) + "}")


if __name__ == "__main__":
    main()
