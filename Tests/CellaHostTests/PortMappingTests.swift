import CellaAPI
import CellaNet
import Foundation
import XCTest

@testable import CellaHost

/// Published ports: the request's checks, guest.yaml's text form, and which host ports clash.
final class PortMappingTests: XCTestCase {
  private func requestError(_ r: AddPortRequest) -> String? {
    do {
      _ = try PortMapping(r)
      return nil
    } catch { return error.message }
  }

  func testARequestIsCheckedFieldByField() throws {
    XCTAssertEqual(
      try PortMapping(AddPortRequest(hostPort: 8080, guestPort: 80)),
      PortMapping(proto: .tcp, hostPort: 8080, guestPort: 80))
    XCTAssertEqual(
      try PortMapping(AddPortRequest(proto: "udp", hostPort: 53, guestPort: 5353, hostAddress: "192.0.2.10")),
      PortMapping(proto: .udp, hostPort: 53, guestPort: 5353, hostAddress: IPv4Address(192, 0, 2, 10)))
    XCTAssertEqual(requestError(AddPortRequest(hostPort: 0, guestPort: 80)), "host port 0: outside 1 to 65535")
    XCTAssertEqual(requestError(AddPortRequest(hostPort: 80, guestPort: 65536)), "guest port 65536: outside 1 to 65535")
    XCTAssertEqual(requestError(AddPortRequest(hostPort: -5, guestPort: 80)), "host port -5: outside 1 to 65535")
    XCTAssertEqual(
      requestError(AddPortRequest(proto: "sctp", hostPort: 80, guestPort: 80)), "--proto: \"sctp\" is not tcp or udp")
    XCTAssertEqual(
      requestError(AddPortRequest(hostPort: 80, guestPort: 80, hostAddress: "::1")),
      "--address: \"::1\" is not an IPv4 address")
  }

  func testAHostAddressNoConnectionCanBeAddressedToIsRefused() {
    for (address, why) in [
      ("127.0.0.1", "a loopback address, which cannot be published (leave --address out for every address)"),
      ("127.5.5.5", "a loopback address, which cannot be published (leave --address out for every address)"),
      ("0.0.0.0", "not a host address (leave --address out for every address)"),
      ("224.0.0.1", "a multicast address, not a host's"),
      ("239.255.255.250", "a multicast address, not a host's"),
      ("255.255.255.255", "the broadcast address, not a host's"),
    ] {
      XCTAssertEqual(
        requestError(AddPortRequest(hostPort: 80, guestPort: 80, hostAddress: address)), "--address: \(address): \(why)"
      )
    }
    for good in ["10.0.0.1", "192.0.2.10", "223.255.255.1", "240.0.0.1"] {
      XCTAssertNil(requestError(AddPortRequest(hostPort: 80, guestPort: 80, hostAddress: good)), good)
    }
  }

  func testTheTextFormRoundTrips() {
    for text in ["8080:80/tcp", "127.0.0.1:5353:53/udp", "1:65535/tcp"] {
      XCTAssertEqual(PortMapping(text)?.description, text)
    }
    for bad in [
      "8080:80", "80/tcp", "0:80/tcp", "80:70000/tcp", "x:80:80/tcp", "80:80/icmp", "1:2:3:4/tcp", "080:80/tcp",
    ] {
      XCTAssertNil(PortMapping(bad), bad)
    }
  }

  func testAPortWithoutAddressClashesWithEveryAddress() {
    let any = PortMapping(proto: .tcp, hostPort: 80, guestPort: 80)
    let local = PortMapping(proto: .tcp, hostPort: 80, guestPort: 81, hostAddress: IPv4Address(127, 0, 0, 1))
    let other = PortMapping(proto: .tcp, hostPort: 80, guestPort: 81, hostAddress: IPv4Address(10, 0, 0, 1))
    XCTAssertTrue(any.clashes(with: local))
    XCTAssertTrue(local.clashes(with: any))
    XCTAssertFalse(local.clashes(with: other))
    XCTAssertFalse(any.clashes(with: PortMapping(proto: .udp, hostPort: 80, guestPort: 80)))
    XCTAssertFalse(any.clashes(with: PortMapping(proto: .tcp, hostPort: 81, guestPort: 80)))
  }

  func testGuestYAMLKeepsPortsAndLocatesBadOnes() throws {
    let dir = try TestDir()
    let record = GuestRecord(
      name: "web", image: "busybox", created: "2026-01-02T03:04:05Z",
      ports: [PortMapping("8080:80/tcp")!, PortMapping("127.0.0.1:53:53/udp")!])
    try record.write(to: dir.path + "/guest.yaml")
    XCTAssertEqual(try GuestRecord.read(dir.path + "/guest.yaml"), record)
    // A guest without ports writes no ports field.
    let plain = GuestRecord(name: "web", image: "busybox", created: "x")
    XCTAssertFalse(String(decoding: try plain.yaml(), as: UTF8.self).contains("ports"))
    func error(_ ports: String) -> String? {
      do {
        _ = try GuestRecord.parse(
          Array("name: web\nimage: busybox\ncreated: x\nports:\n\(ports)".utf8), path: "guests/web/guest.yaml")
        return nil
      } catch { return error.message }
    }
    XCTAssertEqual(
      error("  - 8080:80/tcp\n  - 99999:80/tcp\n"),
      "guests/web/guest.yaml:6:5: ports[1]: \"99999:80/tcp\" is not [HOSTADDR:]HOSTPORT:GUESTPORT/tcp|udp with ports 1 to 65535"
    )
    XCTAssertEqual(
      error("  - 8080:80/tcp\n  - 10.0.0.1:8080:81/tcp\n"),
      "guests/web/guest.yaml:6:5: ports[1]: tcp/10.0.0.1:8080 is published by 8080:80/tcp too")
  }
}
