#!/usr/bin/env bash
# filesync-livestore against @livestore-filesync/core 0.8.0 in one headless Chromium (see run.mjs):
# saves, hashing, package weight, a large file saved and uploaded (large.mjs, against a release
# `filesync serve`: FILESYNC_BIN, default target/release/filesync). Part of scripts/extended. Builds and installs what it needs
# (the package, this project's node_modules, the benchmark pages); sizes can be lowered:
#   BENCH_COUNT=300 BENCH_ROUNDS=1 BENCH_HASH_MIB=8,64 tests/ts-compat/bench/run.sh
#   BENCH_ONLY=saves|hash|weight|large|startup    one part only (run.mjs takes saves|hash|weight)
#   BENCH_LARGE_MIB=64                        a smaller file for the large part
#   BENCH_STARTUP_FILES=20000                 a smaller store for the start-up part
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TS_COMPAT_SETUP_ONLY=1 "$HERE/../run.sh"
cd "$HERE"
node -e "import('vite').then((vite) => vite.build({ configFile: 'vite.config.mjs' }))"
case "${BENCH_ONLY:-}" in startup | large) ;; *) node run.mjs ;; esac
if [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = large ]; then
  FILESYNC_BIN="${FILESYNC_BIN:-$HERE/../../../target/release/filesync}" node large.mjs
fi
if [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = startup ]; then node startup.mjs; fi
