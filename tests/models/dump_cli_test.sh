#!/usr/bin/env bash
# mnist --dump=DIR writes the forward, gradient and fused graphs as Graphviz
# files rendered to SVG, and each compiled program's LLVM IR and assembly.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
mnist=$1
skip_without_data

rm -rf dump
"$mnist" --data_dir="$KILN_DATA" --epochs=1 --train_limit=100 --dump=dump \
  >/dev/null || fail "training with --dump"

# expect FILE PATTERN: FILE exists and contains PATTERN.
expect() {
  local file
  file=$(compgen -G "$1" | head -n 1)
  if [[ -z $file ]]; then
    fail "$1 was not written"
  elif ! grep -qE -- "$2" "$file"; then
    fail "$file lacks '$2'"
  else
    echo "ok: $file"
  fi
}
expect dump/forward.dot 'label="softmax_cross_entropy'
expect dump/forward.svg '<svg'
expect dump/gradient.dot 'label="parameter \\"hidden1.weight\\"'
expect dump/gradient.svg '<svg'
# The training step is the first program compiled.
expect 'dump/program0_*/graph.svg' '<svg'
expect 'dump/program0_*/fused.dot' 'subgraph cluster_.*'
expect 'dump/program0_*/fused.dot' 'label="k[0-9]+: matmul'
expect 'dump/program0_*/fused.svg' '<svg'
expect 'dump/program0_*/ir_before.ll' '^define '
expect 'dump/program0_*/ir_after.ll' '^define '
expect 'dump/program0_*/program.s' 'ret'
# The gradient graph holds more than the forward one: the backward pass.
if (($(grep -c ' -> ' dump/gradient.dot) <= 2 * $(grep -c ' -> ' \
  dump/forward.dot))); then
  fail "gradient.dot is not much larger than forward.dot"
fi

finish
