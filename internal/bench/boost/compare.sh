#!/usr/bin/env bash
# Compares scb with Boost.Interprocess message_queue on the workloads of
# issues 11, 16 and 18 (whose targets it holds: Flock 2 + 2 1.2x, and 1x
# oversubscribed; batches of 64 1.3x Atomic and 1x Flock, 1x oversubscribed): runs `scb bench` (its matching figures, one run each time) and
# the Boost peer (peer.cpp) alternately, R times each, and prints one table
# of medians with the ratio scb / Boost and the target each row is held to.
# For round trips (µs, lower is better) the ratio is scb's p50 / Boost's.
#
#   internal/bench/boost/compare.sh [--items N] [--runs R] [--before REV]
#
# --items is scb bench's (default 5000000: 8-byte items per run; 1 KiB,
# MPMC and oversubscribed runs move a tenth, except oversubscribed batches,
# round trips a hundredth), and
# the peer moves the same counts. --runs defaults to 3. The pipe and bare
# columns are scb bench's own baselines from the same runs (a pipe, and the
# bare ring: scb's design with no API around it), for scale. With --before,
# scb bench is also built from the git revision REV (any commit whose scb
# bench has the groups small, batch, 1k, rt, mpmc and oversub: 402e0e0 or
# later), and each round runs the three in turn, starting with a different
# one each round, so that a change is measured before and after in one
# sitting; the table then has the before figures and after / before. Run it
# from anywhere inside the repository; it needs go, g++ and jq, and installs
# libboost-dev if missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
items=5000000
runs=3
before=
while [ $# -gt 0 ]; do
	case $1 in
	--items) items=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--before) before=$2; shift 2 ;;
	*) echo "usage: compare.sh [--items N] [--runs R] [--before REV]" >&2; exit 2 ;;
	esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer=$("$here/build.sh" "$tmp")
(cd "$root" && go build -o "$tmp/scb" ./cmd/scb)
who="scb boost"
if [ -n "$before" ]; then
	rev=$(git -C "$root" rev-parse --verify --quiet "$before^{commit}") || { echo "compare.sh: no commit $before" >&2; exit 2; }
	mkdir "$tmp/before-src"
	git -C "$root" archive "$rev" | tar -x -C "$tmp/before-src"
	(cd "$tmp/before-src" && go build -o "$tmp/before" ./cmd/scb)
	who="scb before boost"
fi

# scb row (strategy/id), Boost figure, target (ratio scb/Boost).
pairs='atomic/small small >=2
flock/small small >=1
atomic/batch batch >=1.3
flock/batch batch >=1
atomic/1k 1k -
atomic/1k-zerocopy 1k -
flock/1k 1k -
flock/1k-zerocopy 1k -
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

read -ra order <<<"$who"
for r in $(seq 1 "$runs"); do
	# Start with a different one each round, so that none always runs on a
	# machine another has just warmed or loaded.
	k=$(((r - 1) % ${#order[@]}))
	for w in "${order[@]:k}" "${order[@]:0:k}"; do
		echo "run $r/$runs: $w" >&2
		case $w in
		scb | before)
			bin=$tmp/scb
			[ "$w" = before ] && bin=$tmp/before
			SCB_DIR=$tmp "$bin" bench --runs 1 --items "$items" --only small,batch,1k,rt,mpmc,oversub --json \
				>"$tmp/$w-$r.json" 2>"$tmp/$w-$r.log" || { cat "$tmp/$w-$r.log" >&2; exit 1; }
			jq -r --arg w "$w" '.rows[] | "\($w) \(.strategy)/\(.id) \(.values.scb) \(.values.pipe // "-") \(.values.bare // "-")"' "$tmp/$w-$r.json" >>"$tmp/values"
			;;
		boost)
			"$peer" --runs 1 --items "$items" 2>/dev/null | awk -F'\t' '{ print "boost", $1, $2 }' >>"$tmp/values"
			;;
		esac
	done
done

echo "$pairs" >"$tmp/pairs"
awk -v runs="$runs" -v items="$items" -v before="$before" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
function fig(list) { return list == "" ? "-" : sprintf("%.3g", median(list)) }
FNR == NR {
	if ($1 == "scb") {
		scb[$2] = scb[$2] " " $3
		if ($4 != "-") pipe[$2] = pipe[$2] " " $4
		if ($5 != "-") bare[$2] = bare[$2] " " $5
	} else if ($1 == "before") old[$2] = old[$2] " " $3
	else boost[$2] = boost[$2] " " $3
	next
}
{
	if (!($1 in scb) || !($2 in boost)) next
	s = median(scb[$1]); b = median(boost[$2])
	unit = $2 ~ /^rt/ ? "µs p50" : "M items/s"
	ratio = b > 0 ? s / b : 0
	verdict = ""
	if ($3 ~ /^>=/) verdict = (ratio >= substr($3, 3) + 0) ? "met" : "MISSED"
	if ($3 ~ /^<=/) verdict = (ratio <= substr($3, 3) + 0) ? "met" : "MISSED"
	printf "%-22s %-10s %9.3g", $1, unit, s
	if (before != "") {
		o = ($1 in old) ? median(old[$1]) : 0
		printf " %9s %8s", fig(old[$1]), (o > 0 ? sprintf("%.2fx", s / o) : "-")
	}
	printf " %9.3g %9s %9s %9.2fx  %-6s %s\n", b, fig(pipe[$1]), fig(bare[$1]), ratio, $3 == "-" ? "" : $3 "x", verdict
}
BEGIN {
	printf "scb vs Boost.Interprocess message_queue: medians of %d alternating runs, %d 8-byte items per run\n", runs, items
	printf "(1 KiB, MPMC and oversubscribed runs move %d items, round trips %d; MPMC is Flock only)\n", items / 10, items / 100
	if (before != "") printf "before: scb built from %s\n", before
	printf "%-22s %-10s %9s", "scb row", "unit", "scb"
	if (before != "") printf " %9s %8s", "before", "÷ before"
	printf " %9s %9s %9s %10s  %s\n", "Boost", "pipe", "bare", "scb/Boost", "target"
}' "$tmp/values" "$tmp/pairs"
