import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

final class LifecycleTests: RuntimeTestCase {
  func isAlive(_ pid: Int32) -> Bool {
    guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
  }

  func testCreateStartKillDelete() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    let c = env.create(b, id: id)
    XCTAssertEqual(c.status, 0, "\(c)")
    let created = env.state(id)
    XCTAssertEqual(created?["status"] as? String, "created")
    XCTAssertEqual(created?["id"] as? String, id)
    XCTAssertEqual(created?["bundle"] as? String, b.dir)
    let pid = (created?["pid"] as? NSNumber)?.int32Value ?? 0
    XCTAssertGreaterThan(pid, 0)
    XCTAssertTrue(isAlive(pid), "created container's pid \(pid) is not alive")

    let s = env.rt(["start", id])
    XCTAssertEqual(s.status, 0, "\(s)")
    XCTAssertEqual(env.status(id), "running")
    XCTAssertEqual(env.pid(id), pid)

    let k = env.rt(["kill", id, "KILL"])
    XCTAssertEqual(k.status, 0, "\(k)")
    env.waitForStatus(id, "stopped", timeout: 5)

    let d = env.rt(["delete", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    let gone = env.rt(["state", id])
    assertOneErrorLine(gone, contains: ["does not exist"])
    assertStateRootEmpty()
  }

  func testDeleteCreatedWithoutForceFails() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    XCTAssertEqual(env.create(b, id: id).status, 0)
    let pid = env.pid(id)
    let d = env.rt(["delete", id])
    assertOneErrorLine(d, contains: [id])
    XCTAssertEqual(env.status(id), "created")
    XCTAssertEqual(env.pid(id), pid)
    XCTAssertTrue(isAlive(pid))
    // Still startable.
    XCTAssertEqual(env.rt(["start", id]).status, 0)
    XCTAssertEqual(env.status(id), "running")
  }

  func testDeleteRunningWithoutForceFails() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    let d = env.rt(["delete", id])
    assertOneErrorLine(d, contains: [id])
    XCTAssertEqual(env.status(id), "running")
  }

  func testDeleteForceKillsRunningContainer() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    let pid = env.startDetached(b, id: id)
    let d = env.rt(["delete", "--force", id])
    XCTAssertEqual(d.status, 0, "\(d)")
    XCTAssertFalse(isAlive(pid))
    assertStateRootEmpty()
  }

  func testStartTwiceFails() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    let again = env.rt(["start", id])
    assertOneErrorLine(again, contains: [id])
    XCTAssertEqual(env.status(id), "running")
  }

  func testStartOfMissingContainerFails() throws {
    let r = env.rt(["start", "cella-t-nosuch"])
    assertOneErrorLine(r, contains: ["does not exist"])
  }

  func testKillAcceptsSignalNamesAndNumbers() throws {
    // sleep as pid 1 of its pid namespace ignores TERM (no handler), so it survives every TERM.
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    for signal in ["TERM", "SIGTERM", "15"] {
      let r = env.rt(["kill", id, signal])
      XCTAssertEqual(r.status, 0, "kill \(signal): \(r)")
    }
    XCTAssertEqual(env.status(id), "running")
    XCTAssertEqual(env.rt(["kill", id, "9"]).status, 0)
    env.waitForStatus(id, "stopped")
  }

  func testKillDefaultsToTERM() throws {
    let b = try env.bundle(["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    XCTAssertEqual(env.rt(["kill", id]).status, 0)
    env.waitForStatus(id, "stopped")
  }

  func testKillRejectsUnknownSignal() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    let r = env.rt(["kill", id, "SIGBOGUS"])
    assertOneErrorLine(r, contains: ["SIGBOGUS"])
    XCTAssertEqual(env.status(id), "running")
  }

  func testKillAllSignalsEveryProcess() throws {
    let b = try env.bundle(["sh", "-c", "sleep 100 & sleep 100 & wait"])
    let id = env.newID()
    let pid = env.startDetached(b, id: id)
    // Wait until both children exist.
    let deadline = Date().addingTimeInterval(5)
    while env.processesInRootfs().count < 3 && Date() < deadline { usleep(20_000) }
    let before = env.processesInRootfs()
    XCTAssertGreaterThanOrEqual(before.count, 3, "\(before)")
    let r = env.rt(["kill", "--all", id, "KILL"])
    XCTAssertEqual(r.status, 0, "\(r)")
    env.waitForStatus(id, "stopped")
    XCTAssertFalse(isAlive(pid))
    let end = Date().addingTimeInterval(3)
    while before.contains(where: isAlive) && Date() < end { usleep(20_000) }
    XCTAssertEqual(before.filter(isAlive), [])
  }

  func testKillOfCreatedContainerWorks() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    XCTAssertEqual(env.create(b, id: id).status, 0)
    XCTAssertEqual(env.rt(["kill", id, "KILL"]).status, 0)
    env.waitForStatus(id, "stopped")
    XCTAssertEqual(env.rt(["delete", id]).status, 0)
    assertStateRootEmpty()
  }

  func testCreateWithIDInUseFailsAndKeepsFirst() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    XCTAssertEqual(env.create(b, id: id).status, 0)
    let first = env.state(id)
    let again = env.create(b, id: id)
    assertOneErrorLine(again, contains: [id, "exists"])
    let after = env.state(id)
    XCTAssertEqual(after?["status"] as? String, "created")
    XCTAssertEqual(after?["pid"] as? NSNumber, first?["pid"] as? NSNumber)
    XCTAssertEqual(after?["created"] as? String, first?["created"] as? String)
    XCTAssertEqual(env.rt(["start", id]).status, 0)
    XCTAssertEqual(env.status(id), "running")
  }

  func testListQuietAndJSON() throws {
    let b = try env.bundle(["sleep", "100"])
    let ids = [env.newID("a"), env.newID("b")]
    XCTAssertEqual(env.create(b, id: ids[0]).status, 0)
    _ = env.startDetached(b, id: ids[1])

    let q = env.rt(["list", "-q"])
    XCTAssertEqual(q.status, 0, "\(q)")
    XCTAssertEqual(q.stdout.split(separator: "\n").map(String.init).sorted(), ids.sorted())

    let j = env.rt(["list", "--format", "json"])
    XCTAssertEqual(j.status, 0, "\(j)")
    let array = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]]
    XCTAssertEqual(array?.count, 2, j.stdout)
    var statuses: [String: String] = [:]
    for entry in array ?? [] {
      statuses[entry["id"] as? String ?? "?"] = entry["status"] as? String
      XCTAssertGreaterThan((entry["pid"] as? NSNumber)?.intValue ?? 0, 0)
      XCTAssertEqual(entry["bundle"] as? String, b.dir)
    }
    XCTAssertEqual(statuses, [ids[0]: "created", ids[1]: "running"])

    let table = env.rt(["list"])
    XCTAssertEqual(table.status, 0)
    XCTAssertTrue(table.stdout.hasPrefix("ID"), table.stdout)
  }

  func testListOfEmptyRootIsEmptyJSONArray() throws {
    let j = env.rt(["list", "--format", "json"])
    XCTAssertEqual(j.status, 0, "\(j)")
    let array = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [Any]
    XCTAssertEqual(array?.count, 0, j.stdout)
  }

  func testPidFileHoldsInitPID() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    let pidFile = env.tmp + "/init.pid"
    let r = env.create(b, id: id, flags: ["--pid-file", pidFile])
    XCTAssertEqual(r.status, 0, "\(r)")
    let text = try String(contentsOfFile: pidFile, encoding: .utf8)
    XCTAssertEqual(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), env.pid(id))
  }

  func testRunKeepLeavesStoppedContainer() throws {
    let b = try env.bundle(["sh", "-c", "exit 5"])
    let id = env.newID()
    let r = env.run(b, id: id, flags: ["--keep"])
    XCTAssertEqual(r.status, 5, "\(r)")
    XCTAssertEqual(env.status(id), "stopped")
    XCTAssertEqual(env.rt(["delete", id]).status, 0)
    assertStateRootEmpty()
  }

  func testRunWithoutKeepRemovesState() throws {
    let b = try env.bundle(["true"])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")
    assertStateRootEmpty()
  }

  func testCreatedContainerOutputGoesToCreateStdout() throws {
    let b = try env.bundle(["echo", "hello from start"])
    let id = env.newID()
    let out = env.tmp + "/container.out"
    XCTAssertEqual(env.create(b, id: id, stdoutPath: out).status, 0)
    XCTAssertEqual(env.rt(["start", id]).status, 0)
    env.waitForStatus(id, "stopped")
    XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "hello from start\n")
  }
}
