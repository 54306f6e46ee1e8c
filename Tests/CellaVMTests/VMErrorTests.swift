import XCTest

@testable import CellaVM

final class VMErrorTests: XCTestCase {
  func testAMessageIsFoldedToOneLine() {
    XCTAssertEqual(VMError(.invalidArgument, "vm.machine: \"x\"\nis not known").message.contains("\n"), false)
  }
}
