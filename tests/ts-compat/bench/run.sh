#!/usr/bin/env bash
# filesync-livestore against @livestore-filesync/core 0.8.0 in one headless Chromium (see run.mjs):
# saves, hashing, package weight. Part of scripts/extended. Builds and installs what it needs
# (the package, this project's node_modules, the benchmark pages); sizes can be lowered:
#   BENCH_COUNT=300 BENCH_ROUNDS=1 BENCH_HASH_MIB=8,64 tests/ts-compat/bench/run.sh
#   BENCH_ONLY=saves|hash|weight    one part only
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TS_COMPAT_SETUP_ONLY=1 "$HERE/../run.sh"
cd "$HERE"
node -e "import('vite').then((vite) => vite.build({ configFile: 'vite.config.mjs' }))"
node run.mjs
