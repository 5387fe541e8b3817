#!/usr/bin/env bash
# Builds the Boost.Interprocess peer into the directory $1 (made if
# missing), installing Debian's libboost-dev first if its headers are not
# there. Used by run.sh and compare.sh; prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh DIR}
if [ ! -e /usr/include/boost/interprocess/ipc/message_queue.hpp ]; then
	echo "build.sh: installing libboost-dev" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libboost-dev >&2
fi
mkdir -p "$out"
g++ -O2 -std=c++17 -Wall -o "$out/peer" "$here/peer.cpp" -pthread -lrt
echo "$out/peer"
