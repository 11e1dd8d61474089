#!/usr/bin/env bash
# The GPU check for a device machine (see README, Speed): the benchmark on CUDA with the
# defaults, the executed notebook, and the piece tests. The device image has torch but no
# Jupyter kernel, so wheels for its Python 3.12 travel along in .wheels/ (git-ignored):
#
#   pip download --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
#       --platform manylinux2014_x86_64 --platform any -d .wheels \
#       nbclient==0.11.0 nbformat==5.11.1 ipykernel==7.4.0 ipywidgets==8.1.9
#
# then run `bash tools/gpu_check.sh` there, carrying .wheels; results land in $OUT.
set -x
out=${OUT:-.}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -m pip install -q --no-index --find-links .wheels nbclient nbformat ipykernel ipywidgets
python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())"
python3 tools/benchmark.py --save "$out/rnn_sum_gpu.ipynb" 2>&1 | tee "$out/bench_gpu.txt"
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_pieces.py 2>&1 | tail -5
