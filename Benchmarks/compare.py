#!/usr/bin/env python3
"""Runs cella-runtime, crun and runc side by side (interleaved) and writes Docs/benchmarks.md.

Usage (root): Benchmarks/compare.py [--runs N] [--out Docs/benchmarks.md]
All three runtimes run through the same wrapper (a private mount namespace without the cgroup2
mount, because crun refuses hybrid hosts), so the wrapper's cost falls on each alike.
"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAP = "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\""


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, **kw)


def build(work):
    sh("swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "cella-runtime", cwd=ROOT,
       stdout=subprocess.DEVNULL)
    cella = os.path.join(ROOT, ".build/release/cella-runtime")
    sh(os.path.join(ROOT, "RootFS/busybox.sh"), os.path.join(work, "rootfs"), stdout=subprocess.DEVNULL)
    return cella


def bundle(work, cella, name, args, memory=None, seccomp=True):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=work)
    sh(cella, "spec", "--bundle", tmp)
    c = json.load(open(os.path.join(tmp, "config.json")))
    shutil.rmtree(tmp)
    c["ociVersion"] = "1.0.2"  # crun rejects 1.3.0
    c["root"] = {"path": os.path.join(work, "rootfs"), "readonly": True}
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    if not seccomp:
        c["linux"].pop("seccomp", None)
    if memory is not None:
        c["linux"]["resources"] = {"memory": {"limit": memory, "swap": memory}}
    json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=1)
    return d


class Runtime:
    def __init__(self, name, path, root):
        self.name, self.path, self.root = name, path, root

    def cmd(self, *args):
        return ["unshare", "-m", "sh", "-c", WRAP, "sh", self.path, "--root", self.root, *args]

    def run(self, *args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        return subprocess.run(self.cmd(*args), check=check, stdout=stdout, stderr=stderr)


def timed(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


def interleave(runtimes, runs, body):
    """body(rt, i) -> ms; returns {name: [ms...]}, runtimes interleaved per iteration in a shuffled
    order: the kernel's cgroup attach lock stays cheap for a moment after anyone used it, so a fixed
    order would hand that discount to whoever always runs second."""
    out = {r.name: [] for r in runtimes}
    for i in range(runs):
        order = list(runtimes)
        random.shuffle(order)
        for r in order:
            out[r.name].append(body(r, i))
    return out


def min_memory(rt, work, cella):
    """Smallest memory.limit (bytes, 4 KiB steps) under which `run true` succeeds."""
    lo, hi = 4096, 64 << 20
    ok = lambda m: rt.run("run", "--bundle", bundle(work, cella, "mem", ["true"], memory=m), f"mem-{rt.name}-{m}",
                          check=False).returncode == 0
    if not ok(hi):
        return None
    while hi - lo > 4096:
        mid = (lo + hi) // 2 // 4096 * 4096
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def peak_rss_kb(rt, work, cella, i):
    """Max RSS of the create process (the runtime's image is the largest the wrapper process runs)."""
    b = bundle(work, cella, "rss", ["true"])
    cid = f"rss-{rt.name}-{i}"
    out = os.path.join(work, "rss.txt")
    # The container's init keeps create's stdio open until it is started: never read them through a pipe.
    subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M"] + rt.cmd("create", "--bundle", b, cid),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rt.run("delete", "--force", cid, check=False)
    return int(open(out).read().strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--out", default=os.path.join(ROOT, "Docs/benchmarks.md"))
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="cella-bench-")
    try:
        cella = build(work)
        runtimes = [Runtime("crun", shutil.which("crun"), f"{work}/state-crun"),
                    Runtime("runc", shutil.which("runc"), f"{work}/state-runc"),
                    Runtime("cella-runtime", cella, f"{work}/state-cella")]
        true_bundle = bundle(work, cella, "true", ["true"])
        sleep_bundle = bundle(work, cella, "sleep", ["sleep", "600"])
        results = {}
        results["a. run /bin/true"] = interleave(runtimes, a.runs, lambda r, i: timed(
            lambda: r.run("run", "--bundle", true_bundle, f"a-{i}")))
        plain_bundle = bundle(work, cella, "plain", ["true"], seccomp=False)
        results["a. run /bin/true, no seccomp filter"] = interleave(runtimes, a.runs, lambda r, i: timed(
            lambda: r.run("run", "--bundle", plain_bundle, f"ap-{i}")))

        def cycle(r, i):
            cid = f"b-{i}"
            def go():
                r.run("create", "--bundle", true_bundle, cid)
                r.run("start", cid)
                while json.loads(subprocess.run(r.cmd("state", cid), stdout=subprocess.PIPE).stdout or b"{}").get(
                        "status") not in ("stopped", None):
                    time.sleep(0.001)
                r.run("delete", cid)
            return timed(go)
        results["b. create, start, wait, delete"] = interleave(runtimes, a.runs, cycle)

        for r in runtimes:
            r.run("run", "--detach", "--bundle", sleep_bundle, "exec-target")
        results["c. exec /bin/true"] = interleave(runtimes, a.runs, lambda r, i: timed(
            lambda: r.run("exec", "exec-target", "/bin/true")))
        for r in runtimes:
            r.run("delete", "--force", "exec-target", check=False)

        def many(parallel):
            def body(r, i):
                def go():
                    ids = [f"d{parallel}-{i}-{n}" for n in range(100)]
                    for k in range(0, 100, parallel):
                        procs = [subprocess.Popen(r.cmd("run", "--bundle", true_bundle, cid),
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                                 for cid in ids[k:k + parallel]]
                        for pr in procs:
                            pr.wait()
                return timed(go)
            return body
        many_runs = 10
        results["d. 100 containers, 2 at a time"] = interleave(runtimes, many_runs, many(2))
        results["d. 100 containers, 10 at a time"] = interleave(runtimes, many_runs, many(10))

        print("timings done", flush=True)
        mem = {r.name: min_memory(r, work, cella) for r in runtimes}
        print("memory done", mem, flush=True)
        rss = interleave(runtimes, 5, lambda r, i: peak_rss_kb(r, work, cella, i))
        size = {r.name: os.path.getsize(os.path.realpath(r.path)) for r in runtimes}
        write_report(a.out, a.runs, results, mem, rss, size)
    finally:
        for state in ("state-crun", "state-runc", "state-cella"):
            d = os.path.join(work, state)
            if os.path.isdir(d):
                for cid in os.listdir(d):
                    for name, path in (("crun", shutil.which("crun")), ("runc", shutil.which("runc")),
                                       ("cella", os.path.join(ROOT, ".build/release/cella-runtime"))):
                        if state.endswith(name.split("-")[0]):
                            subprocess.run(["unshare", "-m", "sh", "-c", WRAP, "sh", path, "--root", d, "delete",
                                            "--force", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


def write_report(out, runs, results, mem, rss, size):
    names = ["cella-runtime", "crun", "runc"]
    lines = ["# Benchmarks", "",
             f"Written by `Benchmarks/compare.py` on {time.strftime('%Y-%m-%d')} ({os.uname().release}, "
             f"{os.cpu_count()} cores, hybrid cgroups). Each runtime runs through the same wrapper (a private mount "
             "namespace without the cgroup2 mount, which crun needs here); runs are interleaved. Times are medians "
             "in milliseconds; the ratio is to crun's median.", "",
             "| benchmark | runs | cella-runtime | crun | runc | cella / crun | runc / crun |",
             "|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        med = {k: statistics.median(v) for k, v in res.items()}
        lines.append(f"| {name} | {len(res['crun'])} | {med['cella-runtime']:.1f} | {med['crun']:.1f} | "
                     f"{med['runc']:.1f} | {med['cella-runtime'] / med['crun']:.2f} | {med['runc'] / med['crun']:.2f} |")
    fmt = lambda v: "fails" if v is None else (f"{v // 1024} KiB" if v < (1 << 20) else f"{v / (1 << 20):.1f} MiB")
    lines += ["", "| measure | cella-runtime | crun | runc |", "|---|---|---|---|",
              "| e. smallest memory.limit for `run true` | " + " | ".join(fmt(mem[n]) for n in names) + " |",
              "| f. peak RSS of `create` (KiB, median of 5) | "
              + " | ".join(str(statistics.median(rss[n])) for n in names) + " |",
              "| f. binary size | " + " | ".join(f"{size[n] / (1 << 20):.1f} MiB" for n in names) + " |", ""]
    existing = open(out).read() if os.path.exists(out) else ""
    marker = "<!-- compare.py -->"
    keep = existing.split(marker)[1] if marker in existing else ""
    open(out, "w").write("\n".join(lines) + "\n" + marker + keep)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
