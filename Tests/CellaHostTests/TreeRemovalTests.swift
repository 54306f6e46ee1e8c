import Glibc
import XCTest

@testable import CellaHost

/// Removing a guest's directory works however deep its guest nested directories.
final class TreeRemovalTests: XCTestCase {
  func testATreeDeeperThanPathMaxAndTheFdLimitIsRemoved() throws {
    var template = Array("/tmp/cella-it-tree-XXXXXX".utf8CString)
    let top = String(cString: try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }))
    defer { rmdir(top) }
    // 3000 levels of "d/" is past PATH_MAX (4096) and past 1024 open fds; built through fds.
    var fd = open(top, O_RDONLY | O_DIRECTORY)
    XCTAssertGreaterThanOrEqual(fd, 0)
    for _ in 0..<3000 {
      XCTAssertEqual(mkdirat(fd, "d", 0o755), 0)
      let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
      close(fd)
      fd = next
    }
    XCTAssertEqual(openat(fd, "file", O_CREAT | O_WRONLY, 0o644) >= 0, true)
    close(fd)
    try TreeOps.remove(path: top + "/d")
    var st = stat()
    XCTAssertNotEqual(lstat(top + "/d", &st), 0, "the whole chain is gone")
  }
}
