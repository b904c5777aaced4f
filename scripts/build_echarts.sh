#!/bin/sh
# Vendor Apache ECharts (the dashboard's charts) like bpmn-js (scripts/vendor_web_assets.sh):
# npm-install the package in a temporary directory and copy its prebuilt minified bundle and
# license. The copied files are committed under service/static/vendor/echarts/, so a fresh
# machine (and CI) needs no npm. Run again only to upgrade (ECHARTS_VERSION=… sh scripts/build_echarts.sh).
# CSP (script-src 'self'): the bundle calls new Function only to parse a GeoJSON map given as a
# string, which the dashboard never does; its charts render with no eval.
set -eu
ECHARTS_VERSION="${ECHARTS_VERSION:-6.1.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/service/static/vendor/echarts"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --save-exact "echarts@$ECHARTS_VERSION"
mkdir -p "$DEST"
cp node_modules/echarts/dist/echarts.min.js "$DEST/"
# The bundle contains zrender and tslib too: their license texts follow echarts' own.
{ cat node_modules/echarts/LICENSE
  for dep in zrender tslib; do
    printf '\n==== %s (bundled in echarts.min.js) ====\n' "$dep"
    cat "node_modules/$dep/LICENSE"* 2>/dev/null || echo "(no license file in the package)"
  done; } > "$DEST/LICENSE"
[ -f node_modules/echarts/NOTICE ] && cp node_modules/echarts/NOTICE "$DEST/NOTICE"
node -e '
const l = require("./package-lock.json").packages;
for (const k of Object.keys(l).sort()) { if (k) console.log(k.replace(/^node_modules\//, "") + "@" + l[k].version + " (" + (l[k].license || "?") + ")"); }
' > "$DEST/VERSION"
echo "vendored echarts $ECHARTS_VERSION into $DEST"
