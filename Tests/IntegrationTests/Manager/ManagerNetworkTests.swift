import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `cella network …` against a daemon in a box: the bridge, cella's nft tables and the network's dnsmasq
/// are made, found again after a restart, and removed; bad input and a killed daemon leave nothing.
final class ManagerNetworkTests: NetBoxTestCase {
  override var needsBusyboxImage: Bool { false }

  /// `network show NAME --format json`, decoded.
  func show(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
    let r = f.ok(["network", "show", name, "--format", "json"], file: file, line: line)
    return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
  }

  /// The cella bridges in the box.
  func bridges() -> [String] {
    let r = box.inHost(["/usr/sbin/ip", "-o", "link", "show", "type", "bridge"])
    return r.stdout.split(separator: "\n").compactMap { line in
      let name = line.split(separator: ":").dropFirst().first?.trimmingCharacters(in: .whitespaces)
      return name.flatMap { $0.hasPrefix("cb-") ? String($0.split(separator: "@")[0]) : nil }
    }
  }

  func networkDirs() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: f.stateDir + "/networks")) ?? []).sorted()
  }

  func testCreateMakesBridgeRulesAndDnsmasqAndDeleteRemovesThemAll() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    let info = show("lan")
    XCTAssertEqual(info["subnet"] as? String, "10.210.7.0/24")
    XCTAssertEqual(info["gateway"] as? String, "10.210.7.1")
    XCTAssertEqual(info["bridge"] as? String, "cb-lan")
    XCTAssertEqual(info["nat"] as? Bool, true)
    let addr = box.inHost(["/usr/sbin/ip", "-o", "-4", "address", "show", "dev", "cb-lan"])
    XCTAssertTrue(addr.stdout.contains("inet 10.210.7.1/24"), "\(addr)")
    let link = box.inHost(["/usr/sbin/ip", "-o", "link", "show", "cb-lan"])
    XCTAssertTrue(link.stdout.contains(",UP"), "\(link)")
    let table = cellaTable() ?? ""
    XCTAssertTrue(table.contains("ip saddr 10.210.7.0/24 oifname != \"cb-lan\" masquerade"), table)
    XCTAssertTrue(table.contains("comment \"cella store \(f.stateDir)\""), table)
    let pid = try XCTUnwrap(info["dnsmasqPID"] as? Int)
    XCTAssertEqual(dnsmasqs(), [pid_t(pid)])
    // dnsmasq answers on the gateway, for .cella only from its own files.
    let lookup = box.inHost(["/bin/busybox", "nslookup", "-type=a", "nobody.cella", "10.210.7.1"], timeout: 10)
    XCTAssertTrue(lookup.stdout.contains("NXDOMAIN") || lookup.stderr.contains("NXDOMAIN"), "\(lookup)")
    XCTAssertTrue(f.ok(["network", "list"]).stdout.contains("lan   10.210.7.0/24"))

    // An automatic subnet avoids lan's.
    f.ok(["network", "create", "auto"])
    XCTAssertEqual(show("auto")["subnet"] as? String, "10.210.0.0/24")
    XCTAssertEqual(bridges().sorted(), ["cb-auto", "cb-lan"])

    f.ok(["network", "delete", "lan"])
    f.ok(["network", "delete", "auto"])
    XCTAssertEqual(bridges(), [])
    XCTAssertNil(cellaTable(), "the last network takes cella's tables along")
    XCTAssertTrue(f.eventually(5) { dnsmasqs().isEmpty })
    XCTAssertEqual(networkDirs(), [])
    XCTAssertEqual(f.ok(["network", "list"]).stdout, "NAME  SUBNET  GATEWAY  NAT  ISOLATED  BRIDGE  MEMBERS\n")
  }

  func testBadInputIsOneLineAndLeavesNothing() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    let long = String(repeating: "n", count: 64)
    let cases: [([String], String)] = [
      (
        ["network", "create", "other", "--subnet", "10.210.7.128/25"],
        "subnet 10.210.7.128/25: overlaps network \"lan\" (10.210.7.0/24)"
      ),
      (
        ["network", "create", "other", "--subnet", "100.72.0.0/16"],
        "subnet 100.72.0.0/16: overlaps the host's route to 100.72.0.0/24 on uplink0; choose another subnet"
      ),
      (
        ["network", "create", "other", "--subnet", "10.9.0.0/30"],
        "subnet 10.9.0.0/30: too small for guests; the smallest is /29 (a gateway and five guests)"
      ),
      (
        ["network", "create", "other", "--subnet", "10.9.0.0/24", "--gateway", "10.9.1.1"],
        "gateway 10.9.1.1: outside the subnet 10.9.0.0/24"
      ),
      (["network", "create", long], "network name \"\(long)\" is longer than 63 characters"),
      (["network", "create", "Lan"], "network name \"Lan\" is not a DNS label: use lowercase letters, digits and '-'"),
      (["network", "create", "lan"], "network \"lan\" exists already"),
      (["network", "delete", "nope"], "network \"nope\" does not exist"),
      (["network", "show", "nope"], "network \"nope\" does not exist"),
    ]
    for (args, message) in cases {
      let r = f.cli(args)
      XCTAssertEqual(r.status, 1, "\(args): \(r)")
      XCTAssertEqual(r.stderr, "cella: \(message)\n", "\(args)")
      XCTAssertEqual(bridges(), ["cb-lan"], "\(args)")
      XCTAssertEqual(networkDirs(), ["lan"], "\(args)")
      XCTAssertEqual(dnsmasqs().count, 1, "\(args)")
    }
    // The longest name works: its bridge gets a derived 15-byte name the user never has to know.
    let longest = String(repeating: "n", count: 63)
    f.ok(["network", "create", longest, "--subnet", "10.9.0.0/29", "--no-nat", "--isolated"])
    let info = show(longest)
    let bridge = try XCTUnwrap(info["bridge"] as? String)
    XCTAssertEqual(bridge.utf8.count, 15)
    XCTAssertEqual(info["nat"] as? Bool, false)
    XCTAssertEqual(info["isolated"] as? Bool, true)
    XCTAssertEqual(bridges().sorted(), [bridge, "cb-lan"].sorted())
    XCTAssertFalse((cellaTable() ?? "").contains("10.9.0.0/29 oifname"), "no masquerade for --no-nat")
    f.ok(["network", "delete", longest])
    XCTAssertEqual(bridges(), ["cb-lan"])
  }

  func testARestartedDaemonAdoptsOrRestartsDnsmasqAndRecreatesAMissingBridge() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    let original = try XCTUnwrap(show("lan")["dnsmasqPID"] as? Int)
    f.killDaemon()
    try f.startDaemon()
    XCTAssertEqual(show("lan")["dnsmasqPID"] as? Int, original, "a running dnsmasq is adopted, not replaced")
    // Adopted means watched: its end brings a new one.
    kill(pid_t(original), SIGKILL)
    var first = original
    XCTAssertTrue(
      f.eventually(10) {
        first = self.show("lan")["dnsmasqPID"] as? Int ?? original
        return first != original
      })

    // A guest's address recorded by IPAM; then, with the daemon gone: dnsmasq killed, the bridge deleted,
    // and the lease of a create the daemon died in (addresses recorded, guest.yaml never written).
    try f.busyboxImage()
    let web = f.name("web")
    f.ok(["create", web, "--image", "busybox", "-c", "nic.0.network=lan", "-c", "nic.0.ipv4=10.210.7.5"])
    f.killDaemon()
    kill(pid_t(first), SIGKILL)
    XCTAssertEqual(box.inHost(["/usr/sbin/ip", "link", "delete", "cb-lan"]).status, 0)
    let ghost = f.name("ghost")
    let addresses = f.stateDir + "/networks/lan/lan.addresses"
    try "10.210.7.5 \(web)/0\n10.210.7.9 \(ghost)/0\n".write(toFile: addresses, atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: f.stateDir + "/guests/\(ghost)", withIntermediateDirectories: false)
    try f.startDaemon()
    XCTAssertEqual(try String(contentsOfFile: addresses, encoding: .utf8), "10.210.7.5 \(web)/0\n")
    let names = try String(contentsOfFile: f.stateDir + "/networks/lan/names", encoding: .utf8)
    XCTAssertFalse(names.contains(ghost), names)
    let info = show("lan")
    let second = try XCTUnwrap(info["dnsmasqPID"] as? Int)
    XCTAssertNotEqual(second, first)
    XCTAssertEqual(bridges(), ["cb-lan"])
    let addr = box.inHost(["/usr/sbin/ip", "-o", "-4", "address", "show", "dev", "cb-lan"])
    XCTAssertTrue(addr.stdout.contains("inet 10.210.7.1/24"), "\(addr)")
    let members = info["members"] as? [[String: Any]] ?? []
    XCTAssertEqual(members.count, 1, "\(members)")
    XCTAssertEqual(members.first?["guest"] as? String, web)
    XCTAssertEqual(members.first?["ipv4"] as? String, "10.210.7.5")
    for name in [web, "\(web).cella"] {
      let lookup = box.inHost(["/bin/busybox", "nslookup", "-type=a", name, "10.210.7.1"], timeout: 10)
      XCTAssertTrue(lookup.stdout.contains("Address: 10.210.7.5"), "\(name): \(lookup)")
    }

    // A dnsmasq that dies while the daemon runs is started again.
    kill(pid_t(second), SIGKILL)
    XCTAssertTrue(
      f.eventually(10) {
        guard let pid = self.show("lan")["dnsmasqPID"] as? Int else { return false }
        return pid != second
      })
    f.ok(["delete", web])
  }

  func testAHostileNetworkRecordNeverMakesTheDaemonDeleteAHostLink() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    f.killDaemon()
    // A veth with a bridge's name (made in the box, gone with it) and records being "deleted" that name it
    // or the box's uplink.
    XCTAssertEqual(
      box.ip(["-n", box.host, "link", "add", "cb-evil", "type", "veth", "peer", "name", "ct-evil"]).status, 0)
    let lan = try String(contentsOfFile: f.stateDir + "/networks/lan/network.yaml", encoding: .utf8)
    for (dir, name, bridge) in [
      ("evil", "evil", "cb-evil"), ("foreign", "foreign", box.uplinkDevice), ("other", "lan", "cb-lan"),
    ] {
      let text = lan.replacingOccurrences(of: "name: lan", with: "name: \(name)")
        .replacingOccurrences(of: "bridge: cb-lan", with: "bridge: \(bridge)")
        .replacingOccurrences(of: "phase: ready", with: "phase: deleting")
      try FileManager.default.createDirectory(
        atPath: f.stateDir + "/networks/\(dir)", withIntermediateDirectories: false)
      try text.write(toFile: f.stateDir + "/networks/\(dir)/network.yaml", atomically: true, encoding: .utf8)
    }
    try f.startDaemon()
    for link in ["cb-evil", box.uplinkDevice, "cb-lan"] {
      XCTAssertEqual(box.inHost(["/usr/sbin/ip", "link", "show", link]).status, 0, "\(link) was deleted")
    }
    XCTAssertEqual(show("lan")["bridge"] as? String, "cb-lan")
    XCTAssertEqual(
      box.inOutside(["/bin/busybox", "ping", "-c", "1", "-W", "2", box.uplinkHost]).status, 0, "the uplink is down")
  }

  func forwarding() -> String {
    box.inHost(["/bin/cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func testIPForwardingIsTurnedOffWithTheLastNetworkOnlyIfCellaTurnedItOn() throws {
    XCTAssertEqual(box.inHost(["/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=0"]).status, 0)
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    f.ok(["network", "create", "lan2", "--subnet", "10.210.8.0/24"])
    XCTAssertEqual(forwarding(), "1")
    f.ok(["network", "delete", "lan"])
    XCTAssertEqual(forwarding(), "1", "a network is left")
    // What the daemon turned on, it knows after a restart too.
    f.killDaemon()
    try f.startDaemon()
    f.ok(["network", "delete", "lan2"])
    XCTAssertEqual(forwarding(), "0")
    // On already (the admin's): left on.
    XCTAssertEqual(box.inHost(["/usr/sbin/sysctl", "-qw", "net.ipv4.ip_forward=1"]).status, 0)
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    f.ok(["network", "delete", "lan"])
    XCTAssertEqual(forwarding(), "1")
  }

  func testADaemonKilledMidCreateLeavesNoOrphan() throws {
    // Held after the bridge and the rules, before dnsmasq: the new daemon must undo both.
    f.stopDaemon()
    f.daemonPrefix = box.enterHost + ["/usr/bin/env", "CELLA_TEST_PAUSE=network-create"]
    try f.startDaemon()
    let create = try Spawner.spawn(
      f.cella, ["network", "create", "lan"], outputDirectory: f.tmp, environment: f.environment)
    XCTAssertTrue(f.eventually(20) { self.bridges() == ["cb-lan"] && self.cellaTable() != nil })
    f.killDaemon()
    _ = create.wait(timeout: 10)
    f.daemonPrefix = box.enterHost
    try f.startDaemon()
    XCTAssertEqual(bridges(), [])
    XCTAssertNil(cellaTable())
    XCTAssertEqual(networkDirs(), [])
    XCTAssertEqual(dnsmasqs(), [])

    // Killed at a random moment: the next daemon ends with the whole network or none of it.
    for round in 0..<4 {
      let create = try Spawner.spawn(
        f.cella, ["network", "create", "lan"], outputDirectory: f.tmp, environment: f.environment)
      usleep(useconds_t(round * 60_000 + Int.random(in: 0..<40_000)))
      f.killDaemon()
      _ = create.wait(timeout: 10)
      try f.startDaemon()
      if networkDirs().isEmpty {
        XCTAssertEqual(bridges(), [], "round \(round)")
        XCTAssertNil(cellaTable(), "round \(round)")
        XCTAssertEqual(dnsmasqs(), [], "round \(round)")
      } else {
        let info = show("lan")
        XCTAssertEqual(bridges(), ["cb-lan"], "round \(round)")
        XCTAssertNotNil(cellaTable(), "round \(round)")
        XCTAssertEqual(dnsmasqs(), (info["dnsmasqPID"] as? Int).map { [pid_t($0)] } ?? [], "round \(round)")
        f.ok(["network", "delete", "lan"])
      }
    }
  }
}

/// What a network finds on the host that is not its own: Docker's FORWARD DROP (named, never
/// overridden) and another store's daemon in the same network namespace (refused).
final class ManagerNetworkHostTests: NetBoxTestCase {
  override var needsBusyboxImage: Bool { false }

  func testAnIptablesForwardDropIsNamedWithTheAdminsFixAndLeftAlone() throws {
    for command in [
      ["add", "table", "ip", "filter"],
      ["add", "chain", "ip", "filter", "FORWARD", "{ type filter hook forward priority 0; policy drop; }"],
    ] {
      XCTAssertEqual(box.inHost(["/usr/sbin/nft"] + command).status, 0)
    }
    let before = box.inHost(["/usr/sbin/nft", "list", "table", "ip", "filter"]).stdout
    let r = f.ok(["network", "create", "lan"])
    XCTAssertTrue(
      r.stderr.hasPrefix("cella: warning: network lan: the iptables FORWARD policy is DROP (Docker sets it)"), r.stderr)
    XCTAssertTrue(r.stderr.contains("iptables -I DOCKER-USER -i cb-lan -j ACCEPT"), r.stderr)
    XCTAssertEqual(r.stderr.filter { $0 == "\n" }.count, 1, r.stderr)
    XCTAssertTrue(f.ok(["network", "show", "lan"]).stdout.contains("Warning:"))
    XCTAssertEqual(box.inHost(["/usr/sbin/nft", "list", "table", "ip", "filter"]).stdout, before)
    // A --no-nat network is not warned about (its guests are not meant to reach the outside through NAT).
    XCTAssertEqual(f.ok(["network", "create", "quiet", "--no-nat"]).stderr, "")
  }

  func testTablesOfAnotherStoresDaemonAreRefusedAndNothingIsMade() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.7.0/24"])
    let other = try DaemonFixture()
    defer { other.tearDown() }
    chmod(other.tmp, 0o711)
    other.daemonPrefix = box.enterHost
    try other.startDaemon()
    let r = other.cli(["network", "create", "mine", "--subnet", "10.77.0.0/24"])
    XCTAssertEqual(r.status, 1, "\(r)")
    XCTAssertEqual(
      r.stderr,
      "cella: nft table inet cella belongs to another cella daemon (cella store \(f.stateDir)): run one cella daemon "
        + "per network namespace, or if that store is gone remove its tables (nft delete table inet cella; nft delete table bridge cella)\n"
    )
    XCTAssertFalse(box.inHost(["/usr/sbin/ip", "link", "show", "cb-mine"]).status == 0)
    XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: other.stateDir + "/networks")) ?? [], [])
    let table = box.inHost(["/usr/sbin/nft", "list", "table", "inet", "cella"]).stdout
    XCTAssertTrue(table.contains("10.210.7.0/24") && !table.contains("10.77.0.0"), table)
  }
}
