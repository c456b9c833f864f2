#!/usr/bin/env bash
# The one command that sets up and runs every check: types, lint, unit, integration
# (real Envoy, real gRPC clients) and end-to-end (real kube-apiserver) tests.
#   scripts/test.sh [vitest args]     e.g. scripts/test.sh test/translate
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --k8s
export PATH="$PWD/node_modules/.bin:$PATH"
export WEFT_CACHE="${WEFT_CACHE:-$HOME/.cache/weft}"
# The unit tier alone samples the /inject property test; the full run checks all of it.
export FUZZ_REVIEWS="${FUZZ_REVIEWS:-10000}"

# The e2e suites get a control plane of their own, so a developer's cluster (or another
# run's) is never disturbed, and it is stopped when the run ends, pass or fail.
if [ -z "${WEFT_CLUSTER_DIR:-}" ]; then
  export WEFT_CLUSTER_DIR="$WEFT_CACHE/cluster-test-$$"
  trap 'bash e2e/cluster/down.sh --purge >/dev/null 2>&1 || true' EXIT
fi
echo "[test] cluster ($WEFT_CLUSTER_DIR)"
bash e2e/cluster/up.sh >/dev/null

echo "[test] typecheck"; tsc --noEmit -p .
echo "[test] lint"; eslint . && prettier --check .
echo "[test] vitest"
report="$(mktemp -d)/vitest.json"
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line that any CI reads: "vitest: N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" 2>/dev/null || echo "vitest: no report written (exit $status)"
exit "$status"
