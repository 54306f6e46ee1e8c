#!/bin/sh
# Fails if a test run left anything behind: mounts, state, processes, cgroups or network devices.
# Usage: Scripts/leak-check.sh [PATH...]   (paths whose mounts or processes count as ours)
set -u
roots="/run/cella-test /tmp/cella-it- .build/test-rootfs $*"
leaks=0
report() { echo "leak: $*" >&2; leaks=$((leaks + 1)); }

for r in $roots; do
  awk -v r="$r" 'index($5, r) { print $5 }' /proc/self/mountinfo | while read -r m; do echo "$m"; done > /tmp/.cella-leak.$$
  while read -r m; do report "mount $m"; done < /tmp/.cella-leak.$$
done
rm -f /tmp/.cella-leak.$$
for d in /proc/[0-9]*; do
  root=$(readlink "$d/root" 2>/dev/null) || continue
  for r in $roots; do
    case "$root" in *"$r"*) report "process ${d#/proc/} with root $root" ;; esac
  done
done
for d in /run/cella-test*; do [ -e "$d" ] && report "state directory $d"; done
if [ -d /run/cella ] && [ -n "$(ls /run/cella 2>/dev/null)" ]; then report "state in /run/cella: $(ls /run/cella)"; fi
# The runtime's parent /cella goes with its last container, so it must not be there either.
for c in /sys/fs/cgroup/*/cella/ /sys/fs/cgroup/cella/ /sys/fs/cgroup/*/cella-t*/ /sys/fs/cgroup/*/ct*/; do
  [ -d "$c" ] && report "cgroup $c"
done
for n in /sys/class/net/ct* /sys/class/net/cella-t*; do [ -e "$n" ] && report "network device ${n##*/}"; done
if [ "$leaks" -eq 0 ]; then echo "leak check: nothing left behind"; fi
exit $((leaks > 0))
