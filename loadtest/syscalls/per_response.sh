#!/usr/bin/env bash
# Syscalls per 1 MiB static-file response: the server (one core, pinned to core 0) runs
# under `strace -f -c` while h2load (pinned to core 1) fetches the file N times; the
# summary's counts divided by N. File reads done through io_uring are SQEs, not syscalls:
# they show only as `io_uring_enter` calls.
#
# usage: per_response.sh H2RING_BINARY [N] [PORT]
set -euo pipefail
bin="$1"; n="${2:-2000}"; port="${3:-28931}"
command -v strace >/dev/null && command -v h2load >/dev/null || {
    echo "needs strace and h2load (apt-get install -y strace nghttp2-client)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -c $((1 << 20)) /dev/urandom > "$work/1m.bin"
taskset -c 0 strace -f -c -o "$work/strace.txt" \
    "$bin" --root "$work" --cores 0-0 --listen "127.0.0.1:$port" --log error &
tracer=$!
for _ in $(seq 100); do
    kill -0 "$tracer" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
    curl -s -o /dev/null "http://127.0.0.1:$port/1m.bin" && break
    sleep 0.1
done
# One warm-up response is in the counts as well: N + 1 responses in all.
taskset -c 1 h2load -c 8 -m 4 -n "$n" "http://127.0.0.1:$port/1m.bin" | grep -E "^requests:" >&2
kill -INT "$(pgrep -P "$tracer")"
wait "$tracer" || true
# strace -c columns: % time, seconds, usecs/call, calls, [errors], syscall.
awk -v n="$((n + 1))" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
    printf "%-20s %10d calls  %8.2f per response\n", $NF, $4, $4 / n }' "$work/strace.txt" |
    sort -k4 -n -r | head -20
