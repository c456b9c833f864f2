# Start the local node next to the control plane: kube-scheduler, containerd + runc, the
# CNI bridge, kube-proxy (nftables), a kubelet registered as $NODE_NAME, and CoreDNS.
# Sourced by up.sh once kube-controller-manager is healthy (uses its start, wait_for, K,
# write_kubeconfig, sign, PKI, LOGS). The settings and why: README.md, "The node".
# shellcheck shell=bash

node_up() {
  local t0=$SECONDS
  set -a
  # shellcheck source=/dev/null
  . "$WEFT_CACHE/node-tools.env"
  set +a
  mkdir -p "$NODE_DIR"/{var-lib,cni/net.d,cni/bin,sysctl}
  # The one lock for the host: fail early and clearly when another cluster's node runs.
  if ! (exec 7>"$NODE_LOCK"; flock -n 7); then
    cdie "another cluster's node holds $NODE_LOCK (one node per host): stop it, or start this cluster with WEFT_NODE=0"
  fi

  # --- kube-scheduler (host namespaces) ---------------------------------------------
  write_kubeconfig "$CLUSTER_DIR/kube-scheduler.kubeconfig" system:kube-scheduler \
    "$PKI/kube-scheduler.crt" "$PKI/kube-scheduler.key"
  start kube-scheduler "$WEFT_KUBE_SCHEDULER" \
    --kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false

  # --- cgroups: one subtree under every v1 controller, removed by down.sh -------------
  local cg; cg=$(node_cgroup_default)
  echo "$cg" >"$NODE_DIR/cgroup"
  : >"$NODE_DIR/cgroup.created"
  local c d parts p cur
  for c in "${NODE_CG_CONTROLLERS[@]}"; do
    IFS=/ read -r -a parts <<<"${cg#/}/system"
    cur=''
    for p in "${parts[@]}"; do
      cur+=/$p; d=$(cg_dir "$c" "$cur")
      [[ -d $d ]] && continue
      mkdir "$d"; echo "$d" >>"$NODE_DIR/cgroup.created"
      if [[ $c == cpuset ]]; then cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"; cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems"; fi
    done
  done
  NODE_CG_JOIN=''
  for c in "${NODE_CG_CONTROLLERS[@]}"; do NODE_CG_JOIN+=" $(cg_dir "$c" "$cg/system")/cgroup.procs"; done

  # --- the bridge: forwarding on it alone, ip_forward stays as it is ----------------------
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    echo 1 >"/proc/sys/net/ipv6/conf/$BRIDGE/disable_ipv6"
    ip addr add "$BRIDGE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    # The host (the API server calling webhooks, tests) reaches ClusterIPs through the bridge
    # from the bridge address: kube-proxy DNATs them to Pods there, and a ClusterIP without a
    # Service goes nowhere instead of out of eth0 by the default route.
    ip route add "$SERVICE_CIDR" dev "$BRIDGE" src "$BRIDGE_IP"
  fi
  echo 1 >"/proc/sys/net/ipv4/conf/$BRIDGE/forwarding"

  # --- the private mount namespace ---------------------------------------------------------
  # Overlay, tmpfs and netns mounts of containerd and the kubelet stay in it and vanish with
  # it; /run, /var/lib and /var/log are its own; the sysctls the kubelet insists on writing
  # are files here. Its holder keeps the host lock until it dies.
  printf '1\n' >"$NODE_DIR/sysctl/overcommit_memory"
  printf '10\n' >"$NODE_DIR/sysctl/panic"
  printf '1\n' >"$NODE_DIR/sysctl/panic_on_oops"
  rm -f "$NODE_DIR/ns.ready"
  NODE_LOCK=$NODE_LOCK NODE_CG_JOIN=$NODE_CG_JOIN \
  setsid unshare --mount --propagation private -- bash -c '
    set -e; NODE_DIR=$1
    exec 7>"$NODE_LOCK"; flock -n 7 || { echo "node lock $NODE_LOCK is held" >&2; exit 75; }
    for f in $NODE_CG_JOIN; do echo $$ >"$f"; done
    mount -t tmpfs -o mode=0755,size=512m weft-node-run /run
    mount --bind "$NODE_DIR/var-lib" /var/lib
    mount -t tmpfs -o mode=0755,size=512m weft-node-log /var/log
    mount --bind "$NODE_DIR/sysctl/overcommit_memory" /proc/sys/vm/overcommit_memory
    mount --bind "$NODE_DIR/sysctl/panic" /proc/sys/kernel/panic
    mount --bind "$NODE_DIR/sysctl/panic_on_oops" /proc/sys/kernel/panic_on_oops
    : >"$NODE_DIR/ns.ready"
    exec -a "$NODE_DIR/node-ns" sleep infinity
  ' node-ns "$NODE_DIR" >"$LOGS/node-ns.log" 2>&1 </dev/null 8>&- &
  echo $! >"$CLUSTER_DIR/node-ns.pid"
  ns_ready() { [[ -f $NODE_DIR/ns.ready ]]; }
  wait_for node-ns 10 ns_ready
  NODE_NS_PID=$(component_pid node-ns)
  clog "node mount namespace ready (holder pid $NODE_NS_PID)"

  # --- containerd -------------------------------------------------------------------------
  CONTAINERD_SOCK=$NODE_DIR/containerd.sock
  cat >"$NODE_DIR/containerd.toml" <<EOF
version = 3
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = ""
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    # Root here lacks CAP_SYS_RESOURCE: nothing may lower oom_score_adj (harness-facts §6).
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "$WEFT_RUNC"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      # The second is the node's own, writable bin dir (/opt/cni/bin on a real node): Weft's
      # CNI mode installs its plugin there (e2e/pods/cni.test.ts); the cache stays untouched.
      bin_dirs = ["$WEFT_CNI_BIN_DIR", "$NODE_DIR/cni/bin"]
      conf_dir = "$NODE_DIR/cni/net.d"
      max_conf_num = 1
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "$WEFT_PAUSE_IMAGE"
  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
EOF
  # No portmap: hostPorts are unused and it would write nat rules into the host's tables.
  cat >"$NODE_DIR/cni/net.d/10-weft.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "weft",
  "plugins": [{
    "type": "bridge", "bridge": "$BRIDGE",
    "isGateway": false, "ipMasq": false, "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$BRIDGE_IP"}]],
      "routes": [{"dst": "$SERVICE_CIDR", "gw": "$BRIDGE_IP"}]
    }
  }]
}
EOF
  start_in_node containerd "$WEFT_CONTAINERD" --config "$NODE_DIR/containerd.toml" --log-level warn
  ctr_ready() { "$WEFT_CTR" --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
  wait_for containerd 30 ctr_ready
  WEFT_CTR=$WEFT_CTR WEFT_CONTAINERD_SOCK=$CONTAINERD_SOCK \
    "$REPO_ROOT/scripts/images/import.sh" "$WEFT_PAUSE_IMAGE_TAR" "$WEFT_COREDNS_IMAGE_TAR" >/dev/null
  clog "containerd ready ($CONTAINERD_SOCK); pause and CoreDNS images imported"

  # --- kubelet ----------------------------------------------------------------------------
  write_kubeconfig "$NODE_DIR/kubelet.kubeconfig" "system:node:$NODE_NAME" "$PKI/kubelet.crt" "$PKI/kubelet.key"
  : >"$NODE_DIR/resolv.conf"
  cat >"$NODE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# cgroup v1 on this VM, no systemd: cgroupfs under the node's own subtree.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $cg
# Lowering oom_score_adj is forbidden here (no CAP_SYS_RESOURCE).
oomScoreAdj: 0
makeIPTablesUtilChains: false
# Imported images cannot be pulled again: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
failSwapOn: false
protectKernelDefaults: false
address: $BRIDGE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $NODE_DIR/resolv.conf
staticPodPath: ""
registerNode: true
serializeImagePulls: false
shutdownGracePeriod: 0s
nodeStatusUpdateFrequency: 10s
EOF
  start_in_node kubelet "$WEFT_KUBELET" \
    --config="$NODE_DIR/kubelet.yaml" --kubeconfig="$NODE_DIR/kubelet.kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$BRIDGE_IP" --root-dir=/var/lib/kubelet \
    --v=1

  # --- kube-proxy -------------------------------------------------------------------------
  write_kubeconfig "$NODE_DIR/kube-proxy.kubeconfig" system:kube-proxy "$PKI/kube-proxy.crt" "$PKI/kube-proxy.key"
  cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: $NODE_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
detectLocalMode: ClusterCIDR
nodePortAddresses: ["$BRIDGE_IP/32"]
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
# Leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start_in_node kube-proxy "$WEFT_KUBE_PROXY" --config="$NODE_DIR/kube-proxy.yaml"

  kubelet_healthy() { [[ "$(curl -s --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" 2>/dev/null)" == ok ]]; }
  wait_for kubelet 60 kubelet_healthy
  # After a restart the Node's status may still say Ready from before: the healthz above is
  # this kubelet's own word, this is the API's.
  node_ready() {
    [[ "$(K get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
  }
  wait_for kubelet 90 node_ready
  # TaintNodesByCondition put not-ready on the Node before the kubelet ran; only the
  # node-lifecycle controller (not run: it would evict the fake node's pods) removes it.
  K taint node "$NODE_NAME" node.kubernetes.io/not-ready:NoSchedule- >/dev/null 2>&1 || true
  K uncordon "$NODE_NAME" >/dev/null
  clog "kubelet registered $NODE_NAME (Ready); kube-proxy (nftables) running"

  # --- CoreDNS ------------------------------------------------------------------------------
  sed -e "s|@IMAGE@|$WEFT_COREDNS_IMAGE|g" -e "s|@DNS_IP@|$CLUSTER_DNS_IP|g" -e "s|@DOMAIN@|$CLUSTER_DOMAIN|g" \
    "$CLUSTER_SCRIPT_DIR/coredns.yaml" | K apply -f - >/dev/null
  coredns_ready() {
    [[ "$(K -n kube-system get deploy coredns -o 'jsonpath={.status.readyReplicas}' 2>/dev/null)" == 1 ]]
  }
  wait_for kubelet 90 coredns_ready
  clog "CoreDNS ready at $CLUSTER_DNS_IP; node up in $((SECONDS - t0))s"
}

# start_in_node NAME BINARY ARGS...: like start, inside the node's mount namespace and cgroup.
start_in_node() {
  local name=$1; shift
  NODE_CG_JOIN=$NODE_CG_JOIN setsid bash -c \
    'for f in $NODE_CG_JOIN; do echo $$ >"$f"; done; exec nsenter --mount="/proc/'"$NODE_NS_PID"'/ns/mnt" -- "$@"' \
    "$name" "$@" >"$LOGS/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$CLUSTER_DIR/$name.pid"
  clog "started $name (pid $!, log $LOGS/$name.log)"
}
