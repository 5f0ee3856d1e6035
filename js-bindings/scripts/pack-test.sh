#!/usr/bin/env bash
# Packaging test: `npm pack` the built package (run scripts/build.sh first), install the tarball into
# a fresh temporary project with LiveStore from the registry (npm's cache makes this quick after the
# workspace's own install), and run a smoke test there that imports the package from Node the way
# an app does (the root entry, ./schema and ./node) and saves and reads a file with a real store.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/filesync-pack.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

[ -f "$HERE/dist/index.js" ] || { echo "pack-test: build the package first (scripts/build.sh)" >&2; exit 1; }
tarball="$(cd "$HERE" && npm pack --silent --pack-destination "$WORK" | tail -n 1)"
echo "pack-test: $tarball ($(du -h "$WORK/$tarball" | cut -f1))"
tar -tzf "$WORK/$tarball" | grep -q 'package/dist/wasm/filesync_js_bg.wasm' ||
    { echo "pack-test: the tarball lacks the wasm file" >&2; exit 1; }

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
timeout 300 node --test smoke.test.mjs
