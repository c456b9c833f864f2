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
  Kd delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" --wait=false \
    --grace-period=5 >/dev/null 2>&1 || true
  local i left=''
  for ((i = 0; i < 60; i++)); do
    left=$(Kd get pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" -o name 2>/dev/null | head -5)
    [[ -z $left ]] && break
    sleep 0.5
  done
  if [[ -n $left ]]; then clog "WARNING: pods still on $NODE_NAME after 30s: ${left//$'\n'/ }; killing them"
  else clog "kubelet stopped every pod on $NODE_NAME"; fi
}

# node_cleanup: after kube-proxy, the kubelet and containerd got SIGTERM.
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
    for c in "${NODE_CG_CONTROLLERS[@]}"; do
      d=$(cg_dir "$c" "$cg")
      [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # Parents this node created (in the order made, so reversed) when now empty.
    if [[ -f $NODE_DIR/cgroup.created ]]; then
      tac "$NODE_DIR/cgroup.created" | while read -r d; do [[ -d $d ]] && rmdir "$d" 2>/dev/null; done
    fi
    for c in "${NODE_CG_CONTROLLERS[@]}"; do
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
  # Runtime state: images are imported again by the next up.sh (content-addressed, quick).
  rm -rf "$NODE_DIR/var-lib" "$NODE_DIR/ns.ready" "$NODE_DIR/containerd.sock" "$NODE_DIR/cgroup" \
    "$NODE_DIR/cgroup.created"
}
