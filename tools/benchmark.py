"""Benchmark rnn_sum.ipynb: execute it headless in a fresh kernel and report what it measured.

    python tools/benchmark.py                      # the defaults
    python tools/benchmark.py SEQ_LEN=200 STEPS=300 --threads 2

Prints the machine, the total wall time (kernel start to last cell), and per model the training
seconds, test MSE and exact-sum accuracy, read from the notebook's own `summary`; then the ratio
of the better article Predictor's test MSE to the best model's. Nothing is re-implemented here.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("params", nargs="*", type=parse_param, help="NAME=VALUE overrides")
    parser.add_argument("--threads", type=int, help="torch CPU threads (the notebook uses 1)")
    parser.add_argument("--save", metavar="PATH", help="also write the executed notebook there")
    args = parser.parse_args()

    nb = nbrun.load(dict(args.params))
    if args.threads:
        nbrun.inject(nb, f"torch.set_num_threads({args.threads})")

    start = time.perf_counter()
    with nbrun.Session(nb) as session:
        wall = time.perf_counter() - start
        summary = session.eval("summary")
        info = session.eval(
            "dict(threads=torch.get_num_threads(), device=str(device), torch=torch.__version__,"
            " gpu=torch.cuda.get_device_name() if device.type == 'cuda' else None, seq_len=SEQ_LEN)"
        )
    if args.save:
        nbrun.drop_widget_views(nb)
        nbformat.write(nb, args.save)

    print(
        f"machine : {cpu_name()}, {os.cpu_count()} CPUs; torch {info['torch']}, "
        f"{info['threads']} torch thread(s); device {info['device']}"
        + (f" ({info['gpu']})" if info["gpu"] else "")
    )
    print(f"params  : {dict(args.params) or 'defaults'}")
    print(f"total   : {wall:.1f} s wall, notebook top to bottom in a fresh kernel")
    print()
    print(f"{'model':13s} {'length':>6s} {'train s':>8s} {'test MSE':>11s} {'exact':>8s}")
    for row in summary:
        print(
            f"{row['model']:13s} {row['seq_len']:6d} {row['train_seconds']:8.2f} "
            f"{row['test_mse']:11.5f} {row['exact_acc']:8.2%}"
        )
    at = {r["model"]: r for r in summary if r["seq_len"] == info["seq_len"]}
    best = min(at.values(), key=lambda r: r["test_mse"])
    article = min((at[m] for m in ("article RNN", "article LSTM")), key=lambda r: r["test_mse"])
    print()
    print(f"best model at {info['seq_len']}: {best['model']}, {best['exact_acc']:.2%} exact sums")
    print(
        f"{article['model']} test MSE / {best['model']} test MSE = "
        f"{article['test_mse'] / best['test_mse']:.0f}"
    )
    print(f"LSTM below RNN at {info['seq_len']}: {at['LSTM']['test_mse'] < at['RNN']['test_mse']}")
    print(f"total training time: {sum(r['train_seconds'] for r in summary):.1f} s")


if __name__ == "__main__":
    main()
