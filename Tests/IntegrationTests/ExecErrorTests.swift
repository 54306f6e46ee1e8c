import Foundation
import XCTest

final class ExecErrorTests: RuntimeTestCase {
  func testMissingCommandIsNotFoundInPath() throws {
    let b = try env.bundle(["nosuchcmd"])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["executable file not found", "nosuchcmd"])
    XCTAssertEqual(r.status, 127, "\(r)")
    assertStateRootEmpty()
  }

  func testMissingCommandFailsCreate() throws {
    let b = try env.bundle(["nosuchcmd"])
    let r = env.create(b, id: env.newID())
    assertOneErrorLine(r, contains: ["executable file not found"])
    XCTAssertEqual(r.status, 127, "\(r)")
    assertStateRootEmpty()
  }

  func testMissingAbsolutePathIsNoSuchFile() throws {
    let b = try env.bundle(["/nonexistent"])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["no such file or directory", "/nonexistent"])
    XCTAssertEqual(r.status, 127, "\(r)")
    assertStateRootEmpty()
  }

  func testNonExecutableFileIsPermissionDenied() throws {
    let b = try env.bundle(["/etc/passwd"])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["permission denied", "/etc/passwd"])
    XCTAssertEqual(r.status, 126, "\(r)")
    assertStateRootEmpty()
  }

  func testExecOfMissingCommandExits127() throws {
    let id = env.newID()
    _ = env.startDetached(try env.bundle(["sleep", "100"]), id: id)
    let r = env.rt(["exec", id, "nosuchcmd"])
    assertOneErrorLine(r, contains: ["executable file not found", "nosuchcmd"])
    XCTAssertEqual(r.status, 127, "\(r)")
  }

  func testExecOfNonExecutableFileExits126() throws {
    let id = env.newID()
    _ = env.startDetached(try env.bundle(["sleep", "100"]), id: id)
    let r = env.rt(["exec", id, "/etc/passwd"])
    assertOneErrorLine(r, contains: ["permission denied", "/etc/passwd"])
    XCTAssertEqual(r.status, 126, "\(r)")
  }
}
