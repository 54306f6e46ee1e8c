import CellaOCI
import CellaSys
import XCTest

@testable import CellaRuntimeCore

/// The named mount effects of CellaOCI's option table become the kernel's own numbers.
final class MountBitsTests: XCTestCase {
  func parse(_ options: [String], type: String? = "tmpfs") throws -> MountOptions {
    try MountOptions.parse(options, type: type, field: "config.json: mounts[3].options")
  }

  func testFlagValuesMatchTheKernel() throws {
    XCTAssertEqual(try parse(["ro"]).flags, 1)
    XCTAssertEqual(try parse(["nosuid"]).flags, 2)
    XCTAssertEqual(try parse(["nodev"]).flags, 4)
    XCTAssertEqual(try parse(["noexec"]).flags, 8)
    XCTAssertEqual(try parse(["sync"]).flags, 16)
    XCTAssertEqual(try parse(["remount"]).flags, 32)
    XCTAssertEqual(try parse(["dirsync"]).flags, 128)
    XCTAssertEqual(try parse(["nosymfollow"]).flags, 256)
    XCTAssertEqual(try parse(["noatime"]).flags, 1024)
    XCTAssertEqual(try parse(["nodiratime"]).flags, 2048)
    XCTAssertEqual(try parse(["silent"]).flags, 32768)
    XCTAssertEqual(try parse(["relatime"]).flags, 1 << 21)
    XCTAssertEqual(try parse(["iversion"]).flags, 1 << 23)
    XCTAssertEqual(try parse(["strictatime"]).flags, 1 << 24)
    XCTAssertEqual(try parse(["lazytime"]).flags, 1 << 25)
    XCTAssertEqual(try parse(["shared"]).propagation?.mountFlags, 1 << 20)
    XCTAssertEqual(try parse(["rslave"]).propagation?.mountFlags, (1 << 19) | 16384)
    XCTAssertEqual(try parse(["unbindable"]).propagation?.mountFlags, 1 << 17)
    XCTAssertEqual(try parse(["rprivate"]).propagation?.mountFlags, (1 << 18) | 16384)
    XCTAssertEqual(try parse(["ro", "rw", "sync", "async", "silent", "loud"]).flags, 0)
  }

  func testAttributeBitsMatchTheKernel() throws {
    let set = try parse(["ro", "nosuid", "nodev", "noexec", "nodiratime", "nosymfollow"], type: "bind")
    XCTAssertEqual(set.attributes.attrSet, 0x1 | 0x2 | 0x4 | 0x8 | 0x80 | 0x20_0000)
    XCTAssertEqual(set.attributes.attrClear, 0)
    let cleared = try parse(["rrw", "rsuid"], type: "bind")
    XCTAssertEqual(cleared.recursiveAttributes.attrClear, 0x1 | 0x2)
    XCTAssertEqual(cleared.recursiveAttributes.attrSet, 0)
  }

  func testAnAtimeModeClearsTheWholeMask() throws {
    let modes: [(String, UInt64, UInt)] = [
      ("relatime", 0, 1 << 21), ("noatime", 0x10, 1024), ("strictatime", 0x20, 1 << 24),
      ("norelatime", 0x20, 1 << 24), ("atime", 0, 1 << 21), ("nostrictatime", 0, 1 << 21),
    ]
    for (name, attr, flag) in modes {
      let options = try parse(["noatime", name])
      XCTAssertEqual(options.attributes.attrSet, attr, name)
      XCTAssertEqual(options.attributes.attrClear, 0x70, name)
      XCTAssertEqual(options.flags, flag, name)
      let recursive = try parse(["rnoatime", "r" + name])
      XCTAssertEqual(recursive.recursiveAttributes.attrSet, attr, "r" + name)
      XCTAssertEqual(recursive.recursiveAttributes.attrClear, 0x70, "r" + name)
    }
  }
}

/// Each spec rlimit name reaches setrlimit as the kernel's own resource number.
final class RlimitResourceTests: XCTestCase {
  func testEveryRlimitNameHasItsKernelNumber() {
    XCTAssertEqual(RlimitType.allCases.map(\.resource), Array(0...15))
    XCTAssertEqual(RlimitType.RLIMIT_NOFILE.resource, 7)
  }
}
