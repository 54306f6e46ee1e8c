import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

/// Hostile archives (DESIGN.md decision 3): nothing may be written outside the image.
final class ImageHostileTests: XCTestCase {
  private var box: ImageSandbox!

  override func setUp() { box = ImageSandbox() }
  override func tearDown() { box.cleanup() }

  /// Imports a docker archive of one layer; returns the error (nil on success).
  private func importLayer(_ layer: TarWriter, name: String = "evil") -> HostError? {
    let file = box.write("evil.tar", dockerArchive(layers: [layer.finished()]))
    do {
      _ = try box.store.importArchive(file: file, name: name)
      return nil
    } catch {
      XCTAssertFalse(error.message.contains("\n"))
      return error
    }
  }

  private func assertNothingOutside(file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(box.outsideEntries(), [], file: file, line: line)
    let top = (try? FileManager.default.contentsOfDirectory(atPath: box.dir).sorted()) ?? []
    XCTAssertTrue(Set(top).isSubset(of: ["evil.tar", "outside", "state"]), "\(top)", file: file, line: line)
    let state = (try? FileManager.default.contentsOfDirectory(atPath: box.layout.root).sorted()) ?? []
    XCTAssertEqual(state, ["images"], file: file, line: line)
  }

  func testDotDotComponentIsRefusedNamingTheEntry() {
    var tar = TarWriter()
    tar.file("ok", "fine")
    tar.file("../x", "climb")
    let e = importLayer(tar)
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertTrue(e?.message.contains("entry \"../x\"") ?? false, e?.message ?? "")
    XCTAssertEqual(box.imagesEntries(), [])
    assertNothingOutside()
  }

  func testAbsolutePathIsConfinedToTheImage() throws {
    let name = "cella-it-abs-\(UInt32.random(in: 0...UInt32.max))"
    var tar = TarWriter()
    tar.file("/etc/\(name)", "confined")
    XCTAssertNil(importLayer(tar))
    XCTAssertNil(lstatMode("/etc/" + name), "the host's /etc is untouched")
    XCTAssertEqual(
      FileManager.default.contents(atPath: box.store.rootfs("evil") + "/etc/" + name), Data("confined".utf8))
    assertNothingOutside()
  }

  func testNothingIsWrittenThroughASymlink() {
    var tar = TarWriter()
    tar.symlink("evil", to: box.outside)
    tar.file("evil/pwn", "owned")
    let e = importLayer(tar)
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertTrue(e?.message.contains("entry \"evil/pwn\": \"evil\" is a symlink") ?? false, e?.message ?? "")
    XCTAssertNil(lstatMode(box.outside + "/pwn"))
    XCTAssertEqual(box.imagesEntries(), [])
    assertNothingOutside()
  }

  func testSymlinkIntoTheTreeIsKeptAsData() throws {
    var tar = TarWriter()
    tar.symlink("up", to: "../../../../outside")
    tar.symlink("abs", to: box.outside)
    XCTAssertNil(importLayer(tar))
    let rootfs = box.store.rootfs("evil")
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/abs"), box.outside)
    assertNothingOutside()
  }

  func testHardlinkToAHostFileIsRefused() {
    var st = stat()
    stat("/etc/passwd", &st)
    let links = st.st_nlink
    var tar = TarWriter()
    tar.hardlink("passwd", to: "/etc/passwd")
    let e = importLayer(tar)
    XCTAssertTrue(
      e?.message.contains("entry \"passwd\": hard link target \"/etc/passwd\" is not a file in the image") ?? false,
      e?.message ?? "")
    stat("/etc/passwd", &st)
    XCTAssertEqual(st.st_nlink, links)
    XCTAssertEqual(box.imagesEntries(), [])
    assertNothingOutside()
  }

  func testHardlinkThroughASymlinkIsRefused() {
    var tar = TarWriter()
    tar.symlink("etc", to: "/etc")
    tar.hardlink("passwd", to: "etc/passwd")
    let e = importLayer(tar)
    XCTAssertTrue(e?.message.contains("entry \"passwd\": \"etc\" is a symlink") ?? false, e?.message ?? "")
    assertNothingOutside()
  }

  func testHardlinkInsideTheTreeWorks() throws {
    var tar = TarWriter()
    tar.file("a", "same")
    tar.hardlink("b", to: "/a")
    XCTAssertNil(importLayer(tar))
    var sa = stat()
    var sb = stat()
    stat(box.store.rootfs("evil") + "/a", &sa)
    stat(box.store.rootfs("evil") + "/b", &sb)
    XCTAssertEqual(sa.st_ino, sb.st_ino)
  }

  func testDeviceNodesAreSkippedWithAWarning() throws {
    var tar = TarWriter()
    tar.dir("dev/")
    tar.add("dev/sda", type: "4", mode: 0o660, devMajor: 8, devMinor: 0)
    tar.add("dev/mem", type: "3", mode: 0o666, devMajor: 1, devMinor: 1)
    XCTAssertNil(importLayer(tar))
    XCTAssertNil(lstatMode(box.store.rootfs("evil") + "/dev/sda"))
    XCTAssertNil(lstatMode(box.store.rootfs("evil") + "/dev/mem"))
    XCTAssertTrue(
      box.warnings.all.contains {
        $0.contains("skipped 2 device nodes (the runtime makes /dev): \"dev/sda\", \"dev/mem\"")
      }, "\(box.warnings.all)")
  }

  func testSetuidIsDroppedUnlessRootOwnsTheFile() throws {
    var tar = TarWriter()
    tar.add("user-suid", data: Array("x".utf8), mode: 0o6755, uid: 1000, gid: 1000)
    tar.add("root-suid", data: Array("x".utf8), mode: 0o4755, uid: 0, gid: 0)
    XCTAssertNil(importLayer(tar))
    var st = stat()
    stat(box.store.rootfs("evil") + "/user-suid", &st)
    XCTAssertEqual(st.st_mode & 0o7777, 0o755)
    XCTAssertEqual(st.st_uid, 1000)
    stat(box.store.rootfs("evil") + "/root-suid", &st)
    XCTAssertEqual(st.st_mode & 0o7777, 0o4755)
  }

  func testHugeSizeIsAnErrorNamingTheEntry() {
    var tar = TarWriter()
    tar.add("huge", rawSize: [0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0])
    let e = importLayer(tar)
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertTrue(
      e?.message.contains("entry \"huge\" (offset 0): size 9223372036854775808 is too large") ?? false, e?.message ?? ""
    )
    XCTAssertEqual(box.imagesEntries(), [])
    assertNothingOutside()
  }

  func testTruncatedLayerNamesTheEntry() {
    var layer = TarWriter()
    layer.file("big", String(repeating: "y", count: 4000))
    let cut = Array(layer.bytes.prefix(2048))
    let config = imageConfig(cmd: ["/bin/sh"], diffIDs: [sha256Hex(cut)])
    var outer = TarWriter()
    let cfgName = sha256Hex(config) + ".json"
    let manifest = #"[{"Config":"\#(cfgName)","Layers":["l/layer.tar"]}]"#
    outer.add("manifest.json", data: Array(manifest.utf8))
    outer.add(cfgName, data: config)
    outer.add("l/layer.tar", data: cut)
    let file = box.write("evil.tar", outer.finished())
    let e = hostError { try self.box.store.importArchive(file: file, name: "evil") }
    XCTAssertTrue(
      e?.message.contains("\(file): layer 1 (l/layer.tar): entry \"big\": truncated") ?? false, e?.message ?? "")
    XCTAssertEqual(box.imagesEntries(), [])
    assertNothingOutside()
  }

  func testTruncatedArchiveNamesTheFileAndOffset() {
    var layer = TarWriter()
    layer.file("a", "b")
    let whole = dockerArchive(layers: [layer.finished()])
    let file = box.write("evil.tar", Array(whole.prefix(whole.count - 1024 - 700)))
    let e = hostError { try self.box.store.importArchive(file: file, name: "evil") }
    XCTAssertTrue(e?.message.hasPrefix(file + ": ") ?? false, e?.message ?? "")
    XCTAssertTrue(e?.message.contains("truncated") ?? false, e?.message ?? "")
    XCTAssertEqual(box.imagesEntries(), [])
  }
}
