#!/usr/bin/env bash
# Import OCI image-layout tars (from scripts/images/oci-pack.sh, `docker save`, `buildctl
# --output type=oci`) into the local node's containerd, namespace k8s.io, where the kubelet
# finds them. Pods then use the exact IMAGE_REF with imagePullPolicy Never or IfNotPresent;
# the kubelet never garbage-collects them (imageGCHighThresholdPercent: 100).
#
#   scripts/images/import.sh OUT_TAR...
#
# Finds ctr and the socket from the environment, else from the running cluster's env file:
#   WEFT_CTR              ctr binary             (default: $WEFT_NODE_BIN_DIR/ctr)
#   WEFT_CONTAINERD_SOCK  containerd's socket    (set by e2e/cluster/up.sh in its env file)
#   WEFT_CLUSTER_DIR      cluster state dir      (default ${WEFT_CACHE:-~/.cache/weft}/node-cluster)
# Prints the imported image names on stdout.
set -euo pipefail
die() { printf 'import: %s\n' "$*" >&2; exit 1; }
[[ $# -ge 1 ]] || die "usage: $0 OUT_TAR..."

if [[ -z ${WEFT_CONTAINERD_SOCK:-} || -z ${WEFT_CTR:-} ]]; then
  envf=${WEFT_CLUSTER_DIR:-${WEFT_CACHE:-$HOME/.cache/weft}/node-cluster}/env
  [[ -f $envf ]] || die "no WEFT_CONTAINERD_SOCK/WEFT_CTR set and no cluster env at $envf (make cluster-up)"
  # shellcheck source=/dev/null
  . "$envf"
fi
CTR=${WEFT_CTR:-${WEFT_NODE_BIN_DIR:-}/ctr}
[[ -x $CTR ]] || die "ctr not found ($CTR); run scripts/install-node.sh"
[[ -S ${WEFT_CONTAINERD_SOCK:-} ]] || die "containerd socket ${WEFT_CONTAINERD_SOCK:-<unset>} missing: is the node up?"

for tar in "$@"; do
  [[ -f $tar ]] || die "$tar: no such file"
  t0=$(date +%s%N)
  # --no-unpack is not used: the CRI needs the image unpacked for its snapshotter (overlayfs).
  out=$("$CTR" --address "$WEFT_CONTAINERD_SOCK" -n k8s.io images import --all-platforms=false "$tar" 2>&1) \
    || die "ctr import of $tar failed: $out"
  # ctr prints `NAME<tab>saved` per image, among progress lines.
  printf '%s\n' "$out" | tr '\r' '\n' | sed -n 's/^\([^[:space:]]*\)[[:space:]]*saved[[:space:]]*$/\1/p'
  printf 'import: %s in %d ms\n' "$tar" "$(( ($(date +%s%N) - t0) / 1000000 ))" >&2
done
