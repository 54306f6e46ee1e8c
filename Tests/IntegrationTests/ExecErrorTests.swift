import Foundation
import XCTest

final class ExecErrorTests: RuntimeTestCase {
  func testMissingCommandIsNotFoundInPath() throws {
    let b = try env.bundle(["nosuchcmd"])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["executable file not found", "nosuchcmd"])
    assertStateRootEmpty()
  }

  func testMissingCommandFailsCreate() throws {
    let b = try env.bundle(["nosuchcmd"])
    let r = env.create(b, id: env.newID())
    assertOneErrorLine(r, contains: ["executable file not found"])
    assertStateRootEmpty()
  }

  func testMissingAbsolutePathIsNoSuchFile() throws {
    let b = try env.bundle(["/nonexistent"])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["no such file or directory", "/nonexistent"])
    assertStateRootEmpty()
  }

  func testNonExecutableFileIsPermissionDenied() throws {
    let b = try env.bundle(["/etc/passwd"])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["permission denied", "/etc/passwd"])
    assertStateRootEmpty()
  }
}
