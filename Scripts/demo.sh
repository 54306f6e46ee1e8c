#!/bin/sh
# The manager's demo: builds cella, starts its daemon on a temporary state dir, builds the busybox image
# offline, launches three guests with different limits, shows them, kills the daemon with SIGKILL, starts
# a new one that re-adopts the guests, then stops and deletes them and stops the daemon.
set -eu
cd "$(dirname "$0")/.."
for product in cella-runtime cella cella-daemon cella-keeper; do
  swift build -c release --static-swift-stdlib --product "$product"
done
bin=$PWD/.build/release
tmp=$(mktemp -d /tmp/cella-demo.XXXXXX)
export CELLA_STATE_DIR="$tmp/state" CELLA_SOCKET="$tmp/cella.sock" CELLA_CGROUP_PARENT=/cella-demo
cella=$bin/cella
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    for g in demo-small demo-medium demo-large; do "$cella" delete --force "$g" >/dev/null 2>&1 || true; done
    kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
start_daemon() {
  "$cella" daemon >>"$tmp/daemon.log" 2>&1 &
  daemon_pid=$!
  i=0
  until "$cella" list >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 200 ] || { cat "$tmp/daemon.log"; exit 1; }; sleep 0.05
  done
}
step() { printf '\n== %s\n' "$*"; }

step "cella daemon (state dir $CELLA_STATE_DIR)"
start_daemon
step "cella image build busybox busybox"
time "$cella" image build busybox busybox
step "three guests with different limits"
"$cella" launch demo-small --image busybox -c limits.memory=32MiB -c limits.cpu=0.25 -c limits.pids=32
"$cella" launch demo-medium --image busybox -c limits.memory=128MiB -c limits.cpu=1
"$cella" launch demo-large --image busybox -c limits.memory=512MiB -c limits.cpu=2 -c boot.restart=always
"$cella" list
step "cella exec demo-small -- ... (its own hostname, pid 1 and memory limit)"
"$cella" exec demo-small -- sh -c 'echo "hostname $(hostname)"; ps; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
step "cella logs demo-small (the console: busybox init and its shell)"
"$cella" logs demo-small | tail -n 5
step "cella info demo-small"
"$cella" info demo-small
step "kill -9 the daemon (pid $daemon_pid): guests keep running"
kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
ps -o pid,comm -p "$(cat "$CELLA_STATE_DIR"/run/demo-*/state.json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | tr '\n' ',' | sed 's/,$//')" || true
step "a new daemon re-adopts them"
start_daemon
"$cella" list
"$cella" exec demo-medium -- uptime
step "stop and delete"
for g in demo-small demo-medium demo-large; do "$cella" stop "$g"; "$cella" delete "$g"; done
"$cella" list
step "stop the daemon"
kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
echo "done"
