#!/usr/bin/env bash
# Create .venv and install Doxa with its dev tools. Re-running is cheap: it reinstalls only when
# pyproject.toml changed. torch is installed first by scripts/install-torch.sh: the CPU build wherever PyTorch's
# CPU index is reachable, else the configured index's build (it says which). Then .venv-studio for `doxa studio`
# (scripts/studio-venv.sh); a failure there only warns, since Studio is optional.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY' || { echo "Doxa needs Python >= 3.11" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

# The console's browser test drives Debian's chromium through playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "note: /usr/bin/chromium is missing and this is not root; the browser test will be skipped" >&2
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.doxa-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  PIP=".venv/bin/python -m pip" scripts/install-torch.sh
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  rm -f .venv/.doxa-installed-*
  touch "$stamp"
fi

scripts/studio-venv.sh || echo "note: .venv-studio could not be made; \`doxa studio\` and its test need it" >&2
