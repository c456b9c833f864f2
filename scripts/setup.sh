#!/usr/bin/env bash
# Installs everything Weft's demo and tests need, idempotently. Tools that outlive a clone
# (Envoy, Kubernetes binaries, helm) go to $WEFT_CACHE (default ~/.cache/weft) so a fresh
# clone on the same machine reuses them; node_modules is per clone.
#   scripts/setup.sh            npm deps + generated protos + Envoy
#   scripts/setup.sh --k8s      also the Kubernetes control plane binaries and helm
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
if ! command -v iptables >/dev/null 2>&1; then
  step "iptables (the capture-mode netns test applies the injected capture rules for real)"
  apt-get install -y iptables >/dev/null
fi
if [ "${1:-}" = "--k8s" ]; then
  step "kubernetes control plane binaries and helm (cold build takes a while; cached after)"
  bash scripts/install-k8s.sh
fi
step "done"
