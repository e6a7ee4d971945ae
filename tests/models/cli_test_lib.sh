# Shared by the shell tests of Kiln's command-line programs, which source it
# first:
#
#   source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
#   skip_without_data
#   "$mnist" ... || fail "training"
#   finish
#
# A test records each broken case with `fail` and goes on, so that one run
# reports every case that broke, not only the first; `finish` then turns the
# count into the exit status.

failures=0

# Ends the test early, as a pass that says so, when no MNIST folder is named.
# `./kiln test` always names one, so the suite it runs never skips.
skip_without_data() {
  if [[ -z ${KILN_DATA:-} ]]; then
    echo "SKIPPED: KILN_DATA is not set; ./kiln test sets it"
    exit 0
  fi
}

# Ends the test as a failure when Debian's /usr/bin/python3 lacks one of the
# given modules.
require_python_modules() {
  local module
  for module in "$@"; do
    if ! /usr/bin/python3 -c "import $module" 2>/dev/null; then
      echo "FAIL: /usr/bin/python3 lacks $module (Debian's python3-$module)"
      exit 1
    fi
  done
}

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# Prints the count of failures and exits non-zero when there was any.
finish() {
  echo "$failures failures"
  if ((failures > 0)); then exit 1; fi
  exit 0
}
