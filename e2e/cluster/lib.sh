# Shared helpers for e2e/cluster/up.sh and down.sh. Sourced, not executed.
# shellcheck shell=bash

CLUSTER_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_SCRIPT_DIR/../.." && pwd)
WEFT_CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
# WEFT_NODE=1 (make cluster-up) adds a real node; its default state dir differs from the
# control-plane-only one, so a developer's node cluster and the kubelet-less harness the
# e2e suites start (e2e/support/kube.ts) never restart each other.
if [[ ${WEFT_NODE:-0} == 1 ]]; then CLUSTER_DIR=${WEFT_CLUSTER_DIR:-$WEFT_CACHE/node-cluster}
else CLUSTER_DIR=${WEFT_CLUSTER_DIR:-$WEFT_CACHE/cluster}; fi
# Components in start order; down.sh stops them in reverse (the node's: node-lib.sh).
COMPONENTS=(etcd kube-apiserver kube-controller-manager)
# shellcheck source=e2e/cluster/node-lib.sh
. "$CLUSTER_SCRIPT_DIR/node-lib.sh"

# Never send loopback traffic through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

clog() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cdie() { clog "ERROR: $*"; exit 1; }

# pid_alive PID: true if PID is a live (non-zombie) process started for this
# cluster (its command line mentions a path under CLUSTER_DIR), so a recycled pid is never
# mistaken for ours.
pid_alive() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ $state != Z && $state != X ]] || return 1
  # grep without -q reads all its input: with -q it may exit first, tr dies of SIGPIPE and
  # pipefail turns a match into 141 (not ours).
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "$CLUSTER_DIR/" >/dev/null
}

# group_pids PGID: live (non-zombie) members of a process group.
group_pids() {
  if command -v ps >/dev/null 2>&1; then
    ps -eo pgid=,pid=,stat= | awk -v g="$1" '$1 == g && $3 !~ /^Z/ { print $2 }'
    return
  fi
  local f stat rest fields
  for f in /proc/[0-9]*/stat; do
    stat=$(<"$f") 2>/dev/null || continue
    rest=${stat##*) }            # fields from 3 (state) on
    read -r -a fields <<<"$rest"
    [[ ${fields[2]} == "$1" && ${fields[0]} != Z ]] || continue
    f=${f#/proc/}; echo "${f%/stat}"
  done
}

component_pid() { cat "$CLUSTER_DIR/$1.pid" 2>/dev/null || true; }

# port_busy PORT: something holds this TCP port (any state) on v4 or v6.
port_busy() {
  local hex; hex=$(printf ':%04X' "$1")
  awk -v h="$hex" 'FNR > 1 { split($2, a, ":"); if (":" a[2] == h) found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port [preferred]: the preferred port if free, else a random free port
# below the usual ephemeral range (32768+), so outgoing connections never
# collide with it.
free_port() {
  local want=${1:-} p i
  if [[ -n $want ]] && ! port_busy "$want"; then echo "$want"; return; fi
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    port_busy "$p" || { echo "$p"; return; }
  done
  cdie "no free TCP port found"
}
