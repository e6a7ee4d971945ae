#!/usr/bin/env bash
# The mnist command is deterministic: the same seed and flags give the same
# metrics CSV, bit for bit (it prints 17 significant digits), run after run,
# and the JIT's thread count changes nothing. Checked in f32 and f64 on MNIST,
# whose mostly-zero images take the JIT's zero-skipping products.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$1

skip_without_data
for dtype in f32 f64; do
  flags=(--data_dir="$KILN_DATA" --epochs=6 --eval_every=2 --dtype="$dtype"
    --quiet)
  "$mnist" "${flags[@]}" --metrics_out="first_$dtype.csv" >/dev/null &&
    "$mnist" "${flags[@]}" --metrics_out="second_$dtype.csv" >/dev/null &&
    "$mnist" "${flags[@]}" --threads=2 --metrics_out="two_$dtype.csv" \
      >/dev/null &&
    "$mnist" "${flags[@]}" --threads=3 --metrics_out="three_$dtype.csv" \
      >/dev/null || {
    fail "$dtype: a run failed"
    continue
  }
  if [[ $(wc -l <"first_$dtype.csv") -ne 5 ]]; then
    fail "$dtype: expected a header and 4 rows, got:"
    cat "first_$dtype.csv"
  fi
  for other in second two three; do
    if ! cmp -s "first_$dtype.csv" "${other}_$dtype.csv"; then
      fail "$dtype: the $other run's metrics differ (< first, > $other)"
      diff "first_$dtype.csv" "${other}_$dtype.csv"
    fi
  done
  echo "ok: $dtype"
  cat "first_$dtype.csv"
done
finish
