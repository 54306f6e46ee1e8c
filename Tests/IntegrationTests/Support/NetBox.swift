import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A "host in a box" for network tests: a network namespace that plays the host (the daemon, its bridges,
/// its nft tables and dnsmasq live there) with an uplink veth to a second namespace that plays the outside
/// world. Nothing of the real host's network is touched; `tearDown` deletes both namespaces, and with them
/// every device made inside.
///
/// Addresses, used only inside the two namespaces: the box's uplink is `uplinkHost` on `uplinkSubnet`,
/// the outside's end `outsideAddress`, which is also the box's default route.
final class NetBox {
  /// The namespace playing the host (`/run/netns/<host>`).
  let host: String
  /// The namespace playing the outside world.
  let outside: String
  /// The box's address on its uplink: what the outside sees as the source of NATed guest traffic.
  let uplinkHost = "100.72.0.2"
  /// The outside world's address, the box's default gateway.
  let outsideAddress = "100.72.0.1"
  static let uplinkPrefix = 24
  /// The uplink device in the box, and its peer in the outside namespace.
  let uplinkDevice = "uplink0"
  let outsideDevice = "wan0"
  private let tmp: String
  private static let counter = Counter()

  /// Makes both namespaces and the link between them; throws (after removing what it made) if any step fails.
  init() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("network tests need root") }
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else {
      throw SuiteConfiguration.skip("no /usr/sbin/ip (apt-get install iproute2)")
    }
    let n = Self.counter.next()
    host = "\(SuiteRun.idPrefix)-box\(n)"
    outside = "\(SuiteRun.idPrefix)-out\(n)"
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
    let steps: [[String]] = [
      ["netns", "add", host],
      ["netns", "add", outside],
      ["-n", host, "link", "set", "lo", "up"],
      ["-n", outside, "link", "set", "lo", "up"],
      ["-n", host, "link", "add", uplinkDevice, "type", "veth", "peer", "name", outsideDevice, "netns", outside],
      ["-n", host, "address", "add", "\(uplinkHost)/\(Self.uplinkPrefix)", "dev", uplinkDevice],
      ["-n", outside, "address", "add", "\(outsideAddress)/\(Self.uplinkPrefix)", "dev", outsideDevice],
      ["-n", host, "link", "set", uplinkDevice, "up"],
      ["-n", outside, "link", "set", outsideDevice, "up"],
      ["-n", host, "route", "add", "default", "via", outsideAddress],
    ]
    for step in steps {
      let r = ip(step)
      if r.status != 0 {
        tearDown()
        throw HarnessError("ip \(step.joined(separator: " ")): \(r.stderr)")
      }
    }
  }

  /// The path `nsenter --net=` and `setns` take for the host namespace.
  var hostPath: String { "/run/netns/\(host)" }

  /// The words that run a command inside the box's host namespace (only the network namespace: the
  /// daemon must share the real mount namespace, so that its guests' mounts outlive it like on a host).
  var enterHost: [String] { ["/usr/bin/nsenter", "--net=\(hostPath)", "--"] }

  /// Runs a command in the box's host namespace.
  @discardableResult
  func inHost(_ command: [String], timeout: TimeInterval = 30) -> CommandResult {
    Spawner.run(enterHost[0], Array(enterHost.dropFirst()) + command, outputDirectory: tmp, timeout: timeout)
  }

  /// Runs a command in the outside namespace.
  @discardableResult
  func inOutside(_ command: [String], timeout: TimeInterval = 30) -> CommandResult {
    Spawner.run(
      "/usr/bin/nsenter", ["--net=/run/netns/\(outside)", "--"] + command, outputDirectory: tmp, timeout: timeout)
  }

  /// Runs `ip ARGS` (in the real host namespace; use `-n NAME` to reach into one of the box's).
  @discardableResult
  func ip(_ args: [String]) -> CommandResult {
    Spawner.run("/usr/sbin/ip", args, outputDirectory: tmp)
  }

  /// Deletes both namespaces (their devices go with them). The daemon and its guests must be gone
  /// first: a process still inside keeps a namespace alive.
  func tearDown() {
    for name in [host, outside] where FileManager.default.fileExists(atPath: "/run/netns/\(name)") {
      ip(["netns", "delete", name])
    }
    try? FileManager.default.removeItem(atPath: tmp)
  }
}

/// A test class whose daemon runs inside a `NetBox`.
class NetBoxTestCase: ManagerTestCase {
  var box: NetBox!

  override func prepare(_ fixture: DaemonFixture) {
    fixture.daemonPrefix = box.enterHost
    // A network's dnsmasq re-reads its name files as an unprivileged user, which must search the way there.
    chmod(fixture.tmp, 0o711)
  }

  override func setUpWithError() throws {
    box = try NetBox()
    do { try super.setUpWithError() } catch {
      f?.tearDown()
      box.tearDown()
      throw error
    }
  }

  override func tearDown() {
    super.tearDown()
    box?.tearDown()
  }
}
