#!/usr/bin/env bash
# Browser libraries from the committed npm lock file (package-lock.json) into
# src/livebase/web/static/vendor/, which git ignores. Runs `npm ci` only when the lock file
# changed since the last copy. Nothing here is fetched at run time: the app serves the files.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=src/livebase/web/static/vendor
stamp="$vendor/.lock-$(sha1sum package-lock.json | cut -c1-12)"
[ -f "$stamp" ] && exit 0
if ! command -v npm >/dev/null; then
  echo "npm is missing: install it (apt-get install npm) to get hls.js, uPlot and jsQR" >&2
  exit 1
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
rm -rf "$vendor" && mkdir -p "$vendor"
cp node_modules/hls.js/dist/hls.min.js "$vendor/hls.min.js"
cp node_modules/uplot/dist/uPlot.iife.min.js "$vendor/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$vendor/uPlot.min.css"
cp node_modules/jsqr/dist/jsQR.js "$vendor/jsQR.js"
touch "$stamp"
