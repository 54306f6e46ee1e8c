import Foundation
import XCTest

final class ExitCodeTests: RuntimeTestCase {
  func testRunPropagatesExitCode() throws {
    let b = try env.bundle(["sh", "-c", "exit 3"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 3, "\(r)")
  }

  func testRunReportsKillSignalAs128PlusSignal() throws {
    // Without a pid namespace: the kernel ignores a SIGKILL that a pid namespace's init sends itself.
    let b = try env.bundle(["sh", "-c", "kill -9 $$"])
    b.removeNamespace("pid")
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 137, "\(r)")
  }

  func testRunDetachReturnsZeroAndLeavesContainerRunning() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    let r = env.run(b, id: id, flags: ["--detach"])
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertEqual(env.status(id), "running")
    let pid = env.pid(id)
    XCTAssertGreaterThan(pid, 0)
    XCTAssertEqual(kill(pid, 0), 0, "container pid \(pid) is not alive")
  }
}
