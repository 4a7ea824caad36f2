#!/bin/bash
# Cost of the access log on small GETs: paired, alternating rounds of `h2ring --cores 1`
# pinned to core 0 with the log off and on (written to a file under LOGDIR), the load on
# core 1: h2load (TOOL=h2load, the default) or h2ring-loadtest (TOOL=loadtest).
# Build first: cargo build --release -p h2ring --bin h2ring -p h2ring-loadtest.
# One line per run: round mode req/s server-CPU-s server-req/CPU-s log-lines
#   writer-cpu S core-req/CPU-s R   (R: requests per CPU-second of the process less the
#   writer thread), then the median on/off ratios with their range.
# Env: ROUNDS (6), FORMAT (combined), TOOL, LOGDIR (a temp dir), PORT (18500).
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/h2ring}
LOADTEST=${LOADTEST:-target/release/h2ring-loadtest}
ROUNDS=${ROUNDS:-6}
FORMAT=${FORMAT:-combined}
TOOL=${TOOL:-h2load}
LOGDIR=${LOGDIR:-$(mktemp -d)}
PORT=${PORT:-18500}
RESULTS=$LOGDIR/results.txt
: > "$RESULTS"
tick=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
one() {
  local mode=$1 round=$2 args=() log=$LOGDIR/access.log out rps done_ writer=0
  rm -f "$log"
  [ "$mode" = on ] && args=(--access-log "$log" --access-log-format "$FORMAT")
  taskset -c 0 "$BIN" --listen 127.0.0.1:$PORT --cores 1 ${args[@]+"${args[@]}"} > "$LOGDIR/server.out" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q listening "$LOGDIR/server.out" 2>/dev/null && break; sleep 0.05; done
  local t0; t0=$(cpu_ticks $pid)
  if [ "$TOOL" = loadtest ]; then
    out=$("$LOADTEST" http://127.0.0.1:$PORT/ -c 64 -m 32 -D 4 --cores 1 2>&1)
    rps=$(echo "$out" | sed -n 's/^RESULT rps=\([0-9.]*\).*/\1/p')
    done_=$(echo "$out" | sed -n 's/^RESULT .*succeeded=\([0-9]*\).*/\1/p')
  else
    out=$(taskset -c 1 h2load -c 64 -m 32 -D 4 http://127.0.0.1:$PORT/ 2>&1)
    rps=$(echo "$out" | awk '/^finished in/ {print $4}')
    done_=$(echo "$out" | awk '/^requests:/ {print $8}')
  fi
  local t1; t1=$(cpu_ticks $pid)
  for t in /proc/$pid/task/*; do
    if grep -q access "$t/comm"; then writer=$(awk '{print $14+$15}' "$t/stat"); fi
  done
  kill -TERM $pid; wait $pid || true
  local cpu wcpu lines=0
  cpu=$(echo "($t1-$t0)/$tick" | bc -l)
  wcpu=$(echo "$writer/$tick" | bc -l)
  [ -f "$log" ] && lines=$(wc -l < "$log")
  printf "%s %s %s %.2f %.0f %s writer-cpu %.2f core-req/CPU-s %.0f\n" "$round" "$mode" "$rps" "$cpu" \
    "$(echo "$done_/$cpu" | bc -l)" "$lines" "$wcpu" "$(echo "$done_/($cpu-$wcpu)" | bc -l)" | tee -a "$RESULTS"
  rm -f "$log"
}
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then one off "$r"; one on "$r"; else one on "$r"; one off "$r"; fi
done
python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    runs.setdefault(f[0], {})[f[1]] = f
for name, col in (("req/s", 2), ("server req/CPU-s", 4)):
    r = [float(v["on"][col]) / float(v["off"][col]) for v in runs.values() if len(v) == 2]
    print(f"on/off {name}: median {statistics.median(r):.3f} (range {min(r):.3f}-{max(r):.3f}, {len(r)} rounds)")
PY
