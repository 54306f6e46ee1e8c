import CellaSys
import Glibc
import XCTest

@testable import CellaVM

/// DiskProbe and QEMUImg against real images made with qemu-img.
final class DiskProbeTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    guard KernelTool.find("qemu-img") != nil else { throw XCTSkip("qemu-img missing (install qemu-utils)") }
    dir = makeTestDirectory()
  }

  override func tearDownWithError() throws { if !dir.isEmpty { try? FileIO.removeTree(dir) } }

  private func qemuImg(_ args: [String]) throws {
    let run = try KernelTool.run(KernelTool.find("qemu-img")!, args, timeout: 30)
    XCTAssertEqual(run.exitCode, 0, run.stderr)
  }

  private func rawDisk(_ name: String, size: Int = 1 << 20) throws -> String {
    let path = dir + "/" + name
    try qemuImg(["create", "-q", "-f", "raw", path, String(size)])
    return path
  }

  func testARawAndAQcow2ImageAreToldApartWithTheirSizes() throws {
    let raw = try rawDisk("a.raw", size: 3 << 20)
    try qemuImg(["create", "-q", "-f", "qcow2", dir + "/b.qcow2", "5M"])
    let a = try DiskProbe.inspect(raw)
    XCTAssertEqual(a.format, .raw)
    XCTAssertEqual(a.virtualSize, 3 << 20)
    XCTAssertEqual(a.backingChain, [])
    let b = try DiskProbe.inspect(dir + "/b.qcow2")
    XCTAssertEqual(b.format, .qcow2)
    XCTAssertEqual(b.virtualSize, 5 << 20)
  }

  func testAChainOfTwoIsListedNearestFirstWithCanonicalPaths() throws {
    let base = try rawDisk("base.raw")
    mkdir(dir + "/sub", 0o755)
    // Relative backing names resolve against the naming image's directory, as QEMU resolves them.
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", "../base.raw", "-F", "raw", dir + "/sub/mid.qcow2"])
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", "sub/mid.qcow2", "-F", "qcow2", dir + "/top.qcow2"])
    let info = try DiskProbe.inspect(dir + "/top.qcow2", backingWithin: [dir])
    XCTAssertEqual(
      info.backingChain,
      [BackingFile(path: dir + "/sub/mid.qcow2", format: .qcow2), BackingFile(path: base, format: .raw)])
    XCTAssertNoThrow(try DiskProbe.checkBackingChain(info, allowedDirectories: [dir]))
  }

  func testAQcow2BackedByEtcShadowIsRefusedBeforeItIsOpened() throws {
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw", dir + "/evil.qcow2"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/evil.qcow2", backingWithin: [self.dir]) },
      "\(dir)/evil.qcow2: backing file /etc/shadow is outside the guest's and the image store's directories")
    let info = DiskInfo(
      path: dir + "/evil.qcow2", format: .qcow2, virtualSize: 1 << 20,
      backingChain: [BackingFile(path: "/etc/shadow", format: .raw)])
    XCTAssertEqual(
      vmErrorMessage {
        try DiskProbe.checkBackingChain(info, allowedDirectories: [self.dir, "/var/lib/cella/images"])
      },
      "\(dir)/evil.qcow2: backing file /etc/shadow is outside the guest's and the image store's directories")
  }

  func testARelativeBackingPathClimbingOutWithDotDotIsRefused() throws {
    mkdir(dir + "/guest", 0o755)
    let outside = try rawDisk("outside.raw")
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", "../outside.raw", "-F", "raw", dir + "/guest/d.qcow2"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/guest/d.qcow2", backingWithin: [self.dir + "/guest"]) },
      "\(dir)/guest/d.qcow2: backing file \(outside) is outside the guest's and the image store's directories")
  }

  func testASecondLinkOutsideTheDirectoriesIsRefusedToo() throws {
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", dir + "/mid.qcow2"])
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", dir + "/mid.qcow2", "-F", "qcow2", dir + "/top.qcow2"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/top.qcow2", backingWithin: [self.dir]) },
      "\(dir)/top.qcow2: backing file /etc/passwd is outside the guest's and the image store's directories")
  }

  func testASymlinkIntoTheDirectoryPointingOutIsJudgedByItsTarget() throws {
    symlink("/etc/passwd", dir + "/innocent.raw")
    try qemuImg(["create", "-q", "-f", "qcow2", "-b", dir + "/innocent.raw", "-F", "raw", dir + "/top.qcow2"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/top.qcow2", backingWithin: [self.dir]) },
      "\(dir)/top.qcow2: backing file /etc/passwd is outside the guest's and the image store's directories")
  }

  func testABackingDeviceNodeIsNeverOpened() throws {
    try qemuImg([
      "create", "-q", "-f", "qcow2", "-u", "-b", "/dev/zero", "-F", "raw", "-o", "size=1M", dir + "/dev.qcow2",
    ])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/dev.qcow2") },
      "\(dir)/dev.qcow2: backing file /dev/zero: a character device, not a disk image file")
  }

  func testAVmdkIsRefusedWithTheConversionToUse() throws {
    try qemuImg(["create", "-q", "-f", "vmdk", dir + "/x.vmdk", "1M"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/x.vmdk") },
      "\(dir)/x.vmdk: a vmdk image; convert it with qemu-img convert -O qcow2")
  }

  func testATextFileADirectoryADeviceAndAMissingFileAreOneLineEach() throws {
    try FileIO.writeAtomically(path: dir + "/notes.txt", Array("hello\n".utf8), durable: false)
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/notes.txt") },
      "\(dir)/notes.txt: 6 bytes is not a whole number of 512-byte sectors; not a disk image")
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir) }, "\(dir): a directory, not a disk image file")
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect("/dev/null") }, "/dev/null: a character device, not a disk image file")
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/missing.qcow2") },
      "\(dir)/missing.qcow2: no such file or directory")
  }

  func testAQcow2WithAnExternalDataFileIsRefused() throws {
    try qemuImg(["create", "-q", "-f", "qcow2", "-o", "data_file=\(dir)/data.raw", dir + "/d.qcow2", "1M"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/d.qcow2") },
      "\(dir)/d.qcow2: a qcow2 with an external data file (\(dir)/data.raw) is not supported")
  }

  func testAProtocolBackingNameIsRefused() throws {
    try qemuImg(["create", "-q", "-f", "qcow2", "-u", "-b", "nbd:localhost:10809", "-F", "raw", dir + "/n.qcow2", "1M"])
    XCTAssertEqual(
      vmErrorMessage { _ = try DiskProbe.inspect(self.dir + "/n.qcow2") },
      "\(dir)/n.qcow2: backing file nbd:localhost:10809 is not a plain file")
  }

  func testAFirmwareBootNeedsABootSignatureOnARawDisk() throws {
    let blank = try rawDisk("blank.raw")
    XCTAssertEqual(
      vmErrorMessage { try DiskProbe.checkBootable(blank, format: .raw) },
      "\(blank): no boot sector (no 0x55AA signature at byte 510); a firmware boot needs a boot loader")
    let fd = open(blank, O_WRONLY)
    var signature: [UInt8] = [0x55, 0xAA]
    XCTAssertEqual(signature.withUnsafeMutableBytes { pwrite(fd, $0.baseAddress, 2, 510) }, 2)
    close(fd)
    XCTAssertNoThrow(try DiskProbe.checkBootable(blank, format: .raw))
  }

  func testAnOverlayNamesItsBaseAbsolutelyWithItsFormat() throws {
    let base = try rawDisk("base.raw", size: 2 << 20)
    try QEMUImg.createOverlay(base: base, baseFormat: .raw, output: dir + "/o.qcow2")
    let info = try DiskProbe.inspect(dir + "/o.qcow2", backingWithin: [dir])
    XCTAssertEqual(info.format, .qcow2)
    XCTAssertEqual(info.virtualSize, 2 << 20)
    XCTAssertEqual(info.backingChain, [BackingFile(path: base, format: .raw)])
    XCTAssertFalse(FileIO.exists(dir + "/o.qcow2.tmp"))
    try QEMUImg.resize(dir + "/o.qcow2", format: .qcow2, size: 8 << 20)
    XCTAssertEqual(try DiskProbe.inspect(dir + "/o.qcow2").virtualSize, 8 << 20)
  }

  func testAnOverlayOnAMissingBaseFailsInOneLineAndLeavesNothing() throws {
    XCTAssertTrue(
      vmErrorMessage {
        try QEMUImg.createOverlay(base: self.dir + "/nope.raw", baseFormat: .raw, output: self.dir + "/o.qcow2")
      }.hasPrefix("\(dir)/o.qcow2: qemu-img create failed: "))
    XCTAssertEqual(try FileIO.listDirectory(dir), [])
    XCTAssertEqual(
      vmErrorMessage { try QEMUImg.createOverlay(base: "base.raw", baseFormat: .raw, output: self.dir + "/o.qcow2") },
      "\(dir)/o.qcow2: backing file base.raw must be an absolute path")
  }
}
