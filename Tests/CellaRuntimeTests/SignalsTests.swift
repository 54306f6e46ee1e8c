import CellaSys
import XCTest

/// `kill` accepts signals the way runc does: names with or without SIG, any case, and numbers.
final class SignalsTests: XCTestCase {
  func testNamesAndNumbersParse() {
    XCTAssertEqual(Signals.parse("KILL"), 9)
    XCTAssertEqual(Signals.parse("SIGKILL"), 9)
    XCTAssertEqual(Signals.parse("term"), 15)
    XCTAssertEqual(Signals.parse("15"), 15)
    XCTAssertEqual(Signals.parse("RTMIN+2"), 36)
  }

  func testUnknownSignalsAreRejected() {
    XCTAssertNil(Signals.parse("BOGUS"))
    XCTAssertNil(Signals.parse("0"))
    XCTAssertNil(Signals.parse("65"))
    XCTAssertNil(Signals.parse("RTMIN+40"))
  }

  func testRealTimeOffsetsAtTheIntegerLimitsAreUnknownNotATrap() {
    XCTAssertNil(Signals.parse("RTMIN+2147483647"))
    XCTAssertNil(Signals.parse("RTMAX--2147483648"))
    XCTAssertNil(Signals.parse("RTMAX-31"))
    XCTAssertEqual(Signals.parse("RTMAX-30"), 34)
  }
}
