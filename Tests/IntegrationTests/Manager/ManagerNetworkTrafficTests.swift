import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Real traffic between guests, the box and the outside namespace: networks are walled off from each
/// other, NAT shows the box's uplink address, isolated guests reach only the gateway and the outside;
/// and what a daemon restart, a daemon killed mid-start, a network delete and two starts at once leave.
final class ManagerNetworkTrafficTests: NetBoxTestCase {
  /// Whether `guest` gets an answer from `address` (`exec … ping`); a miss costs `wait` seconds.
  func pings(_ guest: String, _ address: String, wait: Int = 3) -> Bool {
    f.cli(["exec", guest, "--", "ping", "-c", "1", "-W", "\(wait)", address]).status == 0
  }

  /// Whether `guest` gets no answer from `address` within a second.
  func cannotPing(_ guest: String, _ address: String) -> Bool { !pings(guest, address, wait: 1) }

  /// The first NIC of `guest` as `info` shows it: "NAME NETWORK ADDRESS MAC HOST-END".
  func firstNIC(_ guest: String) -> String {
    guard let n = nics(guest).first else { return "no NIC" }
    return ["name", "network", "ipv4", "mac", "hostInterface"].map { n[$0] as? String ?? "-" }.joined(separator: " ")
  }

  /// The MAC of `guest`'s first NIC.
  func mac(_ guest: String) throws -> String { try XCTUnwrap(nics(guest).first?["mac"] as? String) }

  /// Host ends (`cv…`) in the box.
  func hostEnds() -> [String] {
    hostLinks().split(separator: "\n").compactMap { line in
      let name = line.split(separator: ":").dropFirst().first?.trimmingCharacters(in: .whitespaces)
      return name.flatMap { $0.hasPrefix("cv") ? String($0.split(separator: "@")[0]) : nil }
    }
  }

  /// Starts, in the outside namespace, an HTTP server whose `/cgi-bin/peer` answers with the address
  /// the request came from (busybox httpd's REMOTE_ADDR); it is stopped when the test ends.
  func startPeerEcho(port: Int) throws {
    let home = f.tmp + "/www"
    try FileManager.default.createDirectory(atPath: home + "/cgi-bin", withIntermediateDirectories: true)
    let script = home + "/cgi-bin/peer"
    try "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n".write(
      toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    let server = try Spawner.spawn(
      "/usr/bin/nsenter",
      ["--net=/run/netns/\(box.outside)", "--", "/bin/busybox", "httpd", "-f", "-p", "\(port)", "-h", home],
      outputDirectory: f.tmp)
    addTeardownBlock {
      kill(server.pid, SIGKILL)
      _ = server.wait(timeout: 5)
    }
    let url = "http://127.0.0.1:\(port)/cgi-bin/peer"
    XCTAssertTrue(
      f.eventually(5) { self.box.inOutside(["/usr/bin/curl", "-s", "-m", "2", url]).status == 0 },
      "the outside's echo server does not answer")
  }

  /// The source address the outside's echo server saw for a request from `guest` (busybox nc in the guest).
  func sourceSeenOutside(from guest: String, port: Int) -> String {
    let request = "printf 'GET /cgi-bin/peer HTTP/1.0\\r\\n\\r\\n' | nc -w 3 \(box.outsideAddress) \(port)"
    let r = f.cli(["exec", guest, "--", "sh", "-c", request], timeout: 15)
    // httpd prints the peer as "[::ffff:A.B.C.D]" (a v4-mapped address on its dual-stack socket).
    let last = r.stdout.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
    let address = last.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).replacingOccurrences(
      of: "::ffff:", with: "")
    return r.status == 0 && !address.isEmpty ? address : "nothing (\(r))"
  }

  func testGuestsOfTwoNetworksCannotReachEachOtherButEachReachesItsGateway() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    f.ok(["network", "create", "dmz", "--subnet", "10.210.10.0/24"])
    let a = f.name("a")
    let b = f.name("b")
    launch(a, ["nic.0.network=lan"])
    launch(b, ["nic.0.network=dmz"])
    XCTAssertEqual(firstNIC(a).split(separator: " ")[2], "10.210.9.2")
    XCTAssertEqual(firstNIC(b).split(separator: " ")[2], "10.210.10.2")
    XCTAssertTrue(pings(a, "10.210.9.1"))
    XCTAssertTrue(pings(b, "10.210.10.1"))
    // The box routes to both (so what stops the guests is the wall between the bridges, not a missing route).
    for address in ["10.210.9.2", "10.210.10.2"] {
      XCTAssertEqual(box.inHost(["/bin/busybox", "ping", "-c", "1", "-W", "2", address]).status, 0, address)
    }
    XCTAssertTrue(cannotPing(a, "10.210.10.2"), "lan's guest reached dmz's")
    XCTAssertTrue(cannotPing(b, "10.210.9.2"), "dmz's guest reached lan's")
    let tcp = f.cli(["exec", a, "--", "sh", "-c", "echo x | nc -w 1 10.210.10.2 22"], timeout: 10)
    XCTAssertNotEqual(tcp.status, 0, "\(tcp)")
  }

  func testANATGuestReachesTheOutsideAsTheBoxAndANoNATGuestAsItself() throws {
    let port = 8000
    try startPeerEcho(port: port)
    // The outside routes the guests' subnets back to the box: without NAT a guest's own address must show.
    XCTAssertEqual(box.inOutside(["/usr/sbin/ip", "route", "add", "10.210.0.0/16", "via", box.uplinkHost]).status, 0)
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    f.ok(["network", "create", "plain", "--subnet", "10.210.11.0/24", "--no-nat"])
    let n = f.name("nat")
    let p = f.name("plain")
    launch(n, ["nic.0.network=lan"])
    launch(p, ["nic.0.network=plain"])
    XCTAssertEqual(sourceSeenOutside(from: n, port: port), box.uplinkHost)
    XCTAssertEqual(sourceSeenOutside(from: p, port: port), "10.210.11.2")
    // Without the route back, a --no-nat guest does not get out at all.
    XCTAssertEqual(box.inOutside(["/usr/sbin/ip", "route", "del", "10.210.0.0/16"]).status, 0)
    XCTAssertTrue(sourceSeenOutside(from: p, port: port).hasPrefix("nothing"))
    XCTAssertEqual(sourceSeenOutside(from: n, port: port), box.uplinkHost)
  }

  func testIsolatedGuestsReachTheGatewayAndTheOutsideButNotEachOther() throws {
    f.ok(["network", "create", "iso", "--subnet", "10.210.12.0/24", "--isolated"])
    let a = f.name("a")
    let b = f.name("b")
    launch(a, ["nic.0.network=iso"])
    launch(b, ["nic.0.network=iso"])
    for g in [a, b] {
      XCTAssertTrue(pings(g, "10.210.12.1"), "\(g) to the gateway")
      XCTAssertTrue(pings(g, box.outsideAddress), "\(g) to the outside")
    }
    XCTAssertTrue(cannotPing(a, "10.210.12.3"), "an isolated guest reached its neighbour")
    XCTAssertTrue(cannotPing(b, "10.210.12.2"), "an isolated guest reached its neighbour")
    // Names still resolve (dnsmasq is on the gateway); the neighbour behind them stays out of reach.
    XCTAssertTrue(cannotPing(a, b))
    XCTAssertTrue(f.cli(["exec", a, "--", "nslookup", b]).stdout.contains("10.210.12.3"))
  }

  /// Running guests keep their NICs, addresses, names and anti-spoofing entries across a restart of the
  /// daemon, stopped by SIGTERM or killed (with its network's dnsmasq and cella's tables gone with it);
  /// a guest started afterwards gets the address it had recorded.
  func testARestartedDaemonKeepsAddressesLeasesAndNames() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    let b = f.name("b")
    let c = f.name("c")
    launch(a, ["nic.0.network=lan"])
    launch(b, ["nic.0.network=lan"])
    f.ok(["create", c, "--image", "busybox", "-c", "nic.0.network=lan", "--", "sleep", "600"])
    let before = [a, b].map(firstNIC)
    let recorded = try XCTUnwrap(nics(c).first?["ipv4"] as? String)
    XCTAssertEqual(recorded, "10.210.9.4")
    let macs = try [a, b].map(mac)

    for variant in ["SIGTERM", "SIGKILL"] {
      if variant == "SIGTERM" {
        f.stopDaemon()
      } else {
        f.killDaemon()
        for pid in dnsmasqs() { kill(pid, SIGKILL) }
        for family in ["inet", "bridge"] {
          XCTAssertEqual(box.inHost(["/usr/sbin/nft", "delete", "table", family, "cella"]).status, 0)
        }
      }
      try f.startDaemon()
      XCTAssertEqual([a, b].map(firstNIC), before, variant)
      XCTAssertTrue(pings(a, b), "\(variant): \(a) to \(b) by name")
      XCTAssertTrue(pings(b, "\(a).cella"), "\(variant): \(b) to \(a).cella")
      let lookup = f.cli(["exec", a, "--", "nslookup", c])
      XCTAssertTrue(lookup.stdout.contains("Address: \(recorded)"), "\(variant): \(lookup)")
      let bridgeTable = cellaTable("bridge") ?? ""
      for m in macs { XCTAssertTrue(bridgeTable.contains(m), "\(variant): no anti-spoofing for \(m)") }
      XCTAssertTrue(pings(a, box.outsideAddress), "\(variant): NAT")
    }
    f.ok(["start", c])
    XCTAssertEqual(nics(c).first?["ipv4"] as? String, recorded)
    XCTAssertTrue(pings(a, c))
    XCTAssertEqual(addresses("lan"), "10.210.9.2 \(a)/0\n10.210.9.3 \(b)/0\n10.210.9.4 \(c)/0\n")
  }

  /// A daemon killed at a random moment of a guest's start: the next one ends with the guest running
  /// with its NIC, or stopped with nothing of the run left; deleting it then leaves nothing at all.
  func testADaemonKilledMidStartLeavesTheGuestWholeOrStoppedAndNoOrphan() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let g = f.name("k")
    var outcomes: [String] = []
    for round in 0..<4 {
      f.ok(["create", g, "--image", "busybox", "-c", "nic.0.network=lan", "--", "sleep", "600"])
      let m = try mac(g)
      let start = try Spawner.spawn(f.cella, ["start", g], outputDirectory: f.tmp, environment: f.environment)
      usleep(useconds_t(round * 35_000 + Int.random(in: 0..<35_000)))
      f.killDaemon()
      _ = start.wait(timeout: 20)
      try f.startDaemon()
      var status = ""
      XCTAssertTrue(
        f.eventually(20) {
          status = self.f.info(g)["status"] as? String ?? ""
          return status == "running" || status == "stopped"
        }, "round \(round): \(status)")
      outcomes.append(status)
      let table = cellaTable("bridge") ?? ""
      if status == "running" {
        let end = try XCTUnwrap(nics(g).first?["hostInterface"] as? String, "round \(round)")
        XCTAssertEqual(hostEnds(), [end], "round \(round)")
        XCTAssertTrue(table.contains(m), "round \(round): no anti-spoofing for a running guest")
        XCTAssertTrue(pings(g, "10.210.9.1"), "round \(round)")
      } else {
        XCTAssertEqual(hostEnds(), [], "round \(round)")
        XCTAssertFalse(table.contains(m), "round \(round): a stopped guest's entry is left")
      }
      f.ok(["delete", "--force", g])
      XCTAssertEqual(addresses("lan"), "", "round \(round)")
      XCTAssertEqual(hostEnds(), [], "round \(round)")
      XCTAssertFalse((cellaTable("bridge") ?? "").contains(m), "round \(round)")
    }
    print("kill mid-start outcomes: \(outcomes)")
  }

  func testDeletingANetworkAGuestNamesIsRefusedNamingItAndChangesNothing() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let r = f.name("r")
    let s = f.name("s")
    launch(r, ["nic.0.network=lan"])
    f.ok(["create", s, "--image", "busybox", "-c", "nic.0.network=lan"])
    for (users, message) in [([r, s], "guests \(r), \(s)"), ([s], "guest \(s)")] {
      let show = f.ok(["network", "show", "lan", "--format", "json"]).stdout
      let tables = [cellaTable("inet"), cellaTable("bridge")]
      let links = hostLinkNames()
      let dnsmasq = dnsmasqs()
      let refused = f.cli(["network", "delete", "lan"])
      XCTAssertEqual(refused.status, 1, "\(refused)")
      XCTAssertEqual(
        refused.stderr,
        "cella: network \"lan\" is used by \(message): remove their nic.N.network keys or delete them first\n")
      XCTAssertEqual(f.ok(["network", "show", "lan", "--format", "json"]).stdout, show, "\(users)")
      XCTAssertEqual([cellaTable("inet"), cellaTable("bridge")], tables, "\(users)")
      XCTAssertEqual(hostLinkNames(), links, "\(users)")
      XCTAssertEqual(dnsmasqs(), dnsmasq, "\(users)")
      if users.contains(r) {
        XCTAssertTrue(pings(r, "10.210.9.1"))
        f.ok(["delete", "--force", r])
      }
    }
    f.ok(["delete", s])
    f.ok(["network", "delete", "lan"])
    XCTAssertFalse(hostLinks().contains("cb-"), hostLinks())
    XCTAssertTrue(f.eventually(5) { self.dnsmasqs().isEmpty })
    XCTAssertNil(cellaTable("inet"))
    XCTAssertNil(cellaTable("bridge"))
  }

  /// Two guests started at the same moment each find the other's anti-spoofing entry in place, and talk;
  /// so do two whose starts overlap while the first one holds the firewall (held there a second).
  func testTwoGuestsStartedAtOnceBothGetTheirEntriesAndReachEachOther() throws {
    f.stopDaemon()
    f.daemonPrefix = box.enterHost + ["/usr/bin/env", "CELLA_TEST_PAUSE=firewall-replace"]
    try f.startDaemon()
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let guests = [f.name("a"), f.name("b")]
    for g in guests { f.ok(["create", g, "--image", "busybox", "-c", "nic.0.network=lan", "--", "sleep", "600"]) }
    let macs = try guests.map(mac)
    let armed = f.stateDir + "/.pause-firewall-replace"
    for round in ["at once", "overlapping"] {
      if round == "overlapping" { FileManager.default.createFile(atPath: armed, contents: nil) }
      // Two CLI processes: the daemon serves their starts on two threads.
      let first = try Spawner.spawn(f.cella, ["start", guests[0]], outputDirectory: f.tmp, environment: f.environment)
      if round == "overlapping" {
        XCTAssertTrue(f.eventually(10) { !FileManager.default.fileExists(atPath: armed) }, "never held")
      }
      let second = try Spawner.spawn(
        f.cella, ["start", guests[1]], outputDirectory: f.tmp, environment: f.environment)
      for start in [first, second] {
        let r = start.wait(timeout: 30)
        XCTAssertEqual(r.status, 0, "\(round): \(r)")
      }
      let table = cellaTable("bridge") ?? ""
      for m in macs { XCTAssertTrue(table.contains(m), "\(round): no anti-spoofing entry for \(m)") }
      XCTAssertTrue(pings(guests[0], "10.210.9.3"), round)
      XCTAssertTrue(pings(guests[1], "10.210.9.2"), round)
      for g in guests { f.ok(["stop", "--force", g]) }
    }
  }
}
