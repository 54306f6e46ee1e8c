import XCTest

@testable import CellaEngine
@testable import CellaRuntimeCore

/// Messages between the runtime and init survive encoding, and garbage is not mistaken for one.
final class InitMessageTests: XCTestCase {
  func testEveryMessageRoundTrips() {
    let all: [InitMessage] = [
      .go, .needMaps(pid: 42), .mapsWritten, .initPID(7), .mountsReady, .proceed(state: "{\"a\":1}"), .ready,
      .committed, .error("exec: \"x\": executable file not found in $PATH"), .start(state: "{}"),
    ]
    for message in all { XCTAssertEqual(InitMessage(message.bytes), message) }
  }

  func testUnknownTagOrEmptyMessageIsRejected() {
    XCTAssertNil(InitMessage([]))
    XCTAssertNil(InitMessage([200]))
    XCTAssertNil(InitMessage([2] + Array("notapid".utf8)))
  }
}
