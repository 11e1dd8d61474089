"""Benchmark rnn_sum.ipynb: execute it headless in a fresh kernel and report what it measured.

    python tools/benchmark.py                      # the defaults
    python tools/benchmark.py SEQ_LEN=200 STEPS=300 --threads 2
    python tools/benchmark.py --seeds 0-9          # one fresh kernel per seed, claims counted

Prints the machine, the total wall time (kernel start to last cell), and per model the training
seconds, test MSE and exact-sum accuracy, read from the notebook's own `summary`, then the
notebook's own `claims` (every comparison its prose makes, checked by the run). With --seeds it
runs the notebook once per seed and prints, per model and length, the min, median and max of
exact sums and test MSE, and on how many seeds each claim held; it exits with status 1 if any
claim failed on any seed. Nothing is re-implemented here.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import json
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


def run_once(params: dict, threads: int | None = None, save: str | None = None) -> dict:
    """Execute the notebook once in a fresh kernel; what it measured, and the wall time."""
    nb = nbrun.load(params)
    if threads:
        nbrun.inject(nb, f"torch.set_num_threads({threads})")
    start = time.perf_counter()
    with nbrun.Session(nb) as session:
        wall = time.perf_counter() - start
        measured = session.eval(
            "dict(summary=summary, beyond=beyond, claims=claims, threads=torch.get_num_threads(),"
            " device=str(device), torch=torch.__version__, seq_len=SEQ_LEN,"
            " isa=torch.backends.cpu.get_cpu_capability(),"
            " gpu=torch.cuda.get_device_name() if device.type == 'cuda' else None)"
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


def report_one(run: dict) -> None:
    print(machine_line(run))
    print(f"params  : {run['params'] or 'defaults'}")
    print(f"total   : {run['wall']:.1f} s wall, notebook top to bottom in a fresh kernel")
    print()
    print(
        f"{'model':13s} {'length':>6s} {'values':>9s} {'steps':>5s} {'train s':>8s} {'test MSE':>11s} {'exact':>8s}"
    )
    for row in run["summary"]:
        print(
            f"{row['model']:13s} {row['seq_len']:6d} {values_label(row['values']):>9s} "
            f"{row['steps']:5d} {row['seconds']:8.2f} {row['mse']:11.4g} {row['exact']:8.2%}"
        )
    print(f"total training time: {sum(r['seconds'] for r in run['summary']):.1f} s")
    print()
    print(f"{'model':13s} {'trained':>7s} {'tested':>7s} {'test MSE':>11s} {'exact':>8s}")
    for row in run["beyond"]:
        print(
            f"{row['model']:13s} {row['train_len']:7d} {row['test_len']:7d} "
            f"{row['mse']:11.4g} {row['exact']:8.2%}"
        )
    print()
    for text, holds in run["claims"].items():
        print(("holds : " if holds else "FAILS : ") + text)


def values_label(values) -> str:
    return ",".join(str(v) for v in values)


def spread(values: list[float], fmt: str) -> str:
    """min / median / max of values, each formatted with fmt."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return " / ".join(format(v, fmt) for v in (low, mid, high))


def spreads(rows: list[dict], keys: tuple[str, ...], label: str) -> None:
    """Per model and rows' keys: min / median / max of exact sums and test MSE over the seeds."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], *(str(row[k]) for k in keys)), []).append(row)
    print(
        f"{'model':13s} {label:>20s}  {'exact sums min / median / max':>31s}  test MSE min / median / max"
    )
    for (model, *where), found in groups.items():
        exact = spread([r["exact"] for r in found], "6.1%")
        mse = spread([r["mse"] for r in found], ".3g")
        print(f"{model:13s} {' '.join(where):>20s}  {exact:>31s}  {mse}")


def markdown_table(runs: list[dict]) -> None:
    """The seed spread as the notebook shows it: exact sums (%), min/median/max over the seeds, of
    each recurrent model in every run of the notebook, a row per length, values and steps; then
    the one-step article models' at the main length."""
    rows = [dict(r, values=values_label(r["values"])) for run in runs for r in run["summary"]]
    most = max(r["steps"] for r in rows)  # the main runs first, then the sweep by length

    def cell(model, case):
        found = [100 * r["exact"] for r in rows if r["model"] == model
                 and (r["seq_len"], r["values"], r["steps"]) == case]  # fmt: skip
        return spread(found, ".0f").replace(" ", "") if found else "-"

    cases = sorted({(r["seq_len"], r["values"], r["steps"]) for r in rows})
    cases.sort(key=lambda c: (c[2] != most, c[1].startswith("-"), c[0]))
    print("run | RNN | LSTM | IRNN\n--- | --- | --- | ---")  # no outer pipes: fewer words
    for case in cases:
        n, values, steps = case
        label = f"{'walks, ' if values.startswith('-') else ''}length {n}, {steps} steps"
        print(f"{label} | " + " | ".join(cell(m, case) for m in ["RNN", "LSTM", "IRNN"]))
    main = (runs[0]["seq_len"], values_label(runs[0]["summary"][0]["values"]), most)
    print(f"\nThe one-step article RNN: {cell('article RNN', main)}; article LSTM: "
          f"{cell('article LSTM', main)} (length {main[0]}, {most} steps).")  # fmt: skip


def report_seeds(runs: list[dict], seconds: float) -> bool:
    """Print the seed sweep; True if every claim held on every seed."""
    print(machine_line(runs[0]))
    print(f"params  : {runs[0]['params']}, seeds {[r['params']['SEED'] for r in runs]}")
    print(f"total   : {seconds:.0f} s for {len(runs)} runs")
    walls = [r["wall"] for r in runs]
    print(f"one run : {spread(walls, '.1f')} s wall (min / median / max)")
    print()
    rows = [dict(row, values=values_label(row["values"])) for run in runs for row in run["summary"]]
    spreads(rows, ("seq_len", "values", "steps"), "length values steps")
    print(f"\nbeyond the trained length ({runs[0]['seq_len']}):")
    spreads([row for run in runs for row in run["beyond"]], ("test_len",), "tested")
    print()
    every = True
    texts = list(dict.fromkeys(t for run in runs for t in run["claims"]))
    for text in texts:
        held = [run["params"]["SEED"] for run in runs if run["claims"].get(text)]
        failed = [run["params"]["SEED"] for run in runs if not run["claims"].get(text)]
        every &= not failed
        note = f"  FAILED on seeds {failed}" if failed else ""
        print(f"{len(held):3d}/{len(runs)} seeds: {text}{note}")
    return every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("params", nargs="*", type=parse_param, help="NAME=VALUE overrides")
    parser.add_argument("--threads", type=int, help="torch CPU threads (the notebook uses 1)")
    parser.add_argument("--save", metavar="PATH", help="also write the executed notebook there")
    parser.add_argument("--seeds", type=parse_seeds, help="e.g. 0-9: one run per SEED")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once with --seeds")
    parser.add_argument("--json", metavar="PATH", help="with --seeds, also save every run there")
    parser.add_argument(
        "--markdown", action="store_true", help="with --seeds, the notebook's seed table"
    )
    args = parser.parse_args()
    params = dict(args.params)

    if not args.seeds:
        report_one(run_once(params, args.threads, args.save))
        return
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        jobs = [
            pool.submit(run_once, {**params, "SEED": seed}, args.threads) for seed in args.seeds
        ]
        runs = [job.result() for job in jobs]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(runs, f)
    every = report_seeds(runs, time.perf_counter() - start)
    if args.markdown:
        print()
        markdown_table(runs)
    if not every:
        sys.exit(1)


if __name__ == "__main__":
    main()
