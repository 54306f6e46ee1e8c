import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

final class NamespaceTests: RuntimeTestCase {
  /// readlink of /proc/PID/ns/KIND ("net:[4026531840]").
  func nsLink(_ pid: String, _ kind: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
  }

  func testDefaultNamespacesDifferFromHost() throws {
    let b = try env.bundle(["sleep", "100"])
    let id = env.newID()
    let pid = env.startDetached(b, id: id)
    XCTAssertGreaterThan(pid, 0)
    for kind in ["pid", "net", "ipc", "uts", "mnt", "cgroup"] {
      let host = nsLink("self", kind)
      let container = nsLink(String(pid), kind)
      XCTAssertNotNil(container, "no /proc/\(pid)/ns/\(kind)")
      XCTAssertNotEqual(container, host, "\(kind) namespace is the host's")
    }
    // Namespaces the config does not ask for are shared.
    XCTAssertEqual(nsLink(String(pid), "user"), nsLink("self", "user"))
  }

  func testProcessIsPID1InItsPIDNamespace() throws {
    let b = try env.bundle(["sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo"])
    let lines = env.output(b).split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "1")
    XCTAssertEqual(
      lines.dropFirst().first?.trimmingCharacters(in: .whitespaces),
      "sh -c echo $$; tr '\\0' ' ' < /proc/1/cmdline; echo")
  }

  func testUserNamespaceMapsContainerRootToHostUID() throws {
    let b = try env.bundle(["sleep", "100"])
    b.addNamespace("user")
    b.editLinux {
      $0["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
      $0["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
    }
    let id = env.newID()
    let pid = env.startDetached(b, id: id)
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }.map(String.init) ?? ""
    let gidLine = status.split(separator: "\n").first { $0.hasPrefix("Gid:") }.map(String.init) ?? ""
    XCTAssertEqual(uidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first, "100000", uidLine)
    XCTAssertEqual(gidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first, "100000", gidLine)
    XCTAssertNotEqual(nsLink(String(pid), "user"), nsLink("self", "user"))

    b.setShell("id -u; id -g; cat /proc/self/uid_map")
    let out = env.output(b).split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    XCTAssertEqual(Array(out.prefix(3)), ["0", "0", "0 100000 65536"])
  }

  func testTimeNamespaceOffsetsClocks() throws {
    // /proc/uptime follows CLOCK_BOOTTIME, so both clocks get the offset; timens_offsets shows each.
    let b = try env.bundle(["sh", "-c", "cat /proc/uptime; cat /proc/self/timens_offsets"])
    b.addNamespace("time")
    b.editLinux {
      $0["timeOffsets"] = ["monotonic": ["secs": 86400], "boottime": ["secs": 86400]]
    }
    let hostBefore = try hostUptime()
    let lines = env.output(b).split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    let hostAfter = try hostUptime()
    let inside = Double(lines.first?.split(separator: " ").first ?? "") ?? 0
    XCTAssertGreaterThanOrEqual(inside, hostBefore + 86400, "uptime inside \(inside), host \(hostBefore)")
    XCTAssertLessThan(inside, hostAfter + 86400 + 5)
    XCTAssertTrue(lines.contains("monotonic 86400 0"), "\(lines)")
    XCTAssertTrue(lines.contains("boottime 86400 0"), "\(lines)")
  }

  func testTimeNamespaceMonotonicOffsetAlone() throws {
    let b = try env.bundle(["cat", "/proc/self/timens_offsets"])
    b.addNamespace("time")
    b.editLinux { $0["timeOffsets"] = ["monotonic": ["secs": 86400]] }
    let lines = env.output(b).split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
    XCTAssertTrue(lines.contains("monotonic 86400 0"), "\(lines)")
  }

  func testJoinNetworkAndUTSNamespacesByPath() throws {
    let a = try env.bundle(["sleep", "100"])
    a.config["hostname"] = "host-a"
    let idA = env.newID("a")
    let pidA = env.startDetached(a, id: idA)
    XCTAssertGreaterThan(pidA, 0)

    let b = try env.bundle(["sh", "-c", "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/uts"])
    b.config.removeValue(forKey: "hostname")
    b.addNamespace("network", path: "/proc/\(pidA)/ns/net")
    b.addNamespace("uts", path: "/proc/\(pidA)/ns/uts")
    let lines = env.output(b).split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.count, 3, "\(lines)")
    XCTAssertEqual(lines.first, "host-a")
    XCTAssertEqual(lines.dropFirst().first, nsLink(String(pidA), "net"))
    XCTAssertEqual(lines.dropFirst(2).first, nsLink(String(pidA), "uts"))
  }

  func testJoinedNamespacesMatchWhileBothRun() throws {
    let a = try env.bundle(["sleep", "100"])
    let pidA = env.startDetached(a, id: env.newID("a"))
    let b = try env.bundle(["sleep", "100"])
    b.config.removeValue(forKey: "hostname")
    b.addNamespace("network", path: "/proc/\(pidA)/ns/net")
    b.addNamespace("uts", path: "/proc/\(pidA)/ns/uts")
    let pidB = env.startDetached(b, id: env.newID("b"))
    XCTAssertGreaterThan(pidB, 0)
    for kind in ["net", "uts"] {
      XCTAssertNotNil(nsLink(String(pidB), kind))
      XCTAssertEqual(nsLink(String(pidB), kind), nsLink(String(pidA), kind), kind)
    }
    for kind in ["pid", "mnt", "ipc"] {
      XCTAssertNotEqual(nsLink(String(pidB), kind), nsLink(String(pidA), kind), kind)
    }
  }

  private func hostUptime() throws -> Double {
    let text = try String(contentsOfFile: "/proc/uptime", encoding: .utf8)
    return Double(text.split(separator: " ").first ?? "") ?? 0
  }
}
