#!/bin/sh
# Cost of one cheap syscall (getppid in a loop) inside a container: cella-runtime and crun, each with
# Profiles/seccomp/default.json and with no filter. Prints a markdown table (ns per call, medians).
# Usage: Benchmarks/seccomp-overhead.sh [ITERATIONS] [RUNS]   (root; needs gcc, crun, python3)
set -eu
cd "$(dirname "$0")/.."
iterations=${1:-2000000}
runs=${2:-7}
work=$(mktemp -d /tmp/cella-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
swift build -c release --static-swift-stdlib --product cella-runtime >/dev/null
cella=$PWD/.build/release/cella-runtime
RootFS/busybox.sh "$work/rootfs" >/dev/null
gcc -O2 -static -o "$work/rootfs/getppid_loop" Benchmarks/getppid_loop.c
# Both runtimes run in a mount namespace without the cgroup2 mount (crun refuses hybrid hosts).
wrap() { unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh "$@"; }
make_bundle() { # name, with-profile(0/1)
  mkdir -p "$work/$1" "$work/$1.tmp"
  ln -s ../rootfs "$work/$1/rootfs"
  "$cella" spec --bundle "$work/$1.tmp"
  python3 - "$work/$1.tmp/config.json" "$work/$1/config.json" "$2" "$iterations" <<'PY'
import json, sys
src, dst, profile, n = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
c = json.load(open(src))
c["ociVersion"] = "1.0.2"  # crun rejects 1.3.0
c["process"]["terminal"] = False
c["process"]["args"] = ["/getppid_loop", n]
if not profile:
    del c["linux"]["seccomp"]
json.dump(c, open(dst, "w"), indent=1)
PY
}
make_bundle with 1
make_bundle without 0
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # runtime-cmd bundle
  i=0
  while [ $i -lt "$runs" ]; do
    wrap $1 run --bundle "$work/$2" "bench-$$-$i"
    i=$((i + 1))
  done | median
}
c_with=$(measure "$cella" with)
c_without=$(measure "$cella" without)
k_with=$(measure crun with)
k_without=$(measure crun without)
echo "| runtime | default profile (ns/call) | no filter (ns/call) | filter overhead (ns/call) |"
echo "|---|---|---|---|"
echo "| cella-runtime | $c_with | $c_without | $(echo "$c_with - $c_without" | bc) |"
echo "| crun $(crun --version | head -1 | awk '{print $3}') | $k_with | $k_without | $(echo "$k_with - $k_without" | bc) |"
echo
echo "($iterations getppid calls per run, median of $runs runs, $(date -u +%Y-%m-%d), $(uname -r))"
