#!/usr/bin/env bash
# Create .venv-studio: `langgraph dev` (langgraph-cli[inmem], the `studio` extra) for `doxa studio` and its test.
#
# Its pins clash with the dev tools' (langgraph-api caps jsonschema-rs below what schemathesis needs), so it
# lives in a venv of its own. That venv sees .venv's packages through a .pth file (Doxa, torch and the model
# are not installed twice) and installs only what langgraph-cli adds or pins differently, which then shadows
# .venv's copies for the Studio server alone. Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || { echo "no .venv: run scripts/bootstrap.sh first" >&2; exit 1; }
stamp=".venv-studio/.doxa-studio-installed-$(sha256sum pyproject.toml | cut -c1-16)"
[ -f "$stamp" ] && exit 0

[ -x .venv-studio/bin/python ] || .venv/bin/python -m venv .venv-studio
main_site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
studio_site=$(.venv-studio/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$main_site" > "$studio_site/doxa-main-venv.pth"
# The `studio` extra's requirement, read from pyproject.toml so the two never disagree.
requirement=$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["studio"][0])')
.venv-studio/bin/python -m pip install --quiet --disable-pip-version-check "$requirement"
rm -f .venv-studio/.doxa-studio-installed-*
touch "$stamp"
