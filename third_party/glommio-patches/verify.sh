#!/usr/bin/env bash
# Checks that third_party/glommio is exactly pristine glommio 0.9.0 from crates.io, minus
# the paths in trim.txt, plus the numbered patches in this directory applied in order.
# H2RING_PATCH.md (the series' documentation) is the one file not produced by the series.
#
# The pristine crate comes through cargo itself: a scratch project depending on
# `glommio = "=0.9.0"`, `cargo fetch` (checksum-verified against the registry index), then
# $CARGO_HOME/registry/src/*/glommio-0.9.0.
#
# Usage: verify.sh [--keep DIR]   (--keep: leave the rebuilt tree in DIR for inspection)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fork=$(cd "$here/../glommio" && pwd)
keep=
if [ "${1:-}" = "--keep" ]; then keep=${2:?--keep needs a directory}; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/glommio-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/fetch/src"
cat >"$tmp/fetch/Cargo.toml" <<'TOML'
[package]
name = "fetch-pristine-glommio"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
glommio = "=0.9.0"

[workspace]
TOML
: >"$tmp/fetch/src/lib.rs"
(cd "$tmp/fetch" && cargo fetch --quiet)

cargo_home=${CARGO_HOME:-$HOME/.cargo}
pristine=
for d in "$cargo_home"/registry/src/*/glommio-0.9.0; do
    if [ -f "$d/Cargo.toml" ]; then pristine=$d; break; fi
done
if [ -z "$pristine" ]; then
    echo "verify.sh: glommio-0.9.0 not found under $cargo_home/registry/src after cargo fetch" >&2
    exit 1
fi

tree="$tmp/glommio"
cp -a "$pristine" "$tree"
grep -v '^#' "$here/trim.txt" | while read -r path; do
    [ -n "$path" ] || continue
    [ -e "$tree/$path" ] || { echo "verify.sh: trim.txt names $path, absent upstream" >&2; exit 1; }
    rm -rf "${tree:?}/$path"
done

for p in "$here"/[0-9][0-9][0-9][0-9]-*.patch; do
    # git apply outside any repository behaves like patch(1) but also handles deletions;
    # it refuses a patch that does not apply exactly (no fuzz).
    if ! (cd "$tree" && GIT_CEILING_DIRECTORIES="$tmp" git apply --whitespace=nowarn "$p"); then
        echo "verify.sh: $(basename "$p") does not apply" >&2
        exit 1
    fi
done

if ! diff -r -x H2RING_PATCH.md "$tree" "$fork"; then
    echo "verify.sh: third_party/glommio differs from pristine glommio 0.9.0 + trim + patches" >&2
    echo "(regenerate the patch that owns the change, or add one, and document it in H2RING_PATCH.md)" >&2
    exit 1
fi
if [ -n "$keep" ]; then rm -rf "$keep" && cp -a "$tree" "$keep"; fi
echo "verify.sh: third_party/glommio = glommio 0.9.0 + trim + $(ls "$here"/[0-9]*.patch | wc -l) patches"
