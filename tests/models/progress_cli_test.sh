#!/usr/bin/env bash
# The progress line: under a terminal (a pty made by script(1)) stderr shows
# "epoch i/N  elapsed ...  eta ...  loss ..."; --quiet hides it; and when
# stderr is a pipe or a file there is no trace of it. Results on stdout are
# the same rows in every case.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$1
skip_without_data
command=$(printf '%q ' "$mnist" --data_dir="$KILN_DATA" --epochs=4 \
  --eval_every=2 --train_limit=200)

# Under a pty both streams reach the terminal, so script's transcript holds
# the rows and the progress line.
script -qefc "$command" /dev/null >tty.txt 2>&1 || fail "run under a pty"
line=$'epoch 4/4  elapsed [0-9]+:[0-9]{2}  eta 0:00  loss [0-9.]+\e\\[K'
if grep -qE "$line" tty.txt; then
  echo "ok: a terminal shows the progress line"
else
  fail "no progress line under a pty:"
  cat -v tty.txt
fi
# Each row starts on a cleared line: after "\r", then the erase sequence.
rows=$(sed $'s/\e\\[K//g' tty.txt | tr '\r' '\n' |
  grep -c "^epoch     [023]  loss")
if [[ $rows -ne 3 ]]; then
  fail "the rows are not all on lines of their own under a pty:"
  cat -v tty.txt
fi

script -qefc "$command --quiet" /dev/null >quiet.txt 2>&1 ||
  fail "quiet run under a pty"
if grep -q "elapsed" quiet.txt; then
  fail "--quiet still shows progress:"
  cat -v quiet.txt
else
  echo "ok: --quiet hides it"
fi

"$mnist" --data_dir="$KILN_DATA" --epochs=4 --eval_every=2 \
  --train_limit=200 2>err.txt | cat >out.txt
if [[ -s err.txt ]]; then
  fail "stderr to a file holds: $(cat -v err.txt)"
else
  echo "ok: no progress when stderr is not a terminal"
fi
if ! diff out.txt <(tr -d '\r' <quiet.txt); then
  fail "the rows differ between a pipe and a terminal"
fi

finish
