import XCTest

@testable import CellaNet

final class IPv4AddressTests: XCTestCase {
  func testParsesAndPrintsDottedQuads() throws {
    let a = try IPv4Address.parse("10.210.3.7")
    XCTAssertEqual(a.value, 0x0AD2_0307)
    XCTAssertEqual(a.description, "10.210.3.7")
    XCTAssertEqual(IPv4Address(255, 255, 255, 255).description, "255.255.255.255")
    XCTAssertEqual(IPv4Address(0).description, "0.0.0.0")
  }

  func testRefusesMalformedTextInOneLine() {
    for bad in ["", "10.0.0", "10.0.0.0.1", "10.0.0.256", "10.0.0.-1", "10.0.0.x", "010.0.0.1", "10..0.1", " 10.0.0.1"]
    {
      XCTAssertNil(IPv4Address(bad), bad)
    }
    XCTAssertThrowsError(try IPv4Address.parse("10.0.0.256", what: "nic.0.ipv4")) { error in
      XCTAssertEqual(
        (error as? NetError)?.message,
        "nic.0.ipv4 \"10.0.0.256\": not an IPv4 address (expected four numbers 0-255, e.g. 10.0.0.2)")
    }
  }
}
