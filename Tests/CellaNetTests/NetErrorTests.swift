import XCTest

@testable import CellaNet

final class NetErrorTests: XCTestCase {
  func testErrnoGivesTheKindAndOneLine() {
    let e = NetError("add link ctx0", errno: 17)
    XCTAssertEqual(e.kind, .alreadyExists)
    XCTAssertEqual(e.message, "add link ctx0: file exists")
  }
}
