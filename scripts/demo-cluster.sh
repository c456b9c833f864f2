#!/usr/bin/env bash
# The cluster demo (make demo-cluster): Weft as a user runs it. Brings up the local cluster
# with its real node (make cluster-up), builds Weft's images and loads them into the node's
# containerd, helm-installs charts/weft (2 controller Pods, webhook, TLS xDS), labels the shop
# namespace for injection, deploys the shop (examples/shop: a client, checkout v1 and v2) with
# a 90/10 TrafficSplit, a RetryPolicy and STRICT PeerAuth, then prints, every second, the
# split the in-mesh client observes. Stop it with make demo-cluster-down.
#
#   DEMO_SECONDS=30     how long the client sends traffic (bounded; Ctrl-C stops earlier)
#   DEMO_RPS=100        request rate of that client
#   WEFT_CLUSTER_DIR    cluster state dir (default ~/.cache/weft/node-cluster, as make cluster-up)
# Needs root (the node); no Docker. On a machine with Docker, `make kind-up` is the same
# install on kind (same images, built with `make images`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO_SECONDS=${DEMO_SECONDS:-30}
DEMO_RPS=${DEMO_RPS:-100}
NS=shop
RELEASE=weft
CP_NS=weft-system

say() { printf '[demo-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
[[ $(id -u) == 0 ]] || die "needs root (the local node runs containerd and a kubelet)"
[[ $DEMO_SECONDS =~ ^[0-9]+$ && $DEMO_SECONDS -ge 1 && $DEMO_SECONDS -le 3600 ]] || die "DEMO_SECONDS must be 1-3600"

# --- 1. tools, cluster, images --------------------------------------------------------
export WEFT_CLUSTER_DIR=${WEFT_CLUSTER_DIR:-${WEFT_CACHE:-$HOME/.cache/weft}/node-cluster}
mkdir -p "$WEFT_CLUSTER_DIR"
LOG=$WEFT_CLUSTER_DIR/demo-cluster.log
: >"$LOG"
# The steps' own chatter goes to the log; it is printed only when a step fails.
quiet() { "$@" >>"$LOG" 2>&1 || { tail -40 "$LOG" >&2; die "$* failed (log: $LOG)"; }; }
t0=$(date +%s%N)
say "setting up (first run: npm ci, Envoy, Kubernetes and node binaries from source; log: $LOG)"
quiet bash scripts/setup.sh --k8s
say "setup done in $(ms "$t0") ms"
t=$(date +%s%N)
quiet env WEFT_NODE=1 bash e2e/cluster/up.sh
# shellcheck source=/dev/null
. "$WEFT_CLUSTER_DIR/env"
export KUBECONFIG=$WEFT_KUBECONFIG
k() { "$WEFT_KUBECTL" "$@"; }
say "cluster up in $(ms "$t") ms (kubeconfig $KUBECONFIG)"
t=$(date +%s%N)
quiet bash scripts/images/build.sh --import
say "images built and loaded into the node in $(ms "$t") ms"

# --- 2. Weft, in the cluster ------------------------------------------------------------
t=$(date +%s%N)
quiet "$WEFT_HELM" upgrade --install "$RELEASE" charts/weft -n "$CP_NS" --create-namespace --wait --timeout 5m
quiet k -n "$CP_NS" rollout status "deployment/$RELEASE" --timeout=180s
# The namespace, labelled for injection (examples/shop/namespace.yaml carries the label too).
k apply -f examples/shop/namespace.yaml >/dev/null
k label namespace "$NS" weft.dev/inject=enabled --overwrite >/dev/null
# The API server must reach the webhook through its Service before the shop's Pods are
# created (failurePolicy Fail): a server-side dry run comes back with the sidecar.
probe='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"probe"},"spec":{"containers":[{"name":"app","image":"none"}]}}'
for i in $(seq 1 120); do
  if k -n "$NS" create --dry-run=server -o jsonpath='{.spec.initContainers[*].name}' -f - <<<"$probe" 2>/dev/null | grep -q weft-proxy; then break; fi
  ((i < 120)) || die "the webhook never answered the API server"
  sleep 1
done
say "Weft installed and injecting in $(ms "$t") ms: $(k -n "$CP_NS" get lease weft-controller -o jsonpath='{.spec.holderIdentity}') leads"

# --- 3. the shop --------------------------------------------------------------------------
t=$(date +%s%N)
k apply -k examples/shop >/dev/null
quiet k -n "$NS" rollout status deploy/checkout-v1 deploy/checkout-v2 deploy/client --timeout=300s
say "shop deployed and Ready in $(ms "$t") ms"
k -n "$NS" get pods -o wide >&2
k get trafficsplits,retrypolicies,peerauths -n "$NS" >&2

# --- 4. the split, live -------------------------------------------------------------------
say "the in-mesh client (deploy/client) calls checkout.$NS.svc.cluster.local at $DEMO_RPS/s for $DEMO_SECONDS s:"
k -n "$NS" exec deploy/client -c client -- node /shop/shop.ts load --url "http://checkout.$NS.svc.cluster.local:8080/" \
  --rate "$DEMO_RPS" --concurrency 4 --duration "$DEMO_SECONDS" |
  "$ROOT/node_modules/.bin/node" "$ROOT/scripts/demo-split.ts"

mem=$(k -n "$CP_NS" get pods -l app.kubernetes.io/component=controller -o name | while read -r p; do
  # shellcheck disable=SC2016 # expanded in the container
  k -n "$CP_NS" exec "$p" -c controller -- sh -c 'echo $(( $(cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.current) / 1048576 ))' 2>/dev/null
done | paste -sd, -)
say "controller Pods' memory (cgroup usage, MiB): $mem"

cat >&2 <<EOF

The cluster keeps running. Look around (KUBECONFIG=$KUBECONFIG; kubectl is $WEFT_KUBECTL):
  export KUBECONFIG=$KUBECONFIG PATH=$WEFT_K8S_BIN_DIR:\$PATH
  kubectl -n $NS logs -f deploy/client                    # the client's own 10/s loop, one line a second
  kubectl get weft -A -o wide                             # TrafficSplit, RetryPolicy, PeerAuth and their status
  kubectl -n $NS patch trafficsplit checkout --type=json \\
    -p '[{"op":"replace","path":"/spec/backends/0/weight","value":50},{"op":"replace","path":"/spec/backends/1/weight","value":50}]'
  kubectl -n $NS exec deploy/checkout-v2 -- node /shop/shop.ts fail 30   # v2 fails 30 %; the RetryPolicy hides it
  kubectl -n $CP_NS get pods,lease,pdb                   # the control plane: 2 replicas, the leader's Lease
  kubectl -n $CP_NS logs deploy/$RELEASE | tail           # structured logs
  DEMO_SECONDS=60 make demo-cluster                       # again (everything is idempotent)
  make demo-cluster-down                                  # stop the cluster (state kept; the host is left as it was)
EOF
