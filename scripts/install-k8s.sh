#!/usr/bin/env bash
# Build (once) and cache the Kubernetes binaries used by the end-to-end tests:
# kube-apiserver, kube-controller-manager, kubectl, etcd and helm, and the
# node's kubelet, kube-proxy and kube-scheduler (see scripts/install-node.sh). Everything is compiled from the Go module proxy; nothing prebuilt is
# downloaded.
#
#   scripts/install-k8s.sh              build if needed, then print tool env
#   scripts/install-k8s.sh --force      rebuild even if the stamp is present
#   scripts/install-k8s.sh --regen-mod  rewrite scripts/k8s-tools/go.mod from
#                                       K8S_VERSION and re-tidy (maintainers)
#
# Layout (outside the repo, survives fresh clones on the same machine):
#   ${WEFT_CACHE:-$HOME/.cache/weft}/k8s-<K8S_VERSION>-r<RECIPE>/bin/{kube-apiserver,kube-controller-manager,kubectl,etcd,
#                                                    kubelet,kube-proxy,kube-scheduler}
#   ${WEFT_CACHE:-$HOME/.cache/weft}/helm-<HELM_VERSION>/bin/helm
#   ${WEFT_CACHE:-$HOME/.cache/weft}/k8s-tools.env   (sourceable paths/versions)
#
# The wrapper modules live in the repo (scripts/k8s-tools/go.mod and
# scripts/k8s-tools/helm/go.mod, with committed go.sum) so builds are
# reproducible. Progress goes to stderr; stdout gets only the KEY=VALUE lines
# of k8s-tools.env, so callers may `eval "$(scripts/install-k8s.sh)"`.
# GOMODCACHE/GOCACHE stay at Go's defaults, so a rebuild is warm.
set -euo pipefail

# Pinned versions. K8S_VERSION must match `require k8s.io/kubernetes` in
# scripts/k8s-tools/go.mod (checked below); HELM_VERSION must match
# scripts/k8s-tools/helm/go.mod. etcd is whatever k8s.io/kubernetes requires
# (go.etcd.io/etcd/server/v3, resolved by MVS in the same wrapper module).
K8S_VERSION=v1.37.2
HELM_VERSION=v3.22.0
# Bump to force a rebuild when the build recipe (flags, binaries) changes.
RECIPE=3
# helm's own (its directory is shared by every checkout): bump when its build changes.
HELM_RECIPE=2

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS_DIR=$SCRIPT_DIR/k8s-tools
HELM_TOOLS_DIR=$TOOLS_DIR/helm
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
# The recipe is part of the directory, so a checkout with another recipe (another branch)
# builds next to this one instead of replacing binaries a running cluster uses.
K8S_DIR=$CACHE/k8s-$K8S_VERSION-r$RECIPE
HELM_DIR=$CACHE/helm-$HELM_VERSION
ENV_FILE=$CACHE/k8s-tools.env
K8S_BINS=(kube-apiserver kube-controller-manager kubectl etcd kubelet kube-proxy kube-scheduler)

FORCE=0
REGEN=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    --regen-mod) REGEN=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install-k8s: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[install-k8s %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- locate go ---------------------------------------------------------------
GO=${GO:-}
if [[ -z $GO ]]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go)
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "no Go toolchain found (need go >= 1.26; set GO=/path/to/go)"; fi
fi
# Hermetic-ish go environment: never download a toolchain, ignore any go.work
# another part of the repo might add, never edit go.mod/go.sum during a build.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

# Content only: sha256sum would also hash the paths, and every clone lives somewhere else.
sha() { cat "$@" | sha256sum | cut -c1-16; }

# heartbeat LABEL: print a progress line every 60s until stop_heartbeat.
HB_PID=
heartbeat() {
  local label=$1 t0=$SECONDS
  # Own fds closed and its sleep killed on TERM, so no stray child keeps the
  # lock or the caller's stderr pipe open.
  (
    exec 9>&- </dev/null
    s=; trap 'kill $s 2>/dev/null; exit 0' TERM
    while :; do sleep 60 & s=$!; wait $s; log "  ... $label: $((SECONDS - t0))s"; done
  ) &
  HB_PID=$!
}
stop_heartbeat() {
  if [[ -n $HB_PID ]]; then kill "$HB_PID" 2>/dev/null || true; wait "$HB_PID" 2>/dev/null || true; HB_PID=; fi
  return 0
}
trap stop_heartbeat EXIT

# --- maintainer helper: regenerate the wrapper go.mod ------------------------
if (( REGEN )); then
  minor=${K8S_VERSION#v1.}; staging_ver=v0.$minor
  log "regenerating $TOOLS_DIR/go.mod for k8s.io/kubernetes $K8S_VERSION (staging $staging_ver)"
  kmod=$(mktemp)
  (cd "$TOOLS_DIR" && GOFLAGS=-mod=mod "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION") \
    | sed -n 's/.*"GoMod": "\(.*\)",/\1/p' | xargs cat >"$kmod"
  mods=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$kmod")
  [[ -n $mods ]] || die "could not read staging modules from k8s.io/kubernetes $K8S_VERSION go.mod"
  {
    echo "// Wrapper module used by scripts/install-k8s.sh to build kube-apiserver,"
    echo "// kube-controller-manager, kubectl, etcd and the node's kubelet, kube-proxy and"
    echo "// kube-scheduler from the Go module proxy."
    echo "// Not part of the Weft build. Regenerate with: scripts/install-k8s.sh --regen-mod"
    echo "module weft.local/k8s-tools"
    echo
    echo "go $(awk '$1 == "go" {print $2; exit}' "$kmod")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "tool ("
    printf '\t%s\n' k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3 \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kube-scheduler
    echo ")"
    echo
    echo "// k8s.io/kubernetes requires its staging modules at v0.0.0 and its own"
    echo "// ./staging replaces are ignored for a dependency: pin them to v0.<minor>.<patch>."
    echo "replace ("
    for m in $mods; do printf '\t%s => %s %s\n' "$m" "$m" "${staging_ver}"; done
    echo ")"
  } >"$TOOLS_DIR/go.mod"
  rm -f "$kmod" "$TOOLS_DIR/go.sum"
  (cd "$TOOLS_DIR" && GOFLAGS=-mod=mod "$GO" mod tidy)
  log "done; review and commit scripts/k8s-tools/go.mod and go.sum"
  exit 0
fi

# --- sanity: pins agree with the wrapper modules -----------------------------
grep -qE "^[[:space:]]*(require[[:space:]]+)?k8s.io/kubernetes $K8S_VERSION([[:space:]]|\$)" "$TOOLS_DIR/go.mod" \
  || die "$TOOLS_DIR/go.mod does not require k8s.io/kubernetes $K8S_VERSION"
grep -qE "^[[:space:]]*(require[[:space:]]+)?helm.sh/helm/v3 $HELM_VERSION([[:space:]]|\$)" "$HELM_TOOLS_DIR/go.mod" \
  || die "$HELM_TOOLS_DIR/go.mod does not require helm.sh/helm/v3 $HELM_VERSION"

mkdir -p "$CACHE"
# Serialize concurrent installs (parallel CI jobs, make -j).
exec 9>"$CACHE/.install-k8s.lock"
if ! flock -n 9; then
  log "another install-k8s.sh is running; waiting for it"
  flock 9
fi

K8S_KEY="recipe=$RECIPE k8s=$K8S_VERSION mods=$(sha "$TOOLS_DIR/go.mod" "$TOOLS_DIR/go.sum") $("$GO" env GOOS GOARCH | tr '\n' ' ')"
HELM_KEY="recipe=$HELM_RECIPE helm=$HELM_VERSION mods=$(sha "$HELM_TOOLS_DIR/go.mod" "$HELM_TOOLS_DIR/go.sum") $("$GO" env GOOS GOARCH | tr '\n' ' ')"

up_to_date() { # dir key bins...
  local dir=$1 key=$2; shift 2
  (( FORCE )) && return 1
  [[ -f $dir/.complete && "$(cat "$dir/.complete")" == "$key" ]] || return 1
  local b; for b in "$@"; do [[ -x $dir/bin/$b ]] || return 1; done
}

mod_field() { # module-dir module field(Version|Time)
  (cd "$1" && "$GO" list -m -json "$2") | sed -n "s/^\t\"$3\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -1
}

build_k8s() {
  local t0=$SECONDS tmp="$K8S_DIR/bin.tmp" logf="$K8S_DIR/build.log"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local bdate; bdate=$(mod_field "$TOOLS_DIR" k8s.io/kubernetes Time); bdate=${bdate:-1970-01-01T00:00:00Z}
  local etcd_ver; etcd_ver=$(mod_field "$TOOLS_DIR" go.etcd.io/etcd/server/v3 Version)
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldf+=" -X $p.gitCommit= -X $p.gitTreeState=clean -X $p.buildDate=$bdate"
  done
  log "building kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION and etcd $etcd_ver"
  log "  (a cold build takes ~7 min on 2 cores; log: $logf)"
  heartbeat "still compiling k8s"
  (cd "$TOOLS_DIR" && "$GO" build -trimpath -ldflags "$ldf" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl) \
    >"$logf" 2>&1 || { stop_heartbeat; tail -40 "$logf" >&2; die "k8s build failed (full log: $logf)"; }
  stop_heartbeat
  log "  kube-apiserver, kube-controller-manager, kubectl done after $((SECONDS - t0))s; building etcd"
  (cd "$TOOLS_DIR" && "$GO" build -trimpath \
      -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$etcd_ver" -o "$tmp/etcd" go.etcd.io/etcd/server/v3) \
    >>"$logf" 2>&1 || { tail -40 "$logf" >&2; die "etcd build failed (full log: $logf)"; }
  log "  etcd done after $((SECONDS - t0))s"
  # The node's binaries, one go build each so each cold time is printed; they share
  # most packages (client-go, apiserver libs) with the ones above, so GOCACHE is warm.
  local b t1
  for b in kube-scheduler kube-proxy kubelet; do
    t1=$SECONDS
    heartbeat "still compiling $b"
    (cd "$TOOLS_DIR" && "$GO" build -trimpath -ldflags "$ldf" -o "$tmp/$b" "k8s.io/kubernetes/cmd/$b") \
      >>"$logf" 2>&1 || { stop_heartbeat; tail -40 "$logf" >&2; die "$b build failed (full log: $logf)"; }
    stop_heartbeat
    log "  $b built in $((SECONDS - t1))s"
  done
  rm -rf "$K8S_DIR/bin"; mv "$tmp" "$K8S_DIR/bin"
  printf '%s\n' "$etcd_ver" >"$K8S_DIR/etcd.version"
  log "built k8s tools in $((SECONDS - t0))s"
}

build_helm() {
  local t0=$SECONDS tmp="$HELM_DIR/bin.tmp" logf="$HELM_DIR/build.log"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local cg; cg=$(mod_field "$HELM_TOOLS_DIR" k8s.io/client-go Version)   # v0.MINOR.PATCH
  local kminor=${cg#v0.}; kminor=${kminor%%.*}
  local v=helm.sh/helm/v3
  local ldf="-s -w -X $v/internal/version.version=$HELM_VERSION -X $v/internal/version.gitTreeState=clean"
  ldf+=" -X $v/pkg/lint/rules.k8sVersionMajor=1 -X $v/pkg/lint/rules.k8sVersionMinor=$kminor"
  ldf+=" -X $v/pkg/chartutil.k8sVersionMajor=1 -X $v/pkg/chartutil.k8sVersionMinor=$kminor"
  log "building helm $HELM_VERSION (log: $logf)"
  (cd "$HELM_TOOLS_DIR" && "$GO" build -trimpath -ldflags "$ldf" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm) \
    >"$logf" 2>&1 || { tail -40 "$logf" >&2; die "helm build failed (full log: $logf)"; }
  rm -rf "$HELM_DIR/bin"; mv "$tmp" "$HELM_DIR/bin"
  log "built helm in $((SECONDS - t0))s"
}

T0=$SECONDS
if up_to_date "$K8S_DIR" "$K8S_KEY" "${K8S_BINS[@]}"; then
  log "k8s $K8S_VERSION tools up to date in $K8S_DIR/bin"
else
  log "using $("$GO" version)"
  mkdir -p "$K8S_DIR"; rm -f "$K8S_DIR/.complete"
  build_k8s
  printf '%s\n' "$K8S_KEY" >"$K8S_DIR/.complete"
fi
if up_to_date "$HELM_DIR" "$HELM_KEY" helm; then
  log "helm $HELM_VERSION up to date in $HELM_DIR/bin"
else
  mkdir -p "$HELM_DIR"; rm -f "$HELM_DIR/.complete"
  build_helm
  printf '%s\n' "$HELM_KEY" >"$HELM_DIR/.complete"
fi

ETCD_VERSION=$(cat "$K8S_DIR/etcd.version" 2>/dev/null || echo unknown)
{
  kv() { printf '%s=%q\n' "$1" "$2"; }
  kv WEFT_K8S_VERSION "$K8S_VERSION"
  kv WEFT_ETCD_VERSION "$ETCD_VERSION"
  kv WEFT_HELM_VERSION "$HELM_VERSION"
  kv WEFT_K8S_BIN_DIR "$K8S_DIR/bin"
  kv WEFT_KUBE_APISERVER "$K8S_DIR/bin/kube-apiserver"
  kv WEFT_KUBE_CONTROLLER_MANAGER "$K8S_DIR/bin/kube-controller-manager"
  kv WEFT_KUBECTL "$K8S_DIR/bin/kubectl"
  kv WEFT_ETCD "$K8S_DIR/bin/etcd"
  kv WEFT_KUBELET "$K8S_DIR/bin/kubelet"
  kv WEFT_KUBE_PROXY "$K8S_DIR/bin/kube-proxy"
  kv WEFT_KUBE_SCHEDULER "$K8S_DIR/bin/kube-scheduler"
  kv WEFT_HELM "$HELM_DIR/bin/helm"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "ready in $((SECONDS - T0))s (env: $ENV_FILE)"
cat "$ENV_FILE"
