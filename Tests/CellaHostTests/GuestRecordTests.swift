import CellaAPI
import Foundation
import XCTest

@testable import CellaHost

/// guest.yaml and profile YAML: sorted, readable, round-tripping, and one located line per problem.
final class GuestRecordTests: XCTestCase {
  private let record = GuestRecord(
    name: "web", image: "busybox", profiles: ["small", "net"],
    config: ["limits.memory": "512MiB", "boot.autostart": "true", "environment.GREETING": "hello: world"],
    command: ["/bin/sh", "-c", "echo 'hi'"], created: "2026-01-02T03:04:05Z")

  func testRoundTripsThroughSortedYAML() throws {
    let dir = try TestDir()
    let path = dir.path + "/guest.yaml"
    try record.write(to: path)
    XCTAssertEqual(try GuestRecord.read(path), record)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let top = text.split(separator: "\n").filter { !$0.hasPrefix(" ") && !$0.hasPrefix("-") }.map {
      String($0.prefix { $0 != ":" })
    }
    XCTAssertEqual(top, ["command", "config", "created", "image", "kind", "name", "profiles"])
    XCTAssertTrue(text.contains("  boot.autostart: "), text)
    XCTAssertTrue(text.contains("kind: container"), text)
    // No temp file left beside it.
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["guest.yaml"])
  }

  func testAHandWrittenFileReads() throws {
    let text = """
      name: db
      image: debian
      profiles: [small]
      config:
        limits.cpu: 2
        boot.autostart: true
      created: 2026-01-02T03:04:05Z

      """
    let r = try GuestRecord.parse(Array(text.utf8), path: "guests/db/guest.yaml")
    XCTAssertEqual(r.config, ["limits.cpu": "2", "boot.autostart": "true"])
    XCTAssertEqual(r.kind, .container)
    XCTAssertNil(r.command)
  }

  private func error(_ text: String) -> String? {
    do {
      _ = try GuestRecord.parse(Array(text.utf8), path: "guests/web/guest.yaml")
      return nil
    } catch { return error.message }
  }

  func testBrokenYAMLNamesLineAndColumn() {
    let msg = error("name: web\nimage: busybox\nconfig:\n  limits.memory: [1G\ncreated: x\n")
    XCTAssertNotNil(msg)
    XCTAssertTrue(msg!.hasPrefix("guests/web/guest.yaml:5:"), msg!)
    XCTAssertFalse(msg!.contains("\n"))
    let tab = error("name: web\n\timage: busybox\n")
    XCTAssertTrue(tab!.hasPrefix("guests/web/guest.yaml:2:1: "), tab!)
    XCTAssertEqual(error(""), "guests/web/guest.yaml: empty; expected a mapping of fields")
    XCTAssertEqual(error("- a\n"), "guests/web/guest.yaml:1:1: expected a mapping of fields")
  }

  func testUnknownFieldsAreRefusedWhereTheyStand() {
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\nimgae: other\n"),
      "guests/web/guest.yaml:4:1: unknown field \"imgae\"; known: command, config, created, image, kind, name, ports, profiles"
    )
  }

  func testBadValuesAreLocated() {
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\nconfig:\n  limits.memory: 12XB\n"),
      "guests/web/guest.yaml:5:18: config: limits.memory: \"12XB\" is not a size (like 512MiB, 1GiB, 1G or a number of bytes)"
    )
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\nconfig:\n  limits.memroy: 1G\n"),
      "guests/web/guest.yaml:5:18: config: unknown key \"limits.memroy\": did you mean \"limits.memory\"?")
    XCTAssertEqual(
      error("name: Web\nimage: busybox\ncreated: x\n"),
      "guests/web/guest.yaml:1:7: name: guest name \"Web\" is not a DNS label: use lowercase letters, digits and '-'")
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\nkind: box\n"),
      "guests/web/guest.yaml:4:7: kind: \"box\" is not container or vm")
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\nprofiles: [ok, -bad]\n"),
      "guests/web/guest.yaml:4:16: profiles[1]: profile name \"-bad\" may not start or end with '-'")
    XCTAssertEqual(
      error("name: web\ncreated: x\n"), "guests/web/guest.yaml:1:1: image: missing")
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\ncommand: sh\n"),
      "guests/web/guest.yaml:4:10: command: expected a list")
    XCTAssertEqual(
      error("name: web\nimage: busybox\ncreated: x\nconfig:\n  limits.pids: [1]\n"),
      "guests/web/guest.yaml:5:16: config.limits.pids: expected text, found a list")
    XCTAssertEqual(
      error("name: web\nname: web2\nimage: busybox\ncreated: x\n").map {
        $0.hasPrefix("guests/web/guest.yaml:") && $0.contains("duplicate key name")
      },
      true)
  }

  func testProfileRecordRoundTripsAndRefusesUnknownFields() throws {
    let dir = try TestDir()
    let p = ProfileRecord(name: "small", description: "small guests", config: ["limits.memory": "256MiB"])
    try p.write(to: dir.path + "/small.yaml")
    XCTAssertEqual(try ProfileRecord.read(dir.path + "/small.yaml"), p)
    XCTAssertThrowsError(try ProfileRecord.parse(Array("name: small\ndevices: {}\n".utf8), path: "profiles/small.yaml"))
    {
      XCTAssertEqual(
        ($0 as? HostError)?.message,
        "profiles/small.yaml:2:1: unknown field \"devices\"; known: config, description, name")
    }
  }
}
