#!/usr/bin/env bash
# Builds the proxyless grpc-go test client (scripts/grpc-go-client) from the Go module proxy
# into $WEFT_CACHE/grpc-go-client-<key>/grpc-go-client, keyed by its go.mod, go.sum and source;
# the last stdout line is the binary's path. Cold: module download plus build, a few minutes
# on a loaded 2-core host; warm: nothing. GOMODCACHE/GOCACHE stay at Go's defaults.
set -euo pipefail
cd "$(dirname "$0")/grpc-go-client"
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $GO ]] || { echo "install-grpc-go-client: needs Go (go or /usr/local/go/bin/go)" >&2; exit 1; }
key=$(cat go.mod go.sum main.go | sha256sum | cut -c1-16)
out=$CACHE/grpc-go-client-$key/grpc-go-client
if [[ ! -x $out ]]; then
  echo "[install-grpc-go-client] building grpc-go client $key (cold: module download + build)" >&2
  mkdir -p "$(dirname "$out")"
  GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 "$GO" build -trimpath -o "$out.tmp" .
  mv "$out.tmp" "$out"
fi
echo "$out"
