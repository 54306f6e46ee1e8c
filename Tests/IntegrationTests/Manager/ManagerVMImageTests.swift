import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// VMs booted from the busybox image a container uses (the isolation dial): the image's disk under a
/// per-guest overlay, cella's initramfs and agent, exec into them, a graceful stop, files kept across runs.
final class ManagerVMImageTests: ManagerTestCase {
  private var kits: [VMTestKit] = []

  override func tearDown() {
    super.tearDown()
    kits.forEach { $0.remove() }
  }

  override func setUpWithError() throws {
    guard access("/usr/bin/qemu-system-x86_64", X_OK) == 0, access("/usr/bin/qemu-img", X_OK) == 0 else {
      throw SuiteConfiguration.skip("no qemu-system-x86_64/qemu-img (apt-get install qemu-system-x86 qemu-utils)")
    }
    guard
      ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []).contains(where: {
        $0.hasPrefix("vmlinuz-")
      })
    else { throw SuiteConfiguration.skip("no /boot/vmlinuz-* (apt-get install linux-image-amd64)") }
    try super.setUpWithError()
  }

  func testAVMFromTheBusyboxImageRunsItsCommandAnswersExecAndKeepsItsFiles() throws {
    let g = f.name("img")
    f.ok(["launch", g, "--vm", "--image", "busybox", "--", "sh", "-c", "echo VMIMAGE up $(uname -r); sleep 1000"])
    XCTAssertTrue(f.consoleShows(g, "VMIMAGE up"), f.cli(["logs", g]).stdout)
    XCTAssertFalse(f.cli(["logs", g]).stdout.contains("cella-agent:"), "the agent reported no problem")

    // exec with pipes: its own kernel, stdin, exit code; and with a terminal.
    let uname = f.ok(["exec", g, "--", "uname", "-r"])
    let hostKernel = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
    XCTAssertNotEqual(
      uname.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
      hostKernel.trimmingCharacters(in: .whitespacesAndNewlines), "the guest runs its own kernel")
    let code = Spawner.run(
      "/bin/sh", ["-c", "printf 'kept across runs\\n' | \(f.cella) exec \(g) -- sh -c 'cat >/root-file; exit 7'"],
      outputDirectory: f.tmp, environment: f.environment)
    XCTAssertEqual(code.status, 7, "\(code)")
    XCTAssertEqual(f.ok(["exec", g, "--", "hostname"]).stdout, g + "\n")
    let tty = f.ok(["exec", "-t", g, "--", "sh", "-c", "tty"])
    XCTAssertTrue(tty.stdout.contains("/dev/pts/"), "\(tty)")

    // The overlay is the guest's; the image's disk is its read-only backing file.
    let overlay = f.stateDir + "/guests/\(g)/vm/root.qcow2"
    let info = Spawner.run(
      "/usr/bin/qemu-img", ["info", "--output=json", "-U", overlay], outputDirectory: f.tmp, environment: f.environment)
    XCTAssertTrue(info.stdout.contains(f.stateDir + "/images/busybox/vm-root.ext4"), info.stdout)

    // The power button ends the guest's command: the stop is graceful, well within the timeout.
    let started = Date()
    f.ok(["stop", g, "--timeout", "30"])
    XCTAssertLessThan(Date().timeIntervalSince(started), 20, "stopped by the power button, not the timeout")
    XCTAssertEqual((f.info(g)["lastExit"] as? [String: Any])?["reason"] as? String, "stopped")

    f.ok(["start", g])
    XCTAssertTrue(f.eventually(60) { f.cli(["exec", g, "--", "cat", "/root-file"]).stdout == "kept across runs\n" })
    f.ok(["delete", "--force", g])
    XCTAssertFalse(FileManager.default.fileExists(atPath: overlay), "the overlay goes with the guest")
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: f.stateDir + "/images/busybox/vm-root.ext4"), "the image's disk stays")
  }

  func testExecIntoAVMWithoutTheAgentSaysSoInOneLine() throws {
    let kit = try VMTestKit()
    // Removed after the fixture's teardown deleted the guests that boot from it.
    kits.append(kit)
    let g = f.name("noagent")
    f.ok(["launch", g, "--vm", "--kernel", kit.vmlinux, "--initrd", kit.initrd, "--cmdline", "cella.mode=serve"])
    XCTAssertTrue(f.consoleShows(g, "VMTEST up"))
    let r = f.cli(["exec", g, "--", "true"])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertTrue(r.stderr.contains("no cella agent answers"), r.stderr)
    XCTAssertTrue(r.stderr.contains("cella console"), r.stderr)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    f.ok(["delete", "--force", g])
    XCTAssertTrue(f.processesUnder(f.tmp).isEmpty, "the VM's keeper and QEMU are gone")
  }
}
