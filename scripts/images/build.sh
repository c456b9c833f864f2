#!/usr/bin/env bash
# Build Weft's images without a Docker engine, from the same definitions (images/<name>/
# image.json) that `make images` renders into Dockerfiles:
#   1. base: a Debian rootfs from mmdebstrap --variant=minbase with the definition's pinned
#      packages (no recommends, no docs/man/locales, no apt lists or caches);
#   2. the artifacts (Node binary, production node_modules, generated protos, Envoy, the RE2 addon) and the
#      repository files, owned by root; accounts and `run` commands applied in a chroot;
#   3. scripts/images/oci-pack.sh writes a single-layer OCI image-layout tar.
#
#   scripts/images/build.sh [NAME...] [--import] [--force]
#     NAME       images/<NAME>/image.json (default: every image)
#     --import   also load the tars into the running local node's containerd (import.sh);
#                without it they are imported only when a cluster env with a live socket exists
#     --no-import  never import
#     --force    rebuild even when the cache holds the same inputs
#
# Output: $WEFT_IMAGES_DIR (default ${WEFT_CACHE:-~/.cache/weft}/images)/<NAME>.tar, a symlink
# to <NAME>-<key>.tar, where key hashes the definition, these scripts, the base and every
# input; a re-run with the same inputs only prints the sizes. stdout: one line per image,
#   <NAME> <REF> <TAR> compressed=BYTES unpacked=BYTES
# Needs root (mmdebstrap's root mode, chroot, root-owned files) and the repository set up
# (scripts/setup.sh: node_modules, protos, Envoy). Installs mmdebstrap with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
OUT_DIR=${WEFT_IMAGES_DIR:-$CACHE/images}
MIRROR=${WEFT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${WEFT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
NODE=$ROOT/node_modules/.bin/node

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
sha() { sha256sum | cut -c1-64; }

NAMES=() IMPORT=auto FORCE=0
for arg in "$@"; do
  case $arg in
    --import) IMPORT=yes ;;
    --no-import) IMPORT=no ;;
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg" ;;
    *) NAMES+=("$arg") ;;
  esac
done

[[ $(id -u) == 0 ]] || die "needs root (mmdebstrap root mode, chroot, root-owned files)"
[[ -x $NODE ]] || die "node_modules missing: run scripts/setup.sh first"
if ! command -v mmdebstrap >/dev/null; then
  log "installing mmdebstrap (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q mmdebstrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q mmdebstrap >/dev/null; } \
    || die "could not install mmdebstrap"
fi
((${#NAMES[@]})) || mapfile -t NAMES < <("$NODE" scripts/images/plan.ts --names)
mkdir -p "$OUT_DIR/base" "$OUT_DIR/work"

# Two builds at once (parallel test workers, a developer's make) would race on the same
# cache files: one at a time; the second then finds the first one's result.
exec 8>"$OUT_DIR/.lock"
flock 8

# --- artifacts: each prints the path to copy and the hash that stands for its content -------
artifact_node() {
  local want bin=$ROOT/node_modules/node/bin/node
  want=v$("$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync("package.json","utf8")).devDependencies.node)')
  [[ -x $bin && $("$bin" --version) == "$want" ]] || die "$bin is not Node $want: run scripts/setup.sh"
  printf '%s %s\n' "$bin" "$(sha <"$bin")"
}
artifact_node_modules() {
  local key dir
  key=$(cat package-lock.json <(printf '%s' "$PRUNE_NODE_MODULES") | sha | cut -c1-16)
  dir=$OUT_DIR/work/node-modules-$key
  if [[ ! -f $dir/.done ]]; then
    log "npm ci --omit=dev (production node_modules for lock $key)"
    rm -rf "$dir" && mkdir -p "$dir"
    cp package.json package-lock.json "$dir/"
    # --ignore-scripts: the only production install script (protobufjs) just prints a notice.
    (cd "$dir" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >&2)
    (cd "$dir" && sh -c "$PRUNE_NODE_MODULES")
    rm -f "$dir/package.json" "$dir/package-lock.json" "$dir/node_modules/.package-lock.json"
    touch "$dir/.done"
    find "$OUT_DIR/work" -maxdepth 1 -name 'node-modules-*' ! -name "node-modules-$key" -exec rm -rf {} +
  fi
  printf '%s %s\n' "$dir/node_modules" "$key"
}
artifact_protos() {
  PATH="$ROOT/node_modules/.bin:$PATH" node scripts/gen-protos.ts >&2
  local dir=$OUT_DIR/work/protos
  rm -rf "$dir" && mkdir -p "$dir"
  # Only the .js modules run; the .d.ts files are for the type checker.
  (cd xds/gen && find . -name '*.js' -print0 | sort -z | tar --null -T - -cf -) | tar -C "$dir" -xf -
  printf '%s %s\n' "$dir" "$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha)"
}
artifact_re2() {
  local out
  out=$ROOT/$(bash scripts/install-re2.sh | tail -n1)
  printf '%s %s\n' "$out" "$(sha <"$out")"
}
artifact_envoy() {
  local bin
  bin=$(readlink -f "$(bash scripts/install-envoy.sh | tail -n1)")
  printf '%s %s\n' "$bin" "$(sha <"$bin")"
}

# --- base rootfs (cached by suite, mirror and packages) ---------------------------------------
base_tar() {
  local args key out
  args=(--variant=minbase --aptopt='APT::Install-Recommends "false"'
    # usr-is-merged instead of usrmerge, which would pull in perl (55 MB).
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "$1"/var/log/* "$1"/var/lib/dpkg/*-old'
    --include="$(IFS=,; echo "${PACKAGES[*]}")")
  ((${#PACKAGES[@]})) || unset 'args[${#args[@]}-1]'
  key=$(printf '%s\n' "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "${args[@]}" "$(mmdebstrap --version)" | sha | cut -c1-16)
  out=$OUT_DIR/base/$SUITE-$key.tar
  if [[ ! -f $out ]]; then
    log "mmdebstrap $SUITE minbase + ${PACKAGES[*]:-nothing} (cold: about 1.5 min)"
    local t0=$SECONDS
    mmdebstrap --format=tar "${args[@]}" "$SUITE" "$out.tmp" "$MIRROR" \
      "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main" >"$out.log" 2>&1 \
      || { rm -rf "$out.tmp"; tail -n 20 "$out.log" >&2; die "mmdebstrap failed, log: $out.log (a pinned version may have left the mirror: see images/*/image.json)"; }
    mv "$out.tmp" "$out"
    log "base $SUITE-$key in $((SECONDS - t0)) s"
  fi
  printf '%s %s\n' "$out" "$key"
}

# excludes_under DIR: the EXCLUDES inside DIR, relative to it.
excludes_under() {
  local e
  for e in "${EXCLUDES[@]}"; do [[ $e == "$1"/* ]] && printf '%s\n' "${e#"$1"/}"; done
  return 0
}
# file_hash PATH: names and contents of every file that would be copied from PATH.
file_hash() {
  local -a prune=() e
  for e in "${EXCLUDES[@]}"; do prune+=(-not -path "$e" -not -path "$e/*"); done
  find "$1" "${prune[@]}" -type f -print0 | sort -z | xargs -0 -r sha256sum | sha
}

WORK=
trap '[[ -z $WORK ]] || rm -rf "$WORK"' EXIT

build_one() {
  local name=$1 NAME REF SUITE DEFINITION PRUNE_NODE_MODULES
  local -a PACKAGES ARTIFACTS FILES EXCLUDES RUN_CMDS OCI_ARGS
  eval "$("$NODE" scripts/images/plan.ts "$name")"

  # $(…) rather than < <(…): a failing step must stop the build (set -e), not yield empty values.
  local base base_key a kind to src hash r
  r=$(base_tar)
  read -r base base_key <<<"$r"
  local -a copies=() inputs=("base $base_key" "definition $(printf '%s' "$DEFINITION" | sha)")
  for a in "${ARTIFACTS[@]}"; do
    kind=${a%%=*} to=${a#*=}
    r=$("artifact_${kind//-/_}")
    read -r src hash <<<"$r"
    copies+=("$src=$to")
    inputs+=("artifact $kind $hash")
  done
  local f
  for f in "${FILES[@]}"; do
    inputs+=("file ${f%%=*} $(file_hash "${f%%=*}")")
  done
  for f in scripts/images/build.sh scripts/images/oci-pack.sh scripts/images/plan.ts scripts/images/definition.ts; do
    inputs+=("script $f $(sha <"$f")")
  done
  local key out link
  key=$(printf '%s\n' "${inputs[@]}" | sha | cut -c1-16)
  out=$OUT_DIR/$name-$key.tar
  link=$OUT_DIR/$name.tar

  if [[ $FORCE == 1 || ! -f $out || ! -f $out.meta ]]; then
    local t0=$SECONDS rootfs
    WORK=$(mktemp -d "$OUT_DIR/work/$name.XXXXXX")
    rootfs=$WORK/rootfs
    mkdir -m 755 "$rootfs"
    tar -C "$rootfs" -xf "$base"
    for a in "${copies[@]}"; do
      src=${a%%=*} to=${a#*=}
      mkdir -p "$rootfs$(dirname "$to")"
      cp -a --no-preserve=ownership "$src" "$rootfs$to"
    done
    for f in "${FILES[@]}"; do
      src=${f%%=*} to=${f#*=}
      mkdir -p "$rootfs$to"
      if [[ -d $src ]]; then
        local -a excl=()
        mapfile -t excl < <(excludes_under "$src")
        tar -C "$src" -cf - --owner=0 --group=0 --mode=go-w,a+rX "${excl[@]/#/--exclude=./}" . | tar -C "$rootfs$to" -xf -
      else
        rmdir "$rootfs$to"
        install -m "$( [[ -x $src ]] && echo 755 || echo 644)" "$src" "$rootfs$to"
      fi
    done
    local c
    for c in "${RUN_CMDS[@]}"; do
      chroot "$rootfs" /bin/sh -ec "$c" >&2 || die "$name: '$c' failed in the image"
    done
    # Left by the run commands (update-alternatives logs).
    rm -rf "$rootfs"/var/log/* "$rootfs"/var/cache/debconf/*-old
    bash scripts/images/oci-pack.sh "$rootfs" "$REF" "$out.tmp" "${OCI_ARGS[@]}" >"$out.meta.tmp"
    mv "$out.tmp" "$out" && mv "$out.meta.tmp" "$out.meta"
    rm -rf "$WORK"; WORK=
    # Older builds of this image are superseded (the key pattern keeps weft from matching weft-proxy).
    find "$OUT_DIR" -maxdepth 1 -regextype posix-extended -regex ".*/$name-[0-9a-f]{16}\.tar(\.meta)?" \
      ! -name "$name-$key.tar" ! -name "$name-$key.tar.meta" -delete
    log "$name built in $((SECONDS - t0)) s"
  else
    log "$name: cached ($key)"
  fi
  ln -sfn "$(basename "$out")" "$link"
  local compressed unpacked
  compressed=$(sed -n 's/.* compressed=\([0-9]*\).*/\1/p' "$out.meta")
  unpacked=$(sed -n 's/.* unpacked=\([0-9]*\).*/\1/p' "$out.meta")
  log "$REF: $(mib "$compressed") MiB compressed, $(mib "$unpacked") MiB unpacked -> $link"
  printf '%s %s %s compressed=%s unpacked=%s\n' "$name" "$REF" "$link" "$compressed" "$unpacked"
  BUILT+=("$link")
}

BUILT=()
for n in "${NAMES[@]}"; do build_one "$n"; done
flock -u 8

cluster_env=${WEFT_CLUSTER_DIR:-$CACHE/node-cluster}/env   # the node cluster (e2e/cluster/up.sh), as import.sh reads it
if [[ $IMPORT == auto ]]; then
  IMPORT=no
  if [[ -f $cluster_env ]] && (. "$cluster_env"; [[ -S ${WEFT_CONTAINERD_SOCK:-} ]]); then IMPORT=yes; fi
fi
if [[ $IMPORT == yes ]]; then
  log "importing into the node's containerd"
  bash scripts/images/import.sh "${BUILT[@]}" >&2
fi
