#!/usr/bin/env bash
# The chapter command writes a report folder whose report.md links only
# pictures that exist and are PNGs, whose plots keep their CSV data and
# scripts beside them, and whose table has one row per run.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
chapter=$1
skip_without_data

runs=sigmoid,no_activation,no_hidden_nonneg,fashion_tanh
"$chapter" --data_dir="$KILN_DATA" --epochs=2 --only=$runs --out=report \
  >out.txt || fail "the chapter command failed"
cat out.txt
[[ -f report/report.md ]] || fail "no report.md"
[[ $(tail -n 1 out.txt) == "report: report/report.md" ]] ||
  fail "the last line does not name the report"
[[ $(grep -c "test_acc" out.txt) -eq 4 ]] || fail "not one row per run"

# Every picture the report links exists and is a PNG.
mapfile -t pictures < <(grep -o '](\(plots\|images\)/[^)]*)' report/report.md |
  sed 's/^](//; s/)$//')
((${#pictures[@]} >= 30)) || fail "only ${#pictures[@]} pictures linked"
for picture in "${pictures[@]}"; do
  if [[ $(head -c 4 "report/$picture" | od -An -tx1 | tr -d ' ') != \
    89504e47 ]]; then
    fail "$picture is missing or not a PNG"
  fi
done
for picture in plots/activation_sigmoid.png plots/activation_tanh.png \
  plots/activation_relu.png plots/activation_leaky_relu.png \
  plots/mnist_digits.png plots/fashion_items.png plots/weights.png \
  plots/curves_mnist.png plots/curves_fashion.png \
  plots/curves_no_activation_vs_sigmoid.png images/mnist_digits_19.png \
  images/fashion_items_09.png images/weights_09.png; do
  grep -qF "($picture)" report/report.md || fail "report.md lacks $picture"
done

# Each plot's script is kept, and every CSV it reads is in data/.
for script in report/plots/*.gp; do
  while read -r csv; do
    [[ -f report/$csv ]] || fail "$script reads $csv, which is missing"
  done < <(grep -o '"data/[^"]*\.csv"' "$script" | tr -d '"' | sort -u)
done
[[ $(ls report/plots/*.gp | wc -l) -eq $(ls report/plots/*.png | wc -l) ]] ||
  fail "not one PNG per script"

# The table has a row per run, with the runs' names and data sets.
for run in sigmoid no_activation no_hidden_nonneg fashion_tanh; do
  grep -qE "^\| $run \| (MNIST|Fashion-MNIST) \|" report/report.md ||
    fail "no table row for $run"
done
# The digits' labels are the data's: the first MNIST digits are 5 0 4 1.
grep -qF '| 5 | 0 | 4 | 1 | 9 | 2 | 1 | 3 | 1 | 4 |' report/report.md ||
  fail "the digit labels are not MNIST's first ten"
grep -qF '| ankle boot | t-shirt | t-shirt | dress | t-shirt |' \
  report/report.md || fail "the Fashion-MNIST classes are not its first five"

if "$chapter" --data_dir="$KILN_DATA" --only=resnet --out=bad 2>err.txt; then
  fail "an unknown run was accepted"
elif ! grep -q "unknown experiment 'resnet'" err.txt; then
  fail "unknown run: $(cat err.txt)"
fi

finish
