import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `cella-nic`, the createRuntime hook that gives a guest its NICs, run on its own: the "host" is
/// a NetBox namespace with a bridge, the "guest" a process in a namespace of its own.
final class NICHookTests: XCTestCase {
  private var box: NetBox!
  private var guestNS = ""
  private var guest: SpawnedProcess?
  private var keeper = ""
  private var tmp = ""
  private let bridge = SuiteRun.netDevicePrefix + "b"

  override func setUpWithError() throws {
    let runtime = try SuiteConfiguration.runtimePath()
    keeper = (runtime as NSString).deletingLastPathComponent + "/cella-nic"
    guard FileManager.default.isExecutableFile(atPath: keeper) else { throw XCTSkip("no \(keeper)") }
    box = try NetBox()
    guestNS = box.host.replacingOccurrences(of: "-box", with: "-nicg")
    tmp = NSTemporaryDirectory() + "cella-it-\(SuiteRun.id)-nic-\(getpid())"
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    for step in [
      ["netns", "add", guestNS],
      ["-n", box.host, "link", "add", bridge, "type", "bridge"],
      ["-n", box.host, "address", "add", "10.99.0.1/24", "dev", bridge],
      ["-n", box.host, "link", "set", bridge, "up"],
    ] {
      let r = box.ip(step)
      XCTAssertEqual(r.status, 0, "\(r)")
    }
    guest = try Spawner.spawn(
      "/usr/bin/nsenter", ["--net=/run/netns/\(guestNS)", "--", "/bin/busybox", "sleep", "120"],
      outputDirectory: tmp)
  }

  override func tearDown() {
    if let guest {
      kill(guest.pid, SIGKILL)
      _ = guest.wait()
    }
    box?.ip(["netns", "delete", guestNS])
    box?.tearDown()
    try? FileManager.default.removeItem(atPath: tmp)
  }

  /// Runs the hook in the box's host namespace with the OCI state of the guest's process on stdin.
  private func hook(_ nics: [String], pid: pid_t? = nil) -> CommandResult {
    let state =
      "{\"ociVersion\":\"1.2.0\",\"id\":\"x\",\"status\":\"created\",\"pid\":\(pid ?? guest!.pid),"
      + "\"bundle\":\"/b\",\"annotations\":{\"pid\":\"1\"}}"
    let words = ([keeper] + nics.flatMap { ["--nic", $0] }).map { "'\($0)'" }.joined(separator: " ")
    return box.inHost(["/bin/sh", "-c", "printf '%s' '\(state)' | \(words)"])
  }

  private func inGuest(_ command: [String]) -> CommandResult {
    Spawner.run("/usr/bin/nsenter", ["--net=/run/netns/\(guestNS)", "--"] + command, outputDirectory: tmp)
  }

  func testTheHookMakesEachNICInTheGuestsNamespaceOnTheBridge() throws {
    let host0 = SuiteRun.netDevicePrefix + "v0"
    let host1 = SuiteRun.netDevicePrefix + "v1"
    let r = hook([
      "host=\(host0),bridge=\(bridge),name=eth0,mac=02:00:00:aa:00:05,ipv4=10.99.0.5/24,gateway=10.99.0.1",
      "host=\(host1),bridge=\(bridge),name=eth3,mac=02:00:00:aa:00:06,ipv4=10.99.0.6/24",
    ])
    XCTAssertEqual(r.status, 0, "\(r)")
    let links = inGuest(["/usr/sbin/ip", "-o", "link", "show"]).stdout
    XCTAssertTrue(links.contains("eth0@"), links)
    XCTAssertTrue(links.contains("link/ether 02:00:00:aa:00:05"), links)
    XCTAssertTrue(links.contains("eth3@"), links)
    XCTAssertTrue(links.contains("lo: <LOOPBACK,UP"), links)
    let addresses = inGuest(["/usr/sbin/ip", "-o", "-4", "address", "show"]).stdout
    XCTAssertTrue(addresses.contains("eth0    inet 10.99.0.5/24 brd 10.99.0.255"), addresses)
    XCTAssertTrue(addresses.contains("eth3    inet 10.99.0.6/24"), addresses)
    let routes = inGuest(["/usr/sbin/ip", "-4", "route", "show", "default"]).stdout
    XCTAssertEqual(routes.trimmingCharacters(in: .whitespacesAndNewlines), "default via 10.99.0.1 dev eth0")
    let hostLinks = box.ip(["-n", box.host, "-o", "link", "show", "master", bridge]).stdout
    XCTAssertTrue(hostLinks.contains(host0 + "@") && hostLinks.contains(host1 + "@"), hostLinks)
    XCTAssertTrue(hostLinks.contains("state UP"), hostLinks)
    // The guest reaches the bridge's address through its new NIC.
    let ping = inGuest(["/bin/busybox", "ping", "-c", "1", "-W", "3", "10.99.0.1"])
    XCTAssertEqual(ping.status, 0, "\(ping)")
  }

  func testAFailedNICIsNamedAndNoPairIsLeft() {
    let host0 = SuiteRun.netDevicePrefix + "v0"
    let host1 = SuiteRun.netDevicePrefix + "v1"
    let r = hook([
      "host=\(host0),bridge=\(bridge),name=eth0,mac=02:00:00:aa:00:05,ipv4=10.99.0.5/24,gateway=10.99.0.1",
      "host=\(host1),bridge=\(SuiteRun.netDevicePrefix)nob,name=eth1,mac=02:00:00:aa:00:06,ipv4=10.99.0.6/24",
    ])
    XCTAssertEqual(r.status, 1, "\(r)")
    XCTAssertEqual(r.stderrLines.count, 1, "\(r)")
    XCTAssertTrue(
      r.stderr.hasPrefix("cella-nic: nic eth1 (\(host1) on \(SuiteRun.netDevicePrefix)nob): "), r.stderr)
    let left = box.ip(["-n", box.host, "-o", "link", "show"]).stdout
    XCTAssertFalse(left.contains(host0) || left.contains(host1), left)
    XCTAssertFalse(inGuest(["/usr/sbin/ip", "-o", "link", "show"]).stdout.contains("eth0"))
  }

  func testBadArgumentsAndStatesAreOneLine() {
    let good = "host=\(SuiteRun.netDevicePrefix)v0,bridge=\(bridge),name=eth0,mac=02:00:00:aa:00:05,ipv4=10.99.0.5/24"
    let multicast = hook([good.replacingOccurrences(of: "mac=02", with: "mac=01")])
    XCTAssertEqual(multicast.status, 1)
    XCTAssertEqual(
      multicast.stderr,
      "cella-nic: --nic mac 01:00:00:aa:00:05: a multicast address (the first octet is odd); a NIC needs a unicast one\n"
    )
    let none = box.inHost([keeper])
    XCTAssertEqual(none.status, 1)
    XCTAssertTrue(none.stderr.hasPrefix("cella-nic: no --nic given"), none.stderr)
    let gone = hook([good], pid: 999_999_999)
    XCTAssertEqual(gone.status, 1)
    XCTAssertEqual(gone.stderrLines.count, 1, "\(gone)")
    XCTAssertTrue(gone.stderr.contains("the network namespace of pid 999999999"), gone.stderr)
    XCTAssertFalse(box.ip(["-n", box.host, "-o", "link", "show"]).stdout.contains(SuiteRun.netDevicePrefix + "v0"))
  }
}
