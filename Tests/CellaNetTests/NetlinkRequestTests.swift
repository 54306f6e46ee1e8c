import XCTest

@testable import CellaNet

/// The bytes of each request, laid out by hand from linux/rtnetlink.h and checked against what `ip`
/// sends for the same command under strace (`ip` leaves the NUL off kinds; the kernel takes both).
/// x86-64 and arm64 are little-endian, as written here.
final class NetlinkRequestTests: XCTestCase {
  private let emptyLinkHeader = "00000000 00000000 00000000 00000000"

  func testNewBridgeHasNameAndKindBridge() {
    let bytes = LinkRequests.createBridge("ctq0").encoded(sequence: 7)
    XCTAssertEqual(
      bytes,
      hex(
        "3c000000 1000 0506 07000000 00000000", emptyLinkHeader,
        "09000300 63747130 00000000",  // IFLA_IFNAME "ctq0"
        "10001200 0b000100 62726964 67650000"))  // IFLA_LINKINFO { IFLA_INFO_KIND "bridge" }
  }

  func testSetMTUChangesTheLinkFoundByName() {
    let request = LinkRequests.change("ctq0", [.uint32(Netlink.LinkAttribute.mtu, 1400)], step: "mtu")
    XCTAssertEqual(
      request.encoded(sequence: 1),
      hex("34000000 1000 0500 01000000 00000000", emptyLinkHeader, "09000300 63747130 00000000", "08000400 78050000"))
  }

  func testNewVethNestsThePeerWithItsOwnLinkHeaderAndNamespace() {
    let bytes = LinkRequests.createVeth("ctv0", peer: "ctv1", peerNamespace: .fd(9)).encoded(sequence: 2)
    XCTAssertEqual(
      bytes,
      hex(
        "68000000 1000 0506 02000000 00000000", emptyLinkHeader,
        "09000300 63747630 00000000",  // IFLA_IFNAME "ctv0"
        "3c001200",  // IFLA_LINKINFO
        "09000100 76657468 00000000",  // IFLA_INFO_KIND "veth"
        "2c000200",  // IFLA_INFO_DATA
        "28000100", emptyLinkHeader,  // VETH_INFO_PEER: ifinfomsg, then the peer's attributes
        "09000300 63747631 00000000",  // IFLA_IFNAME "ctv1"
        "08001c00 09000000"))  // IFLA_NET_NS_FD 9
  }

  func testNewVethByPIDUsesNetNSPID() {
    let bytes = LinkRequests.createVeth("ctv0", peer: "eth0", peerNamespace: .pid(4242)).encoded(sequence: 2)
    XCTAssertEqual(Array(bytes.suffix(8)), hex("08001300 92100000"))
  }

  func testMoveNamesTheLinkByIndexAndCarriesTheNewName() {
    let bytes = LinkRequests.move(index: 12, name: "ctv1", to: .fd(5), newName: "eth0").encoded(sequence: 3)
    XCTAssertEqual(
      bytes,
      hex(
        "34000000 1000 0500 03000000 00000000", "00000000 0c000000 00000000 00000000",
        "08001c00 05000000", "09000300 65746830 00000000"))
  }

  func testSetUpChangesOnlyTheUpFlag() {
    let bytes = LinkRequests.change("ctq0", up: true, [], step: "up").encoded(sequence: 4)
    XCTAssertEqual(
      bytes,
      hex("2c000000 1000 0500 04000000 00000000", "00000000 00000000 01000000 01000000", "09000300 63747130 00000000"))
  }

  func testDeleteNamesTheLinkByName() {
    XCTAssertEqual(
      LinkRequests.delete("ctq0").encoded(sequence: 5),
      hex("2c000000 1100 0500 05000000 00000000", emptyLinkHeader, "09000300 63747130 00000000"))
  }

  func testNewAddressHasLocalAddressAndBroadcast() {
    let request = AddressRequests.change(
      add: true, IPv4Address(10, 1, 2, 3), prefixLength: 24, broadcast: IPv4Address(10, 1, 2, 255), index: 5,
      link: "ctv0")
    XCTAssertEqual(
      request.encoded(sequence: 6),
      hex(
        "30000000 1400 0506 06000000 00000000", "02180000 05000000",
        "08000200 0a010203", "08000100 0a010203", "08000400 0a0102ff"))
    XCTAssertEqual(request.step, "add address 10.1.2.3/24 to link ctv0")
  }

  func testDeleteAddressIsNotExclusive() {
    let request = AddressRequests.change(
      add: false, IPv4Address(10, 1, 2, 3), prefixLength: 24, broadcast: nil, index: 5, link: "ctv0")
    XCTAssertEqual(Array(request.encoded(sequence: 1)[4..<8]), hex("1500 0500"))
  }

  func testDefaultRouteIsAUnicastMainTableRouteViaTheGateway() {
    XCTAssertEqual(
      RouteRequests.addDefault(via: IPv4Address(10, 1, 2, 1), index: nil, link: nil).encoded(sequence: 8),
      hex("24000000 1800 0506 08000000 00000000", "02000000 fe030001 00000000", "08000500 0a010201"))
    XCTAssertEqual(
      Array(
        RouteRequests.addDefault(via: IPv4Address(10, 1, 2, 1), index: 3, link: "eth0").encoded(sequence: 8)
          .suffix(8)),
      hex("08000400 03000000"))
  }

  func testDumpsAskForEveryLinkAndEveryIPv4Address() {
    XCTAssertEqual(
      LinkRequests.dump().encoded(sequence: 9), hex("20000000 1200 0103 09000000 00000000", emptyLinkHeader))
    XCTAssertEqual(
      AddressRequests.dump().encoded(sequence: 9), hex("18000000 1600 0103 09000000 00000000", "02000000 00000000"))
  }

  func testInterfaceNamesTheKernelRefusesAreRefusedNamingThem() {
    for bad in ["", "ct0123456789abcd", "a/b", "a b", "a:b", ".", ".."] {
      XCTAssertThrowsError(try NetlinkSocket.checked(bad), bad) { error in
        XCTAssertEqual((error as? NetError)?.kind, .invalidArgument)
        XCTAssertTrue((error as? NetError)?.message.hasPrefix("interface name \"\(bad)\"") ?? false)
      }
    }
    XCTAssertEqual(try NetlinkSocket.checked("ct0123456789abc"), "ct0123456789abc")
  }
}

/// The bytes of hex text, spaces ignored.
func hex(_ parts: String...) -> [UInt8] {
  let digits = Array(parts.joined().filter { $0 != " " })
  return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0..<$0 + 2]), radix: 16)! }
}
