import CellaSys
import CellaVM
import Glibc
import XCTest

@testable import CellaHost

/// VMArtifacts on a sandboxed store with the real tools: each artifact is built once, reused, and rebuilt
/// when its input changes.
final class VMArtifactsTests: XCTestCase {
  private var box: ImageSandbox!

  override func setUp() { box = ImageSandbox() }
  override func tearDown() { box.cleanup() }

  private func inode(_ path: String) -> ino_t? {
    var st = stat()
    return stat(path, &st) == 0 ? st.st_ino : nil
  }

  private func hostKernel() throws -> String {
    let names = (try? FileIO.listDirectory("/boot")) ?? []
    guard let name = names.filter({ $0.hasPrefix("vmlinuz-") }).sorted().last else {
      throw XCTSkip("no /boot/vmlinuz-* (install linux-image-amd64)")
    }
    return "/boot/" + name
  }

  func testTheNewestKernelIsTheDefaultByVersionNotByText() throws {
    var artifacts = VMArtifacts(layout: box.layout)
    artifacts.bootDirectory = box.dir + "/boot"
    mkdir(artifacts.bootDirectory, 0o755)
    do {
      _ = try artifacts.defaultKernel()
      XCTFail("found a kernel in an empty directory")
    } catch {
      XCTAssertEqual(
        error.message,
        "no kernel in \(box.dir)/boot (vmlinuz-*): install linux-image-amd64 to boot VMs from images")
    }
    for v in ["6.1.0-9-amd64", "6.1.0-57-amd64", "5.10.0-30-amd64"] {
      _ = box.write("boot/vmlinuz-" + v, [])
    }
    _ = box.write("boot/config-6.1.0-99-amd64", [])
    XCTAssertEqual(try artifacts.defaultKernel(), box.dir + "/boot/vmlinuz-6.1.0-57-amd64")
  }

  func testTheKernelIsExtractedOnceAndAgainWhenItChanges() throws {
    let host = try hostKernel()
    var artifacts = VMArtifacts(layout: box.layout)
    artifacts.bootDirectory = box.dir + "/boot"
    mkdir(artifacts.bootDirectory, 0o755)
    let version = String(host.split(separator: "/").last!.dropFirst("vmlinuz-".count))
    let copy = artifacts.bootDirectory + "/vmlinuz-" + version
    _ = box.write("boot/vmlinuz-" + version, try FileIO.read(host, limit: 256 << 20))
    let first = try artifacts.vmlinux()
    XCTAssertEqual(first.vmlinux, box.layout.vmCache + "/kernel-\(version)/vmlinux")
    XCTAssertEqual(first.version, version)
    XCTAssertEqual(first.modulesDir, "/lib/modules/" + version)
    let made = inode(first.vmlinux)
    XCTAssertNotNil(made)
    XCTAssertEqual(try artifacts.vmlinux(kernel: copy), first)
    XCTAssertEqual(inode(first.vmlinux), made, "an unchanged kernel is not extracted again")
    // A new package build of the same version: same name, new mtime.
    var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
    XCTAssertEqual(utimensat(AT_FDCWD, copy, &times, 0), 0)
    _ = try artifacts.vmlinux(kernel: copy)
    XCTAssertNotEqual(inode(first.vmlinux), made, "a changed kernel is extracted again")
    XCTAssertEqual(
      try FileIO.listDirectory(box.layout.vmCache + "/kernel-" + version).sorted(), ["vmlinux", "vmlinux.stamp"])
  }

  func testAKernelNotNamedByVersionIsRefused() {
    do {
      _ = try VMArtifacts(layout: box.layout).vmlinux(kernel: "/etc/passwd")
      XCTFail("accepted /etc/passwd")
    } catch {
      XCTAssertEqual(error.message, "kernel /etc/passwd: name it vmlinuz-<version> (its modules are found by it)")
    }
  }

  func testTheRootDiskIsBuiltOnceAndAgainWhenTheImageChanges() throws {
    guard access("/bin/busybox", X_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    _ = try box.store.buildBusybox(name: "bb")
    let artifacts = VMArtifacts(layout: box.layout)
    let disk = try artifacts.rootDisk(image: "bb")
    XCTAssertEqual(disk, box.layout.image("bb") + "/vm-root.ext4")
    var st = stat()
    XCTAssertEqual(stat(disk, &st), 0)
    XCTAssertEqual(st.st_mode & 0o777, 0o644)
    let made = inode(disk)
    XCTAssertEqual(try artifacts.rootDisk(image: "bb"), disk)
    XCTAssertEqual(inode(disk), made, "an unchanged image's disk is not built again")
    let record = box.layout.imageRecord("bb")
    let yaml = try FileIO.readString(record)
    let changed = yaml.split(separator: "\n").map {
      $0.hasPrefix("created:") ? "created: 2001-01-01T00:00:00Z" : String($0)
    }
    try FileIO.writeAtomically(path: record, Array((changed.joined(separator: "\n") + "\n").utf8), durable: false)
    _ = try artifacts.rootDisk(image: "bb")
    XCTAssertNotEqual(inode(disk), made, "a changed image's disk is built again")
    do {
      _ = try artifacts.rootDisk(image: "nope")
      XCTFail("built a disk of a missing image")
    } catch {
      XCTAssertEqual(error.message, "image \"nope\" does not exist")
    }
  }

  func testAGuestsOverlayIsBackedByItsImagesDiskAndKeptOnceMade() throws {
    guard access("/bin/busybox", X_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    guard Spawn.findTool("qemu-img") != nil else { throw XCTSkip("qemu-img missing (install qemu-utils)") }
    _ = try box.store.buildBusybox(name: "bb")
    let artifacts = VMArtifacts(layout: box.layout)
    let guest = box.layout.guest("vm1")
    mkdir(box.layout.guests, 0o700)
    mkdir(guest.dir, 0o700)
    let overlay = try artifacts.overlay(guest: guest, image: "bb")
    XCTAssertEqual(overlay, guest.dir + "/vm/root.qcow2")
    let info = try DiskProbe.inspect(overlay, backingWithin: [box.layout.images])
    XCTAssertEqual(info.format, .qcow2)
    XCTAssertEqual(info.backingChain, [BackingFile(path: box.layout.vmDisk("bb"), format: .raw)])
    let made = inode(overlay)
    XCTAssertEqual(try artifacts.overlay(guest: guest, image: "bb"), overlay)
    XCTAssertEqual(inode(overlay), made, "a guest's overlay holds its data and is never made again")
  }

  func testTheInitramfsIsNamedByItsInputsAndBuiltOnce() throws {
    guard access("/bin/busybox", R_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    let modules = box.dir + "/modules/6.1.0-test"
    XCTAssertEqual(mkdir(box.dir + "/modules", 0o755), 0)
    XCTAssertEqual(mkdir(modules, 0o755), 0)
    _ = box.write("modules/6.1.0-test/modules.dep", Array("kernel/a.ko:\n".utf8))
    _ = box.write("modules/6.1.0-test/a.ko", [1])
    XCTAssertEqual(mkdir(modules + "/kernel", 0o755), 0)
    _ = box.write("modules/6.1.0-test/kernel/a.ko", [1])
    let kernel = VMArtifacts.Kernel(vmlinux: "/unused", version: "6.1.0-test", modulesDir: modules)
    let artifacts = VMArtifacts(layout: box.layout)
    let first = try artifacts.initramfs(agent: "/bin/busybox", kernel: kernel, modules: ["a"])
    XCTAssertTrue(first.hasPrefix(box.layout.vmCache + "/initramfs-6.1.0-test-"), first)
    let made = inode(first)
    XCTAssertEqual(try artifacts.initramfs(agent: "/bin/busybox", kernel: kernel, modules: ["a"]), first)
    XCTAssertEqual(inode(first), made)
    // Another agent binary is another initramfs.
    let agent = box.write("agent", try FileIO.read("/bin/busybox", limit: 64 << 20) + [0])
    let second = try artifacts.initramfs(agent: agent, kernel: kernel, modules: ["a"])
    XCTAssertNotEqual(second, first)
    XCTAssertTrue(FileIO.exists(second))
  }
}
