"""Benchmark rnn_sum.ipynb: execute it headless in a fresh kernel and report what it measured.

    python tools/benchmark.py                      # the defaults, the whole run timed
    python tools/benchmark.py SEQ_LEN=200 STEPS=300 --threads 2
    python tools/benchmark.py --seeds 0-9          # one fresh kernel per seed, claims counted
    python tools/benchmark.py --seeds 0-9 --write-ranges   # ... and section 11's bars

The notebook trains two runs at a time (one per core), so on a 2-core machine --jobs 1 keeps
the seconds it reports comparable to a reader's run.

Prints the machine, the total wall time (kernel start to last cell), and per run the training
seconds, test MSE and exact sums, the step and second at which it first got 99% of the test sums
right, and how far it climbed over its last fifth (under a point: its exact sums had plateaued), read
from the notebook's own `results`; then the notebook's own `claims` (the sentences its text checks).
With --seeds it runs the notebook once per seed (the self-contained script left out: it does not
depend on the seed) and prints, per model, length and values, the min / median / max of each; then
on how many seeds each claim held; it exits with status 1 if any claim failed on any seed.
--write-ranges writes the min and max exact sums over those seeds into the notebook's
`SEED_RANGES` cell (section 11 draws them); regenerate the notebook afterwards
(`python tools/nbrun.py`). Nothing is re-implemented here.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import json
import math
import os
import platform
import statistics
import sys
import time

import nbformat

import nbrun


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parse_param(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    if not name.isidentifier() or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, ast.literal_eval(value)


def parse_seeds(text: str) -> list[int]:
    """'0-9' or '0,3,7' (or a mix: '0-4,9')."""
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high or low) + 1)
    return seeds


PARAMETERS = "dict(SEQ_LEN=SEQ_LEN, VALUES=VALUES, HIDDEN=HIDDEN, BATCH_SIZE=BATCH_SIZE, STEPS=STEPS, LR=LR, N_TEST=N_TEST)"


def run_once(params: dict, threads=None, save=None, script=True, also=None) -> dict:
    """Execute the notebook once in a fresh kernel; what it measured, and the wall time."""
    nb = nbrun.load(params, script=script)
    if threads:
        nbrun.inject(nb, f"torch.set_num_threads({threads})")
    start = time.perf_counter()
    with nbrun.Session(nb) as session:
        wall = time.perf_counter() - start
        measured = session.eval(
            f"dict(summary={nbrun.SUMMARY}, beyond={nbrun.BEYOND}, claims=claims,"
            " threads=torch.get_num_threads(), device=str(device), torch=torch.__version__,"
            " seq_len=SEQ_LEN, isa=torch.backends.cpu.get_cpu_capability(),"
            " gpu=torch.cuda.get_device_name() if device.type == 'cuda' else None,"
            f" parameters={PARAMETERS}, also={also or 'None'})"
        )
    if save:
        nbrun.drop_widget_views(nb)
        nbformat.write(nb, save)
    return dict(measured, wall=wall, params=params)


def machine_line(run: dict) -> str:
    return (
        f"machine : {cpu_name()}, {os.cpu_count()} CPUs ({run['isa']}); torch {run['torch']}, "
        f"{run['threads']} torch thread(s); device {run['device']}"
        + (f" ({run['gpu']})" if run["gpu"] else "")
    )


def values_label(values) -> str:
    return ",".join(str(v) for v in values)


def at_99(row: dict) -> tuple:
    """(step, seconds) at which a run first got 99% of the test sums right, or (None, None)."""
    return tuple(row["passed"]) if row["passed"] else (None, None)


def report_one(run: dict) -> None:
    print(machine_line(run))
    print(f"params  : {run['params'] or 'defaults'}")
    print(f"total   : {run['wall']:.1f} s wall, notebook top to bottom in a fresh kernel")
    print()
    print(
        f"{'model':13s} {'length':>6s} {'values':>6s} {'steps':>5s} {'train s':>8s} "
        f"{'test MSE':>10s} {'exact':>8s} {'99% at step':>11s} {'at s':>6s} {'last fifth':>10s}"
    )
    for row in run["summary"]:
        step, sec = at_99(row)
        print(
            f"{row['model']:13s} {row['seq_len']:6d} {values_label(row['values']):>6s} "
            f"{row['steps']:5d} {row['seconds']:8.2f} {row['mse']:10.4g} {row['exact']:8.2%} "
            f"{step or '-':>11} {sec or math.nan:6.1f} {row['climb']:+10.1%}"
        )
    print(f"total training time: {sum(r['seconds'] for r in run['summary']):.1f} s")
    print()
    for row in run["beyond"]:
        print(f"{row['model']:13s} tested at length {row['test_len']:5d}: {row['exact']:8.2%}")
    print()
    for text, holds in run["claims"].items():
        print(("holds : " if holds else "FAILS : ") + text)


def spread(values: list[float], fmt: str) -> str:
    """min / median / max of values, each formatted with fmt ('-' if there are none)."""
    if not values:
        return "-"
    low, mid, high = min(values), statistics.median(values), max(values)
    return " / ".join(format(v, fmt) for v in (low, mid, high))


def groups(runs: list[dict]) -> dict[tuple, list[dict]]:
    """The runs' rows by (model, length, values, steps), over the seeds."""
    found: dict[tuple, list[dict]] = {}
    for run in runs:
        for row in run["summary"]:
            key = (row["model"], row["seq_len"], values_label(row["values"]), row["steps"])
            found.setdefault(key, []).append(row)
    return found


def report_seeds(runs: list[dict], seconds: float) -> bool:
    """Print the seed sweep; True if every claim held on every seed."""
    print(machine_line(runs[0]))
    print(f"params  : {runs[0]['params']}, seeds {[r['params']['SEED'] for r in runs]}")
    print(f"total   : {seconds:.0f} s for {len(runs)} runs")
    print(f"one run : {spread([r['wall'] for r in runs], '.1f')} s wall (min / median / max)")
    print()
    print(
        f"{'model':13s} {'length':>6s} {'values':>6s}  {'exact sums min/median/max':>27s}  "
        f"{'99% on':>6s}  {'at step min/median/max':>22s}  {'at second':>18s}  plateaued"
    )
    for (model, n, values, _), rows in groups(runs).items():
        firsts = [at_99(r) for r in rows if r["passed"]]
        print(
            f"{model:13s} {n:6d} {values:>6s}  {spread([r['exact'] for r in rows], '6.1%'):>27s}  "
            f"{len(firsts):2d}/{len(rows):<3d}  {spread([s for s, _ in firsts], '.0f'):>22s}  "
            f"{spread([t for _, t in firsts], '.1f'):>18s}  "
            f"{sum(r['verdict'] in ('plateaued', 'built') for r in rows)}/{len(rows)}"
        )
    print(f"\nbeyond the trained length ({runs[0]['seq_len']}):")
    beyond: dict[tuple, list[float]] = {}
    for run in runs:
        for row in run["beyond"]:
            beyond.setdefault((row["model"], row["test_len"]), []).append(row["exact"])
    for (model, n), exact in beyond.items():
        print(f"{model:13s} {n:6d}  {spread(exact, '6.1%')}")
    print()
    every = True
    for text in dict.fromkeys(t for run in runs for t in run["claims"]):
        failed = [run["params"]["SEED"] for run in runs if not run["claims"].get(text)]
        every &= not failed
        note = f"  FAILED on seeds {failed}" if failed else ""
        print(f"{len(runs) - len(failed):3d}/{len(runs)} seeds: {text}{note}")
    return every


def seed_ranges(runs: list[dict]) -> dict:
    """Section 11's bars: min and max exact sums (%) over the seeds, per sweep model and length,
    with the parameters they were measured with (the notebook draws them only for those)."""
    exact: dict[str, dict[int, list[float]]] = {}
    main = values_label(runs[0]["summary"][0]["values"])
    for (model, n, values, _), rows in groups(runs).items():
        if model in ("RNN", "LSTM") and values == main:
            exact.setdefault(model, {})[n] = [100 * r["exact"] for r in rows]
    params = dict(runs[0]["parameters"], VALUES=tuple(runs[0]["parameters"]["VALUES"]))
    return dict(
        params=params,
        seeds=[run["params"]["SEED"] for run in runs],
        exact={m: {n: (round(min(e), 1), round(max(e), 1)) for n, e in sorted(by.items())}
               for m, by in exact.items()},
    )  # fmt: skip


def write_ranges(ranges: dict, path=nbrun.NOTEBOOK) -> None:
    """Rewrite the notebook's `SEED_RANGES` cell with these ranges (one line, left unformatted)."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "SEED_RANGES = " in c.source)
    seeds = ranges["seeds"]
    label = (
        f"{min(seeds)}-{max(seeds)}" if seeds == list(range(min(seeds), max(seeds) + 1)) else seeds
    )
    cell.source = (
        f"# tools/benchmark.py --seeds {label} --write-ranges: min and max exact sums (%)\n"
        f"SEED_RANGES = {ranges!r}  # fmt: skip"
    )
    nbformat.write(nb, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("params", nargs="*", type=parse_param, help="NAME=VALUE overrides")
    parser.add_argument("--threads", type=int, help="torch CPU threads (the notebook uses 1)")
    parser.add_argument("--save", metavar="PATH", help="also write the executed notebook there")
    parser.add_argument("--seeds", type=parse_seeds, help="e.g. 0-9: one run per SEED")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once with --seeds")
    parser.add_argument("--json", metavar="PATH", help="with --seeds, also save every run there")
    parser.add_argument(
        "--write-ranges", action="store_true", help="with --seeds, rewrite SEED_RANGES"
    )
    parser.add_argument("--also", metavar="EXPR", help="also evaluate EXPR in each kernel (--json)")
    args = parser.parse_args()
    params = dict(args.params)

    if not args.seeds:
        report_one(run_once(params, args.threads, args.save))
        return
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        jobs = [
            pool.submit(run_once, {**params, "SEED": seed}, args.threads, None, False, args.also)
            for seed in args.seeds
        ]
        runs = [job.result() for job in jobs]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(runs, f)
    every = report_seeds(runs, time.perf_counter() - start)
    ranges = seed_ranges(runs)
    print(f"\nSEED_RANGES = {ranges!r}")
    if args.write_ranges:
        write_ranges(ranges)
        print(f"written into {nbrun.NOTEBOOK.name}: run python tools/nbrun.py to regenerate it")
    if not every:
        sys.exit(1)


if __name__ == "__main__":
    main()
