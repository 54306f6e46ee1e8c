import CellaSys
import Dispatch
import Glibc
import Synchronization
import XCTest

@testable import CellaNet

final class IPAMStoreTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    var template = Array("/tmp/cella-ipam-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw SysError("mkdtemp") }
    dir = String(cString: template)
  }

  override func tearDownWithError() throws {
    try FileIO.removeTree(dir)
  }

  private func store(_ cidr: String = "10.0.3.0/24") throws -> IPAMStore {
    let subnet = try IPv4Subnet.parse(cidr)
    return try IPAMStore(directory: dir, network: "lan", subnet: subnet, gateway: subnet.gateway)
  }

  private func message(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch {
      return (error as? NetError)?.message
    }
  }

  func testAutoHandsOutTheLowestFreeHostAfterTheGatewayAndIsIdempotent() throws {
    let s = try store()
    XCTAssertEqual(try s.allocate(owner: "web/0", .auto).description, "10.0.3.2")
    XCTAssertEqual(try s.allocate(owner: "db/0", .auto).description, "10.0.3.3")
    XCTAssertEqual(try s.allocate(owner: "web/0", .auto).description, "10.0.3.2")
    try s.release(owner: "web/0")
    XCTAssertNil(try s.lookup(owner: "web/0"))
    XCTAssertEqual(try s.allocate(owner: "cache/0", .auto).description, "10.0.3.2")
  }

  func testLeasesSurviveInTheFileForTheNextStore() throws {
    _ = try store().allocate(owner: "web/0", .static(.parse("10.0.3.7")))
    _ = try store().allocate(owner: "db/0", .auto)
    XCTAssertEqual(try FileIO.readString("\(dir)/lan.addresses"), "10.0.3.2 db/0\n10.0.3.7 web/0\n")
    XCTAssertEqual(try store().lookup(owner: "web/0")?.description, "10.0.3.7")
    XCTAssertEqual(try store().leases().map(\.owner), ["db/0", "web/0"])
  }

  func testALeaseKeepsItsMACAndANewMACReplacesIt() throws {
    let first = MACAddress([2, 0, 0, 0, 0, 7])
    let second = MACAddress([2, 0, 0, 0, 0, 8])
    _ = try store().allocate(owner: "web/0", .auto, mac: first)
    _ = try store().allocate(owner: "db/0", .auto)
    XCTAssertEqual(try FileIO.readString("\(dir)/lan.addresses"), "10.0.3.2 web/0 02:00:00:00:00:07\n10.0.3.3 db/0\n")
    XCTAssertEqual(try store().allocate(owner: "web/0", .auto, mac: second).description, "10.0.3.2")
    XCTAssertEqual(try store().leases().map(\.mac), [second, nil])
    // A line whose MAC does not parse is refused, naming the file and line.
    try FileIO.write("\(dir)/lan.addresses", "10.0.3.2 web/0 02:zz\n")
    XCTAssertEqual(
      message { _ = try store().leases() },
      "\(dir)/lan.addresses:1: \"02:zz\" is not a MAC address; fix or remove the line")
  }

  func testAStaticAddressTakenByAnotherOwnerIsRefusedNamingTheHolder() throws {
    let s = try store()
    _ = try s.allocate(owner: "web", .static(.parse("10.0.3.7")))
    XCTAssertEqual(
      message { _ = try s.allocate(owner: "db", .static(.parse("10.0.3.7"))) },
      "address 10.0.3.7 on network lan is taken by web")
    XCTAssertEqual(
      message { _ = try s.allocate(owner: "web", .static(.parse("10.0.3.8"))) },
      "web already holds 10.0.3.7 on network lan; release it before asking for 10.0.3.8")
    XCTAssertEqual(try s.leases().count, 1)
  }

  func testAStaticAddressMustBeAFreeGuestAddressOfTheSubnet() throws {
    let s = try store()
    XCTAssertEqual(
      message { _ = try s.allocate(owner: "web", .static(.parse("10.0.3.1"))) },
      "address 10.0.3.1: the gateway of 10.0.3.0/24, not free for a guest")
    XCTAssertEqual(
      message { _ = try s.allocate(owner: "web", .static(.parse("10.0.4.1"))) },
      "address 10.0.4.1: outside the subnet 10.0.3.0/24")
    XCTAssertEqual(try s.leases(), [])
  }

  func testExhaustionIsOneLine() throws {
    let s = try store("10.0.3.8/29")
    let got = try (0..<5).map { try s.allocate(owner: "g\($0)", .auto).description }
    XCTAssertEqual(got, ["10.0.3.10", "10.0.3.11", "10.0.3.12", "10.0.3.13", "10.0.3.14"])
    XCTAssertEqual(
      message { _ = try s.allocate(owner: "g5", .auto) },
      "network lan (10.0.3.8/29): no free address; all 5 guest addresses are taken")
  }

  func testRefusesOwnersAndNamesThatWouldBreakTheFile() throws {
    XCTAssertEqual(
      message { _ = try store().allocate(owner: "a b", .auto) },
      "IPAM owner \"a b\": must be 1-255 bytes without spaces or control characters")
    XCTAssertThrowsError(
      try IPAMStore(directory: dir, network: "../x", subnet: .parse("10.0.0.0/24"), gateway: .parse("10.0.0.1")))
  }

  func testAnUnreadableLineStopsAllocationRatherThanReusingItsAddress() throws {
    try FileIO.writeAtomically(directory: dir, name: "lan.addresses", Array("10.0.3.2 web\ngarbage\n".utf8))
    XCTAssertEqual(
      message { _ = try store().allocate(owner: "db", .auto) },
      "\(dir)/lan.addresses:2: not ADDRESS OWNER [MAC]: \"garbage\"; fix or remove the line")
  }

  func testSixteenThreadsAllocatingAtOnceNeverShareAnAddress() throws {
    let directory = dir
    let subnet = try IPv4Subnet.parse("10.0.3.0/24")
    let results = Mutex<[String]>([])
    let failures = Mutex<[String]>([])
    // Each thread its own store value, as separate daemons or processes would have.
    DispatchQueue.concurrentPerform(iterations: 16) { t in
      do {
        let s = try IPAMStore(directory: directory, network: "lan", subnet: subnet, gateway: subnet.gateway)
        for i in 0..<8 {
          let a = try s.allocate(owner: "t\(t)/\(i)", .auto)
          results.withLock { $0.append(a.description) }
        }
      } catch {
        failures.withLock { $0.append("\(error)") }
      }
    }
    XCTAssertEqual(failures.withLock { $0 }, [])
    let got = results.withLock { $0 }
    XCTAssertEqual(got.count, 128)
    XCTAssertEqual(Set(got).count, 128, "an address was handed out twice")
    XCTAssertEqual(try store().leases().count, 128, "a lease was lost")
  }
}
