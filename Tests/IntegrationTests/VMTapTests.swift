import CShims
import CellaAPI
import CellaNet
import Foundation
import Synchronization
import XCTest

@testable import CellaHost

#if canImport(Glibc)
  import Glibc
#endif

/// `Manager.openTaps` on a real cella network (bridge, nft tables, dnsmasq), and the fixture VM on such taps,
/// all inside an unnamed network namespace that only the test's thread (and what it spawns) is in, so the
/// host's network is never touched and the namespace goes with the thread.
final class VMTapTests: XCTestCase {
  private var tmp = ""

  override func setUpWithError() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("tap tests need root") }
    for tool in ["/usr/sbin/nft", "/usr/sbin/dnsmasq"] where access(tool, X_OK) != 0 {
      throw SuiteConfiguration.skip("no \(tool) (apt-get install nftables dnsmasq-base)")
    }
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
    // dnsmasq, unprivileged, searches its way to the network's files.
    chmod(tmp, 0o711)
  }

  override func tearDown() {
    if !tmp.isEmpty { try? FileManager.default.removeItem(atPath: tmp) }
  }

  func testOpenTapsPutsEachTapOnItsBridgeAndClosingOrRemovingTakesItAway() throws {
    try inPrivateNetworkNamespace { [tmp] in
      let manager = try Self.manager(tmp)
      let network = try manager.createNetwork(CreateNetworkRequest(name: "vmnet", subnet: "10.232.0.0/24"))
      defer { XCTAssertNoThrow(try manager.deleteNetwork("vmnet")) }
      let nics = [Self.nic(0, network, "10.232.0.10"), Self.nic(1, network, "10.232.0.11")]
      try manager.updateFirewallPorts("add", nics)
      let socket = try NetlinkSocket.open()
      let bridge = try socket.link(network.bridge)

      var taps: OpenTaps? = try manager.openTaps("vm", nics)
      XCTAssertEqual(taps?.names, nics.map(\.hostInterface))
      for nic in nics {
        let tap = try socket.link(nic.hostInterface)
        XCTAssertEqual(tap.kind, "tun")
        XCTAssertEqual(tap.masterIndex, bridge.index)
        XCTAssertTrue(tap.isUp)
        XCTAssertEqual(tap.mtu, bridge.mtu)
      }
      let table = try NftApplier().listTable(family: "bridge")
      for nic in nics { XCTAssertTrue(table.contains(nic.hostInterface), table) }

      // The stop path deletes a tap QEMU still holds, and passes over one that went with its fd.
      manager.removeHostInterfaces("vm", [nics[0]])
      XCTAssertThrowsError(try socket.link(nics[0].hostInterface)) {
        XCTAssertEqual(($0 as? NetError)?.kind, .notFound)
      }
      XCTAssertNoThrow(try socket.link(nics[1].hostInterface))
      taps = nil
      XCTAssertThrowsError(try socket.link(nics[1].hostInterface)) {
        XCTAssertEqual(($0 as? NetError)?.kind, .notFound)
      }
      manager.removeHostInterfaces("vm", nics)
    }
  }

  func testOpenTapsThatFailsOnALaterNICLeavesNoTap() throws {
    try inPrivateNetworkNamespace { [tmp] in
      let manager = try Self.manager(tmp)
      let network = try manager.createNetwork(CreateNetworkRequest(name: "vmnet", subnet: "10.232.0.0/24"))
      defer { XCTAssertNoThrow(try manager.deleteNetwork("vmnet")) }
      var broken = Self.nic(1, network, "10.232.0.11")
      broken.bridge = "ctnobridge"
      let nics = [Self.nic(0, network, "10.232.0.10"), broken]
      XCTAssertThrowsError(try manager.openTaps("vm", nics).names) { error in
        let message = (error as? HostError)?.message ?? "\(error)"
        XCTAssertTrue(message.hasPrefix("guest vm: nic.1: "), message)
        XCTAssertFalse(message.contains("\n"))
      }
      let socket = try NetlinkSocket.open()
      for nic in nics {
        XCTAssertThrowsError(try socket.link(nic.hostInterface)) { XCTAssertEqual(($0 as? NetError)?.kind, .notFound) }
      }
    }
  }

  func testAVMOnAnOpenedTapAnswersOnTheNetworkWithinItsAntiSpoofingEntries() throws {
    let body = "vm on a cella network \(TestEnvironment.randomSuffix(6))"
    try inPrivateNetworkNamespace { [tmp] in
      let manager = try Self.manager(tmp)
      let network = try manager.createNetwork(CreateNetworkRequest(name: "vmnet", subnet: "10.232.0.0/24"))
      defer { XCTAssertNoThrow(try manager.deleteNetwork("vmnet")) }
      let nic = Self.nic(0, network, "10.232.0.10")
      let disk = try BootDisk.build(
        in: tmp,
        BootDisk.Options(
          network: .fixed(address: "\(nic.ipv4)/24", gateway: network.gateway), httpBody: body,
          script: "ping -c 1 -W 5 \(network.gateway) >/dev/null && echo CELLA-GATEWAY-REACHED"))
      try manager.updateFirewallPorts("add", [nic])
      let taps = try manager.openTaps("vm", [nic])
      // e1000, the seeds' `-net nic` on pc: QEMU adds and strips the vnet header of openTaps' taps for a
      // NIC without one (VMFixtureTests boot virtio-net on such a tap).
      let qemu = try BareQEMU(
        [
          "-M", "q35", "-m", "256", "-drive", "file=\(disk.path),format=raw", "-netdev", "tap,id=n0,fd=3",
          "-device", "e1000,netdev=n0,mac=\(nic.mac)",
        ], directory: tmp, inheriting: taps.rawValues)
      _ = consume taps
      defer { qemu.stop() }
      XCTAssertNotNil(qemu.line(BootDisk.readyLine, timeout: 90), "no ready line; console:\n\(qemu.consoleText)")
      XCTAssertNotNil(qemu.line("CELLA-GATEWAY-REACHED", timeout: 0), qemu.consoleText)
      let got = Spawner.run(
        "/bin/busybox", ["wget", "-q", "-O", "-", "http://\(nic.ipv4)/"], outputDirectory: tmp, timeout: 20)
      XCTAssertEqual(got.stdout, body, "\(got)")
      qemu.stop()
      XCTAssertThrowsError(try NetlinkSocket.open().link(nic.hostInterface), "the tap outlived QEMU")
      manager.removeHostInterfaces("vm", [nic])
      try manager.updateFirewallPorts("delete", [nic])
    }
  }

  /// A manager on a store in `dir`; its helper binaries are stand-ins (no guest is started).
  private static func manager(_ dir: String) throws -> Manager {
    let bin = dir + "/bin"
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    for tool in ["cella-runtime", "cella-keeper", "cella-nic"] {
      _ = FileManager.default.createFile(atPath: "\(bin)/\(tool)", contents: Data("#!/bin/sh\nexit 1\n".utf8))
      chmod("\(bin)/\(tool)", 0o755)
    }
    return try Manager(
      options: ManagerOptions(
        stateDir: dir + "/state", socket: dir + "/sock", runtimePath: bin + "/cella-runtime",
        keeperPath: bin + "/cella-keeper", cgroupParent: SuiteRun.cgroupParent),
      log: DaemonLog(quiet: true))
  }

  private static func nic(_ index: Int, _ network: NetworkInfo, _ ipv4: String) -> StartedNIC {
    StartedNIC(
      index: index, network: network.name, bridge: network.bridge, hostInterface: GuestLinkName.fresh(),
      mac: "52:54:00:12:34:\(String(format: "%02x", 0x10 + index))", ipv4: ipv4, prefixLength: 24,
      gateway: network.gateway)
  }

  /// Runs `body` on a thread of its own that first moves into a new network namespace: everything it
  /// makes (links, nft tables) and spawns (nft, dnsmasq) lives there, and the namespace ends with the thread.
  private func inPrivateNetworkNamespace(_ body: @escaping @Sendable () throws -> Void) throws {
    let failure = Mutex<String?>(nil)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      defer { done.signal() }
      guard cella_unshare(0x4000_0000) == 0 else {  // CLONE_NEWNET
        failure.withLock { $0 = "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))" }
        return
      }
      do { try body() } catch { failure.withLock { $0 = "\(error)" } }
    }
    thread.start()
    done.wait()
    if let message = failure.withLock({ $0 }) { XCTFail(message) }
  }
}
