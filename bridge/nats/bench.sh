#!/usr/bin/env bash
# Compares the bridge's forwarding rate with nats bench on one nats-server,
# 8-byte messages, interleaved runs, and prints medians and ratios:
#
#   core, at most once (Out.AtMostOnce)   vs  nats bench pub (fire and forget)
#   core, with leases (Out)               vs  nats bench pub
#   JetStream, batches of 256, ids        vs  nats bench js pub async --batch 256 --dedup
#
# Usage: bridge/nats/bench.sh [RUNS] (default 5). It installs nats-server
# v2.15.3 and natscli v0.5.0 with go install if they are missing.
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-5}
bin=$(go env GOBIN); [ -n "$bin" ] || bin=$(go env GOPATH)/bin
[ -x "$bin/nats-server" ] || go install github.com/nats-io/nats-server/v2@v2.15.3
[ -x "$bin/nats" ] || go install github.com/nats-io/natscli/nats@v0.5.0
work=$(mktemp -d); echo "work: $work" >&2; trap 'kill $pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$bin/nats-server" -a 127.0.0.1 -p $port -js -sd "$work/js" >"$work/server.log" 2>&1 & pid=$!
url=nats://127.0.0.1:$port
sleep 1
go test -c -o "$work/bench.test" .
rate() { grep -o 'stats: [0-9,]* msgs/sec' | head -1 | tr -dc 0-9; echo; }
for i in $(seq "$runs"); do
  "$bin/nats" bench pub scbbench --msgs 1000000 --size 8 -s $url --no-progress 2>&1 | rate | sed 's/^/nats-core /' >>"$work/r"
  SCB_NATS_URL=$url "$work/bench.test" -test.run '^$' -test.bench 'BenchmarkOut/(core|core-at-most-once)/batch=4096$' -test.benchtime 1000000x |
    awk '/items\/s/ { split($1, a, "/"); print "bridge-" a[2], $(NF-1) }' >>"$work/r"
  "$bin/nats" bench js pub async scbjs --msgs 200000 --size 8 --batch 256 --dedup --create --purge -s $url --no-progress 2>&1 | rate | sed 's/^/nats-js /' >>"$work/r"
  SCB_NATS_URL=$url "$work/bench.test" -test.run '^$' -test.bench 'BenchmarkOut/jetstream/batch=256$' -test.benchtime 200000x |
    awk '/items\/s/ { print "bridge-jetstream", $(NF-1) }' >>"$work/r"
done
python3 - "$work/r" <<'PY'
import sys, statistics, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.split()
    d[k].append(float(v))
med = {k: statistics.median(v) for k, v in d.items()}
for k in sorted(med):
    print(f"{k:28s} median {med[k]/1e6:7.3f} M/s  runs {[round(x/1e6, 3) for x in d[k]]}")
print(f"core at most once / nats bench pub:  {med['bridge-core-at-most-once']/med['nats-core']:.2f}x")
print(f"core with leases / nats bench pub:   {med['bridge-core']/med['nats-core']:.2f}x")
print(f"JetStream / nats bench js pub async: {med['bridge-jetstream']/med['nats-js']:.2f}x")
PY
