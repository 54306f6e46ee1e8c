import XCTest

@testable import CellaEngine
@testable import CellaRuntimeCore

/// The rtnetlink request that brings `lo` up, and the reading of the kernel's answer.
final class LoopbackTests: XCTestCase {
  func testUpRequestIsNewLinkWithIffUpOnTheIndex() throws {
    #if _endian(little)
      let expected: [UInt8] = [
        32, 0, 0, 0,  // nlmsg_len: header + ifinfomsg
        16, 0,  // RTM_NEWLINK
        5, 0,  // NLM_F_REQUEST | NLM_F_ACK
        7, 0, 0, 0,  // sequence
        0, 0, 0, 0,  // port id: the kernel's to fill
        0, 0, 0, 0,  // AF_UNSPEC, padding, ifi_type
        1, 0, 0, 0,  // ifindex
        1, 0, 0, 0,  // ifi_flags IFF_UP
        1, 0, 0, 0,  // ifi_change: IFF_UP only
      ]
      XCTAssertEqual(Loopback.upRequest(index: 1, sequence: 7), expected)
      XCTAssertEqual(Loopback.upRequest(index: 0x0102, sequence: 7)[20...23], [2, 1, 0, 0])
    #else
      throw XCTSkip("expected bytes are written for little-endian hosts")
    #endif
  }

  func testAcknowledgementIsErrnoZeroAndAnErrorIsItsErrno() {
    func reply(type: UInt16, sequence: UInt32, error: Int32) -> [UInt8] {
      var b: [UInt8] = []
      func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { b += $0 } }
      put(UInt32(36))
      put(type)
      put(UInt16(0))
      put(sequence)
      put(UInt32(0))
      put(error)
      b += Loopback.upRequest(index: 1, sequence: sequence).prefix(16)
      return b
    }
    XCTAssertEqual(Loopback.answer(reply(type: 2, sequence: 1, error: 0), sequence: 1), 0)
    XCTAssertEqual(Loopback.answer(reply(type: 2, sequence: 1, error: -EPERM), sequence: 1), EPERM)
    XCTAssertNil(Loopback.answer(reply(type: 2, sequence: 9, error: 0), sequence: 1), "another request's answer")
    XCTAssertNil(Loopback.answer(reply(type: 16, sequence: 1, error: 0), sequence: 1), "not an error message")
    XCTAssertNil(Loopback.answer([2, 0], sequence: 1), "truncated")
  }
}
