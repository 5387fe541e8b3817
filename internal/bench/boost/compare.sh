#!/usr/bin/env bash
# Compares scb with Boost.Interprocess message_queue on the workloads of
# issues 11, 16 and 18 (whose targets it holds: Flock 2 + 2 1.2x, and 1x
# oversubscribed; batches of 64 1.3x Atomic and 1x Flock, 1x oversubscribed): runs `scb bench` (its matching figures, one run each time) and
# the Boost peer (peer.cpp) alternately, R times each, and prints one table
# of medians with the ratio scb / Boost and the target each row is held to.
# For round trips (µs, lower is better) the ratio is scb's p50 / Boost's.
#
#   internal/bench/boost/compare.sh [--items N] [--runs R]
#
# --items is scb bench's (default 5000000: 8-byte items per run; 1 KiB,
# MPMC and oversubscribed runs move a tenth, except oversubscribed batches,
# round trips a hundredth), and
# the peer moves the same counts. --runs defaults to 3. The pipe column is
# scb bench's own baseline from the same runs, for scale. Run it from
# anywhere inside the repository; it needs go, g++ and jq, and installs
# libboost-dev if missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
items=5000000
runs=3
while [ $# -gt 0 ]; do
	case $1 in
	--items) items=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) echo "usage: compare.sh [--items N] [--runs R]" >&2; exit 2 ;;
	esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer=$("$here/build.sh" "$tmp")
(cd "$root" && go build -o "$tmp/scb" ./cmd/scb)

# scb row (strategy/id), Boost figure, target (ratio scb/Boost).
pairs='atomic/small small >=2
flock/small small >=1
atomic/batch batch >=1.3
flock/batch batch >=1
atomic/1k 1k -
flock/1k 1k -
atomic/rt-block rt-block <=0.5
atomic/rt-sleep rt-block -
flock/rt-block rt-block -
flock/mpmc2 mpmc2 >=1.2
flock/mpmc4 mpmc4 -
atomic/oversub-small oversub-small >=1
flock/oversub-small oversub-small -
atomic/oversub-batch oversub-batch >=1
flock/oversub-batch oversub-batch -
flock/oversub-mpmc2 oversub-mpmc2 >=1'

for r in $(seq 1 "$runs"); do
	# Alternate which goes first, so that neither always runs on a
	# machine the other has just warmed or loaded.
	for who in $( ((r % 2)) && echo "scb boost" || echo "boost scb"); do
		echo "run $r/$runs: $who" >&2
		if [ "$who" = scb ]; then
			SCB_DIR=$tmp "$tmp/scb" bench --runs 1 --items "$items" --only small,batch,1k,rt,mpmc,oversub --json \
				>"$tmp/scb-$r.json" 2>"$tmp/scb-$r.log" || { cat "$tmp/scb-$r.log" >&2; exit 1; }
			jq -r '.rows[] | "scb \(.strategy)/\(.id) \(.values.scb) \(.values.pipe // "-")"' "$tmp/scb-$r.json" >>"$tmp/values"
		else
			"$peer" --runs 1 --items "$items" 2>/dev/null | awk -F'\t' '{ print "boost", $1, $2 }' >>"$tmp/values"
		fi
	done
done

echo "$pairs" >"$tmp/pairs"
awk -v runs="$runs" -v items="$items" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
FNR == NR {
	if ($1 == "scb") { scb[$2] = scb[$2] " " $3; if ($4 != "-") pipe[$2] = pipe[$2] " " $4 }
	else boost[$2] = boost[$2] " " $3
	next
}
{
	if (!($1 in scb) || !($2 in boost)) next
	s = median(scb[$1]); b = median(boost[$2]); p = ($1 in pipe) ? sprintf("%.3g", median(pipe[$1])) : "-"
	unit = $2 ~ /^rt/ ? "µs p50" : "M items/s"
	ratio = b > 0 ? s / b : 0
	verdict = ""
	if ($3 ~ /^>=/) verdict = (ratio >= substr($3, 3) + 0) ? "met" : "MISSED"
	if ($3 ~ /^<=/) verdict = (ratio <= substr($3, 3) + 0) ? "met" : "MISSED"
	printf "%-22s %-10s %9.3g %9.3g %9s %9.2fx  %-6s %s\n", $1, unit, s, b, p, ratio, $3 == "-" ? "" : $3 "x", verdict
}
BEGIN {
	printf "scb vs Boost.Interprocess message_queue: medians of %d alternating runs, %d 8-byte items per run\n", runs, items
	printf "(1 KiB, MPMC and oversubscribed runs move %d items, round trips %d; MPMC is Flock only)\n", items / 10, items / 100
	printf "%-22s %-10s %9s %9s %9s %10s  %s\n", "scb row", "unit", "scb", "Boost", "pipe", "scb/Boost", "target"
}' "$tmp/values" "$tmp/pairs"
