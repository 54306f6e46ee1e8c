import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// VM guests booted from a kernel under TCG: jailed QEMU, console, stop and kill, exit reasons, restarts
/// of the daemon, and the bad inputs of issue 11 (each one line, nothing left).
final class ManagerVMTests: ManagerTestCase {
  override var needsBusyboxImage: Bool { false }
  private var kit: VMTestKit!

  override func setUpWithError() throws {
    kit = try VMTestKit()
    try super.setUpWithError()
  }

  override func tearDown() {
    super.tearDown()
    kit?.remove()
  }

  private func createKernelVM(_ name: String, mode: String, _ extra: [String] = []) {
    f.ok(
      ["create", name, "--vm", "--kernel", kit.vmlinux, "--initrd", kit.initrd, "--cmdline", "cella.mode=\(mode)"]
        + extra)
  }

  private func status(_ pid: Int) -> [String: String] {
    var out: [String: String] = [:]
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      if parts.count == 2 { out[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    return out
  }

  func testAKernelVMRunsJailedWithItsConsoleAndStopsWithNothingLeft() throws {
    let g = f.name("vm")
    createKernelVM(g, mode: "serve", ["-c", "limits.memory=128MiB"])
    f.ok(["start", g])
    XCTAssertTrue(f.consoleShows(g, "VMTEST up mode=serve"), f.cli(["logs", g]).stdout)
    let info = f.info(g)
    XCTAssertEqual(info["kind"] as? String, "vm")
    XCTAssertNotNil(info["accelerator"] as? String, "info says which accelerator runs it")
    let pid = try XCTUnwrap(info["pid"] as? Int)
    XCTAssertTrue(
      ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix(
        "/usr/bin/qemu-system-x86_64"), "the listed pid is QEMU")
    XCTAssertEqual(f.list().first { $0["name"] as? String == g }?["kind"] as? String, "vm")

    // The jail, seen from the host.
    let st = status(pid)
    let uid = try XCTUnwrap(st["Uid"]?.split(separator: "\t").first.flatMap { Int($0) })
    XCTAssertNotEqual(uid, 0, "QEMU does not run as root")
    XCTAssertEqual(st["CapEff"], "0000000000000000")
    XCTAssertEqual(st["CapBnd"], "0000000000000000")
    XCTAssertEqual(st["NoNewPrivs"], "1")
    XCTAssertEqual(st["Seccomp"], "2")
    let root = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/root").sorted()
    XCTAssertEqual(root, ["bin", "boot", "dev", "lib", "lib64", "proc", "run", "sbin", "sys", "tmp", "usr"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(pid)/root/etc/shadow"), "no host /etc inside")
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/root/boot").sorted(), ["initrd", "kernel"])
    XCTAssertNotEqual(
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid"),
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid"), "its own pid namespace")
    XCTAssertNotEqual(
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net"),
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net"), "its own network namespace")
    let limit = try String(contentsOfFile: f.cgroupDir(g, "memory") + "/memory.limit_in_bytes", encoding: .utf8)
    let bytes = try XCTUnwrap(UInt64(limit.trimmingCharacters(in: .whitespacesAndNewlines)))
    XCTAssertGreaterThan(bytes, 128 << 20, "guest RAM plus QEMU's overhead")
    XCTAssertLessThanOrEqual(bytes, (128 << 20) + (192 << 20), "a bounded overhead")
    let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
    XCTAssertTrue(cgroups.contains(":memory:\(SuiteRun.cgroupParent)/\(g)"), cgroups)

    // The busybox init ignores the power button: stop presses it, waits, then quits QEMU.
    f.ok(["stop", g, "--timeout", "1"])
    XCTAssertEqual(f.info(g)["status"] as? String, "stopped")
    XCTAssertEqual((f.info(g)["lastExit"] as? [String: Any])?["reason"] as? String, "stopped")
    XCTAssertEqual(kill(pid_t(pid), 0), -1, "QEMU is gone after stop")
    XCTAssertFalse(FileManager.default.fileExists(atPath: f.cgroupDir(g, "memory")), "its cgroup is gone")
    f.ok(["delete", g])
  }

  func testHowAVMEndsIsRecorded() throws {
    let cases = [("poweroff", "guest-shutdown"), ("reboot", "guest-reset"), ("panic", "guest-panic")]
    for (mode, _) in cases {
      createKernelVM(f.name(mode), mode: mode)
      f.ok(["start", f.name(mode)])
    }
    for (mode, reason) in cases {
      XCTAssertEqual(
        f.exitReason(f.name(mode), within: 60), reason, mode + ": " + f.cli(["logs", f.name(mode)]).stdout)
    }
    let g = f.name("killed")
    createKernelVM(g, mode: "serve")
    f.ok(["start", g])
    XCTAssertTrue(f.consoleShows(g, "VMTEST up"))
    f.ok(["kill", g])
    XCTAssertEqual(f.exitReason(g), "killed")
  }

  func testAVMOutlivesTheDaemonAndTheNextOneStopsIt() throws {
    let g = f.name("adopt")
    createKernelVM(g, mode: "serve")
    f.ok(["start", g])
    XCTAssertTrue(f.consoleShows(g, "VMTEST up"))
    let pid = try XCTUnwrap(f.info(g)["pid"] as? Int)
    f.killDaemon()
    XCTAssertEqual(kill(pid_t(pid), 0), 0, "QEMU runs on without a daemon")
    try f.startDaemon()
    XCTAssertEqual(f.info(g)["status"] as? String, "running")
    XCTAssertEqual(f.info(g)["pid"] as? Int, pid)
    f.ok(["stop", g, "--timeout", "1"])
    XCTAssertEqual(kill(pid_t(pid), 0), -1)
  }

  func testAVMWhoseKernelFileWentAwayIsStillReadStoppedAndDeleted() throws {
    let g = f.name("gone")
    let kernel = f.tmp + "/vmlinux-copy"
    try FileManager.default.copyItem(atPath: kit.vmlinux, toPath: kernel)
    f.ok(["create", g, "--vm", "--kernel", kernel, "--initrd", kit.initrd, "--cmdline", "cella.mode=serve"])
    f.ok(["start", g])
    XCTAssertTrue(f.consoleShows(g, "VMTEST up"))
    try FileManager.default.removeItem(atPath: kernel)
    XCTAssertEqual(f.info(g)["status"] as? String, "running", "the guest is still readable")
    f.ok(["stop", g, "--timeout", "0"])
    let r = f.cli(["start", g])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertTrue(r.stderr.contains("vm.kernel: \"\(kernel)\": no such file or directory"), r.stderr)
    f.ok(["delete", g])
    XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateDir + "/guests/" + g))
  }

  func testBadVMInputIsOneLineAndLeavesNothing() throws {
    let g = f.name("bad")
    let text = f.tmp + "/notes.txt"
    try "not a disk\n".write(toFile: text, atomically: true, encoding: .utf8)
    let hostile = f.tmp + "/hostile.qcow2"
    let made = Spawner.run(
      "/usr/bin/qemu-img", ["create", "-q", "-f", "qcow2", "-u", "-F", "raw", "-b", "/etc/shadow", hostile, "1G"],
      outputDirectory: f.tmp, environment: f.environment)
    XCTAssertEqual(made.status, 0, "\(made)")
    var cases: [([String], String)] = [
      (["--vm", "--disk", text], "disk.0.source: \(text)"),
      (["--vm", "--disk", hostile], "/etc/shadow"),
      (["--vm", "--disk", f.tmp], "disk.0.source: \"\(f.tmp)\" is not a regular file"),
      (["--vm", "--kernel", "/nonexistent/vmlinuz"], "vm.kernel: \"/nonexistent/vmlinuz\": no such file or directory"),
      (["--vm", "--kernel", kit.vmlinux, "-c", "vm.machine=sparc"], "vm.machine: \"sparc\" is not microvm, q35, pc"),
      (["--vm", "--kernel", kit.vmlinux, "-c", "vm.accel=hvf"], "vm.accel: \"hvf\" is not auto, kvm, tcg"),
      (["--vm", "--kernel", kit.vmlinux, "-c", "limits.memory=64TiB"], "limits.memory: 64TiB is more than the host's"),
      (["--vm", "--initrd", kit.initrd, "--disk", text], "vm.initrd: needs vm.kernel (--kernel)"),
      (["--vm", "--disk", text, "-c", "vm.machine=microvm"], "vm.machine: microvm has no firmware to boot a disk"),
      (["--vm"], "a VM needs something to boot: --image IMAGE, --kernel PATH or --disk FILE"),
      (
        ["--vm", "--kernel", kit.vmlinux, "-c", "serial.1=host:/dev/cella-no-such-tty", "-c", "vm.machine=q35"],
        "serial.1: /dev/cella-no-such-tty"
      ),
      (
        ["--vm", "--kernel", kit.vmlinux, "-c", "disk.data.path=/mnt"],
        "disk.data.path: applies to container guests, not vm"
      ),
      (["--kernel", kit.vmlinux], "--kernel: only for VMs (add --vm)"),
      (["--vm", "--kernel", kit.vmlinux, "-c", "serial.1=console"], "serial.1: only serial.0 can be the console"),
      (["--vm", "--kernel", kit.vmlinux, "-c", "serial.2=none"], "serial.2: microvm has 1 serial port(s)"),
    ]
    if (try? String(contentsOfFile: "/sys/module/kvm_pvm/initstate", encoding: .utf8)) != nil
      || !FileManager.default.fileExists(atPath: "/dev/kvm")
    {
      cases.append(
        (["--vm", "--kernel", kit.vmlinux, "-c", "vm.accel=kvm"], "vm.accel=kvm: KVM is not usable on this host"))
    }
    for (args, expected) in cases {
      let r = f.cli(["create", g] + args)
      XCTAssertNotEqual(r.status, 0, "\(args)")
      XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateDir + "/guests/" + g), "\(args): nothing left")
    }
  }

  func testTwoVMsCannotShareAHostSerialPort() throws {
    let pty = try PtyPair()
    let a = f.name("sera")
    let b = f.name("serb")
    createKernelVM(a, mode: "serve", ["-c", "serial.1=host:\(pty.slavePath)", "-c", "vm.machine=q35"])
    createKernelVM(b, mode: "serve", ["-c", "serial.1=host:\(pty.slavePath)", "-c", "vm.machine=q35"])
    f.ok(["start", a])
    let r = f.cli(["start", b])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertTrue(r.stderr.contains("serial.1: \(pty.slavePath) is in use by another guest"), r.stderr)
    XCTAssertEqual(f.info(b)["status"] as? String, "stopped", "the failed start left nothing running")
    f.ok(["stop", a, "--timeout", "0"])
    f.ok(["start", b])
    f.ok(["stop", b, "--timeout", "0"])

    let c = f.name("serc")
    createKernelVM(c, mode: "serve", ["-c", "serial.1=host:/dev/null", "-c", "vm.machine=pc"])
    let notTTY = f.cli(["start", c])
    XCTAssertNotEqual(notTTY.status, 0)
    XCTAssertTrue(notTTY.stderr.contains("serial.1: /dev/null is not a terminal"), notTTY.stderr)
  }
}
