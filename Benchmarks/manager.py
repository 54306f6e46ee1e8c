#!/usr/bin/env python3
"""The manager against LXC, side by side in one run; writes its section of Docs/benchmarks.md.

Usage (root; Debian's lxc installed): Benchmarks/manager.py [--runs N] [--guests N] [--out Docs/benchmarks.md]

- start: `cella start G` (returns once the guest runs) against `lxc-start -d` + `lxc-wait -s RUNNING`,
  both on busybox, no network, interleaved in a shuffled order per round;
- exec: `cella exec G -- true` against `lxc-attach -n X -- true`;
- memory: N busybox guests running; the PSS of everything cella keeps for them (daemon + keepers)
  divided by N, and the PSS of LXC's `[lxc monitor]` processes divided by their number (LXC is run with
  fewer containers: its figure is per container either way);
- `cella list --format json` with N guests, and a daemon restart (SIGKILL, start) until every guest is
  re-adopted and the API answers.
"""
from benchcommon import CellaDaemon, build_release, med, quiet, sh, timed, write_section
import argparse, json, os, random, re, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release")
BEGIN, END = "<!-- manager.py -->", "<!-- /manager.py -->"








def pss(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return ""


class Cella(CellaDaemon):
    def __init__(self, work):
        super().__init__(work, BIN)

    def keepers(self):
        out = []
        for p in os.listdir("/proc"):
            if p.isdigit() and comm(p) == "cella-keeper":
                try:
                    if os.readlink(f"/proc/{p}/cwd").startswith(self.work):
                        out.append(int(p))
                except OSError:
                    pass
        return out


class Lxc:
    def __init__(self, work):
        self.path = os.path.join(work, "lxc")
        os.makedirs(self.path)

    def create(self, name):
        quiet("lxc-create", "-P", self.path, "-n", name, "-t", "busybox")
        cfg = os.path.join(self.path, name, "config")
        text = open(cfg).read()
        text = re.sub(r"(?m)^lxc\.net\..*\n", "", text) + "lxc.net.0.type = empty\n"
        open(cfg, "w").write(text)

    def start(self, name):
        quiet("lxc-start", "-P", self.path, "-n", name, "-d")
        quiet("lxc-wait", "-P", self.path, "-n", name, "-s", "RUNNING")

    def stop(self, name):
        quiet("lxc-stop", "-P", self.path, "-n", name, "-k", check=False)

    def attach(self, name):
        quiet("lxc-attach", "-P", self.path, "-n", name, "--", "true")

    def destroy(self, name):
        self.stop(name)
        quiet("lxc-destroy", "-P", self.path, "-n", name, "-f", check=False)

    def monitors(self):
        out = []
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    cmd = open(f"/proc/{p}/cmdline", "rb").read()
                except OSError:
                    continue
                if cmd.startswith(b"[lxc monitor]") and self.path.encode() in cmd:
                    out.append(int(p))
        return out




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--guests", type=int, default=200)
    ap.add_argument("--lxc-guests", type=int, default=20)
    ap.add_argument("--out", default=os.path.join(ROOT, "Docs/benchmarks.md"))
    a = ap.parse_args()
    if shutil.which("lxc-start") is None:
        raise SystemExit("install lxc (apt-get install lxc)")
    build_release(ROOT)
    work = tempfile.mkdtemp(prefix="cella-bench-")
    cella, lxc = Cella(work), Lxc(work)
    res = {}
    try:
        cella.start_daemon()
        cella.cli("image", "build", "busybox", "busybox")
        cella.cli("create", "bench", "--image", "busybox")
        lxc.create("bench")
        starts, execs = {"cella": [], "lxc": []}, {"cella": [], "lxc": []}
        for i in range(a.runs):
            order = ["cella", "lxc"]
            random.shuffle(order)
            for who in order:
                if who == "cella":
                    starts["cella"].append(timed(lambda: cella.cli("start", "bench")))
                    for _ in range(3):
                        execs["cella"].append(timed(lambda: cella.cli("exec", "bench", "--", "true")))
                    cella.cli("stop", "--force", "bench")
                else:
                    starts["lxc"].append(timed(lambda: lxc.start("bench")))
                    for _ in range(3):
                        execs["lxc"].append(timed(lambda: lxc.attach("bench")))
                    lxc.stop("bench")
        res["start"] = {k: med(v) for k, v in starts.items()}
        res["exec"] = {k: med(v) for k, v in execs.items()}

        names = [f"m{i}" for i in range(a.guests)]
        for n in names:
            cella.cli("launch", n, "--image", "busybox")
        time.sleep(2)
        keepers = cella.keepers()
        res["cella_daemon_pss_busy"] = pss(cella.daemon.pid)
        res["cella_pss_per_guest_busy"] = (res["cella_daemon_pss_busy"] + sum(pss(k) for k in keepers)) / len(names)
        # Idle: the daemon hands back the code its last requests ran once a minute.
        time.sleep(65)
        total = pss(cella.daemon.pid) + sum(pss(k) for k in keepers)
        res["cella_pss_per_guest"] = total / len(names)
        res["cella_daemon_pss"] = pss(cella.daemon.pid)
        res["cella_keeper_pss"] = sum(pss(k) for k in keepers) / max(1, len(keepers))
        res["keepers"] = len(keepers)
        lists = [timed(lambda: cella.cli("list", "--format", "json")) for _ in range(a.runs)]
        res["list"] = med(lists)
        readopt = []
        for _ in range(3):
            cella.kill_daemon()
            readopt.append(cella.start_daemon())
        res["readopt"] = med(readopt)
        running = sum(1 for g in json.loads(cella.cli("list", "--format", "json").stdout) if g["status"] == "running")
        res["running_after_restart"] = running

        lnames = [f"l{i}" for i in range(a.lxc_guests)]
        for n in lnames:
            lxc.create(n)
            lxc.start(n)
        time.sleep(2)
        mons = lxc.monitors()
        res["lxc_pss_per_guest"] = sum(pss(m) for m in mons) / max(1, len(mons))
        res["lxc_monitors"] = len(mons)
        for n in lnames:
            lxc.destroy(n)
        for n in names:
            cella.cli("delete", "--force", n, check=False)
    finally:
        for n in ["bench"]:
            lxc.destroy(n)
        if cella.daemon and cella.daemon.poll() is None:
            for g in json.loads(cella.cli("list", "--format", "json", check=False).stdout or "[]"):
                cella.cli("delete", "--force", g["name"], check=False)
            cella.kill_daemon(signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)
    write(a, res)


def write(a, r):
    uname = os.uname()
    lines = ["## The manager against LXC (issue 9)", "",
             f"Written by `Benchmarks/manager.py` on {time.strftime('%Y-%m-%d')} ({uname.release}, "
             f"{os.cpu_count()} cores). Release builds, busybox guests without network, cella and LXC interleaved "
             f"in a shuffled order, {a.runs} rounds; medians in milliseconds.", "",
             "| measure | cella | LXC 5.0 | ratio |", "|---|---|---|---|",
             f"| start until running (`cella start` / `lxc-start -d` + `lxc-wait`) | {r['start']['cella']:.1f} | "
             f"{r['start']['lxc']:.1f} | {r['start']['cella'] / r['start']['lxc']:.2f} |",
             f"| exec `true` (`cella exec` / `lxc-attach`) | {r['exec']['cella']:.1f} | {r['exec']['lxc']:.1f} | "
             f"{r['exec']['cella'] / r['exec']['lxc']:.2f} |",
             f"| host memory per idle guest, PSS (daemon + keepers / {a.guests}, a minute after the last request; "
             f"LXC: its monitor, {r['lxc_monitors']} running) | {r['cella_pss_per_guest']:.0f} KiB | "
             f"{r['lxc_pss_per_guest']:.0f} KiB | {r['cella_pss_per_guest'] / max(1, r['lxc_pss_per_guest']):.2f} |",
             f"| the same 2 s after the last of the {a.guests} launches | {r['cella_pss_per_guest_busy']:.0f} KiB | | |",
             "",
             f"With {a.guests} guests running: the daemon's PSS {r['cella_daemon_pss'] / 1024:.1f} MiB idle "
             f"({r['cella_daemon_pss_busy'] / 1024:.1f} MiB right after the launches), a keeper's "
             f"{r['cella_keeper_pss']:.0f} KiB ({r['keepers']} keepers); `cella list --format json` {r['list']:.1f} ms; "
             f"a daemon killed with SIGKILL and started again answers with every guest re-adopted in "
             f"{r['readopt']:.0f} ms ({r['running_after_restart']} running after the restarts).", ""]
    write_section(a.out, BEGIN, END, lines)


if __name__ == "__main__":
    main()
