#!/usr/bin/env bash
# Entry point of the compose "tests" service. The official odoo:18.0 image (Ubuntu noble) has
# Odoo and wkhtmltopdf. Its `apt-get install chromium` is only a stub for the snap, which does
# not run in a container, so the browser is Google Chrome stable from Google's apt repository
# (what Odoo's own CI uses); then the test packages and the README test command.
set -euo pipefail
log=$(mktemp)
if ! command -v google-chrome >/dev/null; then
    {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl gnupg make
        curl -fsSL https://dl.google.com/linux/linux_signing_key.pub | gpg --dearmor --yes -o /usr/share/keyrings/google-chrome.gpg
        echo "deb [arch=amd64 signed-by=/usr/share/keyrings/google-chrome.gpg] https://dl.google.com/linux/chrome/deb/ stable main" \
            > /etc/apt/sources.list.d/google-chrome.list
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq google-chrome-stable
    } >"$log" 2>&1 || { cat "$log" >&2; echo "tests: could not install Google Chrome stable" >&2; exit 1; }
fi
python3 -m pip install -q --break-system-packages -r requirements-dev.txt >"$log" 2>&1 \
    || { cat "$log" >&2; exit 1; }
exec python3 scripts/run_tests.py "$@"
