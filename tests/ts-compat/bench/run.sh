#!/usr/bin/env bash
# filesync-livestore against @livestore-filesync/core 0.8.0 in one headless Chromium (see run.mjs):
# saves, hashing, package weight. Part of scripts/extended. Builds and installs what it needs
# (the package, this project's node_modules, the benchmark pages); sizes can be lowered:
#   BENCH_COUNT=300 BENCH_ROUNDS=1 BENCH_HASH_MIB=8,64 tests/ts-compat/bench/run.sh
#   BENCH_ONLY=saves|hash|weight|startup    one part only
#   BENCH_STARTUP_FILES=20000                 a smaller store for the start-up part
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TS_COMPAT_SETUP_ONLY=1 "$HERE/../run.sh"
cd "$HERE"
node -e "import('vite').then((vite) => vite.build({ configFile: 'vite.config.mjs' }))"
if [ "${BENCH_ONLY:-}" != startup ]; then node run.mjs; fi
if [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = startup ]; then node startup.mjs; fi
