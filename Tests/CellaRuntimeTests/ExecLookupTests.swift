import Foundation
import XCTest

@testable import CellaEngine
@testable import CellaRuntimeCore

/// process.args[0] is found like execvp finds it, and failures carry the words Docker maps to 127/126.
final class ExecLookupTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cella-exec-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: dir + "/tool", contents: Data(), attributes: [.posixPermissions: 0o755])
    FileManager.default.createFile(atPath: dir + "/plain", contents: Data(), attributes: [.posixPermissions: 0o644])
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func testCommandIsFoundOnPath() throws {
    XCTAssertEqual(try ExecLookup.resolve("tool", env: ["PATH=/nonexistent:\(dir)"]), dir + "/tool")
  }

  func testMissingCommandSaysExecutableFileNotFound() {
    XCTAssertThrowsError(try ExecLookup.resolve("nosuchtool", env: ["PATH=\(dir)"])) { error in
      let e = error as! RuntimeError
      XCTAssertTrue(e.message.contains("executable file not found"), e.message)
      XCTAssertEqual(e.exitCode, 127)
    }
  }

  func testMissingPathSaysNoSuchFileOrDirectory() {
    XCTAssertThrowsError(try ExecLookup.resolve(dir + "/missing", env: [])) { error in
      XCTAssertTrue((error as! RuntimeError).message.contains("no such file or directory"))
    }
  }

  func testNonExecutableFileSaysPermissionDenied() {
    XCTAssertThrowsError(try ExecLookup.resolve(dir + "/plain", env: [])) { error in
      let e = error as! RuntimeError
      XCTAssertTrue(e.message.contains("permission denied"), e.message)
      XCTAssertEqual(e.exitCode, 126)
    }
  }
}
