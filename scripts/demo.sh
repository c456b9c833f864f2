#!/usr/bin/env bash
# The standalone demo (npm run demo / make demo): weft serve on examples/mesh, the two
# checkout backends, a real Envoy bootstrapped by `weft bootstrap`, and live traffic through
# that Envoy printing the observed split every second. Edit examples/mesh/trafficsplit.yaml
# while it runs and watch the split follow, in the terminal and in the mesh view (the URL is
# printed: http://127.0.0.1:15014/mesh/, docs/mesh-view.md).
#
#   DEMO_SECONDS=30   how long to send traffic (Ctrl-C stops earlier)
#   DEMO_RPS=200      request rate
#   DEMO_MESH_DIR     config directory (default examples/mesh; its standalone/ folder is read too)
# Every process it starts is stopped on exit, Ctrl-C included. Logs: $DEMO_TMP (printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DEMO_SECONDS=${DEMO_SECONDS:-30}
DEMO_RPS=${DEMO_RPS:-200}
MESH_DIR=${DEMO_MESH_DIR:-$ROOT/examples/mesh}
# The ports examples/mesh and the defaults of weft bootstrap expect (src/base/mesh-ports.ts).
XDS_PORT=15010
ADMIN_PORT=15000
OUTBOUND_PORT=15001
MONITORING_PORT=15014
V1_PORT=18081
V2_PORT=18082

say() { printf '[demo] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# --- install what is missing ----------------------------------------------------
if [[ ! -d node_modules ]]; then
  say "npm ci (first run)"
  npm ci --no-audit --no-fund >&2
fi
export PATH="$ROOT/node_modules/.bin:$PATH"
node --version | grep -q '^v2[4-9]' || die "node 24+ expected from node_modules/.bin, got $(node --version)"
[[ -d xds/gen ]] || node scripts/gen-protos.ts >&2
ENVOY=$(bash scripts/install-envoy.sh | tail -n1)

for port in $XDS_PORT $ADMIN_PORT $OUTBOUND_PORT $MONITORING_PORT $V1_PORT $V2_PORT; do
  if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
    die "port $port is in use (another demo running?); the demo needs $XDS_PORT $ADMIN_PORT $OUTBOUND_PORT $MONITORING_PORT $V1_PORT $V2_PORT"
  fi
done

DEMO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/weft-demo.XXXXXX")
PIDS=()
cleanup() {
  local code=$? i pid
  trap - EXIT INT TERM
  # Newest first, each gone before the next: traffic stops (and prints its total) while
  # Envoy still answers, Envoy goes before the control plane and the backends.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  say "stopped; logs in $DEMO_TMP"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a service in the background in its own session, so a Ctrl-C in the terminal reaches
# only this script and the traffic printer; cleanup then stops services in order instead of
# all at once (a backend dying under in-flight requests would show up as failures).
start_bg() {
  if command -v setsid >/dev/null 2>&1; then setsid "$@" & else "$@" & fi
  PIDS+=($!)
}

# Polls until a TCP port accepts connections, or the process died, or 60 s passed.
wait_port() {
  local port=$1 pid=$2 name=$3
  for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$DEMO_TMP/$name.log" >&2; die "$name exited"; }
    sleep 0.1
  done
  die "$name did not listen on $port"
}

# --- start the pieces -----------------------------------------------------------
# examples/mesh is what a cluster accepts; the EndpointSlices pointing at the loopback
# backends live in examples/mesh/standalone (the API server rejects 127.0.0.1 endpoints).
CONFIG_DIRS=(--config-dir "$MESH_DIR")
[[ -d $MESH_DIR/standalone ]] && CONFIG_DIRS+=(--config-dir "$MESH_DIR/standalone")
say "weft serve ${CONFIG_DIRS[*]} (xDS on 127.0.0.1:$XDS_PORT)"
# The mesh view scrapes Envoy's stats (its admin port, announced by `weft bootstrap`) every 2 s.
start_bg node src/runtime/cli/weft.ts serve "${CONFIG_DIRS[@]}" --xds-address "127.0.0.1:$XDS_PORT" \
  --monitoring-address "127.0.0.1:$MONITORING_PORT" --mesh-view-scrape-interval 2s >"$DEMO_TMP/weft.log" 2>&1
wait_port $XDS_PORT "${PIDS[-1]}" weft

for b in "v1 $V1_PORT" "v2 $V2_PORT"; do
  set -- $b
  start_bg node examples/backends/backend.ts --name "$1" --port "$2" >"$DEMO_TMP/backend-$1.log" 2>&1
  wait_port "$2" "${PIDS[-1]}" "backend-$1"
done
say "backends v1 on 127.0.0.1:$V1_PORT, v2 on 127.0.0.1:$V2_PORT"

node src/runtime/cli/weft.ts bootstrap --node-id demo-client --namespace shop --service demo-client \
  --xds-address "127.0.0.1:$XDS_PORT" --admin-port $ADMIN_PORT --outbound-port $OUTBOUND_PORT >"$DEMO_TMP/bootstrap.yaml"
start_bg "$ENVOY" -c "$DEMO_TMP/bootstrap.yaml" --disable-hot-restart --concurrency 1 -l warning \
  --log-path "$DEMO_TMP/envoy.log" >"$DEMO_TMP/envoy.out" 2>&1
ENVOY_PID=${PIDS[-1]}
for i in $(seq 600); do
  curl -fs "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$ENVOY_PID" 2>/dev/null || { cat "$DEMO_TMP/envoy.out" >&2; die "envoy exited"; }
  [[ $i == 600 ]] && die "envoy not ready after 60 s (see $DEMO_TMP/envoy.log)"
  sleep 0.1
done
wait_port $OUTBOUND_PORT "$ENVOY_PID" envoy
say "envoy ready (admin http://127.0.0.1:$ADMIN_PORT, HTTP proxy 127.0.0.1:$OUTBOUND_PORT)"
say "try: curl -x http://127.0.0.1:$OUTBOUND_PORT http://checkout.shop:8080/"
say "mesh view: http://127.0.0.1:$MONITORING_PORT/mesh/ (services, split weights, request and success rates, p99; JSON at /mesh/api/graph)"
say "sending ${DEMO_RPS} req/s to http://checkout.shop:8080/ for ${DEMO_SECONDS}s; edit $MESH_DIR/trafficsplit.yaml to shift traffic"

node examples/backends/traffic.ts --proxy "127.0.0.1:$OUTBOUND_PORT" --url http://checkout.shop:8080/ \
  --seconds "$DEMO_SECONDS" --rps "$DEMO_RPS" &
TRAFFIC_PID=$!
PIDS+=($TRAFFIC_PID)
wait $TRAFFIC_PID
