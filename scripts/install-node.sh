#!/usr/bin/env bash
# Build (once) and cache what the local node of e2e/cluster needs besides the
# Kubernetes binaries of scripts/install-k8s.sh (kubelet, kube-proxy, kube-scheduler):
#   containerd, containerd-shim-runc-v2, ctr   github.com/containerd/containerd/v2
#   CNI bridge, host-local, loopback, portmap  github.com/containernetworking/plugins
#   coredns (a small plugin set)               github.com/coredns/coredns
#   pause                                      k8s' build/pause/linux/pause.c, gcc -static
#   runc, nft, ip, mmdebstrap                  Debian packages (apt-get when missing)
# and packs the pause and CoreDNS binaries into OCI image tars (scripts/images/oci-pack.sh)
# that e2e/cluster/up.sh imports into the node's containerd.
#
#   scripts/install-node.sh           build what is missing, print the env
#   scripts/install-node.sh --force   rebuild everything
#
# Layout: ${WEFT_CACHE:-~/.cache/weft}/
#   containerd-<v>-r<R>/bin/{containerd,containerd-shim-runc-v2,ctr}
#   cni-<v>-r<R>/bin/{bridge,host-local,loopback,portmap}
#   coredns-<v>-r<R>/{bin/coredns,coredns.oci.tar}
#   pause-<v>-r<R>/{bin/pause,pause.oci.tar}
#   node-tools.env   (sourceable; also printed on stdout, like install-k8s.sh)
# Each directory is complete when its .complete holds the content key: the recipe, the
# wrapper module's go.mod/go.sum (scripts/node-tools/*) and, for images, the packer.
set -euo pipefail

CONTAINERD_VERSION=v2.4.2
CNI_VERSION=v1.10.0
COREDNS_VERSION=v1.15.0
PAUSE_VERSION=3.10.2   # the sandbox image containerd 2.4 and kubeadm 1.37 name
# Bump to force a rebuild when a recipe below changes.
RECIPE=1

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NT=$SCRIPT_DIR/node-tools
PACK=$SCRIPT_DIR/images/oci-pack.sh
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
ENV_FILE=$CACHE/node-tools.env
FORCE=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install-node: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[install-node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $GO ]] || die "no Go toolchain found (need go >= 1.26.8; set GO=/path/to/go)"
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

# --- Debian packages ----------------------------------------------------------
need=()
command -v runc >/dev/null || need+=(runc)
command -v nft >/dev/null || need+=(nftables)
command -v ip >/dev/null || need+=(iproute2)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v gcc >/dev/null || need+=(gcc)
[[ -e /usr/lib/x86_64-linux-gnu/libc.a || -e /usr/lib/aarch64-linux-gnu/libc.a ]] || need+=(libc6-dev)
if ((${#need[@]})); then
  log "apt-get install ${need[*]}"
  [[ $(id -u) == 0 ]] || die "need root to install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${need[@]}" >/dev/null; } \
    || die "apt-get install ${need[*]} failed"
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.install-node.lock"
if ! flock -n 9; then log "another install-node.sh is running; waiting for it"; flock 9; fi

sha() { cat "$@" | sha256sum | cut -c1-16; }
PLATFORM=$("$GO" env GOOS GOARCH | tr '\n' ' ')
up_to_date() { # dir key files...
  local dir=$1 key=$2 f; shift 2
  ((FORCE)) && return 1
  [[ -f $dir/.complete && "$(cat "$dir/.complete")" == "$key" ]] || return 1
  for f in "$@"; do [[ -e $dir/$f ]] || return 1; done
}
# gobuild DIR MODDIR LDFLAGS PKG...: build PKGs of the wrapper module into DIR/bin.tmp.
gobuild() {
  local dir=$1 mod=$2 ldf=$3; shift 3
  (cd "$mod" && "$GO" build -trimpath -ldflags "$ldf" -o "$dir/bin.tmp/" "$@") >>"$dir/build.log" 2>&1 \
    || { tail -30 "$dir/build.log" >&2; die "build in $mod failed (log: $dir/build.log)"; }
}
# component NAME VERSION KEY BUILD_FUNCTION FILES...: run BUILD_FUNCTION into the
# component's directory unless its key matches; prints the cold build time.
component() {
  local name=$1 ver=$2 key=$3 fn=$4; shift 4
  local dir=$CACHE/$name-$ver-r$RECIPE t0=$SECONDS
  if up_to_date "$dir" "$key" "$@"; then log "$name $ver up to date ($dir)"; return; fi
  mkdir -p "$dir"; rm -f "$dir/.complete" "$dir/build.log"; rm -rf "$dir/bin.tmp"; mkdir -p "$dir/bin.tmp"
  log "building $name $ver (log: $dir/build.log)"
  "$fn" "$dir" "$ver"
  rm -rf "${dir:?}/bin"; mv "$dir/bin.tmp" "$dir/bin"
  [[ $(type -t "${fn}_post") == function ]] && "${fn}_post" "$dir" "$ver"
  printf '%s\n' "$key" >"$dir/.complete"
  log "built $name $ver in $((SECONDS - t0))s (cold build time)"
}
modkey() { echo "recipe=$RECIPE mods=$(sha "$NT/$1/go.mod" "$NT/$1/go.sum" "${@:2}") $PLATFORM"; }

build_containerd() {
  local p=github.com/containerd/containerd/v2
  gobuild "$1" "$NT/containerd" "-s -w -X $p/version.Version=$2 -X $p/version.Revision=module -X $p/version.Package=$p" \
    $p/cmd/containerd $p/cmd/containerd-shim-runc-v2 $p/cmd/ctr
}
build_cni() {
  local p=github.com/containernetworking/plugins
  gobuild "$1" "$NT/cni" "-s -w -X $p/pkg/utils/buildversion.BuildVersion=$2" \
    $p/plugins/main/bridge $p/plugins/ipam/host-local $p/plugins/main/loopback $p/plugins/meta/portmap
}
build_coredns() {
  (cd "$NT/coredns" && "$GO" build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-$2" -o "$1/bin.tmp/coredns" .) \
    >>"$1/build.log" 2>&1 || { tail -30 "$1/build.log" >&2; die "coredns build failed (log: $1/build.log)"; }
}
# Static binaries need no more than themselves in the image; nonroot by default.
pack_static() { # dir binary ref user entrypoint-json
  local root; root=$(mktemp -d "${TMPDIR:-/tmp}/weft-rootfs.XXXXXX")
  chmod 755 "$root"; mkdir -p "$root/etc" "$root/tmp"; chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  install -m 0755 "$1/bin/$2" "$root/$2"
  "$PACK" "$root" "$3" "$1/$2.oci.tar.tmp" --user "$4" --entrypoint "$5" >/dev/null
  mv "$1/$2.oci.tar.tmp" "$1/$2.oci.tar"
  rm -rf "$root"
}
build_coredns_post() {
  pack_static "$1" coredns "$COREDNS_IMAGE" 65532:65532 '["/coredns"]'
}
build_pause() {
  local src; src=$(cd "$SCRIPT_DIR/k8s-tools" && "$GO" list -m -f '{{.Dir}}' k8s.io/kubernetes 2>/dev/null)/build/pause/linux/pause.c
  [[ -f $src ]] || { (cd "$SCRIPT_DIR/k8s-tools" && GOFLAGS=-mod=mod "$GO" mod download k8s.io/kubernetes) >&2
    src=$(cd "$SCRIPT_DIR/k8s-tools" && "$GO" list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c; }
  [[ -f $src ]] || die "pause.c not found in the k8s.io/kubernetes module"
  gcc -Os -Wall -Werror -static -DVERSION="v$2-weft" -o "$1/bin.tmp/pause" "$src" >>"$1/build.log" 2>&1 \
    || die "gcc pause.c failed (log: $1/build.log)"
  strip "$1/bin.tmp/pause"
}
build_pause_post() {
  # upstream's pause image runs as 65535; the kubelet/containerd set the user anyway.
  pack_static "$1" pause "$PAUSE_IMAGE" 65535:65535 '["/pause"]'
}

COREDNS_IMAGE=weft.local/coredns:$COREDNS_VERSION
PAUSE_IMAGE=registry.k8s.io/pause:$PAUSE_VERSION
T0=$SECONDS
K8S_MOD_KEY=$(grep -E '^\s*k8s.io/kubernetes v' "$SCRIPT_DIR/k8s-tools/go.mod" | head -1 | awk '{print $2}')
component containerd "$CONTAINERD_VERSION" "$(modkey containerd)" build_containerd \
  bin/containerd bin/containerd-shim-runc-v2 bin/ctr
component cni "$CNI_VERSION" "$(modkey cni)" build_cni bin/bridge bin/host-local bin/loopback bin/portmap
component coredns "$COREDNS_VERSION" "$(modkey coredns "$NT/coredns/main.go" "$PACK") image=$COREDNS_IMAGE" \
  build_coredns bin/coredns coredns.oci.tar
component pause "$PAUSE_VERSION" "recipe=$RECIPE k8s=$K8S_MOD_KEY pack=$(sha "$PACK") image=$PAUSE_IMAGE $PLATFORM" \
  build_pause bin/pause pause.oci.tar

d() { echo "$CACHE/$1-$2-r$RECIPE"; }
{
  kv() { printf '%s=%q\n' "$1" "$2"; }
  kv WEFT_CONTAINERD_VERSION "$CONTAINERD_VERSION"
  kv WEFT_CONTAINERD "$(d containerd "$CONTAINERD_VERSION")/bin/containerd"
  kv WEFT_CONTAINERD_BIN_DIR "$(d containerd "$CONTAINERD_VERSION")/bin"
  kv WEFT_CTR "$(d containerd "$CONTAINERD_VERSION")/bin/ctr"
  kv WEFT_RUNC "$(command -v runc)"
  kv WEFT_CNI_VERSION "$CNI_VERSION"
  kv WEFT_CNI_BIN_DIR "$(d cni "$CNI_VERSION")/bin"
  kv WEFT_COREDNS_VERSION "$COREDNS_VERSION"
  kv WEFT_COREDNS_IMAGE "$COREDNS_IMAGE"
  kv WEFT_COREDNS_IMAGE_TAR "$(d coredns "$COREDNS_VERSION")/coredns.oci.tar"
  kv WEFT_PAUSE_IMAGE "$PAUSE_IMAGE"
  kv WEFT_PAUSE_IMAGE_TAR "$(d pause "$PAUSE_VERSION")/pause.oci.tar"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "ready in $((SECONDS - T0))s (env: $ENV_FILE)"
cat "$ENV_FILE"
