#!/usr/bin/env bash
# Smoke test for a running e2e control plane (after up.sh): readyz, a pod on
# the fake node with a patched status, a Service -> EndpointSlice, a
# pod-bound ServiceAccount token with a custom audience, and anonymous JWKS.
# Cleans up its namespace. Exit 0 and "smoke: N passed, 0 failed" on success.
set -euo pipefail
# shellcheck source=e2e/cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -f $CLUSTER_DIR/env ]] || cdie "no cluster env at $CLUSTER_DIR/env; run e2e/cluster/up.sh first"
# shellcheck source=/dev/null
. "$CLUSTER_DIR/env"
k() { "$WEFT_KUBECTL" --request-timeout=20s "$@"; }
NS=weft-smoke-$$
pass=0 fail=0
check() { # description command...
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); clog "ok   $d"; else fail=$((fail + 1)); clog "FAIL $d"; fi
}
cleanup() {
  k -n "$NS" delete pods --all --grace-period=0 --force >/dev/null 2>&1 || true
  k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

check "/readyz" test "$(k get --raw /readyz)" = ok

k create namespace "$NS" >/dev/null
k -n "$NS" create serviceaccount web >/dev/null
k -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: web}}
spec:
  nodeName: $WEFT_NODE_NAME
  serviceAccountName: web
  containers: [{name: app, image: registry.invalid/web:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
EOF
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
k -n "$NS" patch pod web-0 --subresource=status --type=merge -p \
  "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.0.5\",\"podIPs\":[{\"ip\":\"10.244.0.5\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null

slice_has_ip() {
  local i out
  for ((i = 0; i < 100; i++)); do
    out=$(k -n "$NS" get endpointslices -l kubernetes.io/service-name=web \
      -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready}{"\n"}{end}')
    [[ $out == *"10.244.0.5=true"* ]] && return 0
    sleep 0.1
  done
  echo "endpointslices: $out" >&2; return 1
}
check "EndpointSlice lists 10.244.0.5 ready" slice_has_ip

TOKEN=$(k -n "$NS" create token web --audience weft --bound-object-kind Pod --bound-object-name web-0)
claims=$(cut -d. -f2 <<<"$TOKEN" | tr '_-' '/+')
while ((${#claims} % 4)); do claims+='='; done
claims=$(base64 -d <<<"$claims")
check "token aud=weft, bound to pod web-0, iss=$WEFT_SA_ISSUER" \
  bash -c '[[ $1 == *"\"aud\":[\"weft\"]"* && $1 == *"\"pod\":{\"name\":\"web-0\""* && $1 == *"\"iss\":\"$2\""* ]]' _ "$claims" "$WEFT_SA_ISSUER"
check "JWKS readable without credentials" \
  bash -c '[[ "$(curl -sf --cacert "$1" "$2")" == *"\"keys\":[{"* ]]' _ "$WEFT_CA_CERT" "$WEFT_SA_JWKS_URL"
check "OIDC discovery readable without credentials" \
  bash -c '[[ "$(curl -sf --cacert "$1" "$2/.well-known/openid-configuration")" == *"\"issuer\":\"$2\""* ]]' _ "$WEFT_CA_CERT" "$WEFT_APISERVER_URL"
check "static admin token works" \
  test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WEFT_CA_CERT" -H "Authorization: Bearer $WEFT_ADMIN_TOKEN" "$WEFT_APISERVER_URL/api/v1/namespaces/$NS")" = 200

echo "smoke: $pass passed, $fail failed"
((fail == 0))
