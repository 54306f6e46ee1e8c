import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Guests with NICs on a cella network, in a box: they reach each other by address and name, cannot pass
/// for one another, answer on published ports, and bad NIC or port input is one line that leaves nothing.
final class ManagerNICTests: NetBoxTestCase {
  /// `nic` of `info`'s JSON.
  func nics(_ guest: String, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
    f.info(guest, file: file, line: line)["nics"] as? [[String: Any]] ?? []
  }

  func pid(_ guest: String) throws -> Int {
    try XCTUnwrap(f.info(guest)["pid"] as? Int)
  }

  /// Runs a command in a guest's network namespace from the host: root with CAP_NET_ADMIN there.
  @discardableResult
  func inGuestNet(_ pid: Int, _ command: [String], timeout: TimeInterval = 15) -> CommandResult {
    Spawner.run(
      "/usr/bin/nsenter", ["--net=/proc/\(pid)/ns/net", "--"] + command, outputDirectory: f.tmp, timeout: timeout)
  }

  func hostLinks() -> String { box.inHost(["/usr/sbin/ip", "-o", "link", "show"]).stdout }

  func addresses(_ network: String) -> String {
    (try? String(contentsOfFile: f.stateDir + "/networks/\(network)/\(network).addresses", encoding: .utf8)) ?? ""
  }

  func launch(_ guest: String, _ keys: [String], _ command: [String] = ["sleep", "600"]) {
    f.ok(["launch", guest, "--image", "busybox"] + keys.flatMap { ["-c", $0] } + ["--"] + command)
  }

  func testTwoGuestsReachEachOtherByAddressAndName() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    let b = f.name("b")
    launch(a, ["nic.0.network=lan"])
    launch(b, ["nic.0.network=lan", "nic.0.ipv4=10.210.9.50", "nic.0.mac=02:00:00:00:09:50"])
    let nicA = try XCTUnwrap(nics(a).first)
    XCTAssertEqual(nicA["ipv4"] as? String, "10.210.9.2")
    XCTAssertEqual(nicA["name"] as? String, "eth0")
    let hostEnd = try XCTUnwrap(nicA["hostInterface"] as? String)
    XCTAssertTrue(hostEnd.hasPrefix("cv") && hostEnd.count == 10, hostEnd)
    XCTAssertTrue(hostLinks().contains("\(hostEnd)@"))
    XCTAssertEqual(nics(b).first?["mac"] as? String, "02:00:00:00:09:50")
    XCTAssertTrue(f.ok(["list"]).stdout.contains("10.210.9.50"))

    f.ok(["exec", a, "--", "ping", "-c", "1", "-W", "3", "10.210.9.50"])
    f.ok(["exec", b, "--", "ping", "-c", "1", "-W", "3", "10.210.9.1"])
    let resolv = f.ok(["exec", a, "--", "cat", "/etc/resolv.conf"]).stdout
    XCTAssertTrue(resolv.contains("nameserver 10.210.9.1\nsearch cella\n"), resolv)
    XCTAssertTrue(f.ok(["exec", b, "--", "cat", "/etc/hosts"]).stdout.contains("10.210.9.50\t\(b).cella \(b)\n"))
    // By name, through the network's dnsmasq.
    let byName = f.cli(["exec", a, "--", "ping", "-c", "1", "-W", "3", b])
    XCTAssertEqual(byName.status, 0, "\(byName)")
    XCTAssertTrue(byName.stdout.contains("10.210.9.50"), "\(byName)")
    f.ok(["exec", a, "--", "ping", "-c", "1", "-W", "3", "\(b).cella"])

    // Addresses outlive a stop, the host end does not; delete releases the address.
    f.ok(["stop", "--timeout", "1", a])
    XCTAssertFalse(hostLinks().contains(hostEnd))
    XCTAssertEqual(nics(a).first?["ipv4"] as? String, "10.210.9.2")
    XCTAssertTrue(addresses("lan").contains("10.210.9.2 \(a)/0"))
    f.ok(["delete", a])
    XCTAssertFalse(addresses("lan").contains("\(a)/0"))
    f.ok(["delete", "--force", b])
    XCTAssertEqual(addresses("lan"), "")
    XCTAssertFalse(hostLinks().contains("cv"), hostLinks())
  }
}
