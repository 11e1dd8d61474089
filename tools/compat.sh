#!/usr/bin/env bash
# Run the notebook top to bottom under the oldest or the newest stack it supports (README:
# Versions), each in a virtual environment of its own under .compat/ (git-ignored):
#
#   bash tools/compat.sh oldest   # torch 2.4.1, numpy 1.26.4, matplotlib 3.8.4, ipywidgets 7.7.1
#   bash tools/compat.sh newest   # torch 2.14.1, numpy 2.4.6, matplotlib 3.11.2, ipywidgets 8.1.9
#
# PyPI's torch for Linux is a CUDA build: about 5 GB per environment. The run fails if a cell
# fails or if any checked sentence (☑/☒) of the notebook is ☒ (benchmark.py --seeds 0, the
# default seed); then the live slider's kernel-side tests run with that stack's ipywidgets and
# ipykernel (tests/test_pieces.py, the tests named live, slider, click or button).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
oldest) stack=(torch==2.4.1 numpy==1.26.4 matplotlib==3.8.4 ipywidgets==7.7.1 ipykernel==6.29.5) ;;
newest) stack=(torch==2.14.1 numpy==2.4.6 matplotlib==3.11.2 ipywidgets==8.1.9 ipykernel==7.4.0) ;;
*)
    echo "usage: bash tools/compat.sh oldest|newest" >&2
    exit 2
    ;;
esac
venv=".compat/$1"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "${stack[@]}" nbclient==0.11.0 nbformat==5.11.1 pytest==9.2.0
"$venv/bin/python" - <<'PY'
import ipykernel, ipywidgets, matplotlib, numpy, sys, torch
print(f"stack: Python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__}, "
      f"matplotlib {matplotlib.__version__}, ipywidgets {ipywidgets.__version__}, "
      f"ipykernel {ipykernel.__version__}")
PY
"$venv/bin/python" tools/benchmark.py --seeds 0
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_pieces.py -k "live or slider or click or button"
