import Foundation
import XCTest

/// With `--log-format json` the error entry names the error's kind, so a client never has to read
/// the message to tell a missing container from a bad config.
final class ErrorKindLogTests: RuntimeTestCase {
  /// The JSON entries of `path`, one per line.
  func entries(_ path: String) -> [[String: Any]] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  func errorKind(_ path: String) -> String? {
    entries(path).last { $0["level"] as? String == "error" }?["kind"] as? String
  }

  func testMissingContainerLogsKindNotFound() throws {
    let log = env.tmp + "/missing.log"
    let r = env.rt(["--log", log, "--log-format", "json", "state", env.newID("missing")])
    assertOneErrorLine(r, contains: ["does not exist"])
    XCTAssertEqual(r.status, 1, "\(r)")
    XCTAssertEqual(errorKind(log), "not-found", "\(entries(log))")
  }

  func testInvalidConfigLogsKindInvalidArgument() throws {
    let b = try env.bundle(["true"])
    b.editProcess { $0["args"] = 5 }
    let id = env.newID()
    try b.write(id: id)
    let log = env.tmp + "/invalid.log"
    let r = env.rt(["--log", log, "--log-format", "json", "create", "-b", b.dir, id])
    assertOneErrorLine(r, contains: ["process.args"])
    XCTAssertEqual(r.status, 1, "\(r)")
    XCTAssertEqual(errorKind(log), "invalid-argument", "\(entries(log))")
    assertStateRootEmpty()
  }

  func testStartingARunningContainerLogsKindInvalidState() throws {
    let id = env.newID()
    _ = env.startDetached(try env.bundle(["sleep", "100"]), id: id)
    let log = env.tmp + "/state.log"
    let r = env.rt(["--log", log, "--log-format", "json", "start", id])
    assertOneErrorLine(r, contains: ["running"])
    XCTAssertEqual(errorKind(log), "invalid-state", "\(entries(log))")
  }
}
