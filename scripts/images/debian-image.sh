#!/usr/bin/env bash
# Build (once) an OCI image tar from a Debian minbase root filesystem plus packages, with
# mmdebstrap and scripts/images/oci-pack.sh: no Docker engine, no registry. Cached in
# ${WEFT_CACHE:-~/.cache/weft}/images/ under a key of everything that defines it (suite,
# packages, oci-pack options, this script and oci-pack.sh), so an unchanged definition is
# never rebuilt.
#
#   scripts/images/debian-image.sh IMAGE_REF --packages "pkg1 pkg2" [--suite bookworm]
#       [--copy SRC:DEST]... [--run SHELL_CMD]... [oci-pack options: --entrypoint --cmd --user --env --workdir
#       --label --expose]
#
# --copy copies a host file or directory into the rootfs before packing (owned by root);
# --run runs a shell command chrooted in the rootfs after the packages are installed.
# --user UID:GID (numeric) also gets /etc/passwd and /etc/group entries when the rootfs has
# none: the kubelet takes only the uid from the image, and the runtime finds the primary
# group in /etc/passwd (without an entry the process would run with gid 0).
# stdout: the path of the OCI tar (import it with scripts/images/import.sh); stderr:
# progress, the cold build time and the image size.
set -euo pipefail
die() { printf 'debian-image: %s\n' "$*" >&2; exit 1; }
[[ $# -ge 1 ]] || die "usage: $0 IMAGE_REF --packages \"...\" [options]"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REF=$1; shift
SUITE=bookworm PACKAGES='' COPIES=() RUNS=() PACK_OPTS=()
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || die "option $1 needs a value"
  case $1 in
    --packages) PACKAGES=$2 ;;
    --suite) SUITE=$2 ;;
    --copy) COPIES+=("$2") ;;
    --run) RUNS+=("$2") ;;
    *) PACK_OPTS+=("$1" "$2") ;;
  esac
  shift 2
done
command -v mmdebstrap >/dev/null || die "mmdebstrap missing (apt-get install mmdebstrap, or scripts/install-node.sh)"

CACHE=${WEFT_CACHE:-$HOME/.cache/weft}/images
mkdir -p "$CACHE"
# The definition, content only (a clone elsewhere gives the same key).
copies_key=''
for c in "${COPIES[@]}"; do
  src=${c%%:*}
  [[ -e $src ]] || die "--copy source $src does not exist"
  copies_key+="$c $(tar -C "$(dirname "$src")" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$(basename "$src")" | sha256sum | cut -c1-16) "
done
KEY=$( { printf '%s\n' "$REF" "$SUITE" "$PACKAGES" "$copies_key" "${RUNS[@]}" "${PACK_OPTS[@]}"; cat "$0" "$HERE/oci-pack.sh"; } | sha256sum | cut -c1-16)
NAME=$(printf '%s' "$REF" | tr '/:' '__')
OUT=$CACHE/$NAME-$KEY.oci.tar
if [[ -f $OUT ]]; then
  printf 'debian-image: %s up to date (%s)\n' "$REF" "$OUT" >&2
  echo "$OUT"; exit 0
fi

exec 9>"$CACHE/.$NAME.lock"; flock 9
[[ -f $OUT ]] && { echo "$OUT"; exit 0; }
t0=$SECONDS
ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/weft-debian.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"
hooks=()
for r in "${RUNS[@]}"; do hooks+=(--customize-hook="chroot \"\$1\" sh -c $(printf '%q' "$r")"); done
# Reproducible: package mtimes and generated files follow SOURCE_DATE_EPOCH; no apt lists
# or caches, no docs/man pages in the image.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
mmdebstrap --variant=minbase --mode=root --format=directory --quiet \
  ${PACKAGES:+--include="${PACKAGES// /,}"} \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  "${hooks[@]}" \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/* "$1"/etc/machine-id' \
  "$SUITE" "$ROOT" >&2 || die "mmdebstrap failed"
for ((i = 0; i < ${#PACK_OPTS[@]}; i += 2)); do
  [[ ${PACK_OPTS[i]} == --user && ${PACK_OPTS[i + 1]} =~ ^([0-9]+):([0-9]+)$ ]] || continue
  uid=${BASH_REMATCH[1]} gid=${BASH_REMATCH[2]}
  ((uid == 0)) && continue
  if ! awk -F: -v g="$gid" '$3 == g { f = 1 } END { exit !f }' "$ROOT/etc/group"; then
    echo "nonroot:x:$gid:" >>"$ROOT/etc/group"
  fi
  if ! awk -F: -v u="$uid" '$3 == u { f = 1 } END { exit !f }' "$ROOT/etc/passwd"; then
    echo "nonroot:x:$uid:$gid:nonroot:/nonexistent:/usr/sbin/nologin" >>"$ROOT/etc/passwd"
  fi
done
for c in "${COPIES[@]}"; do
  src=${c%%:*} dest=${c#*:}
  mkdir -p "$ROOT$(dirname "$dest")"
  cp -a "$src" "$ROOT$dest"; chown -R 0:0 "$ROOT$dest"
done
"$HERE/oci-pack.sh" "$ROOT" "$REF" "$OUT.tmp" "${PACK_OPTS[@]}" >/dev/null
mv "$OUT.tmp" "$OUT"
printf 'debian-image: built %s in %ds (cold build time)\n' "$REF" "$((SECONDS - t0))" >&2
echo "$OUT"
