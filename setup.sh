#!/usr/bin/env bash
# Set up make_handouts on a Debian machine and build the default leaflets into output/.
# Installs what is missing: the system libraries and fonts WeasyPrint needs (apt-get,
# as root or through sudo), then a virtual environment in .venv with the project.
# Extra arguments are passed to `make_handouts.py` (e.g. --lang fr).
set -euo pipefail
cd "$(dirname "$0")"

packages=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2
          poppler-utils chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
  if [ "$package" = python3-venv ] && python3 -c "import venv, ensurepip" 2>/dev/null; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" >&2
.venv/bin/python make_handouts.py "$@"
