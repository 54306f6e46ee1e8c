#!/bin/sh
# The manager's demo: builds cella, starts its daemon on a temporary state dir, builds the busybox image
# offline, makes a cella network, launches three guests on it with different limits, shows one reaching
# another by name and a published port answering, kills the daemon with SIGKILL, starts a new one that
# re-adopts the guests, then stops and deletes them, deletes the network and stops the daemon. A VM from
# the same busybox image joins the network and answers a container (QEMU; TCG where KVM is unusable).
#
# The daemon runs in a network namespace of the demo's own (`ip netns`), so the demo's bridge, nft tables
# and ip_forward setting never touch the host's network; a real daemon runs in the host's namespace.
set -eu
cd "$(dirname "$0")/.."
for product in cella-runtime cella cella-daemon cella-keeper cella-nic cella-agent; do
  swift build -c release --static-swift-stdlib --product "$product"
done
bin=$PWD/.build/release
tmp=$(mktemp -d /tmp/cella-demo.XXXXXX)
chmod 0711 "$tmp" # the network's dnsmasq drops root and must reach its files in the state dir
export CELLA_STATE_DIR="$tmp/state" CELLA_SOCKET="$tmp/cella.sock" CELLA_CGROUP_PARENT=/cella-demo
cella=$bin/cella
netns=cella-demo-$$
ip netns add "$netns"
ip -n "$netns" link set lo up
in_host() { nsenter --net="/run/netns/$netns" -- "$@"; }
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    for g in demo-small demo-medium demo-large; do "$cella" delete --force "$g" >/dev/null 2>&1 || true; done
    "$cella" network delete demo-lan >/dev/null 2>&1 || true
    kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
  fi
  ip netns delete "$netns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
start_daemon() {
  # Not through in_host: a backgrounded function is a subshell, and $! must be the daemon itself
  # (nsenter execs cella, which execs cella-daemon: one pid).
  nsenter --net="/run/netns/$netns" -- "$cella" daemon >>"$tmp/daemon.log" 2>&1 &
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
step "cella network create demo-lan (a bridge, NAT, DHCP and DNS by dnsmasq)"
"$cella" network create demo-lan
"$cella" network list
step "three guests on it with different limits"
lan="-c nic.0.network=demo-lan"
"$cella" launch demo-small --image busybox $lan -c limits.memory=32MiB -c limits.cpu=0.25 -c limits.pids=32
"$cella" launch demo-medium --image busybox $lan -c limits.memory=128MiB -c limits.cpu=1
"$cella" launch demo-large --image busybox $lan -c limits.memory=512MiB -c limits.cpu=2 -c boot.restart=always
"$cella" list
step "demo-small reaches demo-medium by name (dnsmasq answers NAME and NAME.cella)"
"$cella" exec demo-small -- ping -c 2 demo-medium
"$cella" exec demo-small -- ping -c 1 demo-large.cella
step "demo-medium serves HTTP on port 80; cella port add demo-medium 8080 80 publishes it"
"$cella" exec demo-medium -- sh -c 'mkdir -p /www && echo "hello from $(hostname)" >/www/index.html && httpd -p 80 -h /www'
"$cella" port add demo-medium 8080 80
"$cella" port list demo-medium
gateway=$("$cella" network show demo-lan --format json | sed -n 's/.*"gateway" *: *"\([0-9.]*\)".*/\1/p')
echo "from the host: GET http://$gateway:8080/"
printf 'GET / HTTP/1.0\r\n\r\n' | in_host busybox nc "$gateway" 8080 | tail -n 1
step "a VM from the same busybox image on demo-lan: its own kernel under QEMU, jailed like a container"
"$cella" launch demo-vm --vm --image busybox $lan -c limits.memory=256MiB -- \
  sh -c 'mkdir -p /www && echo "hello from demo-vm, kernel $(uname -r)" >/www/index.html && exec httpd -f -p 80 -h /www'
i=0
until "$cella" exec demo-small -- wget -qO- http://demo-vm/ 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 90 ] || { "$cella" logs demo-vm; exit 1; }; sleep 1
done
"$cella" exec demo-vm -- sh -c 'echo "in the VM: $(hostname), pid 1 is $(cat /proc/1/comm), $(nproc) vCPU"'
"$cella" info demo-vm | head -n 9
step "what the host sees: the bridge, the guests' veths and cella's nft tables"
in_host ip -br link show
in_host nft list table inet cella
step "cella exec demo-small -- ... (its own hostname, pid 1 and memory limit)"
"$cella" exec demo-small -- sh -c 'echo "hostname $(hostname)"; ps; cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
step "cella logs demo-small (the console: busybox init and its shell)"
"$cella" logs demo-small | tail -n 5
step "cella info demo-small"
"$cella" info demo-small
step "kill -9 the daemon (pid $daemon_pid): guests keep running"
kill -9 "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
ps -o pid,comm -p "$(cat "$CELLA_STATE_DIR"/run/demo-*/state.json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | tr '\n' ',' | sed 's/,$//')" || true
step "a new daemon re-adopts them (and the network's dnsmasq, which kept serving)"
start_daemon
echo "new daemon: pid $daemon_pid"
"$cella" list
"$cella" exec demo-small -- ping -c 1 demo-large
"$cella" exec demo-medium -- uptime
step "stop and delete"
for g in demo-small demo-medium demo-large demo-vm; do "$cella" stop "$g"; "$cella" delete "$g"; done
"$cella" network delete demo-lan
"$cella" list
step "stop the daemon"
kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
echo "done"
