#!/usr/bin/env bash
# Entry point of the compose "tests" service: the official odoo:18.0 image has Odoo and
# wkhtmltopdf; add the browser and the test packages, then run the README test command.
set -euo pipefail
log=$(mktemp)
if ! command -v chromium >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium make; } >"$log" 2>&1 \
        || { cat "$log" >&2; exit 1; }
fi
python3 -m pip install -q --break-system-packages -r requirements-dev.txt >"$log" 2>&1 \
    || { cat "$log" >&2; exit 1; }
exec python3 scripts/run_tests.py "$@"
