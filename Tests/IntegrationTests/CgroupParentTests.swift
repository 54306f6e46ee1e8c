import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 8: `delete` removes every cgroup directory its `create` made, in every hierarchy, and only
/// those: a parent that was there before, or that another container still uses, stays.
final class CgroupParentTests: RuntimeTestCase {
  private func exists(_ path: String) -> Bool { SuiteRun.isDirectory(path) }

  /// A container under `cgroupsPath`, created (init waits for `start`).
  private func createContainer(cgroupsPath: String, file: StaticString = #filePath, line: UInt = #line) throws
    -> String
  {
    let b = try env.bundle(["sleep", "30"])
    b.editLinux { $0["cgroupsPath"] = cgroupsPath }
    let id = env.newID()
    let r = env.create(b, id: id, file: file, line: line)
    XCTAssertEqual(r.status, 0, "\(r)", file: file, line: line)
    return id
  }

  private func delete(_ id: String, file: StaticString = #filePath, line: UInt = #line) {
    let r = env.rt(["delete", "--force", id], file: file, line: line)
    XCTAssertEqual(r.status, 0, "\(r)", file: file, line: line)
  }

  /// The only test that uses the runtime's default parent: a relative cgroupsPath lands under it.
  func testRelativePathLeavesNeitherItsIntermediateDirectoryNorAParentCreateMade() throws {
    let top = SuiteRun.runtimeDefaultParent
    let middle = "\(SuiteRun.idPrefix)-rel\(TestEnvironment.randomSuffix(4))"
    let hadTop = Dictionary(uniqueKeysWithValues: SuiteRun.cgroupDirectories(top).map { ($0, exists($0)) })
    defer {
      // Whatever a failure left: the intermediate directory, and the default parent if this test made it.
      SuiteRun.cgroupDirectories("\(top)/\(middle)").forEach(SuiteRun.removeCgroupTree)
      for (dir, had) in hadTop where !had { rmdir(dir) }
    }
    let id = try createContainer(cgroupsPath: "\(middle)/x")
    for dir in SuiteRun.cgroupDirectories("\(top)/\(middle)/x") { XCTAssertTrue(exists(dir), dir) }
    delete(id)
    for dir in SuiteRun.cgroupDirectories("\(top)/\(middle)") { XCTAssertFalse(exists(dir), "\(dir) left behind") }
    for (dir, had) in hadTop {
      // Another container (not the suite's) may use the default parent; then it was there before and stays.
      XCTAssertEqual(exists(dir), had, had ? "\(dir) was there before and must stay" : "\(dir) left behind")
    }
  }

  func testNestedAbsolutePathRemovesWhatCreateMadeAndKeepsTheParentThatWasThere() throws {
    let a = "/\(SuiteRun.idPrefix)-a\(TestEnvironment.randomSuffix(4))"
    for dir in SuiteRun.cgroupDirectories(a) { XCTAssertEqual(mkdir(dir, 0o755), 0, dir) }
    defer { SuiteRun.cgroupDirectories(a).forEach(SuiteRun.removeCgroupTree) }
    let id = try createContainer(cgroupsPath: "\(a)/b/c")
    for dir in SuiteRun.cgroupDirectories("\(a)/b/c") { XCTAssertTrue(exists(dir), dir) }
    delete(id)
    for dir in SuiteRun.cgroupDirectories("\(a)/b") { XCTAssertFalse(exists(dir), "\(dir) left behind") }
    for dir in SuiteRun.cgroupDirectories(a) { XCTAssertTrue(exists(dir), "\(dir) was there before and must stay") }
  }

  /// The shared parent stays while either container lives, whichever of them made it.
  func testASharedParentStaysForTheOtherContainerAndGoesWithTheLastOne() throws {
    for creatorFirst in [true, false] {
      let top = "/\(SuiteRun.idPrefix)-s\(TestEnvironment.randomSuffix(4))"
      defer { SuiteRun.cgroupDirectories(top).forEach(SuiteRun.removeCgroupTree) }
      let first = try createContainer(cgroupsPath: "\(top)/shared/one")
      let second = try createContainer(cgroupsPath: "\(top)/shared/two")
      delete(creatorFirst ? first : second)
      for dir in SuiteRun.cgroupDirectories("\(top)/shared") {
        XCTAssertTrue(exists(dir), "\(dir) removed while a container uses it (creator first: \(creatorFirst))")
      }
      delete(creatorFirst ? second : first)
      for dir in SuiteRun.cgroupDirectories(top) {
        XCTAssertFalse(exists(dir), "\(dir) left behind (creator first: \(creatorFirst))")
      }
    }
  }
}

/// A cgroup that exists before `create` is not the container's: create refuses one that holds processes
/// or child cgroups (as runc 1.2 does), and delete never kills or removes what was there before.
final class ForeignCgroupTests: RuntimeTestCase {
  private func exists(_ path: String) -> Bool { SuiteRun.isDirectory(path) }

  /// A host `sleep` moved into `cgroup` in every hierarchy but cpuset (whose new cgroups have no cpus).
  private func hostSleeper(in cgroup: String) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sleep")
    p.arguments = ["300"]
    try p.run()
    for dir in SuiteRun.cgroupDirectories(cgroup) where !dir.hasPrefix("/sys/fs/cgroup/cpuset/") {
      XCTAssertNoThrow(
        try "\(p.processIdentifier)".write(toFile: "\(dir)/cgroup.procs", atomically: false, encoding: .utf8), dir)
    }
    return p
  }

  private func stop(_ p: Process) {
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
  }

  func testCreateRefusesACgroupHoldingAHostProcessAndLeavesProcessAndCgroupAlone() throws {
    let victim = "/\(SuiteRun.idPrefix)-victim\(TestEnvironment.randomSuffix(4))"
    for dir in SuiteRun.cgroupDirectories(victim) { XCTAssertEqual(mkdir(dir, 0o755), 0, dir) }
    for dir in SuiteRun.cgroupDirectories(victim + "/child") { XCTAssertEqual(mkdir(dir, 0o755), 0, dir) }
    defer { SuiteRun.cgroupDirectories(victim).forEach(SuiteRun.removeCgroupTree) }
    let sleeper = try hostSleeper(in: victim + "/child")
    defer { stop(sleeper) }
    let b = try env.bundle(["true"])
    b.editLinux { $0["cgroupsPath"] = victim }
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["linux.cgroupsPath", victim, "already holds 1 process"])
    usleep(100_000)
    XCTAssertTrue(sleeper.isRunning, "create killed a host process in a cgroup it did not make")
    for dir in SuiteRun.cgroupDirectories(victim + "/child") { XCTAssertTrue(exists(dir), "\(dir) was removed") }
    assertStateRootEmpty()
  }

  func testCreateRefusesACgroupWithChildCgroups() throws {
    let parent = "/\(SuiteRun.idPrefix)-kids\(TestEnvironment.randomSuffix(4))"
    for dir in SuiteRun.cgroupDirectories(parent) { XCTAssertEqual(mkdir(dir, 0o755), 0, dir) }
    for dir in SuiteRun.cgroupDirectories(parent + "/child") { XCTAssertEqual(mkdir(dir, 0o755), 0, dir) }
    defer { SuiteRun.cgroupDirectories(parent).forEach(SuiteRun.removeCgroupTree) }
    let b = try env.bundle(["true"])
    b.editLinux { $0["cgroupsPath"] = parent }
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["linux.cgroupsPath", parent, "child cgroup"])
    for dir in SuiteRun.cgroupDirectories(parent + "/child") { XCTAssertTrue(exists(dir), "\(dir) was removed") }
    assertStateRootEmpty()
  }

  func testASecondContainerOnTheSameCgroupIsRefusedAndTheFirstKeepsRunning() throws {
    let shared = "/\(SuiteRun.idPrefix)-same\(TestEnvironment.randomSuffix(4))"
    defer { SuiteRun.cgroupDirectories(shared).forEach(SuiteRun.removeCgroupTree) }
    let b1 = try env.bundle(["sleep", "30"])
    b1.editLinux { $0["cgroupsPath"] = shared }
    let s1 = env.newID("s1")
    XCTAssertEqual(env.run(b1, id: s1, flags: ["-d"]).status, 0)
    let b2 = try env.bundle(["sleep", "30"])
    b2.editLinux { $0["cgroupsPath"] = shared }
    let s2 = env.newID("s2")
    let r = env.run(b2, id: s2, flags: ["-d"])
    assertOneErrorLine(r, contains: ["linux.cgroupsPath", shared, "already holds"])
    env.rt(["delete", "--force", s2])
    XCTAssertEqual(env.status(s1), "running", "the first container was hurt by the second's create or delete")
    XCTAssertEqual(env.rt(["delete", "--force", s1]).status, 0)
    for dir in SuiteRun.cgroupDirectories(shared) { XCTAssertFalse(exists(dir), "\(dir) left behind") }
  }

  /// A stopped container's cgroup is empty but still its own: deleting it would end the newcomer.
  func testAStoppedContainersCgroupIsNotTakenByAnother() throws {
    let shared = "/\(SuiteRun.idPrefix)-kept\(TestEnvironment.randomSuffix(4))"
    defer { SuiteRun.cgroupDirectories(shared).forEach(SuiteRun.removeCgroupTree) }
    let b1 = try env.bundle(["true"])
    b1.editLinux { $0["cgroupsPath"] = shared }
    let s1 = env.newID("s1")
    XCTAssertEqual(env.run(b1, id: s1, flags: ["-d"]).status, 0)
    env.waitForStatus(s1, "stopped")
    let b2 = try env.bundle(["sleep", "30"])
    b2.editLinux { $0["cgroupsPath"] = shared }
    let r = env.run(b2, id: env.newID("s2"), flags: ["-d"])
    assertOneErrorLine(r, contains: ["linux.cgroupsPath", shared, "is the cgroup of container \"\(s1)\""])
    XCTAssertEqual(env.rt(["delete", s1]).status, 0)
    for dir in SuiteRun.cgroupDirectories(shared) { XCTAssertFalse(exists(dir), "\(dir) left behind") }
  }

  /// An empty cgroup made beforehand may hold the container; delete ends the container's processes
  /// in it but leaves the directory to whoever made it.
  func testAnEmptyCgroupMadeBeforehandIsUsedAndKept() throws {
    let given = "/\(SuiteRun.idPrefix)-given\(TestEnvironment.randomSuffix(4))"
    for dir in SuiteRun.cgroupDirectories(given) { XCTAssertEqual(mkdir(dir, 0o755), 0, dir) }
    defer { SuiteRun.cgroupDirectories(given).forEach(SuiteRun.removeCgroupTree) }
    let b = try env.bundle(["sh", "-c", "sleep 300 & exec sleep 300"])
    b.editLinux {
      $0["cgroupsPath"] = given
      // Without a pid namespace of its own, the container's other processes die only through its cgroup.
      $0["namespaces"] = ($0["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "pid" }
    }
    let id = env.newID()
    let pid = env.startDetached(b, id: id)
    XCTAssertGreaterThan(pid, 0)
    XCTAssertEqual(env.rt(["delete", "--force", id]).status, 0)
    for dir in SuiteRun.cgroupDirectories(given) {
      XCTAssertTrue(exists(dir), "\(dir) was there before and must stay")
      let procs = (try? String(contentsOfFile: "\(dir)/cgroup.procs", encoding: .utf8)) ?? ""
      XCTAssertEqual(
        procs.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(dir) still holds the container's processes")
    }
  }
}
