#!/usr/bin/env bash
# Server CPU time per 1 MiB static-file response: the server (one core, pinned to core 0)
# serves a 1 MiB file to `h2load -c 8 -m 4 -n N` (pinned to core 1); utime + stime of the
# server process from /proc/PID/stat before and after, divided by N. Alternate binaries
# in one sitting (A B A B) on a shared machine and compare them, not absolute figures.
#
# usage: cpu_per_response.sh H2RING_BINARY [N] [PORT]
set -euo pipefail
bin="$1"; n="${2:-3000}"; port="${3:-28941}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -c $((1 << 20)) /dev/urandom > "$work/1m.bin"
taskset -c 0 "$bin" --root "$work" --cores 0-0 --listen "127.0.0.1:$port" --log error &
pid=$!
for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
    curl -s -o /dev/null "http://127.0.0.1:$port/1m.bin" && break
    sleep 0.1
done
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
before=$(cpu)
rate=$(taskset -c 1 h2load -c 8 -m 4 -n "$n" "http://127.0.0.1:$port/1m.bin" |
    awk '/^finished/ { print $4, $5 }')
after=$(cpu)
kill -INT "$pid"
wait "$pid" 2>/dev/null || true
ticks=$(getconf CLK_TCK)
echo "$(basename "$bin"): $rate server CPU $(( (after - before) * 1000000 / ticks / n )) us per response"
