#!/bin/sh
# Vendor the browser assets the pages use (no CDN at run time):
# - bpmn-js's navigated viewer (version pages), copied from the npm package;
# - the process studio (/admin/processes/new): the bpmn-js Modeler with the properties panel and
#   gradflow's own group (source in scripts/web/studio/), bundled with esbuild into one file.
# Run once when upgrading; the built files are committed under service/static/vendor/, so a fresh
# machine (and CI) needs no npm.
set -eu
BPMN_JS_VERSION="${BPMN_JS_VERSION:-18.31.1}"
PROPERTIES_PANEL_VERSION="${PROPERTIES_PANEL_VERSION:-5.65.3}"   # bpmn-js-properties-panel
PANEL_CORE_VERSION="${PANEL_CORE_VERSION:-3.55.0}"               # @bpmn-io/properties-panel
ESBUILD_VERSION="${ESBUILD_VERSION:-0.28.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/service/static/vendor/bpmn-js"
STUDIO="$ROOT/service/static/vendor/bpmn-studio"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# --- the viewer -------------------------------------------------------------------------------
npm pack --silent "bpmn-js@$BPMN_JS_VERSION" >/dev/null
tar xzf "bpmn-js-$BPMN_JS_VERSION.tgz"
mkdir -p "$DEST"
cp package/dist/bpmn-navigated-viewer.production.min.js "$DEST/"
cp package/dist/assets/bpmn-js.css package/dist/assets/diagram-js.css "$DEST/"
cp package/LICENSE "$DEST/LICENSE"
echo "$BPMN_JS_VERSION" > "$DEST/VERSION"
echo "vendored bpmn-js $BPMN_JS_VERSION into $DEST"

# --- the studio -------------------------------------------------------------------------------
mkdir build && cd build
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --save-exact \
  "bpmn-js@$BPMN_JS_VERSION" "bpmn-js-properties-panel@$PROPERTIES_PANEL_VERSION" \
  "@bpmn-io/properties-panel@$PANEL_CORE_VERSION" "esbuild@$ESBUILD_VERSION"
cp -R "$ROOT/scripts/web/studio" src
rm -rf "$STUDIO"
mkdir -p "$STUDIO/bpmn-font/css" "$STUDIO/bpmn-font/font"
node_modules/.bin/esbuild src/index.js --bundle --minify --format=iife --target=es2019 \
  --legal-comments=none --outfile="$STUDIO/process-studio.js"
cp node_modules/bpmn-js/dist/assets/bpmn-js.css node_modules/bpmn-js/dist/assets/diagram-js.css "$STUDIO/"
cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css "$STUDIO/"
# The icon font as files: the CSP (default-src 'self') refuses the data: URLs of bpmn-embedded.css.
cp node_modules/bpmn-js/dist/assets/bpmn-font/css/bpmn.css "$STUDIO/bpmn-font/css/"
cp node_modules/bpmn-js/dist/assets/bpmn-font/font/* "$STUDIO/bpmn-font/font/"
node -e '
// Every installed package (what the bundle may contain, esbuild aside) with its license text.
const fs = require("fs"), path = require("path");
const lock = require("./package-lock.json").packages;
let out = "Bundled from scripts/web/studio/ with esbuild " + process.argv[1] + ". Third-party licenses follow.\n";
for (const key of Object.keys(lock).sort()) {
  if (!key || key.includes("esbuild")) continue;
  const dir = key, meta = lock[key];
  const file = fs.readdirSync(dir).find(f => /^licen[cs]e/i.test(f));
  out += "\n==== " + key.replace(/^node_modules\//, "") + " " + meta.version + " (" + (meta.license || "?") + ") ====\n";
  out += file ? fs.readFileSync(path.join(dir, file), "utf8") : "(no license file in the package; license: " + (meta.license || "?") + ")\n";
}
fs.writeFileSync(process.argv[2], out);
' "$ESBUILD_VERSION" "$STUDIO/LICENSE"
node -e '
const l = require("./package-lock.json").packages;
for (const k of Object.keys(l).sort()) { if (k) console.log(k.replace(/^node_modules\//, "") + "@" + l[k].version); }
' > "$STUDIO/VERSION"
echo "built the process studio into $STUDIO (versions in VERSION)"
