#!/usr/bin/env bash
# Kiln's trainer reproduces the NumPy reference (bench/peers/mnist_numpy.py)
# row for row, in f64 on the interpreter, for the first epochs of each of the
# chapter's experiments. The full 2000-epoch comparison is too long for the
# test suite; the same command with --epochs=2000 runs it by hand.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$1
reference=$2

skip_without_data
require_python_modules numpy
for experiment in sigmoid leaky_relu no_hidden_nonneg; do
  flags=(--data_dir="$KILN_DATA" --experiment="$experiment" --epochs=4
    --eval_every=1 --dtype=f64)
  "$mnist" "${flags[@]}" >kiln.txt || fail "kiln: $experiment"
  /usr/bin/python3 "$reference" "${flags[@]}" >numpy.txt 2>numpy.err ||
    { fail "numpy: $experiment"; cat numpy.err; }
  if [[ ! -s kiln.txt ]] || ! diff numpy.txt kiln.txt; then
    fail "$experiment differs from NumPy (< numpy, > kiln)"
  else
    echo "ok: $experiment"
    cat kiln.txt
  fi
done
finish
