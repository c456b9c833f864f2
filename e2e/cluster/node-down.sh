# Stop the local node and leave the host as it was (no mounts, cgroups, links or nft
# tables of ours). Sourced by down.sh, which provides stop, component_pid, pid_alive, clog.
# shellcheck shell=bash

# node_drain: let the kubelet stop every Pod (containers, then sandboxes, whose CNI DEL
# frees the IP and removes the veth), bounded, while the API server still runs. The node is
# cordoned first so Deployments' replacement Pods stay Pending until the next up.sh.
node_drain() {
  pid_alive "$(component_pid kubelet)" || return 0
  pid_alive "$(component_pid kube-apiserver)" || return 0
  local kc="$CLUSTER_DIR/kubeconfig" kubectl
  kubectl=$(sed -n 's/^WEFT_KUBECTL=//p' "$WEFT_CACHE/k8s-tools.env" 2>/dev/null)
  [[ -x $kubectl ]] || return 0
  Kd() { "$kubectl" --kubeconfig="$kc" --request-timeout=10s "$@"; }
  Kd cordon "$NODE_NAME" >/dev/null 2>&1 || true
  local i left=''
  for ((i = 0; i < 60; i++)); do
    # Again every few rounds: Pods made with spec.nodeName (or tolerating the cordon) come back.
    if ((i % 10 == 0)); then
      Kd delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" --wait=false \
        --grace-period=5 >/dev/null 2>&1 || true
    fi
    # sed, not head: head exits early, kubectl dies of SIGPIPE and, with pipefail under set -e,
    # down.sh stopped right here (exit 141) leaving the whole node up (seen with ~10 Pods).
    left=$(Kd get pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" -o name 2>/dev/null | sed -n 1,5p || true)
    [[ -z $left ]] && break
    sleep 0.5
  done
  if [[ -n $left ]]; then clog "WARNING: pods still on $NODE_NAME after 30s: ${left//$'\n'/ }; killing them"
  else clog "kubelet stopped every pod on $NODE_NAME"; fi
}

# stop_daemon NAME: SIGTERM the process alone (containerd's shims and containers are left
# to node_cleanup's cgroup sweep), up to 5s.
stop_daemon() {
  local pid i; pid=$(component_pid "$1")
  if pid_alive "$pid"; then
    clog "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$CLUSTER_DIR/$1.pid"
}

# node_cleanup: after kube-proxy, the kubelet and containerd were stopped.
node_cleanup() {
  local cg c d i pids
  cg=$(cat "$NODE_DIR/cgroup" 2>/dev/null || true)
  # Whatever remains in the node's cgroups: shims, container processes, the namespace holder.
  if [[ -n $cg ]]; then
    for ((i = 0; i < 50; i++)); do
      pids=$(node_cg_procs "$cg")
      [[ -z $pids ]] && break
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 0.1
    done
    [[ -n $pids ]] && clog "WARNING: processes left in the node's cgroups: ${pids//$'\n'/ }"
  fi
  stop node-ns
  # The namespace (and with it every overlay, tmpfs and netns mount) is gone once its last
  # process is; the veths died with their network namespaces.
  if [[ -n $cg ]]; then
    # unified: on this hybrid v1/v2 host runc and the kubelet mirror their cgroups there too.
    for c in "${NODE_CG_CONTROLLERS[@]}" unified; do
      d=$(cg_dir "$c" "$cg")
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # Parents this node created (in the order made, so reversed) when now empty.
    if [[ -f $NODE_DIR/cgroup.created ]]; then
      tac "$NODE_DIR/cgroup.created" | while read -r d; do [[ -d $d ]] && rmdir "$d" 2>/dev/null; done
    fi
    for c in "${NODE_CG_CONTROLLERS[@]}" unified; do
      d=$(cg_dir "$c" "$cg"); [[ -d $d ]] && clog "WARNING: cgroup $d still exists"
    done
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    for d in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link del "$d" 2>/dev/null || true
    done
    ip link del "$BRIDGE"
  fi
  nft delete table ip kube-proxy 2>/dev/null || true
  nft delete table ip6 kube-proxy 2>/dev/null || true
  # The kubelet's and CNI's state go; containerd's root stays (down.sh --purge removes it):
  # imported images survive a restart, like a rebooted node's, and its stale containers are
  # only records (their mounts and processes are gone) that the kubelet removes.
  find "$NODE_DIR/var-lib" -mindepth 1 -maxdepth 1 ! -name containerd -exec rm -rf {} + 2>/dev/null || true
  rm -rf "$NODE_DIR/ns.ready" "$NODE_DIR/containerd.sock" "$NODE_DIR/cgroup" \
    "$NODE_DIR/cgroup.created"
}
