#!/usr/bin/env bash
# Start a real local Kubernetes cluster for e2e tests: etcd + kube-apiserver +
# kube-controller-manager, and with WEFT_NODE=1 (make cluster-up) a real node:
# kube-scheduler, containerd + runc, the CNI bridge, kube-proxy, a kubelet and CoreDNS
# (node-up.sh). Without it, the kubelet-less control plane on 127.0.0.1, where tests play
# the node. Binaries: scripts/install-k8s.sh and scripts/install-node.sh. Idempotent: if the
# cluster is already up and healthy (in the same mode) it only reports. Progress goes to
# stderr; the last line on stdout is the admin kubeconfig path.
# `source "$WEFT_CLUSTER_DIR/env"` for variables.
#
# State: $WEFT_CLUSTER_DIR, default ${WEFT_CACHE:-$HOME/.cache/weft}/cluster (node-cluster with a node)
#   env, ports, mode, kubeconfig, *.kubeconfig, pki/, etcd/, node/,
#   logs/<component>.log, <component>.pid
set -euo pipefail
# shellcheck source=e2e/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T0=$SECONDS
MODE=control-plane
if node_enabled; then
  MODE=node
  COMPONENTS+=(kube-scheduler "${NODE_COMPONENTS[@]}")
fi

mkdir -p "$CLUSTER_DIR"
exec 8>"$CLUSTER_DIR/.lock"   # fd 8 is closed for the daemons we start (see start())
if ! flock -n 8; then
  clog "another up.sh/down.sh is running on $CLUSTER_DIR; waiting for it"
  flock -w 900 8 || cdie "another up.sh/down.sh holds $CLUSTER_DIR/.lock"
fi

# One node per host: say so before starting anything (node_up checks again, for races).
if [[ $MODE == node ]] && ! (mkdir -p "$WEFT_CACHE" && exec 7>"$NODE_LOCK" && flock -n 7) \
  && ! pid_alive "$(component_pid node-ns)"; then
  cdie "another cluster's node holds $NODE_LOCK (one node per host): stop it, or use WEFT_NODE=0"
fi

# --- tools --------------------------------------------------------------------
"$REPO_ROOT/scripts/install-k8s.sh" >/dev/null
if [[ $MODE == node ]]; then "$REPO_ROOT/scripts/install-node.sh" >/dev/null; fi
set -a
# shellcheck source=/dev/null
. "${WEFT_CACHE}/k8s-tools.env"
set +a
KUBECTL=$WEFT_KUBECTL

PKI=$CLUSTER_DIR/pki
KUBECONFIG_PATH=$CLUSTER_DIR/kubeconfig
KCM_KUBECONFIG=$CLUSTER_DIR/kube-controller-manager.kubeconfig
LOGS=$CLUSTER_DIR/logs

# --- already running? ----------------------------------------------------------
all_running() {
  local c; for c in "${COMPONENTS[@]}"; do pid_alive "$(component_pid "$c")" || return 1; done
}
apiserver_ready() { # port
  [[ "$(curl -s --max-time 3 --cacert "$PKI/ca.crt" "https://127.0.0.1:$1/readyz" 2>/dev/null)" == ok ]]
}
if [[ -f $CLUSTER_DIR/env && -f $CLUSTER_DIR/ports ]]; then
  # shellcheck source=/dev/null
  . "$CLUSTER_DIR/ports"
  # All processes alive: give a busy apiserver up to 15s before restarting it.
  healthy=0
  if [[ "$(cat "$CLUSTER_DIR/mode" 2>/dev/null)" == "$MODE" ]] && all_running; then
    for ((i = 0; i < 15; i++)); do
      apiserver_ready "$APISERVER_PORT" && { healthy=1; break; }
      sleep 1
    done
  fi
  if ((healthy)); then
    clog "cluster already running at https://127.0.0.1:$APISERVER_PORT (state: $CLUSTER_DIR)"
    echo "$KUBECONFIG_PATH"
    exit 0
  fi
fi
if compgen -G "$CLUSTER_DIR/*.pid" >/dev/null; then
  clog "found a partial/unhealthy cluster; stopping it first"
  WEFT_CLUSTER_DIR=$CLUSTER_DIR "$CLUSTER_SCRIPT_DIR/down.sh" --locked
fi

# --- ports (reuse the previous ones when free, so the SA issuer stays stable) --
ETCD_PORT='' ETCD_PEER_PORT='' APISERVER_PORT='' KCM_PORT='' SCHEDULER_PORT='' KUBELET_PORT=''
KUBELET_HEALTHZ_PORT='' KUBE_PROXY_METRICS_PORT='' KUBE_PROXY_HEALTHZ_PORT=''
# shellcheck source=/dev/null
[[ -f $CLUSTER_DIR/ports ]] && . "$CLUSTER_DIR/ports"
taken=" "
pick() { # varname
  local p; p=$(free_port "${!1}")
  while [[ $taken == *" $p "* ]]; do p=$(free_port); done
  taken+="$p "; printf -v "$1" '%s' "$p"
}
PORT_VARS=(ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT
  KUBE_PROXY_METRICS_PORT KUBE_PROXY_HEALTHZ_PORT)
for v in "${PORT_VARS[@]}"; do pick "$v"; done
for v in "${PORT_VARS[@]}"; do printf '%s=%s\n' "$v" "${!v}"; done >"$CLUSTER_DIR/ports"
echo "$MODE" >"$CLUSTER_DIR/mode"
APISERVER_URL=https://127.0.0.1:$APISERVER_PORT
ETCD_URL=http://127.0.0.1:$ETCD_PORT
ISSUER=$APISERVER_URL
APISERVER_NET=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none
  "--service-account-issuer=$ISSUER")
if [[ $MODE == node ]]; then
  # Pods reach the API server through the bridge: it listens on all addresses, advertises
  # the bridge IP, and default/kubernetes gets that endpoint. The issuer is the bridge URL
  # (reachable from the host and from Pods); tokens naming the loopback one still verify.
  ISSUER=https://$BRIDGE_IP:$APISERVER_PORT
  APISERVER_NET=(--bind-address=0.0.0.0 "--advertise-address=$BRIDGE_IP" --endpoint-reconciler-type=lease
    "--service-account-issuer=$ISSUER" "--service-account-issuer=$APISERVER_URL")
fi

# --- certificates and keys (generated once, kept across restarts) --------------
gen_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }
make_ca() { # name subject
  gen_key "$PKI/$1.key"
  openssl req -x509 -new -key "$PKI/$1.key" -subj "$2" -days 3650 -sha256 -out "$PKI/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}
sign() { # ca name subject extensions
  local ca=$1 n=$2
  gen_key "$PKI/$n.key"
  openssl req -new -key "$PKI/$n.key" -subj "$3" -out "$PKI/$n.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 3650 -sha256 -out "$PKI/$n.crt" -extfile <(printf '%b' "$4") 2>/dev/null
  rm -f "$PKI/$n.csr"
}
PKI_LAYOUT=3   # bump when the set of generated files changes
if [[ "$(cat "$PKI/.complete" 2>/dev/null)" != "$PKI_LAYOUT" ]]; then
  clog "generating certificates in $PKI"
  rm -rf "$PKI"; mkdir -p "$PKI"
  make_ca ca "/CN=weft-e2e-ca"
  leaf='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
  sign ca apiserver "/CN=kube-apiserver" \
    "${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,IP:$KUBERNETES_SVC_IP,IP:$BRIDGE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
  sign ca admin "/O=system:masters/CN=admin" "${leaf}extendedKeyUsage=clientAuth\n"
  sign ca kube-controller-manager "/CN=system:kube-controller-manager" "${leaf}extendedKeyUsage=clientAuth\n"
  # The node's identities (used when WEFT_NODE=1; cheap, so always made).
  sign ca kube-scheduler "/CN=system:kube-scheduler" "${leaf}extendedKeyUsage=clientAuth\n"
  sign ca kube-proxy "/CN=system:kube-proxy" "${leaf}extendedKeyUsage=clientAuth\n"
  sign ca kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "${leaf}extendedKeyUsage=clientAuth\n"
  sign ca kubelet-serving "/CN=$NODE_NAME" \
    "${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:$BRIDGE_IP,DNS:$NODE_NAME\n"
  sign ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "${leaf}extendedKeyUsage=clientAuth\n"
  # ServiceAccount token signing key pair (ES256).
  gen_key "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  # Static bearer token for clients that prefer a token to a client cert.
  printf '%s,admin-token,admin-token,"system:masters"\n' "$(openssl rand -hex 24)" >"$PKI/tokens.csv"
  chmod 600 "$PKI/tokens.csv"
  # Front-proxy (requestheader) CA + client, kubeadm style: lets aggregated API
  # servers and the controller-manager's delegated authn read the
  # extension-apiserver-authentication ConfigMap without errors.
  make_ca front-proxy-ca "/CN=weft-e2e-front-proxy-ca"
  sign front-proxy-ca front-proxy-client "/CN=front-proxy-client" "${leaf}extendedKeyUsage=clientAuth\n"
  echo "$PKI_LAYOUT" >"$PKI/.complete"
fi
ADMIN_TOKEN=$(cut -d, -f1 "$PKI/tokens.csv")

write_kubeconfig() { # file user cert key
  local b64='base64 -w0'
  cat >"$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: weft-e2e
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $($b64 <"$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $($b64 <"$3")
    client-key-data: $($b64 <"$4")
contexts:
- name: weft-e2e
  context: {cluster: weft-e2e, user: $2}
current-context: weft-e2e
EOF
  chmod 600 "$1.tmp"; mv "$1.tmp" "$1"
}
write_kubeconfig "$KUBECONFIG_PATH" admin "$PKI/admin.crt" "$PKI/admin.key"
write_kubeconfig "$KCM_KUBECONFIG" system:kube-controller-manager \
  "$PKI/kube-controller-manager.crt" "$PKI/kube-controller-manager.key"
export KUBECONFIG=$KUBECONFIG_PATH

# --- start processes ----------------------------------------------------------
mkdir -p "$LOGS"
start() { # name binary args...
  local name=$1; shift
  # setsid: own session/process group, so down.sh can kill the whole group and
  # nothing is tied to the caller's terminal.
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$CLUSTER_DIR/$name.pid"
  clog "started $name (pid $!, log $LOGS/$name.log)"
}
wait_for() { # name timeout-seconds command...
  local name=$1 timeout=$2 deadline=$((SECONDS + $2)); shift 2
  until "$@"; do
    if ! pid_alive "$(component_pid "$name")"; then
      tail -30 "$LOGS/$name.log" >&2 || true; cdie "$name exited during startup (log: $LOGS/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -30 "$LOGS/$name.log" >&2 || true; cdie "$name not healthy after ${timeout}s (log: $LOGS/$name.log)"
    fi
    sleep 0.2
  done
}

start etcd "$WEFT_ETCD" \
  --name=weft-e2e \
  --data-dir="$CLUSTER_DIR/etcd" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="weft-e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
  --listen-metrics-urls="" \
  --unsafe-no-fsync=true \
  --log-level=warn
etcd_healthy() { curl -sf --max-time 2 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; }
wait_for etcd 30 etcd_healthy
clog "etcd healthy at $ETCD_URL"

start kube-apiserver "$WEFT_KUBE_APISERVER" \
  --etcd-servers="$ETCD_URL" \
  "${APISERVER_NET[@]}" --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --cert-dir="$CLUSTER_DIR/apiserver-certs" \
  --client-ca-file="$PKI/ca.crt" \
  --token-auth-file="$PKI/tokens.csv" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
  --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --authorization-mode=Node,RBAC \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --allow-privileged=true \
  --profiling=false
wait_for kube-apiserver 120 apiserver_ready "$APISERVER_PORT"
clog "kube-apiserver ready at $APISERVER_URL"

K() { "$KUBECTL" --kubeconfig="$KUBECONFIG_PATH" --request-timeout=20s "$@"; }

# Let anyone fetch /.well-known/openid-configuration and /openid/v1/jwks, so
# components can verify ServiceAccount tokens locally without credentials.
K apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: weft-e2e:service-account-issuer-discovery
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:service-account-issuer-discovery
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:unauthenticated
EOF

# The Node object, made before any kubelet: in control-plane mode the EndpointSlice
# controller needs it to keep pods with spec.nodeName=weft-node; in node mode the kubelet
# adopts it (with its podCIDR).
K apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  labels:
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
spec:
  podCIDR: $POD_CIDR
  podCIDRs: [$POD_CIDR]
EOF
if [[ $MODE == control-plane ]]; then
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
K patch node "$NODE_NAME" --subresource=status --type=merge -p "$(cat <<EOF
{"status":{
  "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"weft e2e fake node","lastHeartbeatTime":"$now","lastTransitionTime":"$now"}],
  "addresses":[{"type":"InternalIP","address":"10.244.0.1"},{"type":"Hostname","address":"$NODE_NAME"}],
  "capacity":{"cpu":"8","memory":"32Gi","pods":"250"},
  "allocatable":{"cpu":"8","memory":"32Gi","pods":"250"}
}}
EOF
)" >/dev/null
clog "node $NODE_NAME registered (Ready)"
fi

start kube-controller-manager "$WEFT_KUBE_CONTROLLER_MANAGER" \
  --kubeconfig="$KCM_KUBECONFIG" \
  --authentication-kubeconfig="$KCM_KUBECONFIG" --authorization-kubeconfig="$KCM_KUBECONFIG" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --cert-dir="$CLUSTER_DIR/kcm-certs" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" \
  --controllers=serviceaccount-controller,serviceaccount-token-controller,namespace-controller,garbage-collector-controller,endpointslice-controller,endpointslice-mirroring-controller,endpoints-controller,clusterrole-aggregation-controller,root-ca-certificate-publisher-controller,replicaset-controller,deployment-controller,service-cidr-controller,job-controller,daemonset-controller,statefulset-controller,disruption-controller,ttl-after-finished-controller \
  --profiling=false
kcm_healthy() { [[ "$(curl -sk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null)" == ok ]]; }
wait_for kube-controller-manager 60 kcm_healthy
default_sa() { K -n default get serviceaccount default >/dev/null 2>&1; }
wait_for kube-controller-manager 60 default_sa
clog "kube-controller-manager healthy; default ServiceAccount present"

if [[ $MODE == node ]]; then
  # shellcheck source=e2e/cluster/node-up.sh
  . "$CLUSTER_SCRIPT_DIR/node-up.sh"
  node_up
fi

# --- env file -----------------------------------------------------------------
{
  echo "# Generated by e2e/cluster/up.sh; source it. Removed by down.sh."
  kv() { printf 'export %s=%q\n' "$1" "$2"; }
  kv WEFT_CLUSTER_DIR "$CLUSTER_DIR"
  kv KUBECONFIG "$KUBECONFIG_PATH"
  kv WEFT_KUBECONFIG "$KUBECONFIG_PATH"
  kv WEFT_APISERVER_URL "$APISERVER_URL"
  kv WEFT_APISERVER_PORT "$APISERVER_PORT"
  kv WEFT_ETCD_URL "$ETCD_URL"
  kv WEFT_KCM_PORT "$KCM_PORT"
  kv WEFT_CA_CERT "$PKI/ca.crt"
  kv WEFT_CA_KEY "$PKI/ca.key"
  kv WEFT_ADMIN_CERT "$PKI/admin.crt"
  kv WEFT_ADMIN_KEY "$PKI/admin.key"
  kv WEFT_ADMIN_TOKEN "$ADMIN_TOKEN"
  kv WEFT_SA_ISSUER "$ISSUER"
  kv WEFT_SA_JWKS_URL "$APISERVER_URL/openid/v1/jwks"
  kv WEFT_SA_PUBLIC_KEY "$PKI/sa.pub"
  kv WEFT_NODE_NAME "$NODE_NAME"
  kv WEFT_SERVICE_CIDR "$SERVICE_CIDR"
  kv WEFT_CLUSTER_MODE "$MODE"
  if [[ $MODE == node ]]; then
    kv WEFT_NODE 1
    kv WEFT_POD_CIDR "$POD_CIDR"
    kv WEFT_BRIDGE "$BRIDGE"
    kv WEFT_BRIDGE_IP "$BRIDGE_IP"
    kv WEFT_CLUSTER_DNS_IP "$CLUSTER_DNS_IP"
    kv WEFT_CLUSTER_DOMAIN "$CLUSTER_DOMAIN"
    kv WEFT_KUBERNETES_SVC_IP "$KUBERNETES_SVC_IP"
    # From a Pod the API server is https://kubernetes.default.svc or this URL.
    kv WEFT_APISERVER_POD_URL "https://$BRIDGE_IP:$APISERVER_PORT"
    kv WEFT_CONTAINERD_SOCK "$CONTAINERD_SOCK"
    # The node's CNI directories as the runtime sees them (/opt/cni/bin, /etc/cni/net.d elsewhere).
    kv WEFT_CNI_NODE_BIN_DIR "$NODE_DIR/cni/bin"
    kv WEFT_CNI_CONF_DIR "$NODE_DIR/cni/net.d"
    kv WEFT_CTR "$WEFT_CTR"
    kv WEFT_CONTAINERD_VERSION "$WEFT_CONTAINERD_VERSION"
    kv WEFT_COREDNS_VERSION "$WEFT_COREDNS_VERSION"
    kv WEFT_PAUSE_IMAGE "$WEFT_PAUSE_IMAGE"
    kv WEFT_KUBELET_PORT "$KUBELET_PORT"
    kv WEFT_NODE_CGROUP "$(cat "$NODE_DIR/cgroup")"
    kv WEFT_IMAGE_IMPORT "$REPO_ROOT/scripts/images/import.sh"
  else
    kv WEFT_NODE 0
  fi
  kv WEFT_K8S_VERSION "$WEFT_K8S_VERSION"
  kv WEFT_ETCD_VERSION "$WEFT_ETCD_VERSION"
  kv WEFT_HELM_VERSION "$WEFT_HELM_VERSION"
  kv WEFT_K8S_BIN_DIR "$WEFT_K8S_BIN_DIR"
  kv WEFT_KUBECTL "$WEFT_KUBECTL"
  kv WEFT_HELM "$WEFT_HELM"
  echo 'export NO_PROXY="127.0.0.1,localhost,10.244.0.0/24,10.96.0.0/16,.svc,.cluster.local${NO_PROXY:+,$NO_PROXY}"'
  echo 'export no_proxy="$NO_PROXY"'
} >"$CLUSTER_DIR/env.tmp"
mv "$CLUSTER_DIR/env.tmp" "$CLUSTER_DIR/env"

clog "cluster up ($MODE) in $((SECONDS - T0))s: $APISERVER_URL (k8s $WEFT_K8S_VERSION, etcd $WEFT_ETCD_VERSION); env: $CLUSTER_DIR/env"
echo "$KUBECONFIG_PATH"
