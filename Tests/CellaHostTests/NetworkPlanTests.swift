import CellaAPI
import CellaNet
import XCTest

@testable import CellaHost

/// A new network's subnet, gateway and bridge name, checked against other networks and host routes.
final class NetworkPlanTests: XCTestCase {
  func record(_ name: String, _ subnet: String, bridge: String? = nil) throws -> NetworkRecord {
    let s = try IPv4Subnet.parse(subnet)
    return NetworkRecord(
      name: name, subnet: s, gateway: s.gateway, nat: true, isolated: false, bridge: bridge ?? "cb-\(name)",
      created: "t", phase: .ready)
  }

  let routes = IPv4RouteTable.parse(
    """
    Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
    eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0
    eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
    cb-lan\t0000D20A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
    """)

  func plan(_ request: CreateNetworkRequest, others: [NetworkRecord] = [], links: Set<String> = []) throws(HostError)
    -> NetworkPlan
  {
    try NetworkPlan.make(request, others: others, routes: routes, links: links)
  }

  func message(_ body: () throws(HostError) -> NetworkPlan) -> String {
    do {
      let p = try body()
      return "no error: \(p)"
    } catch { return error.message }
  }

  func testShortNamesGetCbPrefixAndLongOnesAHashedFifteenByteName() {
    XCTAssertEqual(BridgeName.derive(network: "lan", taken: []), "cb-lan")
    XCTAssertEqual(BridgeName.derive(network: "twelve-chars", taken: []), "cb-twelve-chars")
    let long = BridgeName.derive(network: "a-very-long-network-name", taken: [])
    XCTAssertEqual(long.utf8.count, 15, long)
    XCTAssertTrue(long.hasPrefix("cb-a-very-"), long)
    XCTAssertEqual(BridgeName.derive(network: "a-very-long-network-name", taken: []), long, "stable")
    // Pinned: a change of the hash would rename no recorded bridge, but would every new long one.
    XCTAssertEqual(long, "cb-a-very--53c2")
    XCTAssertNotEqual(BridgeName.derive(network: "a-very-long-network-other", taken: []), long)
    let other = BridgeName.derive(network: "a-very-long-network-name", taken: [long])
    XCTAssertNotEqual(other, long)
    XCTAssertEqual(other.utf8.count, 15)
    let maxName = String(repeating: "x", count: Names.maxLength)
    XCTAssertNoThrow(try NetlinkSocket.checked(BridgeName.derive(network: maxName, taken: [])))
  }

  func testATakenShortNameGetsTheHashedForm() {
    let name = BridgeName.derive(network: "lan", taken: ["cb-lan"])
    XCTAssertNotEqual(name, "cb-lan")
    XCTAssertTrue(name.hasPrefix("cb-lan-"), name)
  }

  func testWithoutSubnetAFreeSlash24AvoidingRoutesAndNetworksIsPicked() throws {
    let p = try plan(CreateNetworkRequest(name: "new"), others: [try record("lan", "10.210.0.0/24")])
    XCTAssertEqual(p.subnet.description, "10.210.1.0/24")
    XCTAssertEqual(p.gateway.description, "10.210.1.1")
    XCTAssertEqual(p.bridge, "cb-new")
  }

  func testAGivenSubnetAndGatewayAreTaken() throws {
    let p = try plan(CreateNetworkRequest(name: "new", subnet: "172.30.4.0/24", gateway: "172.30.4.254"))
    XCTAssertEqual(p.subnet.description, "172.30.4.0/24")
    XCTAssertEqual(p.gateway.description, "172.30.4.254")
  }

  func testBadSubnetsAndGatewaysAreOneLineEach() throws {
    let lan = try record("lan", "10.210.0.0/24")
    let cases: [(CreateNetworkRequest, String)] = [
      (
        CreateNetworkRequest(name: "n", subnet: "10.210.0.128/25"),
        "subnet 10.210.0.128/25: overlaps network \"lan\" (10.210.0.0/24)"
      ),
      (
        CreateNetworkRequest(name: "n", subnet: "10.0.3.0/24"),
        "subnet 10.0.3.0/24: overlaps the host's route to 10.0.0.0/16 on eth0; choose another subnet"
      ),
      (
        CreateNetworkRequest(name: "n", subnet: "172.30.0.0/30"),
        "subnet 172.30.0.0/30: too small for guests; the smallest is /29 (a gateway and five guests)"
      ),
      (
        CreateNetworkRequest(name: "n", subnet: "172.30.0.1/24"),
        "subnet \"172.30.0.1/24\": host bits are set; the network is 172.30.0.0/24"
      ),
      (
        CreateNetworkRequest(name: "n", subnet: "172.30.0.0/24", gateway: "172.30.1.1"),
        "gateway 172.30.1.1: outside the subnet 172.30.0.0/24"
      ),
      (
        CreateNetworkRequest(name: "n", subnet: "172.30.0.0/24", gateway: "172.30.0.255"),
        "gateway 172.30.0.255: the broadcast address of 172.30.0.0/24, not a host"
      ),
      (
        CreateNetworkRequest(name: "n", subnet: "172.30.0.0/24", gateway: "nope"),
        "gateway \"nope\": not an IPv4 address (expected four numbers 0-255, e.g. 10.0.0.2)"
      ),
      (
        CreateNetworkRequest(name: "n", gateway: "10.1.1.1"),
        "gateway: give the subnet it belongs to as well (--subnet)"
      ),
    ]
    for (request, expected) in cases {
      XCTAssertEqual(message { () throws(HostError) in try plan(request, others: [lan]) }, expected)
    }
  }

  func testTheRouteOfAnotherNetworksBridgeIsNamedAsThatNetwork() throws {
    // cb-lan's route (10.210.0.0/24) is lan's: the overlap is reported as the network, not as a host route.
    let lan = try record("lan", "10.210.0.0/24")
    XCTAssertEqual(
      message { () throws(HostError) in
        try plan(CreateNetworkRequest(name: "n", subnet: "10.210.0.0/24"), others: [lan])
      },
      "subnet 10.210.0.0/24: overlaps network \"lan\" (10.210.0.0/24)")
  }

  func testBridgeNamesOfOtherNetworksAndExistingLinksAreAvoided() throws {
    let p = try plan(CreateNetworkRequest(name: "lan2"), others: [], links: ["cb-lan2"])
    XCTAssertNotEqual(p.bridge, "cb-lan2")
  }
}
