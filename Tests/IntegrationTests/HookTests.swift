import Foundation
import XCTest

final class HookTests: RuntimeTestCase {
  /// A hook that appends "NAME STATUS" (status read from the state on stdin) to LOG: args [path, NAME, LOG].
  static let logHook = """
    status=$(tr -d '\\n' | sed -n 's/.*"status" *: *"\\([a-z]*\\)".*/\\1/p')
    echo "$1 $status" >> "$2"
    """

  func readLines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
  }

  func testHooksRunInOrderWithStatuses() throws {
    let rootfs = try env.copyRootfs()
    let hook = env.tmp + "/hook.sh"
    let log = env.tmp + "/hooks.log"
    try env.writeScript(hook, Self.logHook)
    try env.writeScript(rootfs + "/hook.sh", Self.logHook)

    let b = try env.bundle(["sleep", "100"])
    b.setRoot(rootfs, readonly: false)
    for point in ["prestart", "createRuntime", "createContainer", "poststart", "poststop"] {
      b.addHook(point, path: hook, args: ["hook.sh", point, log])
    }
    b.addHook("startContainer", path: "/hook.sh", args: ["hook.sh", "startContainer", "/hooks.log"])
    let id = env.newID()

    let c = env.create(b, id: id)
    XCTAssertEqual(c.status, 0, "\(c)")
    XCTAssertEqual(readLines(log), ["prestart created", "createRuntime created", "createContainer created"])
    XCTAssertEqual(readLines(rootfs + "/hooks.log"), [], "startContainer ran before start")

    let s = env.rt(["start", id])
    XCTAssertEqual(s.status, 0, "\(s)")
    XCTAssertEqual(readLines(rootfs + "/hooks.log"), ["startContainer created"])
    XCTAssertEqual(readLines(log).last, "poststart running", "poststart must run during start")

    XCTAssertEqual(env.rt(["kill", id, "KILL"]).status, 0)
    env.waitForStatus(id, "stopped")
    let d = env.rt(["delete", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    XCTAssertEqual(
      readLines(log),
      ["prestart created", "createRuntime created", "createContainer created", "poststart running", "poststop stopped"])
  }

  func testHookTimeoutFailsCreate() throws {
    let b = try env.bundle(["sleep", "100"])
    b.addHook("prestart", path: "/bin/sleep", args: ["sleep", "5"], timeout: 1)
    let start = Date()
    let r = env.create(b, id: env.newID())
    let elapsed = Date().timeIntervalSince(start)
    assertOneErrorLine(r, contains: ["prestart", "timed out"])
    XCTAssertLessThan(elapsed, 4, "create took \(elapsed) s with a 1 s hook timeout")
    assertStateRootEmpty()
  }

  func testFailingPrestartHookFailsCreate() throws {
    let b = try env.bundle(["sleep", "100"])
    b.addHook("prestart", path: "/bin/sh", args: ["sh", "-c", "echo boom >&2; exit 3"])
    let r = env.create(b, id: env.newID())
    assertOneErrorLine(r, contains: ["prestart", "/bin/sh", "3", "boom"])
    assertStateRootEmpty()
  }

  func testFailingCreateRuntimeHookRunsPoststop() throws {
    let hook = env.tmp + "/hook.sh"
    let log = env.tmp + "/hooks.log"
    try env.writeScript(hook, Self.logHook)
    let b = try env.bundle(["sleep", "100"])
    b.addHook("createRuntime", path: "/bin/false")
    b.addHook("poststop", path: hook, args: ["hook.sh", "poststop", log])
    let r = env.create(b, id: env.newID())
    assertOneErrorLine(r, contains: ["createRuntime"])
    assertStateRootEmpty()
    XCTAssertEqual(readLines(log).map { $0.split(separator: " ").first.map(String.init) ?? "" }, ["poststop"])
  }

  func testFailingCreateContainerHookRunsPoststopWithStatusStopped() throws {
    let hook = env.tmp + "/hook.sh"
    let log = env.tmp + "/hooks.log"
    try env.writeScript(hook, Self.logHook)
    let b = try env.bundle(["sleep", "100"])
    b.addHook("createContainer", path: "/bin/false")
    b.addHook("poststop", path: hook, args: ["hook.sh", "poststop", log])
    let r = env.create(b, id: env.newID())
    assertOneErrorLine(r, contains: ["createContainer"])
    assertStateRootEmpty()
    XCTAssertEqual(readLines(log), ["poststop stopped"])
  }

  func testFailingPoststopHookDoesNotFailDelete() throws {
    let hook = env.tmp + "/hook.sh"
    let log = env.tmp + "/hooks.log"
    try env.writeScript(hook, Self.logHook)
    let b = try env.bundle(["sleep", "100"])
    b.addHook("poststop", path: "/bin/sh", args: ["sh", "-c", "exit 1"])
    b.addHook("poststop", path: hook, args: ["hook.sh", "second", log])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    XCTAssertEqual(env.rt(["kill", id, "KILL"]).status, 0)
    env.waitForStatus(id, "stopped")
    let d = env.rt(["delete", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    XCTAssertEqual(readLines(log), ["second stopped"])
    assertStateRootEmpty()
  }

  func testFailingPoststartHookDoesNotFailStart() throws {
    let b = try env.bundle(["sleep", "100"])
    b.addHook("poststart", path: "/bin/false")
    let id = env.newID()
    XCTAssertEqual(env.create(b, id: id).status, 0)
    let s = env.rt(["start", id])
    XCTAssertEqual(s.status, 0, "\(s)")
    XCTAssertEqual(env.status(id), "running")
  }

  func testHookThatIgnoresStdinDoesNotKillRuntime() throws {
    // The runtime writes the state to a hook's stdin; a hook that exits without reading it must not
    // kill the runtime with SIGPIPE (exit 141, no error line).
    let b = try env.bundle(["sleep", "100"])
    b.addHook("prestart", path: "/bin/true")
    b.addHook("createRuntime", path: "/bin/true")
    for _ in 0..<5 {
      let r = env.create(b, id: env.newID())
      XCTAssertEqual(r.status, 0, "\(r)")
    }
  }
}
