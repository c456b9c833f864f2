#!/usr/bin/env bash
# Debian's chromium, for the mesh view's browser test (driven by playwright-core, which brings
# no browser of its own). Idempotent: prints the binary's path, installing it first when absent.
# The .deb files are kept in $WEFT_CACHE/apt-chromium so a reinstall needs no download.
# Needs root and apt (Debian); otherwise it prints nothing and exits 1, and the test skips.
set -euo pipefail
export WEFT_CACHE="${WEFT_CACHE:-$HOME/.cache/weft}"
found() { command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null; }
if bin=$(found); then echo "$bin"; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: needs root and apt-get (apt-get install chromium)" >&2
  exit 1
fi
archives="$WEFT_CACHE/apt-chromium"
mkdir -p "$archives/partial"
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold dpkg's lock: wait for it rather than fail.
apt_install() {
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 -o Dir::Cache::archives="$archives" chromium >&2
}
echo "install-chromium: apt-get install chromium (first time: about 100 MB)" >&2
apt_install || { apt-get update -q -o DPkg::Lock::Timeout=600 >&2 && apt_install; }
found
