import CellaSys
import Glibc
import XCTest

@testable import CellaVM

/// Boots the host's kernel under TCG on microvm with VMInitramfs's archive and a qcow2 overlay on a
/// RootDisk: the modules it lists load in its order and the ext4 root mounts and takes writes that stay
/// in the overlay. The agent (part B of issue 11) is stood in for by busybox: its `init` applet runs a
/// script appended as a third archive.
final class RootDiskBootTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { try? FileIO.removeTree(dir) }

  func testTheListedModulesLoadAndTheRootDiskMountsThroughItsOverlay() throws {
    let qemu = "/usr/bin/qemu-system-x86_64"
    guard access(qemu, X_OK) == 0 else { throw XCTSkip("\(qemu) missing (install qemu-system-x86)") }
    guard access("/bin/busybox", X_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    guard KernelTool.find("qemu-img") != nil, KernelTool.find("mkfs.ext4") != nil else {
      throw XCTSkip("qemu-img or mkfs.ext4 missing (install qemu-utils e2fsprogs)")
    }
    let kernels = ((try? FileIO.listDirectory("/boot")) ?? []).filter {
      $0.hasPrefix("vmlinuz-") && $0.hasSuffix("-amd64")
    }
    guard let kernel = kernels.sorted().last else {
      throw XCTSkip("no /boot/vmlinuz-*-amd64 (install linux-image-amd64)")
    }
    let version = String(kernel.dropFirst("vmlinuz-".count))
    guard FileIO.isDirectory("/lib/modules/" + version) else { throw XCTSkip("no /lib/modules/\(version)") }

    var started = KernelTool.monotonicSeconds()
    try KernelImage.extractVmlinux(from: "/boot/" + kernel, to: dir + "/vmlinux")
    print("vmlinux extraction: \(KernelTool.monotonicSeconds() - started) s")

    let tree = dir + "/tree"
    let made = try KernelTool.run("/bin/sh", [URLlessPath.repoRoot + "/RootFS/busybox.sh", tree], timeout: 60)
    XCTAssertEqual(made.exitCode, 0, made.stderr)
    try FileIO.writeAtomically(path: tree + "/etc/cella-marker", Array("ROOT-DISK-OK\n".utf8), durable: false)
    started = KernelTool.monotonicSeconds()
    try RootDisk.build(rootfs: tree, output: dir + "/root.ext4")
    print("RootDisk of the busybox tree: \(KernelTool.monotonicSeconds() - started) s")
    try QEMUImg.createOverlay(base: dir + "/root.ext4", baseFormat: .raw, output: dir + "/root.qcow2")

    started = KernelTool.monotonicSeconds()
    let set = try VMInitramfs.base(agent: "/bin/busybox", kernelVersion: version, output: dir + "/base.cpio")
    print("VMInitramfs.base: \(KernelTool.monotonicSeconds() - started) s, \(set.paths.count) modules")
    try VMInitramfs.guest(
      base: dir + "/base.cpio", config: Array("{\"hostname\":\"vm1\"}".utf8), output: dir + "/guest.cpio")

    // The stand-in: busybox runs as /init (its init applet), reads this inittab and runs the script.
    // virtio_mmio's device= words are on the kernel command line, which insmod does not read (kmod would).
    let script = """
      export PATH=/bin
      mount -t devtmpfs dev /dev
      mount -t proc proc /proc
      mmio=""
      for w in $(cat /proc/cmdline); do case $w in virtio_mmio.*) mmio="$mmio ${w#virtio_mmio.}";; esac; done
      for m in $(cat /cella/modules); do
        args=""
        case $m in */virtio_mmio.ko) args=$mmio;; esac
        insmod /lib/modules/\(version)/$m $args || echo "MODULE-FAILED $m"
      done
      mount -t ext4 /dev/vda /newroot && cat /newroot/etc/cella-marker
      echo written > /newroot/root/written
      cat /cella/guest.json; echo
      umount /newroot
      poweroff -f

      """
    var stand = CpioWriter()
    try stand.directory("etc")
    try stand.directory("bin")
    for applet in ["sh", "mount", "umount", "cat", "insmod", "poweroff"] {
      try stand.symlink("bin/" + applet, target: "/init")
    }
    try stand.file("etc/inittab", data: Array("::sysinit:/bin/sh /stand-in\n".utf8))
    try stand.file("stand-in", mode: 0o755, data: Array(script.utf8))
    let initrd = try FileIO.read(dir + "/guest.cpio", limit: 256 << 20) + stand.finish()
    try FileIO.writeAtomically(path: dir + "/initrd", initrd, durable: false)
    var st = stat()
    XCTAssertEqual(stat(dir + "/base.cpio", &st), 0)
    print(
      "base initramfs: \(st.st_size >> 10) KiB (busybox as the agent: \(try FileIO.read("/bin/busybox", limit: 64 << 20).count >> 10) KiB)"
    )

    let console = open(dir + "/console", O_WRONLY | O_CREAT, 0o600)
    defer { close(console) }
    let khz = (try? HostTSC.kHz()) ?? 2_000_000
    let run = try KernelTool.run(
      qemu,
      [
        "-M", "microvm", "-accel", "tcg", "-m", "256", "-kernel", dir + "/vmlinux", "-initrd", dir + "/initrd",
        "-append", "console=ttyS0 quiet rtc=on tsc_early_khz=\(khz)", "-nodefaults", "-no-reboot",
        "-serial", "stdio", "-display", "none",
        "-drive", "file=\(dir)/root.qcow2,format=qcow2,if=none,id=root",
        "-device", "virtio-blk-device,drive=root",
      ], stdout: console, timeout: 90)
    let text = (try? FileIO.readString(dir + "/console")) ?? ""
    print("microvm/TCG boot, module loads, root mount and poweroff: \(run.seconds) s")
    XCTAssertFalse(run.timedOut, text)
    XCTAssertFalse(text.contains("MODULE-FAILED"), text)
    XCTAssertTrue(text.contains("ROOT-DISK-OK"), text)
    XCTAssertTrue(text.contains("{\"hostname\":\"vm1\"}"), text)
    // The guest's write went to its overlay; the shared base is untouched.
    let out = open(dir + "/ls", O_WRONLY | O_CREAT, 0o600)
    _ = try KernelTool.run(
      KernelTool.find("debugfs")!, ["-R", "ls /root", dir + "/root.ext4"], stdout: out, timeout: 30)
    close(out)
    XCTAssertFalse(try FileIO.readString(dir + "/ls").contains("written"))
  }
}
