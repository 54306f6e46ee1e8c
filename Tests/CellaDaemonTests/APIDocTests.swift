import CellaAPI
import Foundation
import XCTest

@testable import CellaDaemon

/// Docs/api.yaml against the code: every route, and the fields of the models.
final class APIDocTests: XCTestCase {
  static var document: [Substring] {
    var dir = URL(fileURLWithPath: #filePath)
    while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
      dir.deleteLastPathComponent()
    }
    let text = (try? String(contentsOf: dir.appendingPathComponent("Docs/api.yaml"), encoding: .utf8)) ?? ""
    return text.split(separator: "\n")
  }

  /// Path → methods, from the lines under `paths:`.
  func documentedRoutes() -> [String: Set<String>] {
    var out = [String: Set<String>]()
    var current: String?
    for line in Self.document {
      if line.hasPrefix("  /") {
        current = String(line.dropFirst(2).dropLast())
      } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     "),
        let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" })
      {
        out[path, default: []].insert(method.uppercased())
      } else if line.hasPrefix("components:") {
        current = nil
      }
    }
    return out
  }

  func testEveryRouteIsDocumentedAndNothingElse() {
    var served = [String: Set<String>]()
    for route in Routes.table {
      // `:word` in a route is `{word}` in the document.
      let path = route.path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
        segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
      }.joined(separator: "/")
      served[path, default: []].insert(route.method.rawValue)
    }
    XCTAssertEqual(documentedRoutes(), served)
  }

  /// The property names of schema `name`.
  func documentedFields(_ name: String) -> Set<String> {
    var out = Set<String>()
    var inside = false
    var inProperties = false
    for line in Self.document {
      if line.hasPrefix("    ") && !line.hasPrefix("     ") {
        inside = line == "    \(name):"
        inProperties = false
      } else if inside && line == "      properties:" {
        inProperties = true
      } else if inside && inProperties && line.hasPrefix("        ") && !line.hasPrefix("         "),
        let colon = line.firstIndex(of: ":")
      {
        out.insert(String(line[line.index(line.startIndex, offsetBy: 8)..<colon]))
      }
    }
    return out
  }

  func keys<T: Encodable>(_ value: T) throws -> Set<String> {
    let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any]
    return Set(object?.keys.map { $0 } ?? [])
  }

  func testSchemasNameTheModelsFields() throws {
    let exit = ExitInfo(code: 1, signal: 2, reason: .oom, time: "t", message: "m")
    let checks: [(String, Set<String>)] = [
      (
        "GuestInfo",
        try keys(
          GuestInfo(
            name: "a", kind: .container, status: .running, pid: 1, image: "i", profiles: [], config: [:],
            effectiveConfig: [:], command: [], created: "c", started: "s", usage: Usage(), lastExit: exit,
            restartCount: 0,
            error: "e", nics: [], accelerator: "tcg"))
      ),
      (
        "GuestSummary",
        try keys(GuestSummary(name: "a", kind: .vm, status: .error, pid: 1, image: "i", addresses: []))
      ),
      (
        "GuestNICInfo",
        try keys(GuestNICInfo(index: 0, name: "eth0", network: "n", ipv4: "a", mac: "m", hostInterface: "h"))
      ),
      (
        "PublishedPortInfo",
        try keys(PublishedPortInfo(proto: "tcp", hostPort: 1, guestPort: 1, hostAddress: "a", guestAddress: "g"))
      ),
      ("AddPortRequest", try keys(AddPortRequest(proto: "tcp", hostPort: 1, guestPort: 1, hostAddress: "a"))),
      ("ExitInfo", try keys(exit)),
      ("Usage", try keys(Usage(memory: 1, cpuSeconds: 1, pids: 1))),
      (
        "CreateGuestRequest",
        try keys(
          CreateGuestRequest(name: "a", image: "i", kind: .vm, profiles: [], config: [:], command: [], start: true))
      ),
      ("StopRequest", try keys(StopRequest(timeout: 1, force: true))),
      ("KillRequest", try keys(KillRequest(signal: "x"))),
      ("ConfigPatch", try keys(ConfigPatch(set: [:], unset: []))),
      ("ConfigReplace", try keys(ConfigReplace(config: [:]))),
      ("GuestConfig", try keys(GuestConfig(config: [:], effectiveConfig: [:]))),
      (
        "ExecRequest",
        try keys(ExecRequest(command: [], env: [], cwd: "/", user: "u", tty: true, login: true, rows: 1, cols: 1))
      ),
      ("ExecSession", try keys(ExecSession(id: "x"))),
      ("ExecExit", try keys(ExecExit(code: 1, signal: 1, error: APIError(.system, "x")))),
      (
        "ImageProcess",
        try keys(ImageProcess(entrypoint: [], cmd: [], env: [], workingDir: "/", user: "u", stopSignal: "s"))
      ),
      (
        "ImageInfo",
        try keys(
          ImageInfo(name: "a", source: .oci, origin: "o", created: "c", size: 1, process: ImageProcess(), usedBy: []))
      ),
      ("BuildImageRequest", try keys(BuildImageRequest(source: .debian, name: "a", suite: "s"))),
      ("ImportImageRequest", try keys(ImportImageRequest(file: "f", name: "a"))),
      ("ProfileInfo", try keys(ProfileInfo(name: "a", description: "d", config: [:], usedBy: []))),
      ("CreateProfileRequest", try keys(CreateProfileRequest(name: "a", description: "d", config: [:]))),
      (
        "NetworkInfo",
        try keys(
          NetworkInfo(
            name: "a", subnet: "s", gateway: "g", nat: true, isolated: true, bridge: "b", created: "c", members: [],
            dnsmasqPID: 1, warning: "w"))
      ),
      ("NetworkMember", try keys(NetworkMember(guest: "a", nic: 0, ipv4: "i", mac: "m"))),
      (
        "CreateNetworkRequest",
        try keys(CreateNetworkRequest(name: "a", subnet: "s", gateway: "g", nat: true, isolated: true))
      ),
      ("DaemonInfo", try keys(DaemonInfo(version: "v", stateDir: "s", socket: "k", pid: 1))),
      ("APIError", try keys(APIError(.system, "x"))),
      ("ErrorEnvelope", try keys(ErrorEnvelope(error: APIError(.system, "x")))),
    ]
    for (schema, fields) in checks {
      XCTAssertEqual(documentedFields(schema), fields, schema)
    }
  }
}
