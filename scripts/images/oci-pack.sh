#!/usr/bin/env bash
# Pack a root filesystem directory into a single-layer OCI image-layout tar that
# `ctr images import` (and skopeo, podman, `docker load` >= 25) accept. No Docker engine,
# no registry, no jq: tar, gzip and sha256sum only.
#
#   scripts/images/oci-pack.sh ROOTFS_DIR IMAGE_REF OUT_TAR [options]
#     --entrypoint JSON   e.g. '["/usr/bin/python3","-m","http.server"]' (a JSON array, verbatim)
#     --cmd JSON          e.g. '["8080"]'
#     --user UID:GID      e.g. 65532:65532 (numeric: no /etc/passwd lookup is needed at run time)
#     --env K=V           repeatable; PATH defaults to the Debian one unless given
#     --workdir DIR
#     --label K=V         repeatable (config Labels)
#     --arch ARCH         default: the host's (amd64, arm64)
#     --expose PORT/PROTO repeatable (config ExposedPorts; documentation only)
#
# Output (OUT_TAR, written atomically):
#   oci-layout, index.json, blobs/sha256/{layer (tar+gzip), config, manifest}
#   index.json's one manifest carries the annotations
#     io.containerd.image.name        = IMAGE_REF   (ctr import names the image with it)
#     org.opencontainers.image.ref.name = IMAGE_REF's tag (the OCI layout convention)
# stdout: one line `IMAGE_REF digest=sha256:… compressed=BYTES unpacked=BYTES`;
# stderr: a human line with the sizes in MiB.
#
# Deterministic: the same rootfs contents give the same digests. Entries are sorted, every
# mtime is clamped to SOURCE_DATE_EPOCH (default 0), owners are the rootfs's numeric
# uid/gid (no names), gzip stores no name or time, pax headers carry no atime/ctime.
# The contents of /dev, /proc and /sys are left out (the runtime mounts them); the
# directories stay. Run as root when the rootfs has files owned by other users.
set -euo pipefail

die() { printf 'oci-pack: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 3 ]] || usage
ROOTFS=$1 REF=$2 OUT=$3; shift 3
[[ -d $ROOTFS ]] || die "rootfs $ROOTFS is not a directory"
# The rootfs directory becomes the container's /: a mktemp -d (0700) would lock out non-root users.
[[ $(( 0$(stat -c %a "$ROOTFS") & 05 )) == 5 ]] || die "rootfs $ROOTFS must be o+rx (it becomes /); chmod 755 it"
[[ $REF =~ ^[a-z0-9]([a-z0-9._/-]|:[0-9]+/)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?$ ]] \
  || die "image ref '$REF' is not of the form [host[:port]/]name[:tag]"

ENTRYPOINT='' CMD='' USER_='' WORKDIR='' ARCH=''
ENVS=() LABELS=() PORTS=()
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || die "option $1 needs a value"
  case $1 in
    --entrypoint) ENTRYPOINT=$2 ;;
    --cmd) CMD=$2 ;;
    --user) USER_=$2 ;;
    --env) [[ $2 == *=* ]] || die "--env wants K=V"; ENVS+=("$2") ;;
    --workdir) WORKDIR=$2 ;;
    --label) [[ $2 == *=* ]] || die "--label wants K=V"; LABELS+=("$2") ;;
    --arch) ARCH=$2 ;;
    --expose) PORTS+=("$2") ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
for j in "$ENTRYPOINT" "$CMD"; do
  [[ -z $j || $j =~ ^[[:space:]]*\[.*\][[:space:]]*$ ]] || die "--entrypoint/--cmd want a JSON array, got: $j"
done

if [[ -z $ARCH ]]; then
  case $(uname -m) in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
fi

# json_str S: S as a JSON string literal (backslash, quote and control characters escaped).
json_str() {
  local s=$1 out='' c i
  s=${s//\\/\\\\}; s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/\\r}
  if [[ $s =~ [[:cntrl:]] ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c =~ [[:cntrl:]] ]]; then printf -v c '\\u%04x' "'$c"; fi
      out+=$c
    done
    s=$out
  fi
  printf '"%s"' "$s"
}
# json_list ITEMS...: ["a","b"]
json_list() { local sep='' x; printf '['; for x in "$@"; do printf '%s%s' "$sep" "$(json_str "$x")"; sep=,; done; printf ']'; }

EPOCH=${SOURCE_DATE_EPOCH:-0}
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/oci-pack.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
BLOBS=$WORK/layout/blobs/sha256
mkdir -p "$BLOBS"

# --- the layer ---------------------------------------------------------------
tar -C "$ROOTFS" --create --file="$WORK/layer.tar" \
  --sort=name --format=posix \
  --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
  --mtime="@$EPOCH" --clamp-mtime --numeric-owner \
  --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
  --one-file-system \
  .
UNPACKED=$(stat -c %s "$WORK/layer.tar")
DIFF_ID=$(sha256sum "$WORK/layer.tar" | cut -d' ' -f1)
gzip -n -6 <"$WORK/layer.tar" >"$WORK/layer.tar.gz"
rm -f "$WORK/layer.tar"
LAYER_DIGEST=$(sha256sum "$WORK/layer.tar.gz" | cut -d' ' -f1)
LAYER_SIZE=$(stat -c %s "$WORK/layer.tar.gz")
mv "$WORK/layer.tar.gz" "$BLOBS/$LAYER_DIGEST"

# --- config --------------------------------------------------------------------
have_path=0
for e in "${ENVS[@]}"; do [[ $e == PATH=* ]] && have_path=1; done
((have_path)) || ENVS=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "${ENVS[@]}")

cfg='{'
[[ -n $USER_ ]] && cfg+="\"User\":$(json_str "$USER_"),"
cfg+="\"Env\":$(json_list "${ENVS[@]}"),"
[[ -n $ENTRYPOINT ]] && cfg+="\"Entrypoint\":$ENTRYPOINT,"
[[ -n $CMD ]] && cfg+="\"Cmd\":$CMD,"
[[ -n $WORKDIR ]] && cfg+="\"WorkingDir\":$(json_str "$WORKDIR"),"
if ((${#PORTS[@]})); then
  cfg+='"ExposedPorts":{'; sep=''
  for p in "${PORTS[@]}"; do cfg+="$sep$(json_str "$p"):{}"; sep=,; done
  cfg+='},'
fi
if ((${#LABELS[@]})); then
  cfg+='"Labels":{'; sep=''
  for l in "${LABELS[@]}"; do cfg+="$sep$(json_str "${l%%=*}"):$(json_str "${l#*=}")"; sep=,; done
  cfg+='},'
fi
cfg=${cfg%,}'}'

printf '{"architecture":%s,"os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"scripts/images/oci-pack.sh"}]}' \
  "$(json_str "$ARCH")" "$CREATED" "$cfg" "$DIFF_ID" "$CREATED" >"$WORK/config.json"
CONFIG_DIGEST=$(sha256sum "$WORK/config.json" | cut -d' ' -f1)
CONFIG_SIZE=$(stat -c %s "$WORK/config.json")
mv "$WORK/config.json" "$BLOBS/$CONFIG_DIGEST"

# --- manifest, index, layout -----------------------------------------------------
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$CONFIG_DIGEST" "$CONFIG_SIZE" "$LAYER_DIGEST" "$LAYER_SIZE" >"$WORK/manifest.json"
MANIFEST_DIGEST=$(sha256sum "$WORK/manifest.json" | cut -d' ' -f1)
MANIFEST_SIZE=$(stat -c %s "$WORK/manifest.json")
mv "$WORK/manifest.json" "$BLOBS/$MANIFEST_DIGEST"

# The tag is what follows the last ':' after the last '/', else "latest".
last=${REF##*/}
if [[ $last == *:* ]]; then TAG=${last##*:}; else TAG=latest; REF=$REF:latest; fi
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":%s,"os":"linux"},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}]}' \
  "$MANIFEST_DIGEST" "$MANIFEST_SIZE" "$(json_str "$ARCH")" "$(json_str "$REF")" "$(json_str "$TAG")" \
  >"$WORK/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$WORK/layout/oci-layout"

mkdir -p "$(dirname "$OUT")"
tar -C "$WORK/layout" --create --file="$WORK/out.tar" --sort=name --format=posix \
  --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
  --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
  oci-layout index.json blobs
mv "$WORK/out.tar" "$OUT"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
printf 'oci-pack: %s -> %s (%s MiB compressed, %s MiB unpacked)\n' \
  "$REF" "$OUT" "$(mib "$LAYER_SIZE")" "$(mib "$UNPACKED")" >&2
printf '%s digest=sha256:%s compressed=%s unpacked=%s\n' "$REF" "$MANIFEST_DIGEST" "$LAYER_SIZE" "$UNPACKED"
