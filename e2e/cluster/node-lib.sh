# Shared settings and helpers of the local node (up.sh/node-up.sh/down.sh). Sourced.
# shellcheck shell=bash
#
# One node per host: it owns host-wide names (the bridge, the kube-proxy nft tables, the
# kubelet's cgroup root), so NODE_LOCK is held for its lifetime by the namespace holder.

NODE_NAME=weft-node
POD_CIDR=10.244.0.0/24
BRIDGE=weft0
BRIDGE_IP=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
CLUSTER_DNS_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
NODE_DIR=$CLUSTER_DIR/node
NODE_LOCK=$WEFT_CACHE/.node-host.lock
# Processes of the node, in start order (down.sh stops them in reverse).
NODE_COMPONENTS=(node-ns containerd kubelet kube-proxy)
# cgroup v1 controllers the kubelet's cgroupfs driver writes to.
NODE_CG_CONTROLLERS=(cpu cpuacct cpuset memory devices freezer blkio pids systemd)

# node_enabled: WEFT_NODE=1 (make cluster-up sets it) runs a kubelet, containerd,
# kube-proxy, kube-scheduler and CoreDNS; unset or 0 keeps the control-plane-only harness,
# in which tests play the node by patching Pod status (see README.md).
node_enabled() { [[ ${WEFT_NODE:-0} == 1 ]]; }

# The node's cgroup, the same path under every controller, below the memory cgroup this
# script runs in, so the node is accounted where its caller is.
node_cgroup_default() {
  local base; base=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  [[ $base == / ]] && base=''
  echo "$base/weft-node"
}
cg_dir() { # controller path
  local c=$1 mnt=/sys/fs/cgroup/$1
  [[ $c == systemd ]] && mnt=/sys/fs/cgroup/systemd
  echo "$mnt$2"
}

# node_cg_procs PATH: pids in any controller's PATH subtree.
node_cg_procs() {
  local c d
  for c in "${NODE_CG_CONTROLLERS[@]}"; do
    d=$(cg_dir "$c" "$1")
    [[ -d $d ]] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}
