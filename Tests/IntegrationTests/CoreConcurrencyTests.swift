import CellaRuntimeCore
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// CellaRuntimeCore is what a threaded daemon links: its verbs must work when called from several
/// threads at once, in a process that is not single-threaded and not the containers' parent.
final class CoreConcurrencyTests: RuntimeTestCase {
  func testCoreStateListKillDeleteFromEightThreadsAtOnceLeaveNothing() throws {
    let count = 8
    var made: [String] = []
    for i in 0..<count {
      // Two children besides init; every other container shares the host's pid namespace, so its
      // children outlive init and delete must kill them and wait for them to leave the cgroup.
      let b = try env.bundle(["sh", "-c", "sleep 100 & sleep 100 & wait"])
      if i % 2 == 1 { b.removeNamespace("pid") }
      let id = env.newID("mt\(i)")
      let c = env.create(b, id: id)
      XCTAssertEqual(c.status, 0, "\(c)")
      if i % 4 < 2 {
        let s = env.rt(["start", id])
        XCTAssertEqual(s.status, 0, "\(s)")
      }
      made.append(id)
    }
    let core = Lifecycle(store: StateStore(root: env.stateRoot), log: Logger(path: env.tmp + "/core.log"))
    let ids = made
    let records = try ids.map { id throws(RuntimeError) in try core.store.load(id) }
    let problems = Problems()
    let fail = problems.add

    DispatchQueue.concurrentPerform(iterations: count) { i in
      let id = ids[i]
      do {
        let expected = i % 4 < 2 ? "running" : "created"
        let state = try core.state(id: id)
        if state.status != expected { fail("\(id): state says \(state.status), not \(expected)") }
        if !core.list().contains(where: { $0.id == id }) { fail("\(id): missing from list") }
        if i % 2 == 0 { try core.kill(id: id, signal: SIGKILL, all: true) }
        try core.delete(id: id, force: true)
        do {
          _ = try core.state(id: id)
          fail("\(id): state still answers after delete")
        } catch {}
      } catch { fail("\(id): \(error)") }
    }

    XCTAssertEqual(problems.all, [])
    XCTAssertEqual(core.list().map(\.id).filter(ids.contains), [])
    assertStateRootEmpty()
    for record in records {
      XCTAssertFalse(record.initIsAlive, "\(record.id): init \(record.pid) is alive")
      for dir in SuiteRun.cgroupDirectories(record.cgroupPath ?? "/") where record.cgroupPath != nil {
        XCTAssertFalse(SuiteRun.isDirectory(dir), "\(record.id): cgroup \(dir) left behind")
      }
    }
    XCTAssertEqual(env.processesInRootfs(), [], "container processes left behind")
  }
}

/// What the threads found wrong, collected under a lock.
private final class Problems: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [String] = []

  @Sendable func add(_ text: String) { lock.withLock { list.append(text) } }
  var all: [String] { lock.withLock { list } }
}
