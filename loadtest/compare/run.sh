#!/usr/bin/env bash
# One command, every peer, one run: installs h2o, nginx and nghttpd (apt) if missing,
# builds h2ring, h2ring-loadtest and the hyper peer in release mode, raises the open-file
# limit for the 10,000-connection profile, then runs compare.py (arguments pass through,
# e.g. --rounds 3 --duration 5, --profiles small,latency --no-docs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

need=()
command -v h2o >/dev/null || need+=(h2o)
command -v nginx >/dev/null || need+=(nginx)
command -v nghttpd >/dev/null || need+=(nghttp2-server)
command -v h2load >/dev/null || need+=(nghttp2-client)
command -v openssl >/dev/null || need+=(openssl)
command -v taskset >/dev/null || need+=(util-linux)
if [ "${#need[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
if [ "$(nproc)" -lt 2 ]; then
    echo "compare: needs 2 cores (server on core 0, load tools on core 1)" >&2
    exit 1
fi

cd "$repo"
cargo build --release -p h2ring -p h2ring-loadtest
cargo build --release --manifest-path "$here/hyper-peer/Cargo.toml"

# 10,000 idle connections on each side of loopback, plus slack.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt 25000 ]; then
    ulimit -n 65536 2>/dev/null || echo "compare: open-file limit $(ulimit -n); the idle profile may fall short" >&2
fi

exec python3 "$here/compare.py" "$@"
