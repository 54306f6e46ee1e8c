import CellaSys
import Glibc
import XCTest

@testable import CellaVM

/// Boots the Debian kernel's extracted vmlinux with an initramfs from CpioWriter under TCG (no KVM needed).
final class KernelBootTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { try? FileIO.removeTree(dir) }

  func testTheExtractedVmlinuxBootsToInitThroughPVHOnMicrovm() throws {
    let qemu = "/usr/bin/qemu-system-x86_64"
    guard access(qemu, X_OK) == 0 else { throw XCTSkip("\(qemu) missing (install qemu-system-x86)") }
    let kernels = ((try? FileIO.listDirectory("/boot")) ?? []).filter {
      $0.hasPrefix("vmlinuz-") && $0.hasSuffix("-amd64")
    }
    guard let kernel = kernels.sorted().last else {
      throw XCTSkip("no /boot/vmlinuz-*-amd64 (install linux-image-amd64)")
    }
    guard let busybox = KernelTool.find("busybox") else {
      throw XCTSkip("no static busybox (install busybox-static)")
    }
    try KernelImage.extractVmlinux(from: "/boot/" + kernel, to: dir + "/vmlinux")
    var cpio = CpioWriter()
    try cpio.directory("bin")
    try cpio.directory("dev")
    try cpio.characterDevice("dev/console", major: 5, minor: 1)
    try cpio.file("bin/busybox", mode: 0o755, data: try FileIO.read(busybox, limit: 64 << 20))
    try cpio.file(
      "init", mode: 0o755,
      data: Array("#!/bin/busybox sh\n/bin/busybox echo CELLA-INIT-OK\n/bin/busybox poweroff -f\n".utf8))
    try FileIO.writeAtomically(path: dir + "/initrd", cpio.finish(), durable: false)
    // Without an HPET or ACPI PM timer on microvm the kernel's TSC calibration can fail under TCG (issue 11).
    let mhz =
      ((try? FileIO.readString("/proc/cpuinfo")) ?? "").split(separator: "\n")
      .first { $0.hasPrefix("cpu MHz") }.flatMap { Double($0.split(separator: ":").last!.trimmingCharacters(in: " ")) }
      ?? 2000
    let console = open(dir + "/console", O_WRONLY | O_CREAT, 0o600)
    defer { close(console) }
    let run = try KernelTool.run(
      qemu,
      [
        "-M", "microvm", "-accel", "tcg", "-m", "256", "-kernel", dir + "/vmlinux", "-initrd", dir + "/initrd",
        "-append", "console=ttyS0 quiet rtc=on tsc_early_khz=\(Int(mhz * 1000))", "-nodefaults", "-no-reboot",
        "-serial", "stdio", "-display", "none",
      ], stdout: console, timeout: 60)
    print("microvm/TCG boot of the extracted vmlinux to init and poweroff: \(run.seconds) s")
    XCTAssertFalse(run.timedOut, (try? FileIO.readString(dir + "/console")) ?? "")
    XCTAssertTrue(try FileIO.readString(dir + "/console").contains("CELLA-INIT-OK"), run.stderr)
  }
}
