#!/usr/bin/env bash
# Builds the npm package into js-bindings/dist/:
#   1. the engine for wasm32 (cargo, profile wasm-package: release for size), then wasm-bindgen
#      --target web into ts/wasm/, then wasm-opt -Oz (binaryen, from the root npm workspace)
#   2. the TypeScript (tsc) into dist/, and the wasm glue copied next to it (dist/wasm/)
#
#   scripts/build.sh           optimized build (what `npm pack` ships)
#   FILESYNC_JS_PROFILE=dev    a debug build of the engine (faster to build, larger, slower)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PROFILE="${FILESYNC_JS_PROFILE:-release}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { echo "js-bindings/build: $*"; }

# The root npm workspace (TypeScript, binaryen's wasm-opt), installed from its lock file when it is
# missing or older than the lock.
if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    (cd "$ROOT" && npm ci --no-audit --no-fund)
fi

if [ "$PROFILE" = "release" ]; then
    # The workspace's wasm-package profile: release, optimized for size (see Cargo.toml).
    (cd "$ROOT" && cargo build -q --profile wasm-package --target wasm32-unknown-unknown -p filesync-js)
    WASM="$TARGET_DIR/wasm32-unknown-unknown/wasm-package/filesync_js.wasm"
else
    (cd "$ROOT" && cargo build -q --target wasm32-unknown-unknown -p filesync-js)
    WASM="$TARGET_DIR/wasm32-unknown-unknown/debug/filesync_js.wasm"
fi

rm -rf "$HERE/ts/wasm" "$HERE/dist"
wasm-bindgen --target web --out-dir "$HERE/ts/wasm" --out-name filesync_js "$WASM"
if [ "$PROFILE" = "release" ]; then
    # binaryen's wasm-opt (the npm package in the root workspace): about 30 % smaller again, with
    # the features rustc's wasm32 output uses.
    OPT="$ROOT/node_modules/.bin/wasm-opt"
    "$OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$HERE/ts/wasm/filesync_js_bg.wasm" -o "$HERE/ts/wasm/filesync_js_bg.wasm"
fi
say "wasm: $(du -h "$HERE/ts/wasm/filesync_js_bg.wasm" | cut -f1)"

(cd "$HERE" && npx --no-install tsc -p tsconfig.json)
mkdir -p "$HERE/dist/wasm"
cp "$HERE/ts/wasm/filesync_js.js" "$HERE/ts/wasm/filesync_js.d.ts" "$HERE/ts/wasm/filesync_js_bg.wasm" "$HERE/dist/wasm/"
say "built $HERE/dist"
