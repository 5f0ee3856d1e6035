#!/usr/bin/env bash
# Runs the TypeScript-client compatibility test (compat.test.mjs) against OUR server.
#
#   tests/ts-compat/run.sh            build + start `filesync serve` on 127.0.0.1:0, run the test, stop it
#   FILESYNC_URL=... FILESYNC_TOKEN=... tests/ts-compat/run.sh
#                                     use an already running server instead
#
# Lines marked  [CLI]  depend on the final `filesync serve` flags / start-up output
# (written against DESIGN.md §6 "zero-config start" before the CLI existed).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

# 1. The npm project (exact pins in package-lock.json; no install scripts are needed).
if [ ! -d "$HERE/node_modules/@livestore-filesync/core" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

run_test() {
  cd "$HERE"
  # The test has its own per-test timeouts; this outer bound keeps a hung run from living forever.
  timeout 600 node --test compat.test.mjs
}

if [ -n "${FILESYNC_URL:-}" ] && [ -n "${FILESYNC_TOKEN:-}" ]; then
  run_test
  exit $?
fi

# 2. Build our server first so that start-up below is quick.
(cd "$ROOT" && cargo build -q -p filesync-cli)

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

# 3. Start the server: loopback only, random port, throwaway data dir.
# (`cargo run` execs the binary on Unix, so $! is the server itself.)
cd "$ROOT"
cargo run -q -p filesync-cli -- serve \
  --listen 127.0.0.1:0 \
  --data-dir "$WORK/data" \
  >"$LOG" 2>&1 &                                                  # [CLI] flag names: --listen, --data-dir
SERVER_PID=$!

# 4. Wait for the start-up banner: it must print the listening URL and the development token.
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
echo "run.sh: testing against $FILESYNC_URL"

status=0
run_test || status=$?
if [ "$status" -ne 0 ]; then
  echo "run.sh: server output:" >&2
  cat "$LOG" >&2
fi
exit "$status"
