#!/usr/bin/env bash
# The mnist command's checkpoints: --save, --load and more epochs give the
# rows of one straight run bit for bit; --load with --epochs=0 evaluates;
# and a corrupt checkpoint is refused with one clear line on stderr while
# the good file at the --save path stays byte for byte as it was.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$1
safetensors_io=$2
skip_without_data
flags=(--data_dir="$KILN_DATA" --quiet --eval_every=1 --train_limit=500)

# Resuming: 3 + 3 epochs against 6 straight, compared at full precision.
"$mnist" "${flags[@]}" --epochs=6 --metrics_out=straight.csv >/dev/null ||
  fail "straight run"
"$mnist" "${flags[@]}" --epochs=3 --metrics_out=first.csv \
  --save=half.safetensors >/dev/null || fail "first half"
"$mnist" "${flags[@]}" --epochs=3 --metrics_out=second.csv \
  --load=half.safetensors >/dev/null || fail "second half"
if diff <(tail -n +2 straight.csv) \
  <(tail -n +2 first.csv; tail -n +2 second.csv); then
  echo "ok: 3 epochs, save, load, 3 more epochs match 6 straight:"
  cat straight.csv
else
  fail "resumed rows differ from the straight run (< straight, > resumed)"
fi

# Evaluating a saved model: its test accuracy is the last row's.
evaluation=$("$mnist" "${flags[@]}" --epochs=0 --load=half.safetensors)
expected=$(tail -n 1 first.csv | awk -F, '{ printf "test_acc %.3f", $4 }')
if [[ $evaluation == "evaluate  epochs_completed 3 "*"$expected" ]]; then
  echo "ok: $evaluation"
else
  fail "--epochs=0 printed '$evaluation', expected epochs_completed 3 and" \
    "$expected"
fi

# corrupt NAME: writes NAME.safetensors, a broken copy of half.safetensors.
corrupt() {
  /usr/bin/python3 - "$safetensors_io" "$1" <<'PY'
import importlib.util, json, struct, sys
spec = importlib.util.spec_from_file_location("io", sys.argv[1])
st = importlib.util.module_from_spec(spec)
spec.loader.exec_module(st)
kind = sys.argv[2]
data = open("half.safetensors", "rb").read()
header, body = st._split(data)

def rebuilt(header):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body

if kind == "truncated":
    data = data[:len(data) - 100]
elif kind == "header_overflow":
    data = struct.pack("<Q", 2**64 - 1) + data[8:]
elif kind == "offsets_outside":
    entry = header["output.bias"]
    entry["data_offsets"] = [o + 10**6 for o in entry["data_offsets"]]
    data = rebuilt(header)
elif kind == "wrong_dtype":
    header["hidden1.bias"]["dtype"] = "I64"
    data = rebuilt(header)
elif kind == "missing_tensor":
    begin, end = header.pop("hidden1.bias")["data_offsets"]
    for entry in header.values():
        if "data_offsets" in entry and entry["data_offsets"][0] >= end:
            entry["data_offsets"] = [o - (end - begin)
                                     for o in entry["data_offsets"]]
    body = body[:begin] + body[end:]
    data = rebuilt(header)
open(kind + ".safetensors", "wb").write(data)
PY
}

# expect_refused FILE MESSAGE [FLAGS...]: loading FILE with --save pointing
# at a good checkpoint fails with MESSAGE and leaves the good one unchanged.
cp half.safetensors keep.safetensors
good_hash=$(sha256sum <keep.safetensors)
expect_refused() {
  local file=$1 message=$2
  shift 2
  "$mnist" "${flags[@]}" --epochs=1 --load="$file" --save=keep.safetensors \
    "$@" >out.txt 2>err.txt
  local status=$?
  if [[ $status -eq 0 ]]; then
    fail "loading $file succeeded"
  elif [[ -s out.txt ]]; then
    fail "loading $file wrote to stdout: $(cat out.txt)"
  elif [[ $(wc -l <err.txt) -ne 1 ]] || ! grep -qF -- "$file" err.txt ||
    ! grep -qF -- "$message" err.txt; then
    fail "loading $file: expected one line naming it and '$message', got:" \
      "$(cat err.txt)"
  elif [[ $(sha256sum <keep.safetensors) != "$good_hash" ]]; then
    fail "loading $file changed the checkpoint at the --save path"
  else
    echo "ok: $(cat err.txt)"
  fi
}

for kind in truncated header_overflow offsets_outside wrong_dtype \
  missing_tensor; do
  corrupt "$kind" || fail "could not write $kind.safetensors"
done
expect_refused truncated.safetensors "leave the file"
expect_refused header_overflow.safetensors \
  "header length 18446744073709551615 overflows the file"
expect_refused offsets_outside.safetensors \
  'tensor "output.bias": data_offsets [2256000, 2256080] leave the file'
expect_refused wrong_dtype.safetensors \
  'tensor "hidden1.bias" has dtype "I64"; Kiln reads F32 and F64 only'
expect_refused missing_tensor.safetensors 'missing tensor "hidden1.bias"'
expect_refused half.safetensors \
  "the checkpoint holds f64 parameters but the model is f32" --dtype=f32
expect_refused half.safetensors "but the model is 784-200:tanh-10" \
  --activation=tanh
expect_refused absent.safetensors "No such file or directory"

# A --save path that cannot be written is refused before any data is read.
if "$mnist" --data_dir=/nonexistent --save=/nonexistent/dir/x.safetensors \
  >/dev/null 2>err.txt; then
  fail "--save into a missing directory was accepted"
elif ! grep -q "directory /nonexistent/dir does not exist" err.txt; then
  fail "--save into a missing directory: $(cat err.txt)"
else
  echo "ok: $(cat err.txt)"
fi

finish
