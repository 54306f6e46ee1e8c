import XCTest

@testable import CellaNet

final class IPv4RouteTableTests: XCTestCase {
  // As a little-endian kernel prints it (columns separated by tabs, lines padded with spaces).
  static let sample = """
    Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       
    eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                               
    eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               
    docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0                                                                               
    down0\t0000A8C0\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               
    odd0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0                                                                               
    short\t0000A8C0

    """

  func testParsesLittleEndianWordsIntoRoutes() throws {
    let routes = IPv4RouteTable.parse(Self.sample)
    XCTAssertEqual(
      routes.map { "\($0.interface) \($0.destination) \($0.gateway.map(\.description) ?? "-")" },
      ["eth0 0.0.0.0/0 192.0.2.1", "eth0 192.0.2.0/24 -", "docker0 172.17.0.0/16 -"])
  }

  func testReadsThisNamespacesTable() throws {
    // Every namespace has a table (perhaps empty); this only proves the path and the parse meet.
    XCTAssertNoThrow(try IPv4RouteTable.read())
    XCTAssertThrowsError(try IPv4RouteTable.read(path: "/nonexistent/route")) { error in
      XCTAssertEqual((error as? NetError)?.kind, .notFound)
    }
  }
}
