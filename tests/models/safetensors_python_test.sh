#!/usr/bin/env bash
# Runs the safetensors round trip with Python (safetensors_python_test.py) on
# Debian's /usr/bin/python3, which has NumPy and PyTorch.

set -uo pipefail
source "$TEST_SRCDIR/kiln/tests/models/cli_test_lib.sh"
skip_without_data
require_python_modules numpy torch
exec /usr/bin/python3 "$@"
