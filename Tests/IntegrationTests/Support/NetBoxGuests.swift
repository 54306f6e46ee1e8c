import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// What tests of guests with NICs in a `NetBox` look at: the guests' NICs, their network namespaces,
/// the box's links, a network's IPAM file and cella's tables.
extension NetBoxTestCase {
  /// `nics` of `info`'s JSON.
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

  /// Whether a guest's network namespace reaches `address` (two pings, either answered).
  func reaches(_ pid: Int, _ address: String) -> Bool {
    inGuestNet(pid, ["/bin/busybox", "ping", "-c", "2", "-W", "2", address]).status == 0
  }

  /// `ip -o link show` in the box.
  func hostLinks() -> String { box.inHost(["/usr/sbin/ip", "-o", "link", "show"]).stdout }

  /// The names of the box's links, sorted: what exists, without the carrier and state that the kernel
  /// changes on its own (a bridge turns from NO-CARRIER to UP a moment after its first port does).
  func hostLinkNames() -> [String] {
    // `ip -o link` lines read "N: NAME[@PEER]: <FLAGS> …".
    hostLinks().split(separator: "\n").compactMap { line in
      line.split(separator: " ").dropFirst().first.map { String($0.dropLast().split(separator: "@")[0]) }
    }.sorted()
  }

  /// The IPAM file of `network`: one "ADDRESS GUEST/N" line per NIC.
  func addresses(_ network: String) -> String {
    let text =
      (try? String(contentsOfFile: f.stateDir + "/networks/\(network)/\(network).addresses", encoding: .utf8)) ?? ""
    // "ADDRESS OWNER" of each lease (its MAC left out).
    return text.split(separator: "\n").map { $0.split(separator: " ").prefix(2).joined(separator: " ") + "\n" }
      .joined()
  }

  /// `nft list table FAMILY cella` in the box; nil when there is none.
  func cellaTable(_ family: String = "inet") -> String? {
    let r = box.inHost(["/usr/sbin/nft", "list", "table", family, "cella"])
    return r.status == 0 ? r.stdout : nil
  }

  /// dnsmasq processes started for this fixture's store.
  func dnsmasqs() -> [pid_t] {
    f.processesUnder(f.tmp).filter {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == "/usr/sbin/dnsmasq"
    }
  }

  /// `cella launch GUEST --image busybox -c KEY… -- COMMAND`.
  func launch(_ guest: String, _ keys: [String], _ command: [String] = ["sleep", "600"]) {
    f.ok(["launch", guest, "--image", "busybox"] + keys.flatMap { ["-c", $0] } + ["--"] + command)
  }
}
