import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

final class ImageStoreTests: XCTestCase {
  private var box: ImageSandbox!

  override func setUp() { box = ImageSandbox() }
  override func tearDown() { box.cleanup() }

  private func importSmall(_ name: String) throws -> ImageRecord {
    var layer = TarWriter()
    layer.file("hello", "hi")
    let file = box.write("small.tar", dockerArchive(layers: [layer.finished()]))
    return try box.store.importArchive(file: file, name: name)
  }

  func testListIsSortedAndSkipsHiddenDirectories() throws {
    _ = try importSmall("zeta")
    _ = try importSmall("alpha")
    mkdir(box.layout.images + "/.tmp-half-1234", 0o700)
    XCTAssertEqual(try box.store.list().map(\.name), ["alpha", "zeta"])
  }

  func testListOfAStoreWithoutImagesIsEmpty() throws {
    XCTAssertEqual(try box.store.list(), [])
  }

  func testRecordOfAMissingImageIsNotFound() {
    let e = hostError { try self.box.store.record("nope") }
    XCTAssertEqual(e?.kind, .notFound)
    XCTAssertEqual(e?.message, "image \"nope\" does not exist")
  }

  func testInvalidNameIsRefusedBeforeAnyWork() {
    let e = hostError { try self.box.store.importArchive(file: "/nonexistent", name: "Bad_Name") }
    XCTAssertEqual(e?.kind, .invalidArgument)
    XCTAssertTrue(e?.message.contains("image name \"Bad_Name\"") ?? false, e?.message ?? "")
  }

  func testDeleteIsRefusedWhileGuestsUseTheImage() throws {
    _ = try importSmall("base")
    let e = hostError { try self.box.store.delete("base", usedBy: ["web1", "web2"]) }
    XCTAssertEqual(e?.kind, .invalidState)
    XCTAssertTrue(e?.message.contains("image \"base\" is used by web1, web2") ?? false, e?.message ?? "")
    XCTAssertEqual(try box.store.list().map(\.name), ["base"])
    try box.store.delete("base", usedBy: [])
    XCTAssertEqual(box.imagesEntries(), [])
    XCTAssertEqual(hostError { try self.box.store.delete("base", usedBy: []) }?.kind, .notFound)
  }

  func testLeftoversOfCutShortBuildsAreRemoved() throws {
    _ = try importSmall("kept")
    let half = box.layout.images + "/.tmp-cut-abc"
    try FileManager.default.createDirectory(atPath: half + "/rootfs/etc", withIntermediateDirectories: true)
    symlink(box.outside, half + "/rootfs/link")
    try FileManager.default.createDirectory(atPath: box.layout.imageCache, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: box.layout.imageCache + "/.tmp-debian-x.tar", contents: Data())
    _ = FileManager.default.createFile(atPath: box.layout.imageCache + "/debian-bookworm.tar", contents: Data())
    _ = FileManager.default.createFile(atPath: box.outside + "/victim", contents: Data("v".utf8))
    try ImageStore.removeLeftovers(layout: box.layout)
    XCTAssertEqual(box.imagesEntries(), ["kept"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: box.layout.imageCache), ["debian-bookworm.tar"])
    XCTAssertEqual(box.outsideEntries(), ["victim"], "removal never follows a symlink")
  }

  func testRecordIsStoredAsYAMLAndInfoAddsUsers() throws {
    let record = try importSmall("yaml")
    let text = try String(contentsOfFile: box.layout.imageRecord("yaml"), encoding: .utf8)
    XCTAssertTrue(text.contains("name: yaml"), text)
    XCTAssertTrue(text.contains("source: docker-archive"), text)
    XCTAssertTrue(record.created.hasSuffix("Z") && record.created.count == 20, record.created)
    XCTAssertGreaterThan(record.size, 0)
    XCTAssertEqual(record.info(usedBy: ["g"]).usedBy, ["g"])
    XCTAssertEqual(record.info(usedBy: []).process, record.process)
  }
}
