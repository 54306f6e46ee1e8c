import CellaAPI
import CellaNet
import CellaOCI
import Foundation
import XCTest

@testable import CellaHost

/// The nic.N.* keys, their cross-key rules, the files and hook a guest with NICs gets.
final class NICConfigTests: XCTestCase {
  private func message(_ key: String, _ value: String) -> String? {
    do {
      try ConfigKeys.validate(key: key, value: value, kind: .container)
      return nil
    } catch { return error.message }
  }

  private func mapError(_ config: [String: String]) -> String? {
    do {
      _ = try EffectiveConfig(config)
      return nil
    } catch { return error.message }
  }

  func testNICKeysTakeANetworkAnAddressOrAutoAndAUnicastMAC() {
    XCTAssertNil(message("nic.0.network", "lan"))
    XCTAssertNil(message("nic.15.ipv4", "auto"))
    XCTAssertNil(message("nic.3.ipv4", "10.210.0.7"))
    XCTAssertNil(message("nic.1.mac", "02:00:5e:10:00:01"))
    XCTAssertNoThrow(try ConfigKeys.validate(key: "nic.0.network", value: "lan", kind: .vm))
    XCTAssertEqual(
      message("nic.0.network", "Lan!"),
      "nic.0.network: network name \"Lan!\" is not a DNS label: use lowercase letters, digits and '-'")
    XCTAssertEqual(
      message("nic.0.ipv4", "10.0.0.256"),
      "nic.0.ipv4: \"10.0.0.256\" is not auto or an IPv4 address (four numbers 0-255, e.g. 10.210.0.5)")
    XCTAssertEqual(
      message("nic.0.mac", "01:00:5e:00:00:01"),
      "nic.0.mac: 01:00:5e:00:00:01: a multicast address (the first octet is odd); a NIC needs a unicast one")
    XCTAssertEqual(
      message("nic.0.mac", "02:00:5e:10:00"),
      "nic.0.mac: \"02:00:5e:10:00\": not a MAC address (expected six hex octets, e.g. 02:00:5e:10:00:01)")
    XCTAssertEqual(
      message("nic.0.mac", "00:00:00:00:00:00"),
      "nic.0.mac: 00:00:00:00:00:00: the all-zero address is not a valid NIC address")
  }

  func testNICIndicesAreZeroToFifteenWithoutLeadingZeros() {
    for bad in ["16", "01", "-1", "x", "1.5"] {
      XCTAssertEqual(
        message("nic.\(bad).network", "lan"), "nic.\(bad).network: \"\(bad)\" is not a NIC index from 0 to 15", bad)
    }
    XCTAssertEqual(message("nic.0.netwrok", "lan"), "unknown key \"nic.0.netwrok\": did you mean \"nic.0.network\"?")
  }

  func testANICNeedsANetworkAndNICsShareNoStaticAddressOrMAC() throws {
    XCTAssertEqual(mapError(["nic.1.ipv4": "10.210.0.5"]), "nic.1.network: missing; NIC 1 needs a network")
    XCTAssertEqual(
      mapError([
        "nic.0.network": "a", "nic.0.ipv4": "10.210.0.5", "nic.2.network": "b", "nic.2.ipv4": "10.210.0.5",
      ]), "nic.2.ipv4: 10.210.0.5 is the address of nic 0 too")
    XCTAssertEqual(
      mapError([
        "nic.0.network": "a", "nic.0.mac": "02:00:00:00:00:01", "nic.1.network": "a", "nic.1.mac": "02:00:00:00:00:01",
      ]), "nic.1.mac: 02:00:00:00:00:01 is the MAC address of nic 0 too")
    let config = try EffectiveConfig([
      "nic.2.network": "b", "nic.0.network": "a", "nic.0.ipv4": "auto", "nic.2.ipv4": "10.1.0.9",
      "nic.2.mac": "02:aa:00:00:00:02",
    ])
    XCTAssertEqual(
      config.nics,
      [
        GuestNIC(index: 0, network: "a"),
        GuestNIC(index: 2, network: "b", ipv4: IPv4Address(10, 1, 0, 9), mac: MACAddress("02:aa:00:00:00:02")),
      ])
    XCTAssertEqual(config.nics[0].mac(guest: "web"), MACAddress.stableDefault(name: "web", nic: 0))
    XCTAssertEqual(config.nics[1].owner(guest: "web"), "web/2")
    XCTAssertEqual(config.nics[1].interfaceName, "eth2")
  }

  func testResolvConfPointsAtTheGatewayAndHostsNamesTheGuest() {
    XCTAssertEqual(
      GuestNetFiles.resolvConf(nameserver: "10.210.0.1"),
      "# Written by cella at each start: the network's dnsmasq on its gateway.\nnameserver 10.210.0.1\nsearch cella\n")
    XCTAssertEqual(
      GuestNetFiles.hosts(name: "web", hostname: "www.example.org", address: "10.210.0.5"),
      "# Written by cella at each start.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        + "10.210.0.5\tweb.cella web www.example.org\n")
    XCTAssertTrue(
      GuestNetFiles.hosts(name: "web", hostname: "web", address: "10.0.0.2").hasSuffix("10.0.0.2\tweb.cella web\n"))
  }

  func testAGuestWithNICsGetsTheHookAndItsNameFiles() throws {
    let dir = try TestDir()
    let join = VethJoin(
      host: "cv1a2b3c4d", bridge: "cb-lan", name: "eth0", mac: MACAddress("02:00:00:00:00:05")!,
      ipv4: IPv4Address(10, 210, 0, 5), subnet: try IPv4Subnet.parse("10.210.0.0/24"),
      gateway: IPv4Address(10, 210, 0, 1))
    let input = GuestSpec.Input(
      name: "web", process: ImageProcess(cmd: ["/bin/sh"]), command: nil, config: try EffectiveConfig([:]),
      rootfs: "../rootfs", lookupRoot: dir.path, cgroupsPath: "/cella-t/web",
      network: GuestSpec.Network(
        hookPath: "/usr/bin/cella-nic", joins: [join], resolvConf: "/s/web/resolv.conf", hosts: "/s/web/hosts"))
    let spec = try GuestSpec.make(input)
    XCTAssertEqual(
      spec.hooks?.createRuntime,
      [
        Hook(
          path: "/usr/bin/cella-nic",
          args: [
            "/usr/bin/cella-nic", "--nic",
            "host=cv1a2b3c4d,bridge=cb-lan,name=eth0,mac=02:00:00:00:00:05,ipv4=10.210.0.5/24,gateway=10.210.0.1",
          ], timeout: GuestSpec.hookTimeout)
      ])
    let binds = (spec.mounts ?? []).filter { $0.destination.hasPrefix("/etc/") }
    XCTAssertEqual(
      binds,
      [
        Mount(destination: "/etc/resolv.conf", type: "bind", source: "/s/web/resolv.conf", options: ["bind", "ro"]),
        Mount(destination: "/etc/hosts", type: "bind", source: "/s/web/hosts", options: ["bind", "ro"]),
      ])
    // Without NICs (and in the checks before a start) there is neither.
    var plain = input
    plain.network = nil
    let without = try GuestSpec.make(plain)
    XCTAssertNil(without.hooks?.createRuntime)
    XCTAssertFalse((without.mounts ?? []).contains { $0.destination == "/etc/hosts" })
  }

  func testTheHookArgumentReadsBackAndBadOnesAreOneLine() throws {
    let join = VethJoin(
      host: "cv00000001", bridge: "cb-a", name: "eth3", mac: MACAddress("02:00:00:00:00:09")!,
      ipv4: IPv4Address(10, 0, 0, 9), subnet: try IPv4Subnet.parse("10.0.0.8/29"), gateway: nil)
    XCTAssertEqual(try VethJoin.parse(join.argument), join)
    XCTAssertEqual(join.argument, "host=cv00000001,bridge=cb-a,name=eth3,mac=02:00:00:00:00:09,ipv4=10.0.0.9/29")
    func error(_ text: String) -> String? {
      do {
        _ = try VethJoin.parse(text)
        return nil
      } catch { return error.message }
    }
    XCTAssertEqual(
      error("host=a,bridge=b,name=c,mac=02:00:00:00:00:01"),
      "--nic \"host=a,bridge=b,name=c,mac=02:00:00:00:00:01\": ipv4 is missing")
    XCTAssertEqual(error("host=a,host=b"), "--nic \"host=a,host=b\": host given twice")
    XCTAssertEqual(error("color=red"), "--nic \"color=red\": unknown key \"color\"")
    XCTAssertEqual(
      error("host=a,bridge=b,name=c,mac=02:00:00:00:00:01,ipv4=10.0.0.1"), "--nic ipv4 \"10.0.0.1\": not ADDRESS/PREFIX"
    )
    XCTAssertEqual(
      error("host=a,bridge=b,name=a-name-far-too-long,mac=02:00:00:00:00:01,ipv4=10.0.0.1/24"),
      "interface name \"a-name-far-too-long\": must be 1 to 15 bytes without '/', ':', spaces or control characters")
  }
}
