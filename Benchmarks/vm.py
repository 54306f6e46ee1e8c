#!/usr/bin/env python3
"""Cella VM guests against bare QEMU started by hand, side by side in one run; writes its section of
Docs/benchmarks.md.

Usage (root; qemu-system-x86, linux-image-amd64 and busybox-static installed):
    Benchmarks/vm.py [--runs N] [--out FILE]

Both boot the same thing: the host's Debian kernel, extracted to its uncompressed vmlinux (booted through
its PVH entry), and a busybox initramfs whose init prints a marker line on the serial console and sleeps.

- boot: `cella start` of a direct-kernel VM guest until the marker appears in its console log, against
  the bare QEMU command line (same kernel, initramfs, machine, accelerator, memory) until the marker
  appears on its stdout; rounds interleaved; microvm (the goal: at most 1.05x) and q35, under TCG, and
  under KVM when the host's KVM is usable (the probe's verdict is printed either way);
- memory: QEMU's resident memory one second after the marker, jailed (cella) against bare (the goal: at
  most bare + 1 MiB), and the keeper's (the daemon's per-VM process, as for a container).
"""
from benchcommon import CellaDaemon, build_release, med, quiet, sh, write_section
import argparse, json, lzma, zlib, os, random, shutil, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build/release")
BEGIN, END = "<!-- vm.py -->", "<!-- /vm.py -->"
QEMU = "/usr/bin/qemu-system-x86_64"
MARKER = b"VMBENCH-UP"
MEMORY = 256


def vmlinux(bzimage, out):
    """The uncompressed kernel inside a bzImage (its header says where the payload is)."""
    data = open(bzimage, "rb").read()
    setup = (data[0x1f1] or 4) + 1
    offset = int.from_bytes(data[0x248:0x24c], "little")
    length = int.from_bytes(data[0x24c:0x250], "little")
    payload = data[setup * 512 + offset:setup * 512 + offset + length]
    if payload.startswith(b"\xfd7zXZ"):
        # The kernel appends the uncompressed size after the stream: a decompressor stops at the stream's end.
        raw = lzma.LZMADecompressor().decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
    else:
        raw = subprocess.run(["zstd", "-dc"], input=payload, stdout=subprocess.PIPE, check=True).stdout
    open(out, "wb").write(raw)


def cpio(entries, out):
    """A newc archive of (name, mode, data) entries."""
    blob = bytearray()

    def put(name, mode, data, ino):
        n = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0]
        blob.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + n)
        blob.extend(b"\0" * (-len(blob) % 4))
        blob.extend(data)
        blob.extend(b"\0" * (-len(blob) % 4))

    for i, (name, mode, data) in enumerate(entries):
        put(name, mode, data, i + 1)
    put("TRAILER!!!", 0, b"", 0)
    open(out, "wb").write(bytes(blob))


def initramfs(out):
    busybox = shutil.which("busybox") or "/bin/busybox"
    init = ("#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\necho %s\n"
            "while true; do /bin/busybox sleep 1000; done\n" % MARKER.decode()).encode()
    cpio([("bin", 0o40755, b""), ("dev", 0o40755, b""), ("proc", 0o40755, b""),
          ("bin/busybox", 0o100755, open(busybox, "rb").read()), ("init", 0o100755, init)], out)


def tsc_khz():
    for line in open("/proc/cpuinfo"):
        if line.startswith("cpu MHz"):
            return int(float(line.split(":")[1]) * 1000)
    return 2000000


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bare_argv(machine, accel, kernel, initrd):
    m = f"{machine},accel={accel}" + (",rtc=on" if machine == "microvm" else "")
    append = "console=ttyS0" + (f" tsc_early_khz={tsc_khz()}" if machine == "microvm" and accel == "tcg" else "")
    return [QEMU, "-machine", m, "-smp", "1", "-m", f"{MEMORY}M", "-nodefaults", "-no-user-config", "-display",
            "none", "-no-reboot", "-rtc", "base=utc", "-kernel", kernel, "-initrd", initrd, "-append", append,
            "-serial", "stdio"]


def bare_boot(argv):
    """Milliseconds until the marker on QEMU's stdout, and QEMU's RSS (KiB) a second later."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        while MARKER not in seen:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                raise SystemExit("bare QEMU ended before its marker: " + seen[-400:].decode(errors="replace"))
            seen = (seen + chunk)[-4096:]
        ms = (time.perf_counter() - t) * 1000
        time.sleep(1)
        return ms, rss_kib(p.pid)
    finally:
        p.kill()
        p.wait()


class Cella(CellaDaemon):
    def __init__(self, work):
        super().__init__(work, BIN, cgroup_parent="/cella-bench-vm")

    def boot(self, name):
        """Milliseconds from `cella start` until the marker is in the console log; QEMU's and its keeper's RSS."""
        log = os.path.join(self.state, "guests", name, "console.log")
        # The log keeps earlier runs: only what this run appends counts.
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        t = time.perf_counter()
        self.cli("start", name)
        while True:
            try:
                with open(log, "rb") as f:
                    if os.fstat(f.fileno()).st_size < offset:
                        offset = 0
                    f.seek(offset)
                    if MARKER in f.read():
                        break
            except FileNotFoundError:
                pass
            if time.perf_counter() - t > 120:
                raise SystemExit(f"{name}: no marker within 120 s")
            time.sleep(0.002)
        ms = (time.perf_counter() - t) * 1000
        time.sleep(1)
        info = json.loads(self.cli("info", name, "--format", "json").stdout)
        keeper = int(open(os.path.join(self.state, "guests", name, "state.json")).read().split('"keeperPID"')[1]
                     .split(":")[1].split(",")[0])
        sizes = rss_kib(info["pid"]), rss_kib(keeper)
        self.cli("kill", name)
        for _ in range(2000):
            if json.loads(self.cli("info", name, "--format", "json").stdout)["status"] == "stopped":
                break
            time.sleep(0.005)
        return ms, sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(ROOT, "Docs/benchmarks.md"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root")
    kernels = sorted(k for k in os.listdir("/boot") if k.startswith("vmlinuz-"))
    if not kernels or not os.access(QEMU, os.X_OK):
        raise SystemExit("needs qemu-system-x86 and linux-image-amd64")
    build_release(ROOT)
    work = tempfile.mkdtemp(prefix="cella-bench-vm-")
    os.chmod(work, 0o755)
    cella = Cella(work)
    try:
        kernel, initrd = os.path.join(work, "vmlinux"), os.path.join(work, "initrd.cpio")
        vmlinux("/boot/" + kernels[-1], kernel)
        initramfs(initrd)
        for f in (kernel, initrd):
            os.chmod(f, 0o644)
        cella.start_daemon()
        accels = ["tcg"]
        machines = ["microvm", "q35"]
        names = {}
        kvm_note = ""
        for accel in ["tcg", "kvm"]:
            for machine in machines:
                name = f"bench-{machine}-{accel}"
                r = cella.cli("create", name, "--vm", "--kernel", kernel, "--initrd", initrd, "-c",
                              f"vm.machine={machine}", "-c", f"vm.accel={accel}", "-c", f"limits.memory={MEMORY}MiB",
                              check=False)
                if r.returncode != 0:
                    kvm_note = r.stderr.strip()
                    break
                names[(machine, accel)] = name
            else:
                if accel == "kvm":
                    accels.append("kvm")
                    kvm_note = "KVM usable"
        results = {key: {"cella": [], "bare": [], "rss": [], "bare_rss": [], "keeper": []} for key in names}
        for _ in range(args.runs):
            order = [(key, who) for key in names for who in ("cella", "bare")]
            random.shuffle(order)
            for (machine, accel), who in order:
                res = results[(machine, accel)]
                if who == "cella":
                    ms, (rss, keeper) = cella.boot(names[(machine, accel)])
                    res["cella"].append(ms)
                    res["rss"].append(rss)
                    res["keeper"].append(keeper)
                else:
                    ms, rss = bare_boot(bare_argv(machine, accel, kernel, initrd))
                    res["bare"].append(ms)
                    res["bare_rss"].append(rss)
        qemu_version = sh(QEMU, "--version", stdout=subprocess.PIPE, text=True).stdout.splitlines()[0]
        lines = [
            f"VM guests against bare QEMU (`Benchmarks/vm.py`, {args.runs} interleaved rounds, median; "
            f"{qemu_version}, kernel {kernels[-1]} booted as vmlinux through PVH, {MEMORY} MiB):",
            "",
            "| machine | accel | bare QEMU to marker | `cella start` to marker | ratio | QEMU RSS bare | jailed | "
            "keeper RSS |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for (machine, accel), res in results.items():
            b, c = med(res["bare"]), med(res["cella"])
            lines.append(f"| {machine} | {accel} | {b:.0f} ms | {c:.0f} ms | {c / b:.3f}x | "
                         f"{med(res['bare_rss']) / 1024:.1f} MiB | {med(res['rss']) / 1024:.1f} MiB | "
                         f"{med(res['keeper']) / 1024:.2f} MiB |")
        lines += ["", f"KVM: {kvm_note}" if "kvm" not in accels else "KVM: usable, measured above."]
        write_section(args.out, BEGIN, END, lines)
    finally:
        if cella.daemon:
            for g in json.loads(cella.cli("list", "--format", "json", check=False).stdout or "[]"):
                cella.cli("delete", "--force", g["name"], check=False)
            cella.daemon.terminate()
            cella.daemon.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
