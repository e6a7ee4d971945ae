#!/usr/bin/env bash
# The mnist command refuses nonsense flags with one line on stderr and a
# non-zero exit, before it reads any data (the data directory given here
# does not exist, so a command that got as far as reading it would say so).

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$1

# expect_refusal <expected stderr substring> <flags...>
expect_refusal() {
  local expected=$1
  shift
  local out err status
  out=$(mktemp) err=$(mktemp)
  "$mnist" --data_dir=/nonexistent "$@" >"$out" 2>"$err"
  status=$?
  if [[ $status -eq 0 ]]; then
    fail "$* exited 0"
  elif [[ -s $out ]]; then
    fail "$* wrote to stdout: $(cat "$out")"
  elif [[ $(wc -l <"$err") -ne 1 ]] || ! grep -qF -- "$expected" "$err"; then
    fail "$*: expected one line containing '$expected', got:"
    cat "$err"
  else
    echo "ok: $* -> $(cat "$err")"
  fi
  rm -f "$out" "$err"
}

expect_refusal "--lr must be positive" --lr=0
expect_refusal "--lr must be positive" --lr=-0.5
expect_refusal "--batch=2000 is larger than the 1000 training samples" \
  --batch=2000
expect_refusal "unknown activation 'gelu'" --activation=gelu
expect_refusal "--hidden lists 2 layers but --activation lists 1" \
  --hidden=200,100 --activation=relu
expect_refusal "unknown flag --bogus" --bogus=1
expect_refusal "unknown --dtype=f16" --dtype=f16
expect_refusal "unknown --experiment=resnet" --experiment=resnet
expect_refusal "--epochs=ten is not an integer" --epochs=ten
expect_refusal "--init lists 3 schemes but the model has 2" \
  --init=he,he,he
expect_refusal 'unknown data set "cifar"' --dataset=cifar
expect_refusal "--quiet=yes is not true or false" --quiet=yes
expect_refusal "--dump needs --backend=jit" --dump=out --backend=interp
expect_refusal "--threads must be in [1, 64], got 0" --threads=0
expect_refusal "--threads needs --backend=jit" --threads=2 --backend=interp
expect_refusal "directory /nonexistent/dir does not exist" \
  --save=/nonexistent/dir/model.safetensors
expect_refusal "--check_numerics=maybe is not true or false" \
  --check_numerics=maybe

# The data directory is only read after the flags pass.
if "$mnist" --data_dir=/nonexistent --epochs=1 >/dev/null 2>err.txt; then
  fail "training without data succeeded"
elif ! grep -q "/nonexistent" err.txt; then
  fail "the missing data error does not name the path:"
  cat err.txt
fi

if ! "$mnist" --help | grep -q -- "--experiment="; then
  fail "--help does not list the flags"
fi

finish
