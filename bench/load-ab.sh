#!/usr/bin/env bash
# A/B of two kind-sysbox binaries on `kind load docker-image`, interleaved
# so both see the same machine load. Per run and binary: a fresh 10-node
# fixture cluster, then a first load (200 MiB base + 1 MiB top), a reload
# (same base, another 1 MiB top) and a load of the same image again (already
# present); the -v 1 lines and wall times are printed. Not part of
# `cargo test`; cleans up its clusters and images.
#
# Usage: bench/load-ab.sh BINARY_A BINARY_B [RUNS]   (default 3 runs)
set -o errexit -o nounset -o pipefail
a_bin=$1 b_bin=$2 runs=${3:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=kind-bench/load-ab-$$
work=$(mktemp -d /tmp/kind-load-ab.XXXXXX)
clusters=()
cleanup() {
  for c in "${clusters[@]}"; do "$a_bin" delete cluster --name "$c" >/dev/null 2>&1 || true; done
  docker rmi $(docker images -q "$repo") >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
head -c $((200 * 1024 * 1024)) /dev/urandom >"$work/base"
tar -C "$work" -cf - base | docker import - "$repo:base" >/dev/null
rm -f "$work/base"
for v in $(seq 1 $((runs * 4))); do
  head -c $((1024 * 1024)) /dev/urandom >"$work/top"
  c=$(docker create "$repo:base" /top)
  docker cp "$work/top" "$c:/top"
  docker commit "$c" "$repo:v$v" >/dev/null
  docker rm "$c" >/dev/null
done
v=0
for run in $(seq 1 "$runs"); do
  for label in A B; do
    kind=$a_bin
    [[ $label == B ]] && kind=$b_bin
    name=load-ab-${label,,}-$run-$$
    clusters+=("$name")
    if ! "$kind" create cluster --name "$name" --config "$root/config-examples/ten-nodes.yaml" --image kind-fixture/node:v1.36.1 >"$work/create.log" 2>&1; then
      cat "$work/create.log" >&2
      exit 1
    fi
    first=v$((v + 1)) second=v$((v + 2))
    v=$((v + 2))
    for step in "first:$first" "reload:$second" "present:$second"; do
      img=${step#*:} what=${step%%:*}
      s=$(date +%s.%N)
      "$kind" load docker-image "$repo:$img" --name "$name" -v 1 2>&1 |
        grep -E 'DEBUG|ERROR' | grep -v 'partial archive of' | sed "s/^/[$label run$run $what] /"
      e=$(date +%s.%N)
      echo "[$label run$run $what] wall $(echo "$e - $s" | bc) s"
    done
    "$kind" delete cluster --name "$name" >/dev/null 2>&1
  done
done
