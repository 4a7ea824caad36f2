#!/usr/bin/env bash
# Proof that every dependent of h2ring gets the glommio fork: a scratch crate outside this
# workspace depends on h2ring by path and is built; its dependency tree must hold
# `h2ring-glommio` (third_party/glommio) and no `glommio` package from a registry.
#
# A `[patch.crates-io]` in the workspace root reaches only this workspace, so if h2ring's
# glommio dependency went back to `glommio = "0.9"` patched there, the scratch crate would
# get registry glommio 0.9.0 (none of the fork's changes) and this check fails.
#
# The scratch crate starts from the workspace's Cargo.lock (same versions, nothing new to
# download) and builds into the workspace's target directory, so after the workspace's own
# build it reuses h2ring's and glommio's artifacts and takes seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/h2ring-fork-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

crate="$tmp/consumer"
mkdir -p "$crate/src"
cat >"$crate/Cargo.toml" <<TOML
[package]
name = "h2ring-fork-dependency-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
h2ring = { path = "$root/crates/app" }

# Its own workspace: nothing of h2ring's root manifest ([patch], profiles) applies.
[workspace]
TOML
cat >"$crate/src/lib.rs" <<'RS'
//! Depends on h2ring (and so on whatever glommio it brings); names no API of it, so the
//! check does not change when h2ring's API does.
pub use h2ring;
RS
cp "$root/Cargo.lock" "$crate/Cargo.lock"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
cargo build --quiet --manifest-path "$crate/Cargo.toml"

tree=$(cargo tree --manifest-path "$crate/Cargo.toml" -e normal,build --prefix none --format '{p}')
fork=$(grep -E "^h2ring-glommio v[^ ]+ \(${root}/third_party/glommio\)" <<<"$tree" | sort -u || true)
registry=$(grep -E '^glommio v' <<<"$tree" | sort -u || true)
if [ -z "$fork" ]; then
    echo "check-fork-dependency: h2ring's dependents do not get the fork (no h2ring-glommio from third_party/glommio):" >&2
    grep -iE 'glommio' <<<"$tree" | sort -u >&2 || true
    exit 1
fi
if [ -n "$registry" ]; then
    echo "check-fork-dependency: a crate depending on h2ring gets registry glommio:" >&2
    echo "$registry" >&2
    exit 1
fi
echo "check-fork-dependency: a crate depending on h2ring builds against $fork"
