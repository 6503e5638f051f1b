#!/usr/bin/env bash
# The reference implementations the statistics and metrics tests compare against, from PyPI, in a virtual
# environment under the git-ignored build folder (.build/pyref). Idempotent; pinned versions.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/pyref
want="pymannkendall==1.4.3 esda==2.9.0 libpysal==4.14.1 pyproj==3.7.2 prometheus-client==0.26.0"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.versions" 2>/dev/null)" = "$want" ]; then exit 0; fi
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check $want
echo "$want" > "$venv/.versions"
echo "pyref: reference packages installed in $venv" >&2
