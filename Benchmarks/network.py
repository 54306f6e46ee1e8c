#!/usr/bin/env python3
"""Cella networks against a bridge made by hand, side by side in one run; writes its section of
Docs/benchmarks.md.

Usage (root; iperf3 and iproute2 installed): Benchmarks/network.py [--runs N] [--guests N] [--out FILE]

Everything runs in a network namespace of its own (`cella-bench-net`, the daemon inside it through
`nsenter --net`), so the host's interfaces and rules are never touched.

- start: `cella start` of a busybox guest without a NIC and of one with one NIC on a cella network,
  interleaved in a shuffled order per round; the goal is at most 15 ms more with the NIC;
- throughput: iperf3 (TCP, 5 s) from one guest's network namespace to another's across the cella bridge
  (anti-spoofing rules and all), against two bare namespaces joined by veth pairs and a bridge made
  with `ip` in the same run, rounds interleaved; the goal is at least 0.9x. iperf3 runs from the host in
  the guests' network namespaces (`nsenter --net=/proc/PID/ns/net`): the busybox image has no iperf3,
  and the path measured (veth, bridge, veth, cella's nft hooks) is the guests' own;
- scale: N guests launched one after another on one network, the time of each launch (growth from the
  first quarter to the last says whether it is linear), then every guest pings the gateway.
"""
from benchcommon import CellaDaemon, build_release, med, quiet, sh, timed, write_section
import argparse, concurrent.futures, json, os, random, shutil, signal, statistics, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release")
BEGIN, END = "<!-- network.py -->", "<!-- /network.py -->"
BOX = "cella-bench-net"
BARE = ["cella-bench-b1", "cella-bench-b2"]










def in_box(*args):
    return ["nsenter", f"--net=/run/netns/{BOX}", "--", *args]


class Cella(CellaDaemon):
    def __init__(self, work):
        super().__init__(work, BIN, prefix=in_box())


def iperf(server_ns, client_ns, address, seconds):
    """TCP throughput in Gbit/s from client_ns to an iperf3 server in server_ns (nsenter --net paths)."""
    server = subprocess.Popen(["nsenter", f"--net={server_ns}", "--", "iperf3", "-s", "-1", "-B", address],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            r = sh("nsenter", f"--net={client_ns}", "--", "iperf3", "-c", address, "-t", str(seconds), "-J",
                   check=False, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            if r.returncode == 0:
                end = json.loads(r.stdout).get("end", {})
                if "sum_received" in end:
                    return end["sum_received"]["bits_per_second"] / 1e9
            time.sleep(0.05)
        raise SystemExit(f"iperf3 to {address} failed: {r.stdout[-300:]}")
    finally:
        server.wait(timeout=10) if server.poll() is not None else (server.kill(), server.wait())


def make_bare():
    """Two namespaces joined by veth pairs and a bridge in the box, addressed 10.252.0.2 and .3."""
    for ns in BARE:
        quiet("ip", "netns", "add", ns)
    quiet(*in_box("ip", "link", "add", "benchbr", "type", "bridge"))
    quiet(*in_box("ip", "link", "set", "benchbr", "up"))
    for i, ns in enumerate(BARE):
        host, peer = f"benchv{i}", "eth0"
        quiet(*in_box("ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns))
        quiet(*in_box("ip", "link", "set", host, "master", "benchbr", "up"))
        quiet("ip", "-n", ns, "address", "add", f"10.252.0.{i + 2}/24", "dev", peer)
        quiet("ip", "-n", ns, "link", "set", peer, "up")
        quiet("ip", "-n", ns, "link", "set", "lo", "up")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--guests", type=int, default=200)
    ap.add_argument("--iperf-rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "Docs/benchmarks.md"))
    a = ap.parse_args()
    if shutil.which("iperf3") is None:
        raise SystemExit("install iperf3 (apt-get install iperf3)")
    build_release(ROOT)
    work = tempfile.mkdtemp(prefix="cella-bench-")
    os.chmod(work, 0o711)  # the network's dnsmasq drops root and must reach its files in the state dir
    cella = Cella(work)
    res = {}
    quiet("ip", "netns", "add", BOX)
    quiet(*in_box("ip", "link", "set", "lo", "up"))
    try:
        cella.start_daemon()
        cella.cli("image", "build", "busybox", "busybox")
        cella.cli("network", "create", "bench", "--subnet", "10.251.0.0/24")
        gateway = json.loads(cella.cli("network", "show", "bench", "--format", "json").stdout)["gateway"]
        cella.cli("create", "plain", "--image", "busybox")
        cella.cli("create", "nic", "--image", "busybox", "-c", "nic.0.network=bench")
        starts = {"plain": [], "nic": []}
        for _ in range(a.runs):
            order = list(starts)
            random.shuffle(order)
            for g in order:
                starts[g].append(timed(lambda: cella.cli("start", g)))
                cella.cli("stop", "--force", g)
        res["start"] = {k: med(v) for k, v in starts.items()}

        make_bare()
        for g in ["t1", "t2"]:
            cella.cli("launch", g, "--image", "busybox", "-c", "nic.0.network=bench")
        t1, t2 = (f"/proc/{cella.pid(g)}/ns/net" for g in ["t1", "t2"])
        t1_address = next(n["ipv4"] for n in json.loads(cella.cli("info", "t1", "--format", "json").stdout)["nics"])
        bare, ours = [], []
        for _ in range(a.iperf_rounds):
            pair = [("bare", lambda: bare.append(iperf(f"/run/netns/{BARE[0]}", f"/run/netns/{BARE[1]}",
                                                        "10.252.0.2", 5))),
                    ("cella", lambda: ours.append(iperf(t1, t2, t1_address, 5)))]
            random.shuffle(pair)
            for _, run in pair:
                run()
        res["iperf"] = {"bare": med(bare), "cella": med(ours)}
        for g in ["t1", "t2", "plain", "nic"]:
            cella.cli("delete", "--force", g)

        names = [f"s{i}" for i in range(a.guests)]
        launches = []
        for n in names:
            launches.append(timed(lambda: cella.cli("launch", n, "--image", "busybox", "-c", "nic.0.network=bench")))
        q = max(1, len(launches) // 4)
        res["launch_first"] = statistics.mean(launches[:q])
        res["launch_last"] = statistics.mean(launches[-q:])
        res["launch_total"] = sum(launches) / 1000

        def reaches(n):
            return cella.cli("exec", n, "--", "ping", "-c", "1", "-W", "3", gateway, check=False).returncode == 0

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            res["reached"] = sum(pool.map(reaches, names))
        res["guests"] = len(names)
    finally:
        if cella.daemon and cella.daemon.poll() is None:
            for g in json.loads(cella.cli("list", "--format", "json", check=False).stdout or "[]"):
                cella.cli("delete", "--force", g["name"], check=False)
            cella.cli("network", "delete", "bench", check=False)
            cella.daemon.send_signal(signal.SIGTERM)
            cella.daemon.wait()
        for ns in BARE + [BOX]:
            quiet("ip", "netns", "delete", ns, check=False)
        shutil.rmtree(work, ignore_errors=True)
    write(a, res)


def write(a, r):
    uname = os.uname()
    extra = r["start"]["nic"] - r["start"]["plain"]
    lines = ["## Networks (issue 10)", "",
             f"Written by `Benchmarks/network.py` on {time.strftime('%Y-%m-%d')} ({uname.release}, "
             f"{os.cpu_count()} cores). Release builds; the daemon in a network namespace of its own.", "",
             "| measure | cella | baseline | ratio | goal |", "|---|---|---|---|---|",
             f"| `cella start`, busybox, one NIC / no NIC (median of {a.runs}, ms) | {r['start']['nic']:.1f} | "
             f"{r['start']['plain']:.1f} | +{extra:.1f} ms | ≤ +15 ms |",
             f"| TCP guest → guest across the bridge, iperf3 5 s (median of {a.iperf_rounds}, Gbit/s; baseline: "
             f"two namespaces, veths and a bridge made by hand) | {r['iperf']['cella']:.2f} | "
             f"{r['iperf']['bare']:.2f} | {r['iperf']['cella'] / r['iperf']['bare']:.2f} | ≥ 0.9 |",
             f"| {r['guests']} guests launched one after another on one network: mean launch of the last quarter "
             f"/ of the first (ms) | {r['launch_last']:.1f} | {r['launch_first']:.1f} | "
             f"{r['launch_last'] / r['launch_first']:.2f} | linear: ~1 |",
             "",
             f"All {r['guests']} launches took {r['launch_total']:.1f} s; {r['reached']} of {r['guests']} guests "
             f"pinged the gateway.", ""]
    write_section(a.out, BEGIN, END, lines)


if __name__ == "__main__":
    main()
