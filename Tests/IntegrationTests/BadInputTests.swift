import Foundation
import XCTest

/// Every bad input: non-zero exit, one `cella-runtime: error:` line naming the field or path, nothing left.
final class BadInputTests: RuntimeTestCase {
  func assertCreateRejected(
    _ bundle: TestBundle, id: String? = nil, contains fragments: [String], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    let r = env.create(bundle, id: id ?? env.newID(), file: file, line: line)
    assertOneErrorLine(r, contains: fragments, file: file, line: line)
    assertStateRootEmpty(file: file, line: line)
  }

  func testMalformedJSONReportsLineAndColumn() throws {
    let b = try env.bundle(["true"])
    try "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {,\n}\n".write(
      toFile: b.configPath, atomically: true, encoding: .utf8)
    let r = env.rt(["create", "-b", b.dir, env.newID()])
    assertOneErrorLine(r, contains: ["config.json", "line 3"])
    XCTAssertTrue(r.stderr.lowercased().contains("column"), r.stderr)
    assertStateRootEmpty()
  }

  func testMissingConfigJSON() throws {
    let dir = env.tmp + "/empty-bundle"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let r = env.rt(["create", "-b", dir, env.newID()])
    assertOneErrorLine(r, contains: [dir + "/config.json"])
    assertStateRootEmpty()
  }

  func testMemoryLimitTooSmallForInitNamesTheLimit() throws {
    // One page: init is OOM-killed while it sets the container up, which must read as a config error.
    let b = try env.bundle(["true"])
    b.editLinux { $0["resources"] = ["memory": ["limit": 4096]] }
    assertCreateRejected(b, contains: ["linux.resources.memory.limit", "OOM"])
  }

  func testMissingOCIVersion() throws {
    let b = try env.bundle(["true"])
    b.config.removeValue(forKey: "ociVersion")
    assertCreateRejected(b, contains: ["ociVersion"])
  }

  func testEmptyProcessArgs() throws {
    let b = try env.bundle([])
    assertCreateRejected(b, contains: ["process.args"])
  }

  func testMissingRootPath() throws {
    let b = try env.bundle(["true"])
    b.setRoot(env.tmp + "/no-such-rootfs", readonly: true)
    assertCreateRejected(b, contains: ["root.path", env.tmp + "/no-such-rootfs"])
  }

  func testUnknownNamespaceType() throws {
    let b = try env.bundle(["true"])
    b.namespaces = b.namespaces + [["type": "bogus"]]
    assertCreateRejected(b, contains: ["linux.namespaces", "bogus"])
  }

  func testDuplicateNamespace() throws {
    let b = try env.bundle(["true"])
    b.namespaces = b.namespaces + [["type": "network"]]
    assertCreateRejected(b, contains: ["linux.namespaces", "network"])
  }

  func testUIDMappingsWithoutUserNamespace() throws {
    let b = try env.bundle(["true"])
    b.editLinux { $0["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]] }
    assertCreateRejected(b, contains: ["uidMappings"])
  }

  func testBindSourceMissing() throws {
    let b = try env.bundle(["true"])
    b.addMount("/tmp", type: "bind", source: env.tmp + "/no-such-source", options: ["bind"])
    assertCreateRejected(b, contains: [env.tmp + "/no-such-source"])
  }

  func testIDWithSlashRejected() throws {
    let b = try env.bundle(["true"])
    assertCreateRejected(b, id: "a/b", contains: ["a/b"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: env.stateRoot + "/a"))
  }

  func testIDDotDotRejected() throws {
    let b = try env.bundle(["true"])
    assertCreateRejected(b, id: "..", contains: [".."])
  }

  func testIDDotRejected() throws {
    let b = try env.bundle(["true"])
    assertCreateRejected(b, id: ".", contains: ["container id"])
  }

  func testUnknownFlagRejected() throws {
    let b = try env.bundle(["true"])
    try b.write()
    let r = env.rt(["create", "--bogus", "-b", b.dir, env.newID()])
    assertOneErrorLine(r, contains: ["--bogus"])
    assertStateRootEmpty()
  }

  func testUnknownVerbRejected() throws {
    let r = env.rt(["frobnicate"])
    assertOneErrorLine(r, contains: ["frobnicate"])
  }

  func testStateOfMissingContainer() throws {
    let r = env.rt(["state", "cella-t-nosuch"])
    assertOneErrorLine(r, contains: ["cella-t-nosuch", "does not exist"])
  }

  func testDeleteOfMissingContainerFailsWithoutForce() throws {
    let r = env.rt(["delete", "cella-t-nosuch"])
    assertOneErrorLine(r, contains: ["cella-t-nosuch", "does not exist"])
    XCTAssertEqual(env.rt(["delete", "--force", "cella-t-nosuch"]).status, 0)
  }

  func testTerminalTrueRejected() throws {
    let b = try env.bundle(["true"])
    b.editProcess { $0["terminal"] = true }
    assertCreateRejected(b, contains: ["terminal"])
  }
}
