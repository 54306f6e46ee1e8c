#!/bin/sh
# Fails if a test run left anything behind. It looks only at what the run owns, named after its run id
# as the integration harness names things (Tests/IntegrationTests/Support/SuiteRun.swift), so that
# another container on the host (its /run/cella state, its /cella cgroup) never counts:
#   - the tests' temp dirs /tmp/cella-it-<run>-* (each holds a test's state root): gone after each test,
#   - mounts under them or under this tree's .build/test-rootfs, or naming the id prefix cella-t-<run>,
#   - processes whose root or cwd is there (guests, keepers, daemons), or that are in one of the run's cgroups,
#   - cgroups /cella-t-<run>* in every hierarchy, and /cella/cella-t-<run>* under the runtime's default parent,
#   - network namespaces /run/netns/cella-t-<run>* (NetBox and network tests),
#   - network devices ct<first 6 characters of the run id>* (SuiteRun.netDeviceName: IFNAMSIZ leaves 15
#     characters, too few for cella-t-<run>, so a device named cella-t* could belong to any run and is
#     not counted; tests must use SuiteRun.netDeviceName).
# Usage: Scripts/leak-check.sh RUN-ID [PATH...]   (more paths whose mounts or processes count as ours)
set -u
cd "$(dirname "$0")/.."
run=${1:?usage: Scripts/leak-check.sh RUN-ID [PATH...]}
shift
prefix="cella-t-$run"
roots="/tmp/cella-it-$run- $PWD/.build/test-rootfs $prefix $*"
leaks=0
report() { echo "leak: $*" >&2; leaks=$((leaks + 1)); }

for d in /tmp/cella-it-"$run"-*; do [ -e "$d" ] && report "test directory (with its state root) $d"; done
# No temp file (a predictable name in /tmp is a root-writes-through-symlink hazard): a here-document
# keeps report's counter in this shell.
for r in $roots; do
  while read -r m; do [ -n "$m" ] && report "mount $m"; done <<MOUNTS
$(awk -v r="$r" 'index($5, r) { print $5 }' /proc/self/mountinfo)
MOUNTS
done
for c in /sys/fs/cgroup/*/"$prefix"* /sys/fs/cgroup/"$prefix"* /sys/fs/cgroup/*/cella/"$prefix"* /sys/fs/cgroup/cella/"$prefix"*; do
  [ -d "$c" ] || continue
  report "cgroup $c"
done
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  [ "$pid" = "$$" ] && continue
  root=$(readlink "$d/root" 2>/dev/null) || continue
  cwd=$(readlink "$d/cwd" 2>/dev/null)
  for r in $roots; do
    case "$root" in *"$r"*) report "process $pid with root $root" ;; esac
    # Keepers and daemons run with their cwd in the test's state dir.
    case "$cwd" in *"$r"*) report "process $pid ($(cat "$d/comm" 2>/dev/null)) with cwd $cwd" ;; esac
  done
  if grep -q -e ":/$prefix" -e ":/cella/$prefix" "$d/cgroup" 2>/dev/null; then
    report "process $pid in cgroup $(grep -m1 -e ":/$prefix" -e ":/cella/$prefix" "$d/cgroup" | cut -d: -f3)"
  fi
done
for n in /run/netns/"$prefix"*; do [ -e "$n" ] && report "network namespace ${n##*/}"; done
netdev_prefix="ct$(printf '%.6s' "$run")"
for n in /sys/class/net/"$netdev_prefix"*; do [ -e "$n" ] && report "network device ${n##*/}"; done
if [ "$leaks" -eq 0 ]; then echo "leak check: nothing left behind by run $run"; fi
exit $((leaks > 0))
