#!/usr/bin/env bash
# The npm package's tests: builds the package (scripts/build.sh: installs the workspace's npm
# dependencies when needed, then the optimized wasm and the TypeScript) and the browser test app (vite), then runs its tests under Node (real LiveStore
# stores, `filesync serve` on loopback; test/browser.test.mjs drives the app in headless Chromium
# through playwright-core: CHROMIUM, default /usr/bin/chromium), then
# the packaging test (scripts/pack-test.sh: npm pack, install into a fresh project, smoke test).
#
# Needs Node 20+, and the `filesync` binary (target/debug/filesync; built here when missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

[ -x "$TARGET_DIR/debug/filesync" ] || (cd "$ROOT" && cargo build -q -p filesync-cli)
"$HERE/scripts/build.sh"
cd "$HERE"
# The browser test app (test/browser.test.mjs drives it in Chromium).
npx --no-install vite build --config test/browser/vite.config.mjs --logLevel error
export FILESYNC_BIN="${FILESYNC_BIN:-$TARGET_DIR/debug/filesync}"
status=0
timeout 900 node --test --test-concurrency=1 test/*.test.mjs || status=$?
"$HERE/scripts/pack-test.sh" || status=$?
exit "$status"
