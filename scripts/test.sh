#!/usr/bin/env bash
# The one command that sets up and runs every check: types, lint, unit, integration
# (real Envoy, real gRPC clients) and end-to-end (real kube-apiserver) tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --k8s
export PATH="$PWD/node_modules/.bin:$PATH"
echo "[test] typecheck"; tsc --noEmit -p .
echo "[test] lint"; eslint .
echo "[test] vitest"; vitest run "$@"
