import CellaSys
import Glibc
import XCTest

@testable import CellaVM

/// The entries of a run of newc archives, as the kernel reads them: (name, mode, data), later ones last.
func newcEntries(_ bytes: [UInt8]) -> [(name: String, mode: UInt32, data: [UInt8])] {
  var out: [(String, UInt32, [UInt8])] = []
  var at = 0
  func field(_ i: Int) -> Int {
    Int(String(decoding: bytes[at + 6 + 8 * i..<at + 14 + 8 * i], as: UTF8.self), radix: 16)!
  }
  while at + 110 <= bytes.count {
    if bytes[at] == 0 {
      at += 4
      continue
    }
    guard bytes[at..<at + 6].elementsEqual("070701".utf8) else { break }
    let mode = UInt32(field(1))
    let size = field(6)
    let nameSize = field(11)
    let name = String(decoding: bytes[at + 110..<at + 110 + nameSize - 1], as: UTF8.self)
    let dataAt = (at + 110 + nameSize + 3) & ~3
    if name != "TRAILER!!!" { out.append((name, mode, Array(bytes[dataAt..<dataAt + size]))) }
    at = (dataAt + size + 3) & ~3
  }
  return out
}

final class VMInitramfsTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { try? FileIO.removeTree(dir) }

  private func fakeModules() throws -> String {
    let root = dir + "/modules"
    for d in ["", "/kernel", "/kernel/a", "/kernel/b"] { mkdir(root + d, 0o755) }
    try FileIO.writeAtomically(
      path: root + "/modules.dep", Array("kernel/a/top.ko: kernel/b/dep.ko\nkernel/b/dep.ko:\n".utf8), durable: false)
    try FileIO.writeAtomically(path: root + "/kernel/a/top.ko", [1, 2, 3], durable: false)
    try FileIO.writeAtomically(path: root + "/kernel/b/dep.ko", [4, 5], durable: false)
    return root
  }

  func testTheBaseHoldsTheAgentAsInitTheModulesAndTheirOrder() throws {
    guard access("/bin/busybox", R_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    let modules = try fakeModules()
    try VMInitramfs.base(
      agent: "/bin/busybox", kernelVersion: "6.1.0-test", modulesDir: modules, modules: ["top"],
      output: dir + "/base.cpio")
    let entries = newcEntries(try FileIO.read(dir + "/base.cpio", limit: 64 << 20))
    let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    XCTAssertEqual(byName["init"]?.data, try FileIO.read("/bin/busybox", limit: 64 << 20))
    XCTAssertEqual(byName["init"]?.mode, 0o100755)
    XCTAssertEqual(byName["dev/console"]?.mode, 0o020600)
    for d in ["proc", "sys", "newroot", "lib/modules/6.1.0-test/kernel/a", "lib/modules/6.1.0-test/kernel/b"] {
      XCTAssertEqual(byName[d]?.mode, 0o040755, d)
    }
    XCTAssertEqual(byName["lib/modules/6.1.0-test/kernel/a/top.ko"]?.data, [1, 2, 3])
    XCTAssertEqual(byName["lib/modules/6.1.0-test/kernel/b/dep.ko"]?.data, [4, 5])
    XCTAssertEqual(byName["cella/modules"]?.data, Array("kernel/b/dep.ko\nkernel/a/top.ko\n".utf8))
    // Every directory comes before what it holds: the kernel's unpacker makes no parents.
    var seen: Set<String> = []
    for entry in entries {
      if let slash = entry.name.lastIndex(of: "/") {
        XCTAssertTrue(seen.contains(String(entry.name[..<slash])), entry.name)
      }
      seen.insert(entry.name)
    }
  }

  func testTheGuestArchiveAppendsItsConfigToTheBase() throws {
    guard access("/bin/busybox", R_OK) == 0 else { throw XCTSkip("no /bin/busybox (install busybox-static)") }
    try VMInitramfs.base(
      agent: "/bin/busybox", kernelVersion: "v", modulesDir: try fakeModules(), modules: [], output: dir + "/base.cpio")
    let config = Array("{\"hostname\":\"vm1\"}".utf8)
    try VMInitramfs.guest(base: dir + "/base.cpio", config: config, output: dir + "/guest.cpio")
    let base = try FileIO.read(dir + "/base.cpio", limit: 64 << 20)
    let guest = try FileIO.read(dir + "/guest.cpio", limit: 64 << 20)
    XCTAssertEqual(Array(guest.prefix(base.count)), base)
    XCTAssertEqual(newcEntries(guest).last?.name, "cella/guest.json")
    XCTAssertEqual(newcEntries(guest).last?.data, config)
    var st = stat()
    XCTAssertEqual(stat(dir + "/guest.cpio", &st), 0)
    XCTAssertEqual(st.st_mode & 0o777, 0o600)
    XCTAssertEqual(
      vmErrorMessage { try VMInitramfs.guest(base: "/etc/hostname", config: [], output: self.dir + "/x.cpio") },
      "/etc/hostname: not a newc cpio archive")
    XCTAssertFalse(FileIO.exists(dir + "/x.cpio"))
  }

  func testADynamicOrForeignAgentIsRefused() throws {
    let modules = try fakeModules()
    let ls = "/bin/ls"
    XCTAssertEqual(
      vmErrorMessage {
        try VMInitramfs.base(agent: ls, kernelVersion: "v", modulesDir: modules, modules: [], output: self.dir + "/b")
      }, "\(ls): dynamically linked; the guest's /init must be a static executable")
    XCTAssertEqual(
      vmErrorMessage {
        try VMInitramfs.base(
          agent: "/etc/passwd", kernelVersion: "v", modulesDir: modules, modules: [], output: self.dir + "/b")
      }, "/etc/passwd: not an x86-64 ELF executable (the guest's /init must be one)")
    XCTAssertEqual(
      vmErrorMessage {
        try VMInitramfs.base(
          agent: ls, kernelVersion: "../x", modulesDir: modules, modules: [], output: self.dir + "/b")
      }, "kernel version \"../x\" is not a directory name")
    XCTAssertEqual(
      vmErrorMessage {
        try VMInitramfs.base(
          agent: "/bin/busybox", kernelVersion: "v", modulesDir: modules, modules: ["virtio_blk"],
          output: self.dir + "/b")
      }, "\(modules)/modules.dep: no module virtio_blk (neither a .ko nor built in)")
    XCTAssertFalse(FileIO.exists(dir + "/b"))
  }
}
