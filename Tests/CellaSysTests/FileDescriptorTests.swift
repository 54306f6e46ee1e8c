import CellaSys
import Glibc
import XCTest

final class FileDescriptorTests: XCTestCase {
  /// True when `fd` is open in this process.
  private func isOpen(_ fd: Int32) -> Bool {
    if fcntl(fd, F_GETFD) >= 0 { return true }
    XCTAssertEqual(errno, EBADF)
    return false
  }

  func testClosesWhenItsScopeEnds() throws {
    var raw: Int32 = -1
    do {
      let fd = try FileDescriptor.open("/dev/null")
      raw = fd.rawValue
      XCTAssertTrue(isOpen(raw))
    }
    XCTAssertFalse(isOpen(raw))
  }

  func testClosesWhenAThrowLeavesTheScope() throws {
    struct Boom: Error {}
    var raw: Int32 = -1
    XCTAssertThrowsError(
      try {
        let fd = try FileDescriptor.open("/dev/null")
        raw = fd.rawValue
        throw Boom()
      }())
    XCTAssertFalse(isOpen(raw))
  }

  func testReleaseHandsOverWithoutClosing() throws {
    var raw: Int32 = -1
    do {
      let fd = try FileDescriptor.open("/dev/null")
      raw = fd.release()
    }
    XCTAssertTrue(isOpen(raw))
    XCTAssertEqual(close(raw), 0)
  }

  func testClosesOnceSoAReusedNumberSurvives() throws {
    var other: Int32 = -1
    let source = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(source) }
    do {
      let fd = try FileDescriptor.open("/dev/null")
      let raw = fd.rawValue
      fd.close()
      XCTAssertFalse(isOpen(raw))
      // Reuse the number on purpose (dup2, not "the lowest free number": other threads of the test
      // process open fds too); leaving the scope must not close it.
      other = dup2(source, raw)
      XCTAssertEqual(other, raw)
    }
    XCTAssertTrue(isOpen(other))
    close(other)
  }

  func testOpenIsCloseOnExecAndNamesThePathWhenItFails() throws {
    let fd = try FileDescriptor.open("/dev/null")
    XCTAssertEqual(fcntl(fd.rawValue, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
    XCTAssertThrowsError(try FileDescriptor.open("/nonexistent/cella").release()) { error in
      XCTAssertEqual((error as? SysError)?.message, "open /nonexistent/cella: no such file or directory")
    }
  }

  func testOpenRelativeToAnOwnedDirectory() throws {
    let dev = try FileDescriptor.open("/dev", flags: O_PATH | O_DIRECTORY)
    let null = try FileDescriptor.open("null", flags: O_WRONLY, relativeTo: dev)
    XCTAssertEqual(write(null.rawValue, "x", 1), 1)
  }

  func testSocketAndPidfd() throws {
    let sock = try FileDescriptor.socket(domain: AF_UNIX, type: Int32(SOCK_SEQPACKET.rawValue))
    XCTAssertEqual(fcntl(sock.rawValue, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
    let me = try FileDescriptor.pidfd(getpid())
    XCTAssertTrue(isOpen(me.rawValue))
    XCTAssertThrowsError(try FileDescriptor.pidfd(-1).release())
  }
}
