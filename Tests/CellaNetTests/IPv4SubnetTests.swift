import XCTest

@testable import CellaNet

final class IPv4SubnetTests: XCTestCase {
  private func message(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch {
      return (error as? NetError)?.message
    }
  }

  func testParsesCIDRAndDerivesTheAddresses() throws {
    let s = try IPv4Subnet.parse("10.210.4.0/24")
    XCTAssertEqual(s.description, "10.210.4.0/24")
    XCTAssertEqual(s.netmask.description, "255.255.255.0")
    XCTAssertEqual(s.broadcast.description, "10.210.4.255")
    XCTAssertEqual(s.gateway.description, "10.210.4.1")
    XCTAssertEqual(s.firstHost.description, "10.210.4.1")
    XCTAssertEqual(s.lastHost.description, "10.210.4.254")
    XCTAssertEqual(s.size, 256)
    let all = try IPv4Subnet.parse("0.0.0.0/0")
    XCTAssertEqual(all.broadcast.description, "255.255.255.255")
    XCTAssertEqual(try IPv4Subnet.parse("192.0.2.7/32").lastHost.description, "192.0.2.7")
  }

  func testContainsAndOverlaps() throws {
    let s = try IPv4Subnet.parse("10.1.0.0/16")
    XCTAssertTrue(s.contains(try .parse("10.1.255.255")))
    XCTAssertFalse(s.contains(try .parse("10.2.0.0")))
    XCTAssertTrue(s.overlaps(try .parse("10.1.7.0/24")))
    XCTAssertTrue(try IPv4Subnet.parse("10.1.7.0/24").overlaps(s))
    XCTAssertTrue(s.overlaps(try .parse("0.0.0.0/0")))
    XCTAssertFalse(s.overlaps(try .parse("10.0.0.0/16")))
    XCTAssertFalse(try IPv4Subnet.parse("10.0.0.0/25").overlaps(try .parse("10.0.0.128/25")))
  }

  func testRefusesMalformedCIDRInOneLine() {
    for bad in [
      "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0/24", "10.0.0.0/24/1", "10.0.0.0/+8", "x/24", "10.0.0.0/024",
    ] {
      XCTAssertEqual(
        message { _ = try IPv4Subnet.parse(bad) },
        "subnet \"\(bad)\": not a CIDR subnet (expected ADDRESS/PREFIX, e.g. 10.210.0.0/24)")
    }
    XCTAssertEqual(
      message { _ = try IPv4Subnet.parse("10.0.3.5/24", what: "--subnet") },
      "--subnet \"10.0.3.5/24\": host bits are set; the network is 10.0.3.0/24")
  }

  func testRefusesSubnetsTooSmallForGuestsNamingTheMinimum() throws {
    XCTAssertNoThrow(try IPv4Subnet.parseGuestNetwork("10.0.0.8/29"))
    for text in ["10.0.0.4/30", "10.0.0.2/31", "10.0.0.1/32"] {
      XCTAssertEqual(
        message { _ = try IPv4Subnet.parseGuestNetwork(text) },
        "subnet \(text): too small for guests; the smallest is /29 (a gateway and five guests)")
    }
    XCTAssertEqual(
      message { _ = try IPv4Subnet.parseGuestNetwork("0.0.0.0/0") }, "subnet 0.0.0.0/0: too large; the largest is /8")
  }

  func testRefusesAGatewayOutsideTheSubnetOrOnItsEdges() throws {
    let s = try IPv4Subnet.parse("10.0.3.0/24")
    XCTAssertNoThrow(try s.checkGateway(.parse("10.0.3.254")))
    XCTAssertEqual(
      message { try s.checkGateway(.parse("10.0.4.1")) }, "gateway 10.0.4.1: outside the subnet 10.0.3.0/24")
    XCTAssertEqual(
      message { try s.checkGateway(.parse("10.0.3.0")) },
      "gateway 10.0.3.0: the network address of 10.0.3.0/24, not a host")
    XCTAssertEqual(
      message { try s.checkGateway(.parse("10.0.3.255")) },
      "gateway 10.0.3.255: the broadcast address of 10.0.3.0/24, not a host")
  }

  func testRefusesAStaticAddressOutsideOrOnNetworkGatewayOrBroadcast() throws {
    let s = try IPv4Subnet.parse("10.0.3.0/24")
    let gw = s.gateway
    XCTAssertNoThrow(try s.checkGuestAddress(.parse("10.0.3.7"), gateway: gw))
    let cases = [
      ("10.9.3.7", "nic.0.ipv4 10.9.3.7: outside the subnet 10.0.3.0/24"),
      ("10.0.3.0", "nic.0.ipv4 10.0.3.0: the network address of 10.0.3.0/24, not a host"),
      ("10.0.3.1", "nic.0.ipv4 10.0.3.1: the gateway of 10.0.3.0/24, not free for a guest"),
      ("10.0.3.255", "nic.0.ipv4 10.0.3.255: the broadcast address of 10.0.3.0/24, not a host"),
    ]
    for (text, expected) in cases {
      XCTAssertEqual(message { try s.checkGuestAddress(.parse(text), gateway: gw, what: "nic.0.ipv4") }, expected)
    }
  }
}
