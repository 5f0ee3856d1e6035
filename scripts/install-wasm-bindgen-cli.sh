#!/usr/bin/env bash
# Installs wasm-bindgen-cli (wasm-bindgen, wasm-bindgen-test-runner, wasm2es6js) at exactly the
# version of the `wasm-bindgen` crate in the workspace Cargo.lock, built with the dependency lock
# kept in tools/wasm-bindgen-cli/Cargo.lock (so a new release of one of its dependencies can never
# break the install). Does nothing when the right version is already on PATH.
#
#   scripts/install-wasm-bindgen-cli.sh               install (or skip) as described above
#   scripts/install-wasm-bindgen-cli.sh --update-lock rewrite tools/wasm-bindgen-cli/Cargo.lock for the
#                                                     version in Cargo.lock (after a wasm-bindgen upgrade)
#
# Why a lock of our own: `cargo install wasm-bindgen-cli --locked` uses the lock published with the
# crate, which (for 0.2.130) pins `webpki-roots 1.0.11`, a version the registry does not serve; without
# `--locked`, every install resolves the newest dependencies, so one release needing a newer rustc
# breaks CI. Our lock is the published one with `webpki-roots` moved to 1.0.10.
#
# How: a throwaway Cargo project that depends on `wasm-bindgen-cli = "=X"`, seeded with our lock,
# runs `cargo fetch`; that downloads the crate (and its locked dependencies) through cargo's own
# registry client into $CARGO_HOME/registry/cache. We unpack that .crate into a temporary directory,
# put our lock next to its Cargo.toml and run `cargo install --path <dir> --locked`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK_DIR="$ROOT/tools/wasm-bindgen-cli"
OUR_LOCK="$LOCK_DIR/Cargo.lock"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"

die() {
    echo "install-wasm-bindgen-cli: error: $*" >&2
    exit 1
}
say() { echo "install-wasm-bindgen-cli: $*" >&2; }

mode=install
case "${1:-}" in
    "") ;;
    --update-lock) mode=update-lock ;;
    -h | --help)
        sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument '$1' (use --update-lock or no argument)" ;;
esac

command -v cargo >/dev/null 2>&1 || die "cargo is not on PATH; install Rust with rustup (https://rustup.rs) first"

# The version of the crate `$1` in the lock file `$2` (empty when absent).
locked_version() {
    awk -v want="$1" '
        $0 == "[[package]]" { name = "" }
        $1 == "name" && $2 == "=" { gsub(/"/, "", $3); name = $3 }
        $1 == "version" && $2 == "=" && name == want { gsub(/"/, "", $3); print $3; exit }
    ' "$2"
}

[ -f "$ROOT/Cargo.lock" ] || die "$ROOT/Cargo.lock is missing; run 'cargo generate-lockfile' in $ROOT"
VERSION="$(locked_version wasm-bindgen "$ROOT/Cargo.lock")"
[ -n "$VERSION" ] || die "no 'wasm-bindgen' package in $ROOT/Cargo.lock (does the workspace still depend on wasm-bindgen?)"

# Version printed by `$1 --version` ("wasm-bindgen 0.2.130" -> "0.2.130"), empty when not installed.
installed_version() {
    command -v "$1" >/dev/null 2>&1 || return 0
    "$1" --version 2>/dev/null | awk '{ print $2; exit }'
}

if [ "$mode" = install ] &&
    [ "$(installed_version wasm-bindgen)" = "$VERSION" ] &&
    [ "$(installed_version wasm-bindgen-test-runner)" = "$VERSION" ]; then
    say "wasm-bindgen-cli $VERSION already installed ($(command -v wasm-bindgen)); nothing to do"
    exit 0
fi

if [ "$mode" = install ]; then
    [ -f "$OUR_LOCK" ] || die "$OUR_LOCK is missing; create it with: scripts/install-wasm-bindgen-cli.sh --update-lock"
    LOCK_VERSION="$(locked_version wasm-bindgen-cli "$OUR_LOCK")"
    [ "$LOCK_VERSION" = "$VERSION" ] || die "Cargo.lock has wasm-bindgen $VERSION but $OUR_LOCK is for wasm-bindgen-cli ${LOCK_VERSION:-<none>}.
Regenerate it with: scripts/install-wasm-bindgen-cli.sh --update-lock   (then commit tools/wasm-bindgen-cli/Cargo.lock)"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wasm-bindgen-cli.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# 1. Download the crate through cargo (the registry client, checksum-verified).
say "downloading wasm-bindgen-cli $VERSION through cargo"
mkdir -p "$WORK/fetch/src"
: >"$WORK/fetch/src/lib.rs"
cat >"$WORK/fetch/Cargo.toml" <<EOF
[package]
name = "wasm-bindgen-cli-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wasm-bindgen-cli = "=$VERSION"

[workspace]
EOF
if [ "$mode" = install ]; then
    # Seeding with our lock makes cargo keep its pins (it only adds the throwaway root package).
    cp "$OUR_LOCK" "$WORK/fetch/Cargo.lock"
fi
(cd "$WORK/fetch" && cargo fetch --quiet) ||
    die "'cargo fetch' of wasm-bindgen-cli $VERSION failed (is the crate registry reachable?)"

CRATE=""
for candidate in "$CARGO_HOME"/registry/cache/*/"wasm-bindgen-cli-$VERSION.crate"; do
    if [ -f "$candidate" ]; then
        CRATE="$candidate"
        break
    fi
done
[ -n "$CRATE" ] || die "cargo fetch succeeded but no wasm-bindgen-cli-$VERSION.crate under $CARGO_HOME/registry/cache"
tar -xzf "$CRATE" -C "$WORK"
SRC="$WORK/wasm-bindgen-cli-$VERSION"
[ -f "$SRC/Cargo.toml" ] || die "unpacking $CRATE did not give $SRC/Cargo.toml"

if [ "$mode" = update-lock ]; then
    # 2'. Start from the lock published with the crate and check that it resolves from the registry.
    [ -f "$SRC/Cargo.lock" ] || die "the published crate has no Cargo.lock; make one in $SRC by hand"
    if (cd "$SRC" && cargo fetch --locked --quiet); then
        mkdir -p "$LOCK_DIR"
        cp "$SRC/Cargo.lock" "$OUR_LOCK"
        say "wrote $OUR_LOCK (the lock published with wasm-bindgen-cli $VERSION resolves as is); commit it"
        exit 0
    fi
    KEEP="${TMPDIR:-/tmp}/wasm-bindgen-cli-$VERSION-src"
    rm -rf "$KEEP"
    cp -r "$SRC" "$KEEP"
    die "the lock published with wasm-bindgen-cli $VERSION does not resolve (see the cargo error above).
Pin the offending crate to a version the registry has, e.g. for 0.2.130:
    cd $KEEP && cargo update -p webpki-roots --precise 1.0.10 && cargo fetch --locked
then copy $KEEP/Cargo.lock to $OUR_LOCK and commit it."
fi

# 2. Build and install with our lock. Run from $WORK so no project .cargo/config.toml applies, and use
#    a private target dir so nothing lands in the workspace's target/.
cp "$OUR_LOCK" "$SRC/Cargo.lock"
say "building wasm-bindgen-cli $VERSION with $OUR_LOCK (takes a few minutes)"
(cd "$WORK" && cargo install --path "$SRC" --locked --force --target-dir "$WORK/target") ||
    die "building wasm-bindgen-cli $VERSION failed (see the cargo output above)"

for bin in wasm-bindgen wasm-bindgen-test-runner; do
    got="$(installed_version "$bin")"
    [ "$got" = "$VERSION" ] || die "after the install, '$bin --version' reports '${got:-nothing}', not $VERSION.
Is $CARGO_HOME/bin on PATH, ahead of any other $bin? (PATH=$PATH)"
done
say "installed wasm-bindgen-cli $VERSION in $CARGO_HOME/bin"
