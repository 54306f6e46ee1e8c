import CellaSys
import Glibc
import XCTest

@testable import CellaVM

final class ModuleSetTests: XCTestCase {
  private let dep = """
    kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
    kernel/lib/crc16.ko:
    kernel/fs/mbcache.ko:
    kernel/fs/jbd2/jbd2.ko:
    kernel/drivers/virtio/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
    kernel/drivers/virtio/virtio_ring.ko:
    kernel/crypto/crc32c-generic.ko.xz:

    """

  func testEveryModuleComesAfterItsDependenciesAndOnlyOnce() throws {
    let set = try ModuleSet.resolve(["virtio_blk", "ext4", "virtio_blk"], dep: dep, builtin: "", depPath: "m.dep")
    XCTAssertEqual(
      set.paths,
      [
        "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
        "kernel/drivers/virtio/virtio_blk.ko",
        "kernel/lib/crc16.ko", "kernel/fs/mbcache.ko", "kernel/fs/jbd2/jbd2.ko", "kernel/fs/ext4/ext4.ko",
      ])
  }

  func testNamesMatchWithDashesOrUnderscoresAndCompressedFiles() throws {
    let set = try ModuleSet.resolve(["crc32c_generic"], dep: dep, builtin: "", depPath: "m.dep")
    XCTAssertEqual(set.paths, ["kernel/crypto/crc32c-generic.ko.xz"])
  }

  func testABuiltinModuleNeedsNothingAndAnUnknownOneIsAnError() throws {
    let set = try ModuleSet.resolve(
      ["virtio_pci", "ext4"], dep: dep, builtin: "kernel/drivers/virtio/virtio_pci.ko\n", depPath: "m.dep")
    XCTAssertEqual(set.builtin, ["virtio_pci"])
    XCTAssertEqual(set.paths.last, "kernel/fs/ext4/ext4.ko")
    XCTAssertEqual(
      vmErrorMessage { _ = try ModuleSet.resolve(["nosuch"], dep: self.dep, builtin: "", depPath: "m.dep") },
      "m.dep: no module nosuch (neither a .ko nor built in)")
  }

  func testACorruptModulesDepIsOneLine() {
    XCTAssertEqual(
      vmErrorMessage {
        _ = try ModuleSet.resolve(["a"], dep: "a.ko: b.ko\nb.ko: a.ko\n", builtin: "", depPath: "m.dep")
      },
      "m.dep: dependency cycle through a.ko")
    XCTAssertEqual(
      vmErrorMessage { _ = try ModuleSet.resolve(["a"], dep: "a.ko: b.ko\n", builtin: "", depPath: "m.dep") },
      "m.dep: b.ko is named as a dependency but has no entry")
    XCTAssertEqual(
      vmErrorMessage { _ = try ModuleSet.resolve(["a"], modulesDir: "/nonexistent") },
      "open /nonexistent/modules.dep: no such file or directory")
  }

  func testTheGuestModulesResolveOnTheHostsKernel() throws {
    guard let version = try? FileIO.listDirectory("/lib/modules").sorted().last else {
      throw XCTSkip("no /lib/modules (install linux-image-amd64)")
    }
    let set = try ModuleSet.resolve(ModuleSet.guestModules, modulesDir: "/lib/modules/" + version)
    let names = set.paths.map(ModuleSet.moduleName)
    for wanted in ModuleSet.guestModules where !set.builtin.contains(wanted) {
      XCTAssertTrue(names.contains(wanted), "\(wanted) missing from \(names)")
    }
    if let ext4 = names.firstIndex(of: "ext4"), let jbd2 = names.firstIndex(of: "jbd2") {
      XCTAssertLessThan(jbd2, ext4)
    }
    for path in set.paths { XCTAssertTrue(FileIO.exists("/lib/modules/\(version)/\(path)"), path) }
  }
}
