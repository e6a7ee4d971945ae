#!/usr/bin/env bash
# The mnist command stops a diverging run with one line on stderr naming the
# epoch, the batch and the tensors gone bad, and exit status 1, on either
# executor; with --check_numerics it names the op and the model's source
# line that made the first bad value instead. A learning rate of 1e38 in f32
# makes the weights overflow within two epochs. A run resumed from a
# poisoned checkpoint stops too, and leaves the checkpoint it was to
# overwrite untouched.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$(realpath "$1")

skip_without_data
export KILN_CACHE_DIR=${TEST_TMPDIR:-/tmp}/kiln_cache

# expect_stop <expected stderr substring> <flags...>
expect_stop() {
  local expected=$1
  shift
  "$mnist" --data_dir="$KILN_DATA" --train_limit=100 --epochs=5 --dtype=f32 \
    --lr=1e38 "$@" >out.txt 2>err.txt
  local status=$?
  if [[ $status -ne 1 ]]; then
    fail "$*: exit status $status, expected 1"
  elif [[ $(wc -l <err.txt) -ne 1 ]] || ! grep -qF -- "$expected" err.txt; then
    fail "$*: expected one line containing '$expected', got:"
    cat err.txt
  else
    echo "ok: $* -> $(cat err.txt)"
  fi
}

for backend in interp jit; do
  expect_stop "training stopped at epoch 1, batch 0 of 1" --backend=$backend
  expect_stop "parameter 'hidden1.weight' holds nan" --backend=$backend
  expect_stop "check_numerics: " --backend=$backend --check_numerics=true
  expect_stop "testing after epoch 0: check_numerics: " --backend=$backend \
    --check_numerics=true
  expect_stop "(at models/mlp.cc:" --backend=$backend --check_numerics=true
done

# A checkpoint whose first weight is NaN, as if it had been poisoned in the
# middle of a run: resuming from it stops at the first step, and the good
# checkpoint that --save names is left as it was.
cd "${TEST_TMPDIR:-$(mktemp -d)}" || exit 1
good=$PWD/good.safetensors
common=(--data_dir="$KILN_DATA" --train_limit=100 --epochs=2)
if ! "$mnist" "${common[@]}" --save="$good" >/dev/null 2>err.txt; then
  fail "the first run did not save a checkpoint:"
  cat err.txt
fi
cp -- "$good" good.copy
/usr/bin/python3 - "$good" bad.safetensors <<'PYTHON'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(size,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + size])
begin = 8 + size + header["hidden1.weight"]["data_offsets"][0]
poisoned = data[:begin] + struct.pack("<d", float("nan")) + data[begin + 8:]
open(sys.argv[2], "wb").write(poisoned)
PYTHON
for backend in interp jit; do
  for check in false true; do
    flags=(--load=bad.safetensors --save=good.safetensors --backend=$backend
      --check_numerics=$check)
    if "$mnist" "${common[@]}" "${flags[@]}" >/dev/null 2>err.txt; then
      fail "${flags[*]}: training from a NaN checkpoint succeeded"
    elif ! grep -qF "epoch 2, batch 0" err.txt ||
      ! grep -qF "'hidden1.weight'" err.txt ||
      ! grep -qF "nan at element 0 [0,0]" err.txt; then
      fail "${flags[*]}: the message names not the epoch, batch and tensor:"
      cat err.txt
    elif ! cmp -s "$good" good.copy; then
      fail "${flags[*]}: the good checkpoint changed"
    else
      echo "ok: ${flags[*]} -> $(cat err.txt)"
    fi
  done
done

finish
