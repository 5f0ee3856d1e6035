#!/usr/bin/env bash
# The example app's end-to-end tests (gallery.test.mjs): checks the app's TypeScript (strict) and
# builds it (the npm package must be
# built: js-bindings/scripts/build.sh, which scripts/test runs before), then runs the tests in
# headless Chromium (CHROMIUM, default /usr/bin/chromium) against `filesync serve` (FILESYNC_BIN,
# default target/debug/filesync, built when missing) and `wrangler dev`. Arguments go to `node --test`
# (e.g. --test-name-pattern="MiB file"); GALLERY_LARGE_MIB sets the large file's size (default 64).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
[ -x "$TARGET_DIR/debug/filesync" ] || (cd "$ROOT" && cargo build -q -p filesync-cli)
[ -f "$ROOT/js-bindings/dist/index.js" ] || "$ROOT/js-bindings/scripts/build.sh"
cd "$HERE"
npx --no-install tsc -p tsconfig.json # the app's TypeScript, strict
npx --no-install vite build --logLevel error
export FILESYNC_BIN="${FILESYNC_BIN:-$TARGET_DIR/debug/filesync}"
timeout 1800 node --test --test-concurrency=1 "$@" e2e/*.test.mjs
