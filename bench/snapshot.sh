#!/bin/sh
# Runs lambdad-bench on a clean export of a commit (default HEAD), so that
# uncommitted edits in a shared working tree neither break the build nor
# skew the numbers. Arguments after the optional -rev REV go to the bench.
#   bench/snapshot.sh -quick
#   bench/snapshot.sh -rev 1234abc -phases warm -cpuprofile /tmp/daemon.prof
set -eu
rev=HEAD
if [ "${1:-}" = "-rev" ]; then rev=$2; shift 2; fi
dir=$(mktemp -d /tmp/lambdad-bench-src.XXXXXX)
trap 'rm -rf "$dir"' EXIT
git -C "$(dirname "$0")/.." archive "$rev" | tar -x -C "$dir"
echo "lambdad-bench on $(git -C "$(dirname "$0")/.." rev-parse --short "$rev")" >&2
cd "$dir"
go build -o "$dir/lambdad-bench" ./bench/cmd/lambdad-bench
"$dir/lambdad-bench" "$@"
