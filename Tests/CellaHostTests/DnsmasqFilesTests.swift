import CellaNet
import XCTest

@testable import CellaHost

/// The files a network's dnsmasq reads, and how the firewall's owner and Docker's FORWARD policy are read.
final class DnsmasqFilesTests: XCTestCase {
  let record = NetworkRecord(
    name: "lan", subnet: IPv4Subnet(containing: IPv4Address(10, 210, 0, 0), prefixLength: 24),
    gateway: IPv4Address(10, 210, 0, 1), nat: true, isolated: false, bridge: "cb-lan", created: "t", phase: .ready)
  let paths = NetworkPaths(dir: "/var/lib/cella/networks/lan")

  func testConfigBindsTheBridgeOnlyServesStaticLeasesAndReadsOnlyCellasFiles() {
    XCTAssertEqual(
      DnsmasqFiles.config(record, paths, user: "dnsmasq"),
      """
      # Written by cella for network lan; rewritten before each start of its dnsmasq.
      interface=cb-lan
      bind-interfaces
      except-interface=lo
      no-hosts
      domain=cella
      local=/cella/
      addn-hosts=/var/lib/cella/networks/lan/names
      dhcp-hostsfile=/var/lib/cella/networks/lan/dhcp-hosts
      dhcp-range=10.210.0.0,static,255.255.255.0,12h
      dhcp-option=option:router,10.210.0.1
      dhcp-option=option:dns-server,10.210.0.1
      dhcp-authoritative
      dhcp-leasefile=/var/lib/cella/networks/lan/dnsmasq.leases
      pid-file=/var/lib/cella/networks/lan/dnsmasq.pid
      log-facility=/var/lib/cella/networks/lan/dnsmasq.log
      user=dnsmasq
      group=nogroup

      """)
    XCTAssertEqual(Dnsmasq.argv(paths), ["/usr/sbin/dnsmasq", "--conf-file=/var/lib/cella/networks/lan/dnsmasq.conf"])
  }

  func testLeasesNeedAMACAndNamesGoToEachGuestsFirstNIC() {
    let mac = MACAddress("02:00:00:00:00:05")!
    let hosts = [
      DnsmasqFiles.Host(guest: "web", nic: 1, mac: nil, ipv4: IPv4Address(10, 210, 0, 9)),
      DnsmasqFiles.Host(guest: "web", nic: 0, mac: mac, ipv4: IPv4Address(10, 210, 0, 5)),
      DnsmasqFiles.Host(guest: "db", nic: 0, mac: nil, ipv4: IPv4Address(10, 210, 0, 2)),
    ]
    XCTAssertEqual(DnsmasqFiles.dhcpHosts(hosts), "02:00:00:00:00:05,10.210.0.5,web\n")
    XCTAssertEqual(DnsmasqFiles.names(hosts), "10.210.0.2 db db.cella\n10.210.0.5 web web.cella\n")
  }

  func testTheFirewallMarkNamesTheStoreAndFitsNftsCommentLimit() {
    XCTAssertEqual(FirewallOwner.mark(stateDir: "/var/lib/cella"), "cella store /var/lib/cella")
    let long = "/" + String(repeating: "d", count: 300)
    let mark = FirewallOwner.mark(stateDir: long)
    XCTAssertLessThanOrEqual(mark.utf8.count, NftRuleset.maximumCommentLength)
    XCTAssertNotEqual(mark, FirewallOwner.mark(stateDir: long + "x"))
  }

  func testTablesOfAnotherStoreOrUnmarkedOnesAreRefusedInOneLine() throws {
    let listing = """
      {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"chain": {"family": "inet", "table": "cella", "name": "owner", "handle": 1}}, {"rule": {"family": "inet", "table": "cella", "chain": "owner", "handle": 2, "comment": "cella store /other", "expr": [{"return": null}]}}]}
      """
    let other = FirewallOwner.comment(inChainListing: listing)
    XCTAssertEqual(other, "cella store /other")
    XCTAssertNoThrow(try FirewallOwner.check(.nobody, mark: "cella store /mine"))
    XCTAssertNoThrow(try FirewallOwner.check(.marked("cella store /mine"), mark: "cella store /mine"))
    for holder in [FirewallOwner.Holder.marked(other), .marked(nil)] {
      XCTAssertThrowsError(try FirewallOwner.check(holder, mark: "cella store /mine")) { error in
        let message = (error as! HostError).message
        XCTAssertTrue(message.hasPrefix("nft table inet cella belongs to "), message)
        XCTAssertFalse(message.contains("\n"))
      }
    }
  }

  func testADropPolicyOfIptablesForwardIsSeen() {
    let drop = """
      {"nftables": [{"metainfo": {"version": "1.0.6"}}, {"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "handle": 2, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}]}
      """
    XCTAssertTrue(ForwardPolicy.drops(chainListing: drop))
    XCTAssertFalse(ForwardPolicy.drops(chainListing: drop.replacingOccurrences(of: "\"drop\"", with: "\"accept\"")))
    let warning = ForwardPolicy.warning(bridges: ["cb-lan"])
    XCTAssertTrue(warning.contains("DOCKER-USER -i cb-lan -j ACCEPT"), warning)
    XCTAssertTrue(warning.contains("--ip-forward-no-drop"), warning)
  }
}
