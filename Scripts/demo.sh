#!/bin/sh
# Builds cella-runtime, builds a busybox rootfs offline and runs one container that shows its isolation.
set -eu
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product cella-runtime
runtime=$PWD/.build/release/cella-runtime
bundle=$PWD/.build/demo
rm -rf "$bundle"
mkdir -p "$bundle"
# A state root of its own: the demo neither sees nor lists the host's other containers (/run/cella).
root=$(mktemp -d /run/cella-demo.XXXXXX)
trap 'rm -rf "$root"' EXIT
RootFS/busybox.sh "$bundle/rootfs"
"$runtime" spec --bundle "$bundle"
script='echo "hostname: $(hostname)"; echo "--- ps (pid 1 is this shell)"; ps; echo "--- id"; id; echo "--- mounts"; cat /proc/self/mounts'
# The default config asks for a terminal; the demo prints to a pipe-friendly stdout instead.
sed -i -e 's/"terminal": true/"terminal": false/' \
  -e "s|^      \"sh\"\$|      \"sh\", \"-c\", \"$(printf '%s' "$script" | sed 's/"/\\\\"/g')\"|" "$bundle/config.json"
echo "== cella-runtime run demo (host: $(hostname), pid $$)"
"$runtime" --root "$root" run --bundle "$bundle" "cella-demo-$$"
echo "== the container is gone:"
"$runtime" --root "$root" list
