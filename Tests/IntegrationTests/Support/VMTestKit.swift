import CellaSys
import CellaVM
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// What VM tests boot: the host's Debian kernel extracted to a vmlinux (PVH entry, the fast path) and a
/// busybox initramfs whose init does what `cella.mode=` on the kernel command line says:
/// `serve` (prints a tick a second), `poweroff`, `reboot`, `panic` (through the pvpanic device).
/// Every line it prints starts with `VMTEST`, so a test can wait for it on the console.
final class VMTestKit {
  let dir: String
  let vmlinux: String
  let initrd: String

  /// Makes both in a new directory of this run (removed by `remove()`); skips without QEMU, a kernel or busybox.
  init() throws {
    guard access("/usr/bin/qemu-system-x86_64", X_OK) == 0 else {
      throw SuiteConfiguration.skip("no qemu-system-x86_64 (apt-get install qemu-system-x86)")
    }
    let kernels = ((try? FileIO.listDirectory("/boot")) ?? []).filter { $0.hasPrefix("vmlinuz-") }.sorted()
    guard let kernel = kernels.last else { throw SuiteConfiguration.skip("no /boot/vmlinuz-* (linux-image-amd64)") }
    guard let busybox = Spawn.findTool("busybox") else { throw SuiteConfiguration.skip("no busybox") }
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    dir = String(cString: made)
    chmod(dir, 0o755)
    vmlinux = dir + "/vmlinux"
    initrd = dir + "/initrd.cpio"
    try KernelImage.extractVmlinux(from: "/boot/" + kernel, to: vmlinux)
    chmod(vmlinux, 0o644)
    let version = String(kernel.dropFirst("vmlinuz-".count))
    var cpio = CpioWriter()
    for d in ["bin", "dev", "proc", "sys", "lib"] { try cpio.directory(d) }
    try cpio.characterDevice("dev/console", major: 5, minor: 1)
    try cpio.file("bin/busybox", mode: 0o755, data: try FileIO.read(busybox, limit: 64 << 20))
    // pvpanic-mmio finds QEMU's pvpanic device, so a panic ends the run as guest-panic.
    let panic = "/lib/modules/\(version)/kernel/drivers/misc/pvpanic/"
    for module in ["pvpanic.ko", "pvpanic-mmio.ko"] where FileIO.exists(panic + module) {
      try cpio.file("lib/" + module, data: try FileIO.read(panic + module, limit: 16 << 20))
    }
    try cpio.file("init", mode: 0o755, data: Array(Self.initScript.utf8))
    try FileIO.writeAtomically(path: initrd, cpio.finish(), durable: false)
    chmod(initrd, 0o644)
  }

  static let initScript = """
    #!/bin/busybox sh
    b=/bin/busybox
    $b mount -t proc proc /proc
    for m in /lib/pvpanic.ko /lib/pvpanic-mmio.ko; do [ -f $m ] && $b insmod $m; done
    mode=$($b sed -n 's/.*cella.mode=\\([a-z]*\\).*/\\1/p' /proc/cmdline)
    echo "VMTEST up mode=$mode"
    case "$mode" in
    poweroff) $b poweroff -f ;;
    reboot) $b reboot -f ;;
    panic) echo c > /proc/sysrq-trigger ;;
    esac
    while true; do $b sleep 1; echo "VMTEST tick"; done
    """

  func remove() { try? FileIO.removeTree(dir) }
}

extension DaemonFixture {
  /// `cella logs NAME` contains `text` within `seconds` (a TCG boot takes a few seconds).
  func consoleShows(_ name: String, _ text: String, within seconds: Double = 40) -> Bool {
    eventually(seconds) { cli(["logs", name]).stdout.contains(text) }
  }

  /// The guest's `lastExit.reason`, once it stopped within `seconds`.
  func exitReason(_ name: String, within seconds: Double = 40) -> String? {
    _ = eventually(seconds) { info(name)["status"] as? String == "stopped" }
    return (info(name)["lastExit"] as? [String: Any])?["reason"] as? String
  }
}
