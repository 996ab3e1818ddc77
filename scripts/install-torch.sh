#!/usr/bin/env bash
# Install the pinned torch with PIP (default: pip), taking PyTorch's CPU build wherever its CPU index answers.
#
# On Linux, plain PyPI's torch is the CUDA build (29 packages, cuda-toolkit and cudnn included); the CPU build is
# served only from https://download.pytorch.org/whl/cpu. When that index cannot be reached (an offline mirror, a
# proxy that allows PyPI only), torch comes from the configured index instead, whichever build that serves, and
# this says so. macOS and Windows wheels on PyPI are CPU builds already.
set -euo pipefail
PIP=${PIP:-pip}
TORCH=${TORCH:-torch==2.13.0}
CPU_INDEX=${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}

if python3 - "$CPU_INDEX" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=10).close()
except Exception:
    sys.exit(1)
PY
then
  # The CPU index serves torch itself; its dependencies still come from the configured index.
  $PIP install --quiet "$TORCH" --index-url "$CPU_INDEX" --extra-index-url "${PIP_INDEX_URL:-https://pypi.org/simple}"
  echo "torch: CPU build from $CPU_INDEX"
else
  echo "torch: $CPU_INDEX is not reachable; installing $TORCH from the configured index (on Linux that is" \
       "the CUDA build unless the index serves a CPU wheel)" >&2
  $PIP install --quiet "$TORCH"
fi
