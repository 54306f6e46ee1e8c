import XCTest

@testable import CellaNet

final class MACAddressTests: XCTestCase {
  func testParsesAndPrintsLowercase() throws {
    let mac = try MACAddress.parseGuestMAC("02:AB:cd:00:0F:10")
    XCTAssertEqual(mac.description, "02:ab:cd:00:0f:10")
    XCTAssertTrue(mac.isUnicast)
    XCTAssertTrue(mac.isLocallyAdministered)
    XCTAssertFalse(try MACAddress.parseGuestMAC("00:16:3e:00:00:01").isLocallyAdministered)
  }

  func testRefusesMalformedMulticastAndZeroAddressesInOneLine() {
    for bad in ["", "02:00:00:00:00", "02:00:00:00:00:00:00", "02-00-00-00-00-01", "2:0:0:0:0:1", "02:00:00:00:00:0g"] {
      XCTAssertThrowsError(try MACAddress.parseGuestMAC(bad, what: "nic.0.mac")) { error in
        XCTAssertEqual(
          (error as? NetError)?.message,
          "nic.0.mac \"\(bad)\": not a MAC address (expected six hex octets, e.g. 02:00:5e:10:00:01)")
      }
    }
    XCTAssertThrowsError(try MACAddress.parseGuestMAC("01:00:5e:00:00:01")) { error in
      XCTAssertEqual(
        (error as? NetError)?.message,
        "MAC address 01:00:5e:00:00:01: a multicast address (the first octet is odd); a NIC needs a unicast one")
    }
    XCTAssertThrowsError(try MACAddress.parseGuestMAC("ff:ff:ff:ff:ff:ff"))
    XCTAssertThrowsError(try MACAddress.parseGuestMAC("00:00:00:00:00:00")) { error in
      XCTAssertEqual(
        (error as? NetError)?.message, "MAC address 00:00:00:00:00:00: the all-zero address is not a valid NIC address")
    }
  }

  func testStableDefaultIsLocalUnicastAndDependsOnNameAndIndexOnly() {
    let a = MACAddress.stableDefault(name: "web", nic: 0)
    XCTAssertEqual(a, MACAddress.stableDefault(name: "web", nic: 0))
    XCTAssertEqual(a.octets[0], 0x02)
    XCTAssertTrue(a.isUnicast && a.isLocallyAdministered)
    XCTAssertNotEqual(a, MACAddress.stableDefault(name: "web", nic: 1))
    XCTAssertNotEqual(a, MACAddress.stableDefault(name: "db", nic: 0))
    // "web1" NIC 0 and "web" NIC 10 must differ: the separator byte keeps name and index apart.
    XCTAssertNotEqual(MACAddress.stableDefault(name: "web1", nic: 0), MACAddress.stableDefault(name: "web", nic: 10))
    // Pinned: a change of the derivation would change every guest's default MAC (and its DHCP lease).
    XCTAssertEqual(a.description, "02:66:b7:3f:2e:09")
  }
}
