#!/usr/bin/env bash
# Benchmark: `kind load docker-image` of a ~200 MB image into 1 and 10 nodes
# of fixture clusters, three ways, in one run:
#   ours      the library's streaming fan-out (examples/load_bench, release),
#             including its presence checks, `docker info` and
#             `containerd config dump` per node;
#   upstream  upstream kind's method: `docker save -o` to a temp file, then
#             one `docker exec -i <node> ctr … import --all-platforms …
#             < file` per node, all nodes concurrently (its presence checks
#             are left out, which favours upstream);
#   floor     one `docker save` to /dev/null.
# Each is run against two import sinks inside the nodes:
#   fixture   the fixture's stand-in ctr (copies stdin to a file, sha256sums
#             it, lists the tar, records the image) — the same work for both
#             methods, and every run is checked: each node must have received
#             exactly `docker save`'s bytes;
#   discard   `ctr … import` replaced by `cat > /dev/null` in the nodes, so
#             what remains is the cost of the method itself (save, transport,
#             checks).
# Prints a Markdown table of median wall times and ratios.
#
# Usage: bench/load.sh [repetitions (default 5)] [image MiB (default 200)]
# Needs the fixture node image (tests/fixtures/node-image/build.sh). Creates
# and deletes its own clusters and image; nothing runs under `cargo test`.
set -o errexit -o nounset -o pipefail

reps=${1:-5}
mib=${2:-200}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixture=kind-fixture/node:v1.36.1
tag=$(date +%s)-$$
image=kind-bench/load:$tag
clusters=(kind-bench-load-1-$$ kind-bench-load-10-$$)
work=$(mktemp -d /tmp/kind-bench-load.XXXXXX)
export KUBECONFIG=$work/kubeconfig

log() { printf '[bench] %s\n' "$*" >&2; }

cleanup() {
  for c in "${clusters[@]}"; do
    "$kind" delete cluster --name "$c" >/dev/null 2>&1 || true
  done
  docker rmi -f "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}

cd "$root"
log "building (release): examples/load_bench; (debug): kind"
cargo build --release --example load_bench >&2
cargo build --bin kind >&2
kind=$root/target/debug/kind
ours=$root/target/release/examples/load_bench
trap cleanup EXIT

docker image inspect "$fixture" >/dev/null || { log "missing $fixture: run tests/fixtures/node-image/build.sh"; exit 1; }

log "image: ${mib} MiB of random data -> $image"
mkdir "$work/ctx"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/ctx/blob"
tar -C "$work/ctx" -cf - blob | docker import - "$image" >/dev/null
rm -rf "$work/ctx"
image_id=$(docker image inspect -f '{{.Id}}' "$image")
save_sha=$(docker save "$image" | sha256sum | cut -d' ' -f1)
save_bytes=$(docker save "$image" | wc -c)

create() { # create <name> <workers>
  local cfg=$work/$1.yaml
  printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n' >"$cfg"
  for ((i = 0; i < $2; i++)); do printf -- '- role: worker\n' >>"$cfg"; done
  "$kind" create cluster --name "$1" --image "$fixture" --config "$cfg" >/dev/null 2>&1
}
nodes_of() { docker ps --filter "label=io.x-k8s.kind.cluster=$1" --format '{{.Names}}' | sort; }

# Forget the image on every node (stand-in store), so each run loads again.
reset_nodes() {
  local n
  for n in $(nodes_of "$1"); do
    docker exec "$n" ctr --namespace=k8s.io images rm "docker.io/$image" "$image_id" >/dev/null 2>&1 &
  done
  wait
}

# Every node's last import must have received exactly `docker save`'s bytes.
check_nodes() {
  local n got
  for n in $(nodes_of "$1"); do
    got=$(docker exec "$n" sh -c "grep '\"import\"' /var/log/kind-fixture/calls.log | tail -n1" | jq -r .stdin_sha256)
    [[ $got == "$save_sha" ]] || { log "node $n received $got, want $save_sha ($2)"; exit 1; }
  done
}

# Swap the nodes' import for a sink that only drains stdin (other ctr
# subcommands still reach the stand-in).
discard_imports() {
  local n
  for n in $(nodes_of "$1"); do
    docker exec "$n" sh -c 'mv /usr/bin/ctr /usr/bin/ctr.fixture && printf "%s\n" "#!/bin/bash" "case \" \$* \" in *\" import \"*) exec cat >/dev/null ;; esac" "exec /usr/bin/ctr.fixture \"\$@\"" >/usr/bin/ctr && chmod +x /usr/bin/ctr' &
  done
  wait
}

now() { date +%s%N; }

run_ours() { "$ours" "$1" "$image" 2>/dev/null; }

run_upstream() {
  local dir n
  dir=$(mktemp -d "$work/images-tar.XXXXXX")
  docker save -o "$dir/images.tar" "$image"
  for n in $(nodes_of "$1"); do
    docker exec -i "$n" ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs - <"$dir/images.tar" >/dev/null &
  done
  wait
  rm -rf "$dir"
}

run_floor() { docker save "$image" >/dev/null; }

median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.2f", m / 1e9 }'; }

declare -A times
# BENCH_NODES / BENCH_SINKS select a subset (e.g. BENCH_NODES=10 BENCH_SINKS=discard).
counts=(${BENCH_NODES:-1 10})
sinks=(${BENCH_SINKS:-fixture discard})
for spec in "1:${clusters[0]}:0" "10:${clusters[1]}:9"; do
  IFS=: read -r count cluster workers <<<"$spec"
  [[ " ${counts[*]} " == *" $count "* ]] || continue
  log "cluster $cluster ($count nodes)"
  create "$cluster" "$workers"
  [[ $(nodes_of "$cluster" | wc -l) == "$count" ]] || { log "expected $count nodes"; exit 1; }
  for sink in "${sinks[@]}"; do
    [[ $sink == discard ]] && discard_imports "$cluster"
    for ((r = 1; r <= reps; r++)); do
      # Alternate the order so drift (page cache, other load) hits both.
      if ((r % 2)); then order=(ours upstream floor); else order=(upstream ours floor); fi
      for m in "${order[@]}"; do
        reset_nodes "$cluster"
        t0=$(now)
        "run_$m" "$cluster"
        t1=$(now)
        [[ $m == floor || $sink == discard ]] || check_nodes "$cluster" "$m"
        times[$count:$sink:$m]+="$((t1 - t0)) "
        log "  $count nodes, $sink, rep $r, $m: $(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f s", d / 1e9 }')"
      done
    done
  done
  "$kind" delete cluster --name "$cluster" >/dev/null 2>&1
done

echo
echo "Image: $(awk -v b="$save_bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }') \`docker save\` stream; $reps repetitions; median wall time in seconds."
echo
echo "| nodes | import sink in the nodes | floor (docker save > /dev/null) | upstream's method | ours | ours / upstream |"
echo "|---|---|---|---|---|---|"
for count in "${counts[@]}"; do
  for sink in "${sinks[@]}"; do
    f=$(tr ' ' '\n' <<<"${times[$count:$sink:floor]}" | grep . | median)
    u=$(tr ' ' '\n' <<<"${times[$count:$sink:upstream]}" | grep . | median)
    o=$(tr ' ' '\n' <<<"${times[$count:$sink:ours]}" | grep . | median)
    echo "| $count | $sink | $f | $u | $o | $(awk -v o="$o" -v u="$u" 'BEGIN { printf "%.2f", o / u }') |"
  done
done
echo
for count in "${counts[@]}"; do
  for sink in "${sinks[@]}"; do
    for m in floor upstream ours; do
      echo "raw $count $sink $m (ns): ${times[$count:$sink:$m]}"
    done
  done
done
