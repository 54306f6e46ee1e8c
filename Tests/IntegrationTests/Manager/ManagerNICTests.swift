import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Guests with NICs on a cella network, in a box: they reach each other by address and name, cannot pass
/// for one another, answer on published ports, and bad NIC or port input is one line that leaves nothing.
final class ManagerNICTests: NetBoxTestCase {
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

  /// Whether a guest's network namespace gets no answer from `address`: one ping, a second for its
  /// answer (one crossing the bridge takes well under a millisecond, its ARP resolution included).
  func cutOff(_ pid: Int, _ address: String) -> Bool {
    inGuestNet(pid, ["/bin/busybox", "ping", "-c", "1", "-W", "1", address]).status != 0
  }

  func testAGuestRootThatChangesItsAddressOrMACLosesConnectivityAndTakesOverNoOne() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    let b = f.name("b")
    launch(a, ["nic.0.network=lan"])
    launch(b, ["nic.0.network=lan", "nic.0.ipv4=10.210.9.50", "nic.0.mac=02:00:00:00:09:50"])
    let pa = try pid(a)
    let ownMAC = try XCTUnwrap(nics(a).first?["mac"] as? String)
    XCTAssertTrue(reaches(pa, "10.210.9.1"))
    XCTAssertEqual(box.inHost(["/bin/busybox", "ping", "-c", "1", "-W", "2", "10.210.9.50"]).status, 0)
    // A neighbour entry may only change a second after it was last confirmed (locktime): without that
    // lock, a's claim below meets only the filter.
    XCTAssertEqual(box.inHost(["/usr/sbin/sysctl", "-qw", "net.ipv4.neigh.cb-lan.locktime=0"]).status, 0)

    // a's root takes b's address and tells everyone so.
    for step in [
      ["/usr/sbin/ip", "address", "flush", "dev", "eth0"],
      ["/usr/sbin/ip", "address", "add", "10.210.9.50/24", "dev", "eth0"],
    ] {
      XCTAssertEqual(inGuestNet(pa, step).status, 0)
    }
    inGuestNet(pa, ["/bin/busybox", "arping", "-U", "-c", "2", "-I", "eth0", "10.210.9.50"])
    XCTAssertTrue(cutOff(pa, "10.210.9.1"), "a spoofed source address got through")
    let neighbour = box.inHost(["/usr/sbin/ip", "neigh", "show", "10.210.9.50", "dev", "cb-lan"]).stdout
    XCTAssertFalse(neighbour.contains(ownMAC), "a's ARP claim reached the host: \(neighbour)")
    XCTAssertEqual(box.inHost(["/bin/busybox", "ping", "-c", "1", "-W", "2", "10.210.9.50"]).status, 0)
    f.ok(["exec", b, "--", "ping", "-c", "1", "-W", "3", "10.210.9.1"])

    // Its own address back, another MAC: still cut off.
    for step in [
      ["/usr/sbin/ip", "address", "flush", "dev", "eth0"],
      ["/usr/sbin/ip", "address", "add", "10.210.9.2/24", "dev", "eth0"],
      ["/usr/sbin/ip", "route", "add", "default", "via", "10.210.9.1"],
      ["/usr/sbin/ip", "link", "set", "eth0", "address", "02:00:00:00:0a:0a"],
    ] {
      XCTAssertEqual(inGuestNet(pa, step).status, 0, "\(step)")
    }
    XCTAssertTrue(cutOff(pa, "10.210.9.1"), "a spoofed MAC got through")
    // Both its own again: connected again (what cut it off was the filter, not the changes).
    XCTAssertEqual(inGuestNet(pa, ["/usr/sbin/ip", "link", "set", "eth0", "address", ownMAC]).status, 0)
    XCTAssertTrue(reaches(pa, "10.210.9.1"))
    f.ok(["delete", "--force", a])
    f.ok(["delete", "--force", b])
  }

  func testAPublishedPortAnswersFromOutsideAndFromTheHost() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let w = f.name("web")
    let v = f.name("v")
    let lone = f.name("lone")
    launch(
      w, ["nic.0.network=lan"],
      ["sh", "-c", "mkdir -p /www && echo hello-from-guest > /www/index.html && exec httpd -f -p 80 -h /www"])
    f.ok(["port", "add", w, "8080", "80"])
    let list = f.ok(["port", "list", w]).stdout
    XCTAssertTrue(list.contains("tcp    *:8080  10.210.9.2:80"), list)
    // busybox's wget crashes on Debian 12's busybox-static (SIGSEGV); curl runs in the namespaces instead.
    let url = "http://\(box.uplinkHost):8080/"
    let outside = box.inOutside(["/usr/bin/curl", "-s", "-m", "5", url])
    XCTAssertEqual(outside.stdout, "hello-from-guest\n", "\(outside)")
    let fromHost = box.inHost(["/usr/bin/curl", "-s", "-m", "5", url])
    XCTAssertEqual(fromHost.stdout, "hello-from-guest\n", "\(fromHost)")

    launch(v, ["nic.0.network=lan"])
    f.ok(["create", lone, "--image", "busybox"])
    let cases: [([String], String)] = [
      (["port", "add", v, "8080", "81"], "host port tcp/8080 is published already, by guest \"\(w)\" (8080:80/tcp)"),
      (
        ["port", "add", v, "8080", "81", "--address", box.uplinkHost],
        "host port tcp/\(box.uplinkHost):8080 is published already, by guest \"\(w)\" (8080:80/tcp)"
      ),
      (["port", "add", v, "0", "80"], "guest \"\(v)\": host port 0: outside 1 to 65535"),
      (["port", "add", v, "8081", "65536"], "guest \"\(v)\": guest port 65536: outside 1 to 65535"),
      (["port", "add", v, "8081", "80", "--proto", "sctp"], "guest \"\(v)\": --proto: \"sctp\" is not tcp or udp"),
      (
        ["port", "add", v, "8081", "80", "--address", "::1"],
        "guest \"\(v)\": --address: \"::1\" is not an IPv4 address"
      ),
      (
        ["port", "add", lone, "8081", "80"],
        "guest \"\(lone)\" has no NIC: set nic.0.network before publishing a port to it"
      ),
      (["port", "remove", v, "8080"], "guest \"\(v)\" has no published port tcp/8080"),
    ]
    for (args, message) in cases {
      let r = f.cli(args)
      XCTAssertEqual(r.status, 1, "\(args): \(r)")
      XCTAssertEqual(r.stderr, "cella: \(message)\n", "\(args)")
      XCTAssertEqual(f.ok(["port", "list", v, "--format", "json"]).stdout.filter { !$0.isWhitespace }, "[]")
    }
    // udp 8080 is another port; so is tcp 8080 of a guest once the first gave it up.
    f.ok(["port", "add", v, "8080", "81", "--proto", "udp"])
    f.ok(["port", "remove", w, "8080"])
    XCTAssertNotEqual(box.inOutside(["/usr/bin/curl", "-s", "-m", "3", url]).status, 0)
    f.ok(["port", "add", v, "8080", "81"])
    for g in [w, v, lone] { f.ok(["delete", "--force", g]) }
    XCTAssertFalse((box.inHost(["/usr/sbin/nft", "list", "table", "inet", "cella"]).stdout).contains("dport 8080"))
  }

  func testBadNICInputIsOneLineAndLeavesNothing() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let b = f.name("b")
    let c = f.name("c")
    f.ok(["create", b, "--image", "busybox", "-c", "nic.0.network=lan", "-c", "nic.0.ipv4=10.210.9.50"])
    let before = addresses("lan")
    XCTAssertEqual(before, "10.210.9.50 \(b)/0\n")
    let cases: [([String], String)] = [
      (
        ["nic.0.ipv4=10.210.9.50"], "nic.0.ipv4: address 10.210.9.50 on network lan is taken by nic 0 of guest \"\(b)\""
      ),
      (["nic.0.ipv4=10.210.8.5"], "nic.0.ipv4: address 10.210.8.5: outside the subnet 10.210.9.0/24"),
      (["nic.0.ipv4=10.210.9.1"], "nic.0.ipv4: address 10.210.9.1: the gateway of 10.210.9.0/24, not free for a guest"),
      (
        ["nic.0.ipv4=10.210.9.255"],
        "nic.0.ipv4: address 10.210.9.255: the broadcast address of 10.210.9.0/24, not a host"
      ),
      (["nic.0.ipv4=10.210.9.0"], "nic.0.ipv4: address 10.210.9.0: the network address of 10.210.9.0/24, not a host"),
      (
        ["nic.0.mac=01:00:5e:00:00:01"],
        "nic.0.mac: 01:00:5e:00:00:01: a multicast address (the first octet is odd); a NIC needs a unicast one"
      ),
      (
        ["nic.0.mac=02:00:00:00:00"],
        "nic.0.mac: \"02:00:00:00:00\": not a MAC address (expected six hex octets, e.g. 02:00:5e:10:00:01)"
      ),
      (["nic.1.ipv4=10.210.9.7"], "nic.1.network: missing; NIC 1 needs a network"),
      (["nic.16.network=lan"], "nic.16.network: \"16\" is not a NIC index from 0 to 15"),
    ]
    for (keys, message) in cases {
      let r = f.cli(["create", c, "--image", "busybox", "-c", "nic.0.network=lan"] + keys.flatMap { ["-c", $0] })
      XCTAssertEqual(r.status, 1, "\(keys): \(r)")
      XCTAssertEqual(r.stderr, "cella: guest \"\(c)\": \(message)\n", "\(keys)")
      XCTAssertEqual(addresses("lan"), before, "\(keys)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateDir + "/guests/\(c)"), "\(keys)")
    }
    let unknown = f.cli(["create", c, "--image", "busybox", "-c", "nic.0.network=nope"])
    XCTAssertEqual(unknown.stderr, "cella: guest \"\(c)\": nic.0.network: network \"nope\" does not exist\n")
    XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateDir + "/guests/\(c)"))

    // A change of a stored guest is checked the same way and changes nothing when refused.
    f.ok(["create", c, "--image", "busybox", "-c", "nic.0.network=lan"])
    let two = addresses("lan")
    XCTAssertEqual(two, "10.210.9.2 \(c)/0\n10.210.9.50 \(b)/0\n")
    let taken = f.cli(["config", "set", c, "nic.0.ipv4=10.210.9.50"])
    XCTAssertEqual(
      taken.stderr,
      "cella: guest \"\(c)\": nic.0.ipv4: address 10.210.9.50 on network lan is taken by nic 0 of guest \"\(b)\"\n")
    XCTAssertEqual(addresses("lan"), two)
    XCTAssertNil(f.info(c)["config"].flatMap { ($0 as? [String: String])?["nic.0.ipv4"] })
    // A new static address moves the lease; removing the NIC releases it.
    f.ok(["config", "set", c, "nic.0.ipv4=10.210.9.9"])
    XCTAssertEqual(addresses("lan"), "10.210.9.9 \(c)/0\n10.210.9.50 \(b)/0\n")
    f.ok(["config", "unset", c, "nic.0.network", "nic.0.ipv4"])
    XCTAssertEqual(addresses("lan"), "10.210.9.50 \(b)/0\n")
    f.ok(["delete", b])
    f.ok(["delete", c])
    XCTAssertEqual(addresses("lan"), "")
  }

  func dhcpHosts(_ network: String) -> String {
    (try? String(contentsOfFile: f.stateDir + "/networks/\(network)/dhcp-hosts", encoding: .utf8)) ?? ""
  }

  func testAMACAnotherNICOnTheNetworkHasIsRefusedNamingItsHolder() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    f.ok(["network", "create", "other", "--subnet", "10.210.10.0/24"])
    let a = f.name("a")
    let b = f.name("b")
    f.ok(["create", a, "--image", "busybox", "-c", "nic.0.network=lan"])
    let macA = try XCTUnwrap(nics(a).first?["mac"] as? String)
    let before = addresses("lan")
    let dup = f.cli(["create", b, "--image", "busybox", "-c", "nic.0.network=lan", "-c", "nic.0.mac=\(macA)"])
    XCTAssertEqual(dup.status, 1, "\(dup)")
    XCTAssertEqual(
      dup.stderr, "cella: guest \"\(b)\": nic.0.mac: \(macA) on network lan is taken by nic 0 of guest \"\(a)\"\n")
    XCTAssertEqual(addresses("lan"), before)
    XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateDir + "/guests/\(b)"))
    // On another network the MAC is no clash.
    f.ok(["create", b, "--image", "busybox", "-c", "nic.0.network=other", "-c", "nic.0.mac=\(macA)"])
    // Moving onto a's network with a's MAC is a change refused the same way.
    let moved = f.cli(["config", "set", b, "nic.0.network=lan"])
    XCTAssertEqual(
      moved.stderr, "cella: guest \"\(b)\": nic.0.mac: \(macA) on network lan is taken by nic 0 of guest \"\(a)\"\n")
    XCTAssertEqual(addresses("lan"), before)

    // Two creates at once with one MAC: exactly one gets it.
    let c = f.name("c")
    let d = f.name("d")
    let racers = try [c, d].map {
      try Spawner.spawn(
        f.cella, ["create", $0, "--image", "busybox", "-c", "nic.0.network=lan", "-c", "nic.0.mac=02:00:00:00:0c:0c"],
        outputDirectory: f.tmp, environment: f.environment)
    }
    let statuses = racers.map { $0.wait(timeout: 30).status }
    XCTAssertEqual(statuses.filter { $0 == 0 }.count, 1, "\(statuses)")
    for g in [a, b, c, d] { _ = f.cli(["delete", g]) }
  }

  func testTheStaticLeasesNameAGuestsMACFromItsCreateOn() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    f.ok(["create", a, "--image", "busybox", "-c", "nic.0.network=lan"])
    let mac = try XCTUnwrap(nics(a).first?["mac"] as? String)
    XCTAssertEqual(dhcpHosts("lan"), "\(mac),10.210.9.2,\(a)\n")
    // A new MAC (the address stays) is in the lease at once.
    f.ok(["config", "set", a, "nic.0.mac=02:00:00:00:0a:0b"])
    XCTAssertEqual(dhcpHosts("lan"), "02:00:00:00:0a:0b,10.210.9.2,\(a)\n")
    f.ok(["delete", a])
    XCTAssertEqual(dhcpHosts("lan"), "")
  }

  /// Replaces `old` with `new` in a file of the store (the way a stale or hostile file comes about).
  func edit(_ path: String, _ old: String, _ new: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(text.contains(old), "\(path): \(text)")
    try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
  }

  func testAStaleOrHostileGuestFileNeverBlocksTheFirewallOfTheOthers() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    let b = f.name("b")
    launch(a, ["nic.0.network=lan"])
    f.ok(["create", b, "--image", "busybox", "-c", "nic.0.network=lan"])
    f.ok(["port", "add", a, "8080", "80"])
    // A host address no connection goes to is refused when asked for.
    for (address, why) in [
      ("0.0.0.0", "not a host address (leave --address out for every address)"),
      ("127.0.0.1", "a loopback address, which cannot be published (leave --address out for every address)"),
      ("224.0.0.5", "a multicast address, not a host's"),
    ] {
      let r = f.cli(["port", "add", b, "9090", "80", "--address", address])
      XCTAssertEqual(r.stderr, "cella: guest \"\(b)\": --address: \(address): \(why)\n")
    }
    // b's guest.yaml claims a's port and a loopback address; a's state.json an address off its subnet.
    f.ok(["port", "add", b, "8081", "80"])
    f.ok(["port", "add", b, "9091", "80"])
    let yaml = f.stateDir + "/guests/\(b)/guest.yaml"
    try edit(yaml, "8081:80/tcp", "8080:81/tcp")
    try edit(yaml, "9091:80/tcp", "127.0.0.1:9090:80/tcp")
    let state = f.stateDir + "/guests/\(a)/state.json"
    try edit(state, "\"ipv4\" : \"10.210.9.2\"", "\"ipv4\" : \"10.99.0.2\"")
    // Every full replacement still works, and keeps a's port.
    f.ok(["network", "create", "other", "--subnet", "10.210.10.0/24"])
    f.ok(["network", "delete", "other"])
    let table = box.inHost(["/usr/sbin/nft", "list", "table", "inet", "cella"]).stdout
    XCTAssertTrue(table.contains("dport 8080"), table)
    XCTAssertFalse(table.contains("dport 9090"), table)
    XCTAssertFalse(table.contains("10.99.0.2"), table)
    f.ok(["delete", "--force", a])
    f.ok(["delete", b])
  }

  func testPortRemoveTakesTheAddressAndKeepsTheRecordWhenTheFirewallRefuses() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    f.ok(["create", a, "--image", "busybox", "-c", "nic.0.network=lan"])
    f.ok(["port", "add", a, "8080", "80", "--address", box.uplinkHost])
    f.ok(["port", "add", a, "8080", "81", "--address", "10.210.9.1"])
    let both = f.cli(["port", "remove", a, "8080"])
    XCTAssertEqual(
      both.stderr,
      "cella: guest \"\(a)\": tcp/8080 is published on tcp/\(box.uplinkHost):8080, tcp/10.210.9.1:8080: "
        + "name one with --address\n")
    XCTAssertEqual(
      f.cli(["port", "remove", a, "8080", "--address", "10.0.0.9"]).stderr,
      "cella: guest \"\(a)\" has no published port tcp/10.0.0.9:8080\n")
    f.ok(["port", "remove", a, "8080", "--address", "10.210.9.1"])
    XCTAssertEqual(
      f.ok(["port", "list", a]).stdout.split(separator: "\n").dropFirst().map(String.init),
      ["tcp    \(box.uplinkHost):8080  10.210.9.2:80"])
    // Tables someone else made: the removal is refused and the record keeps the port.
    box.inHost(["/usr/sbin/nft", "delete", "table", "inet", "cella"])
    box.inHost(["/usr/sbin/nft", "add", "table", "inet", "cella"])
    let refused = f.cli(["port", "remove", a, "8080"])
    XCTAssertEqual(refused.status, 1, "\(refused)")
    XCTAssertEqual(f.ok(["port", "list", a, "--format", "json"]).stdout.components(separatedBy: "8080").count, 2)
    box.inHost(["/usr/sbin/nft", "delete", "table", "inet", "cella"])
    f.ok(["port", "remove", a, "8080"])
    f.ok(["delete", a])
  }

  func testAProfileChangeOfNICsKeepsTheRulesOfAGuestsOwnKeys() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let p = f.name("p")
    let r = f.name("r")
    let s = f.name("s")
    let t = f.name("t")
    f.ok(["profile", "create", p])
    f.ok(["launch", r, "--image", "busybox", "--profile", p, "--", "sleep", "600"])
    let running = f.cli(["profile", "set", p, "nic.0.network=lan"])
    XCTAssertEqual(
      running.stderr, "cella: profile \"\(p)\": guest \"\(r)\" is running: stop it to change its nic.N keys\n")
    XCTAssertEqual(f.ok(["profile", "show", p]).stdout.contains("nic.0"), false)
    f.ok(["delete", "--force", r])

    f.ok(["create", s, "--image", "busybox", "--profile", p])
    f.ok(["create", t, "--image", "busybox", "--profile", p])
    // One static address for two guests: the second is refused, the first bound back, the profile kept.
    let taken = f.cli(["profile", "set", p, "nic.0.network=lan", "nic.0.ipv4=10.210.9.50"])
    XCTAssertEqual(
      taken.stderr,
      "cella: profile \"\(p)\": guest \"\(t)\": nic.0.ipv4: address 10.210.9.50 on network lan is taken by nic 0 "
        + "of guest \"\(s)\"\n")
    XCTAssertEqual(addresses("lan"), "")
    XCTAssertFalse(f.ok(["profile", "show", p]).stdout.contains("nic.0"))
    // One MAC for two guests: refused before anything is bound.
    let mac = f.cli(["profile", "set", p, "nic.0.network=lan", "nic.0.mac=02:00:00:00:0d:0d"])
    XCTAssertEqual(
      mac.stderr,
      "cella: profile \"\(p)\": guest \"\(s)\": nic.0.mac: 02:00:00:00:0d:0d on network lan would be the MAC of "
        + "nic 0 of guest \"\(t)\" too\n")
    XCTAssertEqual(addresses("lan"), "")
    // Accepted: both bound at once, with their static leases.
    f.ok(["profile", "set", p, "nic.0.network=lan"])
    XCTAssertEqual(addresses("lan"), "10.210.9.2 \(s)/0\n10.210.9.3 \(t)/0\n")
    XCTAssertEqual(dhcpHosts("lan").split(separator: "\n").count, 2, dhcpHosts("lan"))
    f.ok(["delete", s])
    f.ok(["delete", t])
    XCTAssertEqual(addresses("lan"), "")
  }

  func testAHostileStateFileNeverMakesTheDaemonDeleteAHostLink() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let a = f.name("a")
    launch(a, ["nic.0.network=lan"])
    let hostEnd = try XCTUnwrap(nics(a).first?["hostInterface"] as? String)
    try edit(f.stateDir + "/guests/\(a)/state.json", "\"\(hostEnd)\"", "\"\(box.uplinkDevice)\"")
    f.ok(["stop", "--timeout", "1", a])
    XCTAssertEqual(box.inHost(["/usr/sbin/ip", "link", "show", box.uplinkDevice]).status, 0, "the uplink was deleted")
    f.ok(["delete", a])
  }

  func testAUsernsGuestGetsItsNICFromTheHook() throws {
    f.ok(["network", "create", "lan", "--subnet", "10.210.9.0/24"])
    let u = f.name("u")
    launch(u, ["nic.0.network=lan", "security.userns=true"])
    let shown = f.ok(["exec", u, "--", "ip", "-4", "address", "show", "eth0"]).stdout
    XCTAssertTrue(shown.contains("inet 10.210.9.2/24"), shown)
    f.ok(["exec", u, "--", "ping", "-c", "1", "-W", "3", "10.210.9.1"])
    // CAP_NET_ADMIN is not in a guest's capability set: its root cannot change the NIC it was given.
    XCTAssertNotEqual(f.cli(["exec", u, "--", "ip", "link", "set", "eth0", "address", "02:00:00:00:00:77"]).status, 0)
    f.ok(["delete", "--force", u])
  }
}
