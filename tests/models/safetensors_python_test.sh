#!/usr/bin/env bash
# Runs the safetensors round trip with Python (safetensors_python_test.py) on
# Debian's /usr/bin/python3, which has NumPy and PyTorch.

set -uo pipefail
if [[ -z ${KILN_DATA:-} ]]; then
  echo "SKIPPED: KILN_DATA is not set; ./kiln test sets it"
  exit 0
fi
if ! /usr/bin/python3 -c "import numpy, torch" 2>/dev/null; then
  echo "FAIL: /usr/bin/python3 lacks numpy or torch" \
    "(Debian's python3-numpy and python3-torch)"
  exit 1
fi
exec /usr/bin/python3 "$@"
