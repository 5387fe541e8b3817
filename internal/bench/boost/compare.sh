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
# bare ring: scb's design with no API around it), for scale; "/own" is the
# median of each run's ratio to the baseline measured beside it in that run,
# which issue 18 holds two rows to: batches to the bare ring, zero-copy to
# the copying path. scb's buffers are made in /dev/shm where there is one,
# as Boost's queues are (a file system with writeback adds page faults).
#
# With --before, scb bench is also built from the git revision REV (any
# commit whose scb bench has the groups small, batch, 1k, rt, mpmc and
# oversub: 402e0e0 or later), and each round runs the three in turn,
# starting with a different one each round, so that a change is measured
# before and after in one sitting; the table then has the before figures
# and after / before ("/before": for round trips, below 1 is faster).
# REV's figures are as REV's scb bench defines them: a row whose definition
# changed since (oversubscribed batches moved a tenth of the items before
# 6ae35b8) compares different workloads. Run it from anywhere inside the
# repository; it needs go, g++, git and jq, and installs libboost-dev if
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
items=5000000
runs=3
before=
usage() {
	echo "usage: compare.sh [--items N] [--runs R] [--before REV]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--items) items=$2 ;;
	--runs) runs=$2 ;;
	--before) before=$2 ;;
	*) usage ;;
	esac
	shift 2
done
rev=
if [ -n "$before" ]; then
	rev=$(git -C "$root" rev-parse --verify --quiet "$before^{commit}") || { echo "compare.sh: no commit $before" >&2; exit 2; }
fi
tmp=$(mktemp -d)
bufs=$tmp
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	bufs=$(mktemp -d /dev/shm/scb-compare.XXXXXX)
fi
trap 'rm -rf "$tmp" "$bufs"' EXIT
peer=$("$here/build.sh" "$tmp")
(cd "$root" && go build -o "$tmp/scb" ./cmd/scb)
who="scb boost"
if [ -n "$rev" ]; then
	mkdir "$tmp/before-src"
	git -C "$root" archive "$rev" | tar -x -C "$tmp/before-src"
	(cd "$tmp/before-src" && go build -o "$tmp/before" ./cmd/scb)
	who="scb before boost"
fi

# scb row (strategy/id), Boost figure, target (ratio scb/Boost), and a
# target for /own where the row has one.
pairs='atomic/small small >=2
flock/small small >=1
atomic/batch batch >=1.3 >=0.9
flock/batch batch >=1
atomic/1k 1k -
atomic/1k-zerocopy 1k - >=1
flock/1k 1k -
flock/1k-zerocopy 1k - >=1
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
			SCB_DIR=$bufs "$bin" bench --runs 1 --items "$items" --only small,batch,1k,rt,mpmc,oversub --json \
				>"$tmp/$w-$r.json" 2>"$tmp/$w-$r.log" || { cat "$tmp/$w-$r.log" >&2; exit 1; }
			# The row's own baseline: the copying path beside zero-copy, the
			# bare ring beside batches.
			jq -r --arg w "$w" '.rows[] | select(.values.scb != null) |
				"\($w) \(.strategy)/\(.id) \(.values.scb) \(.values.pipe // "-") \(.values.bare // "-") \(
				if .ratios.copying != null then .ratios.copying
				elif (.id | endswith("batch")) and .ratios.bare != null then .ratios.bare
				else "-" end)"' "$tmp/$w-$r.json" >>"$tmp/values"
			;;
		boost)
			"$peer" --runs 1 --items "$items" 2>/dev/null | awk -F'\t' '{ print "boost", $1, $2 }' >>"$tmp/values"
			;;
		esac
	done
done

echo "$pairs" >"$tmp/pairs"
awk -v runs="$runs" -v items="$items" -v before="$before" -v rev="$rev" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return (n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2) + 0
}
function fig(list) { return list == "" ? "-" : sprintf("%.3g", median(list)) }
function held(ratio, target) {
	if (target ~ /^>=/) return (ratio >= substr(target, 3) + 0) ? "met" : "MISSED"
	return (ratio <= substr(target, 3) + 0) ? "met" : "MISSED"
}
FNR == NR {
	if ($1 == "scb") {
		scb[$2] = scb[$2] " " $3
		if ($4 != "-") pipe[$2] = pipe[$2] " " $4
		if ($5 != "-") bare[$2] = bare[$2] " " $5
		if ($6 != "-") own[$2] = own[$2] " " $6
	} else if ($1 == "before") old[$2] = old[$2] " " $3
	else boost[$2] = boost[$2] " " $3
	next
}
{
	if (!($1 in scb) || !($2 in boost)) next
	s = median(scb[$1]); b = median(boost[$2])
	unit = $2 ~ /^rt/ ? "us p50" : "M items/s"
	ratio = b > 0 ? s / b : 0
	printf "%-22s %-10s %9.3g", $1, unit, s
	if (before != "") {
		o = ($1 in old) ? median(old[$1]) : 0
		printf " %9s %8s", fig(old[$1]), (o > 0 ? sprintf("%.2fx", s / o) : "-")
	}
	printf " %9.3g %9s %9s %8s %9.2fx ", b, fig(pipe[$1]), fig(bare[$1]), (($1 in own) ? sprintf("%.2fx", median(own[$1])) : "-"), ratio
	if ($3 != "-") printf " Boost %sx %s", $3, held(ratio, $3)
	if ($4 != "" && ($1 in own)) printf " own %sx %s", $4, held(median(own[$1]), $4)
	printf "\n"
}
BEGIN {
	printf "scb vs Boost.Interprocess message_queue: medians of %d rounds, rotating who goes first, %d 8-byte items per run\n", runs, items
	printf "(1 KiB, MPMC and oversubscribed runs move %d items, round trips %d; MPMC is Flock only)\n", items / 10, items / 100
	if (before != "") printf "before: scb built from %s (%s)\n", before, rev
	printf "%-22s %-10s %9s", "scb row", "unit", "scb"
	if (before != "") printf " %9s %8s", "before", "/before"
	printf " %9s %9s %9s %8s %10s  %s\n", "Boost", "pipe", "bare", "/own", "scb/Boost", "targets"
}' "$tmp/values" "$tmp/pairs"
