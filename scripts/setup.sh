#!/usr/bin/env bash
# Installs everything Weft's demo and tests need, idempotently. Tools that outlive a clone
# (Envoy, Kubernetes binaries, helm) go to $WEFT_CACHE (default ~/.cache/weft) so a fresh
# clone on the same machine reuses them; node_modules is per clone.
#   scripts/setup.sh            npm deps + generated protos + Envoy + Prometheus and the OTel Collector
#   scripts/setup.sh --k8s      also the Kubernetes binaries, helm and the local node's
#                               runtime (containerd, runc, CNI, CoreDNS, pause image)
set -euo pipefail
cd "$(dirname "$0")/.."
export WEFT_CACHE="${WEFT_CACHE:-$HOME/.cache/weft}"
mkdir -p "$WEFT_CACHE"

step() { printf '[setup] %s\n' "$*"; }

lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.weft-installed ] || [ "$(cat node_modules/.weft-installed)" != "$lock_hash" ]; then
  step "npm ci (Node $(node --version) installs; scripts then run on the Node 24 devDependency)"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.weft-installed
else
  step "node_modules up to date"
fi
# postinstall generates protos; make sure they exist even when npm ci was skipped.
PATH="$PWD/node_modules/.bin:$PATH" node scripts/gen-protos.ts

step "envoy"
bash scripts/install-envoy.sh >/dev/null
step "telemetry back ends: Prometheus and the OpenTelemetry Collector (cold about 1.5 min; cached after)"
bash scripts/install-telemetry.sh >/dev/null
# The capture-mode test applies the injected iptables rules in network namespaces for real;
# without root or these packages it skips itself, so a failed install is only a warning.
missing=""
command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
if [ -n "$missing" ]; then
  step "debian packages:$missing"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    apt-get install -y -q $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $missing >/dev/null 2>&1; } \
      || step "WARNING: could not install$missing; the capture-mode test will skip"
  else
    step "WARNING: need root and apt-get to install$missing; the capture-mode test will skip"
  fi
fi
if [ "${1:-}" = "--k8s" ]; then
  step "kubernetes control plane binaries and helm (cold build takes a while; cached after)"
  bash scripts/install-k8s.sh
  step "node runtime: containerd, CNI plugins, CoreDNS, pause (cold build a few minutes; cached after)"
  bash scripts/install-node.sh
fi
step "done"
