import CellaNet
import Foundation
import Synchronization
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// CellaNet's netlink operations on real devices: a bridge, a veth pair with one end made directly in
/// a network namespace, addresses, a default route and taps, proven with ping. Every device is named
/// `SuiteRun.netDevicePrefix`…, every namespace `cella-t-<run>-…`, and all are removed.
final class NetLinkTests: XCTestCase {
  private var tmp = ""
  private var namespaces: [String] = []
  private var devices: [String] = []
  private var host: NetlinkSocket!

  override func setUpWithError() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("netlink tests need root") }
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
    host = try NetlinkSocket.open()
  }

  override func tearDown() {
    // `ip` here, not the code under test, so that a broken CellaNet still leaves nothing behind.
    for device in devices { run("/usr/sbin/ip", ["link", "delete", device], quiet: true) }
    for namespace in namespaces { run("/usr/sbin/ip", ["netns", "delete", namespace], quiet: true) }
    if !tmp.isEmpty { try? FileManager.default.removeItem(atPath: tmp) }
  }

  /// A device name of this run, remembered for removal.
  private func device(_ tag: String) -> String {
    let name = SuiteRun.netDevicePrefix + tag
    devices.append(name)
    return name
  }

  /// A new network namespace of this run and an open fd on it.
  private func namespace() throws -> (name: String, fd: Int32) {
    let name = "\(SuiteRun.idPrefix)-\(TestEnvironment.randomSuffix(6))"
    namespaces.append(name)
    XCTAssertEqual(run("/usr/sbin/ip", ["netns", "add", name]).status, 0)
    let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw HarnessError("open /run/netns/\(name): \(String(cString: strerror(errno)))") }
    return (name, fd)
  }

  @discardableResult
  private func run(_ executable: String, _ arguments: [String], quiet: Bool = false) -> CommandResult {
    let result = Spawner.run(executable, arguments, outputDirectory: tmp)
    if !quiet && result.status != 0 { print("\(result)") }
    return result
  }

  /// Pings `address` once from the host, or from inside `namespace`, allowing for the link to settle.
  private func pings(_ address: IPv4Address, from namespace: String? = nil) -> Bool {
    let ping = ["/usr/bin/busybox", "ping", "-c", "1", "-W", "2", "\(address)"]
    let command = namespace.map { ["netns", "exec", $0] + ping } ?? Array(ping.dropFirst())
    for _ in 0..<3 where run(namespace == nil ? ping[0] : "/usr/sbin/ip", command, quiet: true).status == 0 {
      return true
    }
    return false
  }

  /// A /24 of 10.200-249.x.0 for one test: private, and unlikely to meet a host route.
  private func subnet() -> (UInt8, UInt8) { (UInt8.random(in: 200...249), UInt8.random(in: 0...255)) }

  func testBridgeAndVethIntoANamespaceCarryPingBothWaysAndTheDefaultRoute() throws {
    let (ns, nsFD) = try namespace()
    defer { close(nsFD) }
    let bridge = device("b0")
    let hostEnd = device("v0")
    let (a, b) = subnet()
    let gateway = IPv4Address(10, a, b, 1)
    let guestAddress = IPv4Address(10, a, b, 2)
    // A host address outside the guest's /24: reachable from the guest only through its default route.
    let beyond = IPv4Address(10, a, b ^ 1, 1)

    try host.createBridge(bridge, mtu: 1400)
    try host.createVeth(hostEnd, peer: "eth0", peerNamespace: .fd(nsFD))
    try host.setMaster(hostEnd, bridge: bridge)
    try host.addAddress(gateway, prefixLength: 24, broadcast: IPv4Address(10, a, b, 255), to: bridge)
    try host.addAddress(beyond, prefixLength: 24, to: bridge)
    try host.setLink(bridge, up: true)
    try host.setLink(hostEnd, up: true)

    let guest = try NetlinkSocket.open(inNetnsFD: nsFD)
    try guest.setLink("lo", up: true)
    try guest.addAddress(guestAddress, prefixLength: 24, broadcast: IPv4Address(10, a, b, 255), to: "eth0")
    try guest.setLink("eth0", up: true)
    try guest.addDefaultRoute(via: gateway, link: "eth0")

    let links = try host.links(prefix: SuiteRun.netDevicePrefix)
    let bridgeLink = try XCTUnwrap(links.first { $0.name == bridge })
    XCTAssertEqual(bridgeLink.kind, "bridge")
    XCTAssertEqual(bridgeLink.mtu, 1400)
    XCTAssertEqual(links.first { $0.name == hostEnd }?.masterIndex, bridgeLink.index)
    XCTAssertEqual(try guest.link("eth0").kind, "veth")
    XCTAssertEqual(
      try guest.addresses(on: "eth0").map {
        "\($0.address)/\($0.prefixLength) \($0.broadcast.map(\.description) ?? "-")"
      },
      ["\(guestAddress)/24 10.\(a).\(b).255"])
    XCTAssertEqual(Set(try host.addresses(on: bridge).map(\.address)), [gateway, beyond])

    XCTAssertTrue(pings(guestAddress), "host -> guest")
    XCTAssertTrue(pings(gateway, from: ns), "guest -> gateway")
    XCTAssertTrue(pings(beyond, from: ns), "guest -> a host address beyond its subnet, via the default route")

    try host.deleteAddress(beyond, prefixLength: 24, from: bridge)
    XCTAssertEqual(try host.addresses(on: bridge).map(\.address), [gateway])
    try host.deleteLink(hostEnd)
    try host.deleteLink(bridge)
    XCTAssertEqual(try host.links(prefix: SuiteRun.netDevicePrefix).map(\.name), [])
    XCTAssertThrowsError(try guest.link("eth0"), "the veth's peer goes with it")
  }

  func testMoveIntoANamespaceRenamesTheLinkThere() throws {
    let (_, nsFD) = try namespace()
    defer { close(nsFD) }
    let hostEnd = device("v1")
    let other = device("v2")
    try host.createVeth(hostEnd, peer: other)
    try host.moveLink(other, to: .fd(nsFD), newName: "eth1")
    XCTAssertThrowsError(try host.link(other)) { XCTAssertEqual(($0 as? NetError)?.kind, .notFound) }
    let guest = try NetlinkSocket.open(inNetnsFD: nsFD)
    XCTAssertEqual(try guest.link("eth1").kind, "veth")
    XCTAssertEqual(Set(try guest.links().map(\.name)), ["lo", "eth1"], "the guest's socket sees only its namespace")
    try host.deleteLink(hostEnd)
  }

  func testOpeningASocketInANamespaceLeavesTheCallingThreadWhereItWas() throws {
    let (_, nsFD) = try namespace()
    defer { close(nsFD) }
    let before = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
    _ = try NetlinkSocket.open(inNetnsFD: nsFD)
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net"), before)
    XCTAssertThrowsError(try NetlinkSocket.open(inNetnsFD: 0)) {
      XCTAssertEqual(($0 as? NetError)?.kind, .invalidArgument)
    }
  }

  func testDuplicateBridgeIsAlreadyExistsNamingTheDevice() throws {
    let bridge = device("b1")
    try host.createBridge(bridge)
    XCTAssertThrowsError(try host.createBridge(bridge)) { error in
      XCTAssertEqual((error as? NetError)?.kind, .alreadyExists)
      XCTAssertTrue(
        (error as? NetError)?.message.hasPrefix("create bridge \(bridge): file exists") ?? false, "\(error)")
    }
    try host.deleteLink(bridge)
  }

  func testDeletingAMissingLinkIsNotFoundNamingIt() throws {
    let missing = device("x9")
    XCTAssertThrowsError(try host.deleteLink(missing)) { error in
      XCTAssertEqual((error as? NetError)?.kind, .notFound)
      XCTAssertTrue((error as? NetError)?.message.hasPrefix("delete link \(missing): ") ?? false, "\(error)")
    }
    XCTAssertThrowsError(try host.setLink(missing, up: true)) { XCTAssertEqual(($0 as? NetError)?.kind, .notFound) }
  }

  func testSetMACAndDownAreWhatTheKernelReports() throws {
    let bridge = device("b2")
    try host.createBridge(bridge)
    let mac = try XCTUnwrap(MACAddress("02:c0:ff:ee:00:01"))
    try host.setMAC(bridge, mac)
    try host.setLink(bridge, up: true)
    XCTAssertTrue(try host.link(bridge).isUp)
    try host.setLink(bridge, up: false)
    let link = try host.link(bridge)
    XCTAssertEqual(link.mac, mac)
    XCTAssertFalse(link.isUp)
    try host.deleteLink(bridge)
  }

  func testOneSocketServesManyThreadsAtOnce() throws {
    let bridge = device("b3")
    try host.createBridge(bridge)
    let expected = try host.linkIndex(bridge)
    let socket = host!
    let indexes = Mutex<[Int32]>([])
    DispatchQueue.concurrentPerform(iterations: 64) { _ in
      let index = (try? socket.linkIndex(bridge)) ?? -1
      indexes.withLock { $0.append(index) }
    }
    XCTAssertEqual(indexes.withLock { $0 }, Array(repeating: expected, count: 64))
    try host.deleteLink(bridge)
  }

  func testPersistentTapOutlivesItsFdAndAnotherGoesWithIt() throws {
    let persistent = device("t0")
    let transient = device("t1")
    do {
      let tap = try Tap.create(persistent, persistent: true)
      XCTAssertEqual(tap.name, persistent)
      let other = try Tap.create(transient, persistent: false)
      XCTAssertEqual(try host.link(other.name).kind, "tun")
    }
    XCTAssertEqual(try host.link(persistent).kind, "tun")
    XCTAssertThrowsError(try host.link(transient)) { XCTAssertEqual(($0 as? NetError)?.kind, .notFound) }
    try host.deleteLink(persistent)
  }
}
