#!/usr/bin/env bash
# The one command that sets up and runs every check: types, lint, unit, integration
# (real Envoy, real gRPC clients) and end-to-end (real kube-apiserver; real Pods on a real
# node) tests.
#   scripts/test.sh [vitest args]     e.g. scripts/test.sh test/translate
# WEFT_NODE=0 skips the real node (its suites then skip themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --k8s
export PATH="$PWD/node_modules/.bin:$PATH"
export WEFT_CACHE="${WEFT_CACHE:-$HOME/.cache/weft}"
# The unit tier alone samples the /inject property test; the full run checks all of it.
export FUZZ_REVIEWS="${FUZZ_REVIEWS:-10000}"

# The e2e suites get clusters of their own, so a developer's clusters (or another run's) are
# never disturbed, and they are stopped when the run ends, pass or fail: the kubelet-less
# control plane the suites that play the node use, and (WEFT_NODE=1) one with a real node.
cleanup=()
on_exit() { local c; for c in "${cleanup[@]}"; do eval "$c" >/dev/null 2>&1 || true; done; }
trap on_exit EXIT
if [ -z "${WEFT_CLUSTER_DIR:-}" ]; then
  export WEFT_CLUSTER_DIR="$WEFT_CACHE/cluster-test-$$"
  cleanup+=("WEFT_NODE=0 bash e2e/cluster/down.sh --purge")
fi
echo "[test] cluster ($WEFT_CLUSTER_DIR)"
WEFT_NODE=0 bash e2e/cluster/up.sh >/dev/null

echo "[test] typecheck"; tsc --noEmit -p .
echo "[test] lint"; eslint . && prettier --check .

reports=()
status=0
vitest_run() { # report-name vitest-args...
  local report; report="$(mktemp -d)/$1.json"; shift
  reports+=("$report")
  vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
}

node_run=0
if [ "${WEFT_NODE:-1}" != 0 ] && [ "$(id -u)" = 0 ]; then node_run=1; fi
# One node per host: on a machine shared with another running node, the node suites skip.
node_free() { mkdir -p "$WEFT_CACHE" && flock -n "$WEFT_CACHE/.node-host.lock" true; }
if ((node_run)) && ! node_free; then
  echo "[test] another cluster's node runs on this host: the node suites are skipped"
  node_run=0
fi
if ((node_run)) && [ $# -eq 0 ]; then
  # Its own node cluster up and down, checking the host is left as found; before the shared
  # node cluster starts (one node per host).
  echo "[test] vitest: node cluster-down leaves the host clean"
  vitest_run host-clean e2e/node/host-clean.test.ts
fi
if ((node_run)); then
  if [ -z "${WEFT_NODE_CLUSTER_DIR:-}" ]; then
    export WEFT_NODE_CLUSTER_DIR="$WEFT_CACHE/node-test-$$"
    cleanup=("WEFT_NODE=1 WEFT_CLUSTER_DIR=$WEFT_NODE_CLUSTER_DIR bash e2e/cluster/down.sh --purge" "${cleanup[@]}")
  fi
  echo "[test] node cluster ($WEFT_NODE_CLUSTER_DIR)"
  t0=$SECONDS
  if WEFT_NODE=1 WEFT_CLUSTER_DIR="$WEFT_NODE_CLUSTER_DIR" bash e2e/cluster/up.sh >/dev/null; then
    echo "[test] node cluster up in $((SECONDS - t0))s"
  elif node_free; then
    echo "[test] the node cluster did not come up (logs: $WEFT_NODE_CLUSTER_DIR/logs)"; exit 1
  else
    echo "[test] another cluster's node took the host first: the node suites are skipped"
    node_run=0
  fi
fi
((node_run)) || export WEFT_NODE=0

echo "[test] vitest"
# The three tiers and the attack suite (docs/testing.md); e2e-host (host-clean, above) runs on its own.
# The attack suite runs alone first: it asserts a well-behaved proxy's latency during the attack,
# which other suites sharing the two cores would measure instead.
if [ $# -eq 0 ]; then
  vitest_run attack --project attack
  vitest_run main --project unit --project integration --project e2e
else vitest_run main "$@"; fi
# One plain closing line that any CI reads: "vitest: N passed, N failed, N skipped".
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0, n = 0;
  for (const file of process.argv.slice(1)) {
    try { const r = JSON.parse(fs.readFileSync(file, "utf8")); p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests; n++; } catch {}
  }
  console.log(n ? `vitest: ${p} passed, ${f} failed, ${s} skipped` : "vitest: no report written");
' "${reports[@]}"
exit "$status"
