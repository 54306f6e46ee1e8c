import CellaSys
import Foundation
import Glibc
import XCTest

/// `InRoot` keeps every lookup and every created directory inside the root, whatever the symlinks say.
final class InRootTests: XCTestCase {
  var base = ""
  var root = ""
  var rootFD: Int32 = -1

  override func setUpWithError() throws {
    base = NSTemporaryDirectory() + "cella-inroot-\(UUID().uuidString)"
    root = base + "/root"
    try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
    rootFD = open(root, O_PATH | O_DIRECTORY)
    XCTAssertGreaterThanOrEqual(rootFD, 0)
  }

  override func tearDownWithError() throws {
    close(rootFD)
    try? FileManager.default.removeItem(atPath: base)
  }

  private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

  func testMkdirAllCreatesNestedDirectoriesInsideTheRoot() throws {
    let fd = try InRoot.mkdirAll(root: rootFD, "/a/b/c")
    close(fd)
    XCTAssertTrue(exists(root + "/a/b/c"))
  }

  func testAbsoluteSymlinkToSlashResolvesToTheRootNotTheHost() throws {
    symlink("/", root + "/evil")
    let marker = "cella-inroot-marker-\(UUID().uuidString)"
    let fd = try InRoot.mkdirAll(root: rootFD, "/evil/\(marker)")
    close(fd)
    XCTAssertTrue(exists(root + "/\(marker)"))
    XCTAssertFalse(exists("/\(marker)"))
  }

  func testRelativeDotDotSymlinkIsClampedAtTheRoot() throws {
    symlink("../../../../../..", root + "/up")
    let marker = "cella-inroot-marker-\(UUID().uuidString)"
    let fd = try InRoot.mkdirAll(root: rootFD, "/up/tmp/\(marker)")
    close(fd)
    XCTAssertTrue(exists(root + "/tmp/\(marker)"))
    XCTAssertFalse(exists("/tmp/\(marker)"))
  }

  func testDanglingSymlinkTargetIsCreatedInsideTheRoot() throws {
    let marker = "/tmp/cella-inroot-dangling-\(UUID().uuidString)"
    symlink(marker, root + "/dangling")
    let fd = try InRoot.mkdirAll(root: rootFD, "/dangling/sub")
    close(fd)
    XCTAssertTrue(exists(root + marker + "/sub"))
    XCTAssertFalse(exists(marker))
  }

  func testDotDotInThePathCannotClimbOutOfTheRoot() throws {
    let fd = try InRoot.mkdirAll(root: rootFD, "/../../etc/../x")
    close(fd)
    XCTAssertTrue(exists(root + "/x"))
  }

  func testMagicLinksAreRefused() {
    let hostRoot = open("/", O_PATH | O_DIRECTORY)
    defer { close(hostRoot) }
    XCTAssertThrowsError(try InRoot.open(root: hostRoot, "/proc/self/fd/0")) { error in
      XCTAssertEqual((error as? SysError)?.errno, ELOOP)
    }
  }

  func testEnsureFileCreatesAnEmptyFileAndItsParents() throws {
    symlink("/", root + "/evil")
    let fd = try InRoot.ensureFile(root: rootFD, "/evil/etc/conf/file")
    close(fd)
    var st = stat()
    XCTAssertEqual(lstat(root + "/etc/conf/file", &st), 0)
    XCTAssertEqual(st.st_mode & S_IFMT, S_IFREG)
  }

  func testComponentsCleansDotsAndClampsDotDot() {
    XCTAssertEqual(InRoot.components("/a/./b/../../../c//d/"), ["c", "d"])
  }
}
