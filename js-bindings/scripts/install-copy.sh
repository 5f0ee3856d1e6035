#!/usr/bin/env bash
# Installs (npm ci) an npm project that depends on the built package as a copy
# ("filesync-livestore": "file:../../js-bindings" with .npmrc install-links=true, as an app would
# get it), when that is needed: its node_modules lacks MARKER (a package it depends on), its lock
# file changed, or the built package changed since (a stamp of dist/, package.json and README.md is
# kept in node_modules). Build the package first (scripts/build.sh).
#
#   js-bindings/scripts/install-copy.sh PROJECT_DIR MARKER
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: install-copy.sh PROJECT_DIR MARKER (e.g. tests/ts-compat @livestore-filesync/core)" >&2; exit 2; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$(cd "$1" && pwd)"
MARKER="$2"
[ -f "$HERE/dist/index.js" ] || { echo "install-copy: build the package first (js-bindings/scripts/build.sh)" >&2; exit 1; }

stamp="$( (cd "$HERE" && find dist package.json README.md -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)"
stamp_file="$PROJECT/node_modules/.filesync-livestore.stamp"
if [ ! -d "$PROJECT/node_modules/$MARKER" ] || [ ! -f "$stamp_file" ] ||
  [ "$(cat "$stamp_file")" != "$stamp" ] || [ "$PROJECT/package-lock.json" -nt "$stamp_file" ]; then
  (cd "$PROJECT" && npm ci --no-audit --no-fund --prefer-offline)
  echo "$stamp" >"$stamp_file"
fi
