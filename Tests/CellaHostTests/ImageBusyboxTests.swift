import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

final class ImageBusyboxTests: XCTestCase {
  private var box: ImageSandbox!

  override func setUp() { box = ImageSandbox() }
  override func tearDown() { box.cleanup() }

  func testBusyboxBuildLaysOutABootableTreeQuickly() throws {
    guard FileManager.default.fileExists(atPath: "/bin/busybox") else {
      return print("skipped: no /bin/busybox (busybox-static)")
    }
    let started = Date()
    let record = try box.store.buildBusybox(name: "bb")
    let took = Date().timeIntervalSince(started)
    XCTAssertLessThan(took, 2, "busybox build took \(took) s")
    let rootfs = box.store.rootfs("bb")
    let fm = FileManager.default
    XCTAssertTrue(fm.isExecutableFile(atPath: rootfs + "/bin/busybox"))
    XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: rootfs + "/sbin/init"), "/bin/busybox")
    XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: rootfs + "/bin/sh"), "/bin/busybox")
    for f in ["etc/passwd", "etc/group", "etc/hostname", "etc/hosts", "etc/nsswitch.conf"] {
      XCTAssertTrue(fm.fileExists(atPath: rootfs + "/" + f), f)
    }
    let inittab = try String(contentsOfFile: rootfs + "/etc/inittab", encoding: .utf8)
    XCTAssertTrue(inittab.contains("::respawn:-/bin/sh"), inittab)
    XCTAssertEqual((lstatMode(rootfs + "/tmp") ?? 0) & 0o7777, 0o1777)
    XCTAssertEqual(record.source, .busybox)
    XCTAssertEqual(record.process.cmd, ["/sbin/init"])
    XCTAssertEqual(record.process.stopSignal, "SIGUSR2")
    XCTAssertTrue(record.process.env?.first?.hasPrefix("PATH=") ?? false)
    XCTAssertEqual(try box.store.record("bb"), record)
    XCTAssertEqual(box.imagesEntries(), ["bb"])
    XCTAssertEqual((lstatMode(box.layout.images) ?? 0) & 0o777, 0o700, "images/ is root's alone")
  }

  func testStaticELFCheckRefusesADynamicBinary() throws {
    let dynamic = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/ls")).prefix(65536))
    XCTAssertFalse(BusyboxImage.isStaticELF(dynamic))
    XCTAssertFalse(BusyboxImage.isStaticELF(Array("#!/bin/sh\n".utf8)))
    guard FileManager.default.fileExists(atPath: "/bin/busybox") else { return print("skipped: no /bin/busybox") }
    let bb = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/busybox")).prefix(65536))
    XCTAssertTrue(BusyboxImage.isStaticELF(bb))
  }
}
