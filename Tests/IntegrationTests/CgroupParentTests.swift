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
