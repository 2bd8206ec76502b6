#!/usr/bin/env bash
# The test suite with coverage. Compiled Numba kernels are invisible to
# coverage, so the kernel tests run a second time with the JIT off (same
# assertions, plain Python) and both runs are combined before the 85% floor.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
rm -f .coverage .coverage.*
"$BIN/python" -m pytest --cov --cov-report= "$@"
NUMBA_DISABLE_JIT=1 "$BIN/python" -m pytest -q --cov --cov-append --cov-report= \
    -p no:randomly tests/unit/test_kernels.py
"$BIN/python" -m coverage combine -q 2>/dev/null || true
"$BIN/python" -m coverage report
