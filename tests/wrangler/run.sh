#!/usr/bin/env bash
# Extended-tier tests that run Cloudflare workers locally with `wrangler dev` (not part of CI: wrangler
# and workerd are a large install). Each test file starts its own worker(s) on 127.0.0.1 and stops them:
#
#   sync.test.mjs     two LiveStore stores linked by @livestore/sync-cf's Durable Object (sync-worker/),
#                     each with a filesync-livestore engine and our server (`filesync serve`) as remote
#   r2.test.mjs       filesync-livestore against @livestore-filesync/r2's signer worker (r2-worker/)
#                     with a local R2 bucket
#   NOTES.md          what the tests found (a LiveStore sync stall; how the r2 signer differs from ours)
#   diagnose-stall.mjs not a test: reproduces that stall with every WebSocket frame recorded
#
#   tests/wrangler/run.sh                       build the server and the package, install, run
#   FILESYNC_PREBUILT=1 tests/wrangler/run.sh   use js-bindings/dist and FILESYNC_BIN (default
#                                               target/debug/filesync) as they are
#
# This folder is its own npm project (exact pins, package-lock.json); the package is installed as a
# copy of js-bindings/ (.npmrc install-links=true), reinstalled when its dist/ changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export FILESYNC_BIN="${FILESYNC_BIN:-$TARGET_DIR/debug/filesync}"

say() { echo "wrangler-tests: $*"; }

# 1. Our server and our package.
if [ -z "${FILESYNC_PREBUILT:-}" ]; then
  (cd "$ROOT" && cargo build -q -p filesync-cli)
  "$ROOT/js-bindings/scripts/build.sh"
fi
[ -x "$FILESYNC_BIN" ] || { echo "run.sh: no filesync binary at $FILESYNC_BIN" >&2; exit 1; }
[ -f "$ROOT/js-bindings/dist/index.js" ] || { echo "run.sh: js-bindings/dist is not built (run js-bindings/scripts/build.sh, or drop FILESYNC_PREBUILT)" >&2; exit 1; }

# 2. This npm project, reinstalled when the lock file or the built package changed.
"$ROOT/js-bindings/scripts/install-copy.sh" "$HERE" wrangler

# 3. The package's own test helpers (real stores, `filesync serve`), copied so that their imports
#    resolve in this project.
rm -rf "$HERE/.js-support"
mkdir -p "$HERE/.js-support"
cp "$ROOT/js-bindings/test/support/store.mjs" "$ROOT/js-bindings/test/support/server.mjs" "$HERE/.js-support/"

# 4. The tests. Node 20 has no global WebSocket without the flag (LiveStore's WebSocket client needs
#    one). Each wait inside has its own timeout; the outer bound keeps a hung run from living forever.
cd "$HERE"
export WRANGLER_PID_DIR="$(mktemp -d)"
cleanup() {
  # A test process killed hard leaves its wrangler (own process group) behind: end those groups.
  for f in "$WRANGLER_PID_DIR"/*; do
    [ -e "$f" ] || continue
    kill -KILL -- "-$(basename "$f")" 2>/dev/null || true
    state_dir="$(cat "$f")"
    case "$state_dir" in */filesync-wrangler-*) rm -rf "$state_dir" ;; esac
  done
  rm -rf "$WRANGLER_PID_DIR"
}
trap cleanup EXIT
say "running with FILESYNC_BIN=$FILESYNC_BIN"
export WRANGLER_SEND_METRICS=false
timeout --kill-after=20 "${WRANGLER_TESTS_TIMEOUT:-600}" \
  node --experimental-websocket --test --test-concurrency=1 ${WRANGLER_TESTS:-*.test.mjs}
