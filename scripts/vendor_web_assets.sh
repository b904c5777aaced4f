#!/bin/sh
# Vendor the browser assets the pages use (no CDN at run time): bpmn-js's navigated viewer.
# Run once when upgrading; the copied files are committed under service/static/vendor/.
set -eu
BPMN_JS_VERSION="${BPMN_JS_VERSION:-18.31.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/service/static/vendor/bpmn-js"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "bpmn-js@$BPMN_JS_VERSION" >/dev/null
tar xzf "bpmn-js-$BPMN_JS_VERSION.tgz"
mkdir -p "$DEST"
cp package/dist/bpmn-navigated-viewer.production.min.js "$DEST/"
cp package/dist/assets/bpmn-js.css package/dist/assets/diagram-js.css "$DEST/"
cp package/LICENSE "$DEST/LICENSE"
echo "$BPMN_JS_VERSION" > "$DEST/VERSION"
echo "vendored bpmn-js $BPMN_JS_VERSION into $DEST"
