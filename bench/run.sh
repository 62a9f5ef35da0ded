#!/usr/bin/env bash
# The benchmark suite (issue 8, item 5): one command, a Markdown results
# table on stdout. Never part of `cargo test`.
#
# For each node count (default 1, 3, 10) and each repetition (default 5):
#   create cluster   total and by phase (the CLI's "✓ <phase>" lines,
#                    timestamped as they arrive);
#   get clusters, get nodes;
#   load docker-image, first load (image = 200 MiB base + 1 MiB top layer;
#                    on 2+ nodes through the images inbox; checked
#                    byte-exact on every node) and reload after a small
#                    change (same base, another 1 MiB top layer: a partial
#                    archive per node; the bytes reaching a node reported);
#   delete cluster;
# each against its floor measured in the same run, in alternating order:
#   create  the same N containers created and started concurrently through
#           the Docker API, nothing else (examples/create_floor: copies of a
#           template cluster's nodes, same image, Config, HostConfig and
#           network; random host ports, no fixed address, a bench label
#           instead of the cluster label);
#   delete  one concurrent remove (force, volumes) of those N containers
#           through the API (examples/create_floor delete);
#   get     one container list with the cluster label filter through the
#           Docker API (curl);
#   load    one `docker save IMAGE > /dev/null`;
# and, for load, against upstream kind's method (as bench/load.sh: `docker
# save -o` to a file, then one `docker exec -i NODE ctr … import` per node,
# all concurrently; its presence checks left out, which favours it).
# Upstream kind itself cannot run here (its nodes are privileged), so
# create/delete/get have no upstream column.
# Reported: medians, ratios ours/floor and ours/upstream, peak RSS of our
# process (/usr/bin/time), the machine and the Docker version.
#
# Usage: bench/run.sh [--reps N] [--nodes "1 3 10"] [--mib 200]
#   KIND=<path> uses that binary instead of building target/release/kind.
# Needs the fixture node image (tests/fixtures/node-image/build.sh) and
# installs Debian's `time` package when /usr/bin/time is missing.
set -o errexit -o nounset -o pipefail

reps=5
counts="1 3 10"
mib=200
while (($#)); do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --nodes) counts=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--reps N] [--nodes \"1 3 10\"] [--mib 200]" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixture=kind-fixture/node:v1.36.1
run_id=$$-$(date +%s)
repo=kind-bench/suite-$run_id
work=$(mktemp -d /tmp/kind-bench-suite.XXXXXX)
export KUBECONFIG=$work/kubeconfig
# The layer digests kind keeps between loads start empty, as on a new machine
# (the first load of each round learns them, as it would).
export XDG_CACHE_HOME=$work/cache
api=http://localhost/v1.41
sock=/var/run/docker.sock
label=io.x-k8s.kind-bench=$run_id

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- prerequisites -------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  log "installing Debian's time package (/usr/bin/time for peak RSS)"
  apt-get install -y -q time >/dev/null || die "apt-get install time failed"
fi
command -v curl >/dev/null || die "curl not found (apt-get install curl)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
docker image inspect "$fixture" >/dev/null 2>&1 || die "missing $fixture: run tests/fixtures/node-image/build.sh"
if [[ -z ${KIND:-} ]]; then
  log "building target/release/kind and examples/create_floor (release)"
  (cd "$root" && cargo build --release --bin kind --example create_floor >&2)
  KIND=$root/target/release/kind
else
  log "building examples/create_floor (release)"
  (cd "$root" && cargo build --release --example create_floor >&2)
fi
kind=$KIND
floor=$root/target/release/examples/create_floor

clusters=()
cleanup() {
  for c in "${clusters[@]}"; do "$kind" delete cluster --name "$c" >/dev/null 2>&1 || true; done
  docker rm -f -v $(docker ps -aq --filter "label=$label") >/dev/null 2>&1 || true
  docker rmi "$repo:v1" "$repo:v2" "$repo:base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- machine -------------------------------------------------------------------
machine="$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
dockerv="$(docker version --format 'Docker {{.Server.Version}} (API {{.Server.APIVersion}})'), storage driver $(docker info --format '{{.Driver}}')"
log "$machine; $dockerv"

# --- images: base + 1 MiB top, and a small change of the top -------------------
log "images: $mib MiB base + 1 MiB top layer ($repo:v1, $repo:v2)"
mkdir "$work/ctx"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/ctx/base"
tar -C "$work/ctx" -cf - base | docker import - "$repo:base" >/dev/null
for v in v1 v2; do
  head -c $((1024 * 1024)) /dev/urandom >"$work/ctx/top"
  c=$(docker create --label "$label" --entrypoint /base "$repo:base")
  docker cp "$work/ctx/top" "$c:/top"
  docker commit "$c" "$repo:$v" >/dev/null
  docker rm "$c" >/dev/null
done
rm -rf "$work/ctx"

# --- helpers -------------------------------------------------------------------
declare -A times rss bytes
phase_order=() # create phases in the order the CLI reports them
record() { times[$1]+="$2 "; } # record <key> <seconds>
record_rss() { rss[$1]+="$2 "; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ours <key> <cmd…>: time one kind command (wall, peak RSS); output kept in $work/last.
ours() {
  local key=$1 t0 t1
  shift
  t0=$EPOCHREALTIME
  /usr/bin/time -f %M -o "$work/rss" "$@" >"$work/last" 2>&1 || { cat "$work/last" >&2; die "$* failed"; }
  t1=$EPOCHREALTIME
  record "$key" "$(secs "$t0" "$t1")"
  record_rss "$key" "$(tail -n1 "$work/rss")"
}

# create <cluster> <nodes>: `kind create cluster`, timing each phase from the
# CLI's own " • <phase> ..." / " ✓ <phase>" lines as they arrive.
create() {
  local name=$1 n=$2 cfg=$work/$1.yaml i t0 t1 line phase
  printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n' >"$cfg"
  for ((i = 1; i < n; i++)); do printf -- '- role: worker\n' >>"$cfg"; done
  declare -A start=()
  t0=$EPOCHREALTIME
  while IFS= read -r line; do
    case $line in
      *" • "*" ..."*) phase=$(sed -E 's/^ *• ([A-Za-z -]+[A-Za-z]).*/\1/' <<<"$line"); start[$phase]=$EPOCHREALTIME ;;
      *" ✓ "*)
        phase=$(sed -E 's/^ *✓ ([A-Za-z -]+[A-Za-z]).*/\1/' <<<"$line")
        # kubeadm init done: the issue's "create to kubeadm init".
        [[ $phase == "Starting control-plane" ]] && record "$n:create-to-init" "$(secs "$t0" "$EPOCHREALTIME")"
        if [[ -n ${start[$phase]:-} ]]; then
          record "$n:create/$phase" "$(secs "${start[$phase]}" "$EPOCHREALTIME")"
          [[ " ${phase_order[*]} " == *" $phase "* ]] || phase_order+=("$phase")
        fi
        ;;
      *ERROR*|*"failed"*) log "$line" ;;
    esac
  done < <(/usr/bin/time -f %M -o "$work/rss" "$kind" create cluster --name "$name" --image "$fixture" --config "$cfg" 2>&1)
  t1=$EPOCHREALTIME
  [[ $(docker ps -q --filter "label=io.x-k8s.kind.cluster=$name" | wc -l) == "$n" ]] || die "create cluster $name: expected $n running nodes"
  record "$n:create" "$(secs "$t0" "$t1")"
  record_rss "$n:create" "$(tail -n1 "$work/rss")"
}

# floor_create <n> <template cluster>: copies of the template's n nodes
# created and started concurrently through the Docker API (the seconds from
# the first create to the last start, as examples/create_floor measures).
floor_create() {
  local n=$1 s
  s=$("$floor" create "$2" "$label") || die "create_floor create $2 failed"
  [[ $(docker ps -q --filter "label=$label" | wc -l) == "$n" ]] || die "floor: expected $n running containers"
  record "$n:create:floor" "$s"
}

floor_delete() { # one concurrent remove (force, volumes) of the floor containers
  local n=$1 s
  s=$("$floor" delete "$label") || die "create_floor delete failed"
  [[ -z $(docker ps -aq --filter "label=$label") ]] || die "floor: containers left after delete"
  record "$n:delete:floor" "$s"
}

floor_get() { # floor_get <n> <cluster>: one container list through the API
  local t0=$EPOCHREALTIME
  curl -sf --unix-socket "$sock" -G "$api/containers/json" --data-urlencode all=1 \
    --data-urlencode "filters={\"label\":[\"io.x-k8s.kind.cluster=$2\"]}" >/dev/null
  record "$1:get:floor" "$(secs "$t0" "$EPOCHREALTIME")"
}

floor_save() { # floor_save <n> <image>
  local t0=$EPOCHREALTIME
  docker save "$2" >/dev/null
  record "$1:save:floor" "$(secs "$t0" "$EPOCHREALTIME")"
}

nodes_of() { docker ps --filter "label=io.x-k8s.kind.cluster=$1" --format '{{.Names}}' | sort; }

upstream_load() { # upstream_load <key> <cluster> <image>
  local t0 dir n
  t0=$EPOCHREALTIME
  dir=$(mktemp -d "$work/images-tar.XXXXXX")
  docker save -o "$dir/images.tar" "$3"
  for n in $(nodes_of "$2"); do
    docker exec -i "$n" ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs - <"$dir/images.tar" >/dev/null &
  done
  wait
  rm -rf "$dir"
  record "$1" "$(secs "$t0" "$EPOCHREALTIME")"
}

# floor_import <n> <cluster>: the nodes' own share of a first load, which
# every method pays: each node imports the v1 archive from a file already in
# it (put into the cluster's images inbox beforehand, not timed), all nodes
# concurrently (`docker exec NODE ctr … import FILE`).
floor_import() {
  local n=$1 c=$2 first t0 node
  first=$(nodes_of "$c" | head -n1)
  docker save -o "$work/floor.tar" "$repo:v1"
  docker cp "$work/floor.tar" "$first:/kind/images-inbox/floor.tar"
  rm -f "$work/floor.tar"
  reset_nodes "$c"
  t0=$EPOCHREALTIME
  for node in $(nodes_of "$c"); do
    docker exec "$node" ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs /kind/images-inbox/floor.tar >/dev/null &
  done
  wait
  record "$n:import:floor" "$(secs "$t0" "$EPOCHREALTIME")"
  docker exec "$first" rm -f /kind/images-inbox/floor.tar
}

# Forget both test images on every node (the stand-in's image store and its
# content store, which `ctr content ls` reports), so the next load is a first
# load again: no layer held, no partial archive.
reset_nodes() {
  local n
  for n in $(nodes_of "$1"); do
    (
      docker exec "$n" ctr --namespace=k8s.io images rm "docker.io/$repo:v1" "docker.io/$repo:v2" \
        "$(docker image inspect -f '{{.Id}}' "$repo:v1")" "$(docker image inspect -f '{{.Id}}' "$repo:v2")" >/dev/null 2>&1
      docker exec "$n" rm -f /var/lib/kind-fixture/content
    ) &
  done
  wait
}

# last_import <node> <field: sha256|bytes>: what the node's last `ctr images
# import` read (the images inbox file, else stdin), from the stand-in's log.
last_import() {
  docker exec "$1" cat /var/log/kind-fixture/calls.log |
    jq -r --arg f "$2" 'select(.tool == "ctr" and (.argv | index("import"))) | (.["file_" + $f] // .["stdin_" + $f])' | tail -n1
}

# check_exact <cluster> <image>: every node's last import read exactly the
# bytes of `docker save <image>`.
check_exact() {
  local want n got
  want=$(docker save "$2" | sha256sum | cut -d' ' -f1)
  for n in $(nodes_of "$1"); do
    got=$(last_import "$n" sha256)
    [[ $got == "$want" ]] || die "$n: imported $got, \`docker save $2\` is $want"
  done
}

# reload_bytes <key> <cluster>: the most bytes any node's reload import read.
reload_bytes() {
  local n b max=0
  for n in $(nodes_of "$2"); do
    b=$(last_import "$n" bytes)
    ((b > max)) && max=$b
  done
  bytes[$1]+="$max "
}

# load_round <n> <cluster> <method>: first load of v1, then reload of v2.
load_round() {
  local n=$1 c=$2 m=$3
  reset_nodes "$c"
  if [[ $m == ours ]]; then
    ours "$n:load-first" "$kind" load docker-image "$repo:v1" --name "$c"
    check_exact "$c" "$repo:v1"
    ours "$n:load-reload" "$kind" load docker-image "$repo:v2" --name "$c"
    reload_bytes "$n:load-reload" "$c"
  else
    upstream_load "$n:load-first:upstream" "$c" "$repo:v1"
    upstream_load "$n:load-reload:upstream" "$c" "$repo:v2"
  fi
}

# --- runs ----------------------------------------------------------------------
for n in $counts; do
  # The floor copies this cluster's nodes; it runs beside every repetition,
  # ours and the floor alike.
  template=kind-bench-template-$n-$$
  clusters+=("$template")
  log "$n node(s): template cluster for the floor"
  printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n' >"$work/$template.yaml"
  for ((i = 1; i < n; i++)); do printf -- '- role: worker\n' >>"$work/$template.yaml"; done
  "$kind" create cluster --name "$template" --image "$fixture" --config "$work/$template.yaml" >"$work/last" 2>&1 ||
    { cat "$work/last" >&2; die "create cluster $template failed"; }
  for ((r = 1; r <= reps; r++)); do
    c=kind-bench-$n-$r-$$
    clusters+=("$c")
    log "$n node(s), repetition $r/$reps"
    # Alternate ours and the floor so drift (page cache, other load) hits both.
    if ((r % 2)); then create "$c" "$n"; floor_create "$n" "$template"; else floor_create "$n" "$template"; create "$c" "$n"; fi
    floor_get "$n" "$c"
    ours "$n:get-clusters" "$kind" get clusters
    ours "$n:get-nodes" "$kind" get nodes --name "$c"
    [[ $(wc -l <"$work/last") == "$n" ]] || die "get nodes listed $(wc -l <"$work/last") nodes, want $n"
    if ((r % 2)); then order=(ours upstream); else order=(upstream ours); fi
    for m in "${order[@]}"; do load_round "$n" "$c" "$m"; done
    floor_import "$n" "$c"
    floor_save "$n" "$repo:v1"
    if ((r % 2)); then
      ours "$n:delete" "$kind" delete cluster --name "$c"; floor_delete "$n"
    else
      floor_delete "$n"; ours "$n:delete" "$kind" delete cluster --name "$c"
    fi
    unset 'clusters[-1]'
  done
  "$kind" delete cluster --name "$template" >/dev/null 2>&1
  unset 'clusters[-1]'
done

# --- table ---------------------------------------------------------------------
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "" } else { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 } }'; }
med() { median <<<"${times[$1]:-}"; }
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }' || true; }
peak() { tr ' ' '\n' | grep . | sort -n | tail -n1 | awk '{ if ($1 != "") printf "%.0f", $1 / 1024 }'; }

echo "Machine: $machine."
echo "$dockerv."
up_bytes=$(docker save "$repo:v2" | wc -c)
echo "Image: $(docker save "$repo:v1" | wc -c | awk '{ printf "%.0f MB", $1 / 1e6 }') \`docker save\` stream ($mib MiB base + 1 MiB top); reload = same base, another 1 MiB top."
echo "Every first load of ours was checked byte-exact on every node (the stand-in's hash of what its import read)."
echo "$reps repetition(s); median wall time in seconds; peak RSS of our process (max over repetitions)."
echo
echo "| nodes | operation | floor | upstream's method | ours | ours / floor | ours / upstream | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|---|"
for n in $counts; do
  row() { # row <label> <ours key> <floor key> <upstream key>
    local o f u
    o=$(med "$2"); f=$([[ -n $3 ]] && med "$3" || true); u=$([[ -n $4 ]] && med "$4" || true)
    echo "| $n | $1 | ${f:--} | ${u:--} | $o | $(ratio "$o" "$f") | $(ratio "$o" "$u") | $(peak <<<"${rss[$2]:-}") |"
  }
  row "create cluster" "$n:create" "$n:create:floor" ""
  row "create cluster, to kubeadm init done" "$n:create-to-init" "$n:create:floor" ""
  for phase in "${phase_order[@]}"; do
    [[ -n ${times[$n:create/$phase]:-} ]] || continue
    echo "| $n | create: $phase | - | - | $(med "$n:create/$phase") | | | |"
  done
  row "get clusters" "$n:get-clusters" "$n:get:floor" ""
  row "get nodes" "$n:get-nodes" "$n:get:floor" ""
  row "load docker-image (first)" "$n:load-first" "$n:save:floor" "$n:load-first:upstream"
  row "load (first): the nodes' own imports of a file already in them, as floor" "$n:load-first" "$n:import:floor" ""
  row "load docker-image (reload after 1 MiB change)" "$n:load-reload" "$n:save:floor" "$n:load-reload:upstream"
  echo "| $n | reload: bytes reaching a node (max over nodes, median over reps), MiB | - | $(awk -v b="$up_bytes" 'BEGIN { printf "%.2f", b / 1048576 }') | $(median <<<"${bytes[$n:load-reload]:-}" | awk '{ printf "%.2f", $1 / 1048576 }') | | | |"
  row "delete cluster" "$n:delete" "$n:delete:floor" ""
done
echo
printf '%s\n' "${!times[@]}" | sort | while IFS= read -r key; do echo "raw $key (s): ${times[$key]}"; done
