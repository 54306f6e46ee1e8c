import CellaSys
import Glibc
import XCTest

@testable import CellaNet

/// The request loop against a datagram socketpair that plays the kernel.
final class NetlinkSocketTests: XCTestCase {
  private func pair(timeout: Int32) throws -> (NetlinkSocket, Int32) {
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds), 0)
    return (NetlinkSocket(adopting: fds[0], timeoutMilliseconds: timeout), fds[1])
  }

  private func answer(_ fd: Int32, sequence: UInt32, code: Int32) {
    let payload = NetlinkBytes.native(-code) + LinkRequests.delete("ctq0").encoded(sequence: sequence).prefix(16)
    let bytes =
      NetlinkBytes.native(UInt32(16 + payload.count)) + NetlinkBytes.native(Netlink.Message.error)
      + NetlinkBytes.native(Netlink.Flag.capped) + NetlinkBytes.native(sequence) + NetlinkBytes.native(UInt32(0))
      + payload
    XCTAssertEqual(bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }, bytes.count)
  }

  func testARequestNobodyAnswersTimesOutNamingIt() throws {
    let (socket, kernel) = try pair(timeout: 100)
    defer { close(kernel) }
    let start = ContinuousClock.now
    XCTAssertThrowsError(try socket.deleteLink("ctq0")) { error in
      XCTAssertEqual(
        (error as? NetError)?.message, "delete link ctq0: no answer from the kernel within 100 ms")
    }
    XCTAssertLessThan(start.duration(to: .now), .seconds(2))
  }

  func testAnswersToOtherSequenceNumbersAreSkipped() throws {
    let (socket, kernel) = try pair(timeout: 2000)
    defer { close(kernel) }
    // The first request is number 1: a stale error for number 0 must not count as its answer.
    answer(kernel, sequence: 0, code: EEXIST)
    answer(kernel, sequence: 1, code: 0)
    XCTAssertNoThrow(try socket.deleteLink("ctq0"))
    answer(kernel, sequence: 2, code: ENODEV)
    XCTAssertThrowsError(try socket.deleteLink("ctq0")) { error in
      XCTAssertEqual((error as? NetError)?.kind, .notFound)
      XCTAssertEqual((error as? NetError)?.message, "delete link ctq0: no such device")
    }
  }
}
