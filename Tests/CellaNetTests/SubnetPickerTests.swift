import XCTest

@testable import CellaNet

final class SubnetPickerTests: XCTestCase {
  private func route(_ cidr: String) throws -> IPv4Route {
    IPv4Route(interface: "x", destination: try .parse(cidr), gateway: nil)
  }

  func testPicksTheFirstFreeSlash24FromTheDefaultStart() throws {
    XCTAssertEqual(try SubnetPicker.pick(routes: [], existing: []).description, "10.210.0.0/24")
  }

  func testIgnoresTheDefaultRouteButAvoidsEveryOtherRouteAndNetwork() throws {
    let routes = [try route("0.0.0.0/0"), try route("10.210.0.0/23"), try route("10.210.3.9/32")]
    let existing = [try IPv4Subnet.parse("10.210.2.0/24"), try IPv4Subnet.parse("10.210.4.0/22")]
    XCTAssertEqual(try SubnetPicker.pick(routes: routes, existing: existing).description, "10.210.8.0/24")
  }

  func testWrapsAroundThePool() throws {
    let existing = [
      try IPv4Subnet.parse("10.210.0.0/15"), try IPv4Subnet.parse("10.212.0.0/14"),
      try IPv4Subnet.parse("10.216.0.0/13"), try IPv4Subnet.parse("10.224.0.0/11"),
    ]
    XCTAssertEqual(try SubnetPicker.pick(routes: [], existing: existing).description, "10.0.0.0/24")
  }

  func testFailsInOneLineWhenThePoolIsFull() throws {
    let pool = try IPv4Subnet.parse("10.9.0.0/23")
    XCTAssertThrowsError(
      try SubnetPicker.pick(routes: [try route("10.9.0.0/24")], existing: [try .parse("10.9.1.0/24")], pool: pool)
    ) { error in
      XCTAssertEqual(
        (error as? NetError)?.message,
        "no free /24 in 10.9.0.0/23: host routes and other networks cover it all; give a subnet explicitly")
    }
  }
}
