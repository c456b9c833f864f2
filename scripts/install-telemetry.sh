#!/usr/bin/env bash
# Install (once) and cache the telemetry back ends the tests run for real: Prometheus
# (Debian's `prometheus` package, unpacked into the cache, not installed system-wide) and a
# minimal OpenTelemetry Collector (scripts/telemetry-tools/otelcol: the OTLP receiver and the
# OTLP/HTTP and debug exporters) built from the Go module proxy.
#
#   scripts/install-telemetry.sh          install if needed; stdout: PROMETHEUS=… and OTELCOL=… lines
#   scripts/install-telemetry.sh --force  reinstall both
#
# Layout (outside the repo, survives fresh clones on the same machine):
#   ${WEFT_CACHE:-$HOME/.cache/weft}/prometheus-<PROM_DEB>/usr/bin/prometheus
#   ${WEFT_CACHE:-$HOME/.cache/weft}/otelcol-<OTELCOL_VERSION>-r<RECIPE>/bin/weft-otelcol
#   ${WEFT_CACHE:-$HOME/.cache/weft}/telemetry-tools.env   (sourceable paths)
# Cold: about 10 s for Prometheus (one .deb) and 1.5 min for the Collector (module download
# and build on 2 cores); warm: instant. Progress goes to stderr.
set -euo pipefail

# Debian bookworm's package; the version is whatever apt offers, recorded in the directory.
OTELCOL_VERSION=v0.165.0
RECIPE=2

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
OTEL_DIR=$CACHE/otelcol-$OTELCOL_VERSION-r$RECIPE
ENV_FILE=$CACHE/telemetry-tools.env

FORCE=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install-telemetry: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[install-telemetry %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
mkdir -p "$CACHE"

# --- Prometheus -------------------------------------------------------------------------
prom=""
if [[ $FORCE == 0 && -f $ENV_FILE ]]; then
  prom=$(sed -n 's/^PROMETHEUS=//p' "$ENV_FILE")
  [[ -n $prom && -x $prom ]] && "$prom" --version >/dev/null 2>&1 || prom=""
fi
if [[ -z $prom ]]; then
  command -v apt-get >/dev/null || die "apt-get is needed to fetch Debian's prometheus package"
  t0=$SECONDS
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  log "prometheus: downloading Debian's package"
  # apt-get download needs package lists; a fresh machine may have none yet.
  (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1) || {
    apt-get update -q >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1)
  } || die "apt-get download prometheus failed"
  deb=$(ls "$tmp"/prometheus_*.deb)
  ver=$(dpkg-deb -f "$deb" Version | tr -c 'A-Za-z0-9.\n' '_')
  dir=$CACHE/prometheus-$ver
  rm -rf "$dir" && mkdir -p "$dir"
  # Only the binary: the web UI's JavaScript dependencies are not needed for the API.
  dpkg-deb -x "$deb" "$dir"
  prom=$dir/usr/bin/prometheus
  "$prom" --version >/dev/null 2>&1 || die "$prom does not run"
  log "prometheus: $($prom --version 2>&1 | head -n1) in $((SECONDS - t0))s"
fi

# --- OpenTelemetry Collector ------------------------------------------------------------
otel=$OTEL_DIR/bin/weft-otelcol
if [[ $FORCE == 1 || ! -x $otel ]] || ! "$otel" --version >/dev/null 2>&1; then
  GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
  [[ -x $GO ]] || die "go is needed to build the OpenTelemetry Collector"
  t0=$SECONDS
  log "otelcol: building $OTELCOL_VERSION from the Go module proxy (about 1.5 min cold)"
  mkdir -p "$OTEL_DIR/bin"
  (cd "$SCRIPT_DIR/telemetry-tools/otelcol" &&
    GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
      "$GO" build -trimpath -o "$otel.tmp" .) || die "otelcol build failed"
  mv "$otel.tmp" "$otel"
  log "otelcol: built in $((SECONDS - t0))s"
fi

printf 'PROMETHEUS=%s\nOTELCOL=%s\n' "$prom" "$otel" > "$ENV_FILE.tmp" && mv "$ENV_FILE.tmp" "$ENV_FILE"
cat "$ENV_FILE"
