#!/usr/bin/env bash
# Compatibility tests against @livestore-filesync/core 0.8.0, on the LiveStore release it pins
# (0.4.0-dev.23), with OUR server and OUR npm package (filesync-livestore, installed here from
# js-bindings/ the way an app installs it):
#
#   compat.test.mjs         0.8.0's own signer client against our server
#   wire-format.test.mjs    a 0.8.0-schema store and an our-schema store, linked by sync: events and
#                           rows in both directions; our additions invisible to 0.8.0
#   mixed-clients.test.mjs  a 0.8.0 client and ours on one store: what either saves, the other
#                           downloads and verifies
#   upgrade.test.mjs        a 0.8.0 app's store and files taken over in place by our package
#   process-exit.test.mjs   a Node app exits promptly after dispose() (engine timers are cleared)
#   .package-tests/         our package's own Node tests (js-bindings/test/*.test.mjs), copied here
#                           so they run on dev.23: the lower end of the package's peer range
#
#   tests/ts-compat/run.sh            build, start `filesync serve` on 127.0.0.1:0, run, stop it
#   FILESYNC_URL=... FILESYNC_TOKEN=... tests/ts-compat/run.sh
#                                     the 0.8.0 tests use an already running server instead
#
# Builds what it needs: the `filesync` binary and the npm package (js-bindings/scripts/build.sh:
# release wasm + tsc, with the root npm workspace's TypeScript, installed when missing). Lines
# marked [CLI] depend on the `filesync serve` flags / start-up output.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { echo "ts-compat: $*"; }

# 1. Our server and our package. The package is built before `npm ci` here: its dependency is
#    "file:../../js-bindings", installed as a copy (.npmrc install-links=true: what `npm pack`
#    ships, no symlink), so it resolves @livestore/* from THIS project (dev.23), not from the root
#    workspace (0.4.0).
(cd "$ROOT" && cargo build -q -p filesync-cli)
"$ROOT/js-bindings/scripts/build.sh"

# 2. This npm project (exact pins in package-lock.json, overrides hold every @livestore/* package
#    at 0.4.0-dev.23; no install scripts are needed). Reinstalled when the lock or the built
#    package changed.
"$ROOT/js-bindings/scripts/install-copy.sh" "$HERE" @livestore-filesync/core

# bench/run.sh stops here: it needs the built package installed, not the tests or the server.
if [ -n "${TS_COMPAT_SETUP_ONLY:-}" ]; then exit 0; fi

# 3. Our package's own Node tests, copied here so that their imports resolve to this project (the
#    browser tests drive pages built against the workspace's LiveStore, and the journal test
#    imports the built glue by path; they stay there).
rm -rf "$HERE/.package-tests"
mkdir -p "$HERE/.package-tests"
cp -r "$ROOT/js-bindings/test/support" "$HERE/.package-tests/"
for t in "$ROOT"/js-bindings/test/*.test.mjs; do
  case "$(basename "$t")" in browser.test.mjs | frameworks.test.mjs | large-files.test.mjs | journal.test.mjs) ;; *) cp "$t" "$HERE/.package-tests/" ;; esac
done
export FILESYNC_BIN="${FILESYNC_BIN:-$TARGET_DIR/debug/filesync}"

run_test() {
  cd "$HERE"
  # The tests have their own timeouts; the outer bound keeps a hung run from living forever.
  timeout 600 node --test --test-concurrency=1 \
    compat.test.mjs wire-format.test.mjs mixed-clients.test.mjs upgrade.test.mjs process-exit.test.mjs \
    .package-tests/*.test.mjs
}

if [ -n "${FILESYNC_URL:-}" ] && [ -n "${FILESYNC_TOKEN:-}" ]; then
  run_test
  exit $?
fi

WORK="$(mktemp -d)"
LOG="$WORK/serve.log"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# 4. Start the server: loopback only, random port, throwaway data dir.
"$FILESYNC_BIN" serve \
  --listen 127.0.0.1:0 \
  --data-dir "$WORK/data" \
  >"$LOG" 2>&1 &                                                  # [CLI] flag names: --listen, --data-dir
SERVER_PID=$!

# 5. Wait for the start-up banner: it must print the listening URL and the development token.
ORIGIN=""
TOKEN=""
for _ in $(seq 1 600); do                                         # up to 60 s
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run.sh: filesync serve exited early; its output:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  # [CLI] the first http://127.0.0.1:PORT in the output is taken as the server's origin
  ORIGIN="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$LOG" | head -n1 || true)"
  # [CLI] the token is the last word of the first line that mentions "token"
  TOKEN="$(grep -iE 'token' "$LOG" | head -n1 | awk '{print $NF}' || true)"
  if [ -n "$ORIGIN" ] && [ -n "$TOKEN" ]; then break; fi
  sleep 0.1
done
if [ -z "$ORIGIN" ] || [ -z "$TOKEN" ]; then
  echo "run.sh: could not find the URL and development token in the output of filesync serve:" >&2
  cat "$LOG" >&2
  exit 1
fi

# [CLI] signer base path: DESIGN.md §6 default "/api"
export FILESYNC_URL="${ORIGIN}/api"
export FILESYNC_TOKEN="$TOKEN"
say "testing against $FILESYNC_URL"

status=0
run_test || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: server output:" >&2
  cat "$LOG" >&2
fi
exit "$status"
