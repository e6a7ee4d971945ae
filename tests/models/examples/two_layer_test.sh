#!/usr/bin/env bash
# The two_layer example runs, its loss falls, and the gradients autodiff
# computed equal the hand-derived deltas to rounding.

set -uo pipefail
"$1" >out.txt || { echo "FAIL: two_layer exited non-zero"; exit 1; }
cat out.txt
first=$(awk '/^step   0/ { print $4 }' out.txt)
last=$(awk '/^step 299/ { print $4 }' out.txt)
largest=$(awk '/^largest difference/ { print $NF }' out.txt)
failures=0
if ! awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a / 4) }'; then
  echo "FAIL: the loss did not fall enough: $first -> $last"
  failures=$((failures + 1))
fi
if [[ $(grep -c '^d[wb][12]\[' out.txt) -ne 8 ]]; then
  echo "FAIL: expected two entries of each of the four gradients"
  failures=$((failures + 1))
fi
if [[ -z $largest ]] ||
  ! awk -v d="$largest" 'BEGIN { exit !(d < 1e-12) }'; then
  echo "FAIL: autodiff and the hand-derived deltas differ by $largest"
  failures=$((failures + 1))
fi
[[ $failures -eq 0 ]]
