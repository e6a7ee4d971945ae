#!/usr/bin/env bash
# Kiln's trainer reproduces the NumPy reference (bench/peers/mnist_numpy.py)
# row for row, in f64 on the interpreter, for the first epochs of each of the
# chapter's experiments. The full 2000-epoch comparison is too long for the
# test suite; the same command with --epochs=2000 runs it by hand.

set -uo pipefail
mnist=$1
reference=$2

if [[ -z ${KILN_DATA:-} ]]; then
  echo "SKIPPED: KILN_DATA is not set; ./kiln test sets it"
  exit 0
fi
if ! /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  echo "FAIL: /usr/bin/python3 lacks numpy (Debian's python3-numpy)"
  exit 1
fi

failures=0
for experiment in sigmoid leaky_relu no_hidden_nonneg; do
  flags=(--data_dir="$KILN_DATA" --experiment="$experiment" --epochs=4
    --eval_every=1 --dtype=f64)
  "$mnist" "${flags[@]}" >kiln.txt || failures=$((failures + 1))
  /usr/bin/python3 "$reference" "${flags[@]}" >numpy.txt 2>numpy.err ||
    { cat numpy.err; failures=$((failures + 1)); }
  if [[ ! -s kiln.txt ]] || ! diff numpy.txt kiln.txt; then
    echo "FAIL: $experiment differs from NumPy (< numpy, > kiln)"
    failures=$((failures + 1))
  else
    echo "ok: $experiment"
    cat kiln.txt
  fi
done
[[ $failures -eq 0 ]]
