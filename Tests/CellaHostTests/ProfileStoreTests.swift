import CellaAPI
import CellaErrors
import Foundation
import XCTest

@testable import CellaHost

/// The profile store's rules: default always there and undeletable, validated changes, users block delete.
final class ProfileStoreTests: XCTestCase {
  private var dirs: [TestDir] = []

  // XCTest keeps every test case object to the end of the run: the directories go here, not at deinit.
  override func tearDown() {
    dirs = []
  }

  private func store() throws -> (ProfileStore, TestDir) {
    let dir = try TestDir()
    dirs.append(dir)
    return (ProfileStore(layout: StoreLayout(root: dir.path)), dir)
  }

  private func message(_ body: () throws -> Void) -> (ErrorKind, String)? {
    do {
      try body()
      return nil
    } catch let e as HostError { return (e.kind, e.message) } catch { return (.internal, "\(error)") }
  }

  func testDefaultExistsAndIsMadeWhenMissing() throws {
    let (s, dir) = try store()
    XCTAssertEqual(try s.list().map(\.name), ["default"])
    try FileManager.default.removeItem(atPath: dir.path + "/profiles/default.yaml")
    XCTAssertEqual(try s.get("default"), ProfileRecord(name: "default"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path + "/profiles/default.yaml"))
  }

  func testDefaultCannotBeDeleted() throws {
    let (s, _) = try store()
    XCTAssertEqual(
      message { try s.delete("default", usedBy: []) }?.1, "profile \"default\" cannot be deleted: every guest takes it")
    XCTAssertTrue(s.exists("default"))
  }

  func testCreateSetUnsetReplaceDelete() throws {
    let (s, _) = try store()
    try s.create(ProfileRecord(name: "small", description: "tiny", config: ["limits.memory": "128MiB"]))
    XCTAssertEqual(message { try s.create(ProfileRecord(name: "small")) }?.0, .alreadyExists)
    try s.set("small", ["limits.pids": "50", "limits.memory": "64MiB"])
    XCTAssertEqual(try s.get("small").config, ["limits.memory": "64MiB", "limits.pids": "50"])
    try s.unset("small", ["limits.pids", "hostname"])
    XCTAssertEqual(try s.get("small").config, ["limits.memory": "64MiB"])
    try s.replace("small", config: ["boot.autostart": "true"], description: "")
    XCTAssertEqual(try s.get("small"), ProfileRecord(name: "small", config: ["boot.autostart": "true"]))
    XCTAssertEqual(try s.list().map(\.name), ["default", "small"])
    try s.delete("small", usedBy: [])
    XCTAssertEqual(message { _ = try s.get("small") }?.1, "profile \"small\" not found")
    XCTAssertEqual(message { try s.delete("small", usedBy: []) }?.0, .notFound)
  }

  func testBadKeysWriteNothing() throws {
    let (s, _) = try store()
    try s.create(ProfileRecord(name: "p", config: ["limits.pids": "5"]))
    XCTAssertEqual(
      message { try s.set("p", ["limits.pids": "6", "limits.memroy": "1G"]) }?.1,
      "unknown key \"limits.memroy\": did you mean \"limits.memory\"?")
    XCTAssertEqual(message { try s.unset("p", ["limits.memroy"]) }?.0, .invalidArgument)
    XCTAssertEqual(
      message { try s.replace("p", config: ["limits.memory": "12XB"]) }?.1,
      "limits.memory: \"12XB\" is not a size (like 512MiB, 1GiB, 1G or a number of bytes)")
    XCTAssertEqual(
      message { try s.create(ProfileRecord(name: "q", config: ["boot.restart": "maybe"])) }?.1,
      "boot.restart: \"maybe\" is not no, on-failure, on-failure:N or always")
    XCTAssertEqual(message { try s.create(ProfileRecord(name: "Bad")) }?.0, .invalidArgument)
    XCTAssertEqual(try s.get("p").config, ["limits.pids": "5"])
    XCTAssertFalse(s.exists("q"))
    XCTAssertEqual(message { try s.set("nope", ["limits.pids": "1"]) }?.0, .notFound)
  }

  func testDeleteIsRefusedWhileGuestsUseIt() throws {
    let (s, _) = try store()
    try s.create(ProfileRecord(name: "shared"))
    let e = message { try s.delete("shared", usedBy: ["web", "db"]) }
    XCTAssertEqual(e?.0, .invalidState)
    XCTAssertEqual(e?.1, "profile \"shared\" is used by guests db, web")
    XCTAssertTrue(s.exists("shared"))
  }

  func testConcurrentSetsAllLand() throws {
    let (s, _) = try store()
    try s.create(ProfileRecord(name: "busy"))
    DispatchQueue.concurrentPerform(iterations: 16) { i in
      do {
        try s.set("busy", ["environment.V\(i)": "\(i)"])
      } catch { XCTFail("\(error)") }
    }
    XCTAssertEqual(try s.get("busy").config.count, 16)
  }
}
