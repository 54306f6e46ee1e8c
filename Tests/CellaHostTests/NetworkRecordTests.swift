import CellaNet
import Foundation
import XCTest

@testable import CellaHost

/// network.yaml as the daemon reads it back: it must name its own directory and a bridge cella derives.
final class NetworkRecordTests: XCTestCase {
  private var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cella-t-netrec-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

  private func write(name: String, bridge: String) throws -> String {
    let record = NetworkRecord(
      name: name, subnet: try IPv4Subnet.parse("10.9.0.0/24"), gateway: IPv4Address(10, 9, 0, 1), nat: true,
      isolated: false, bridge: bridge, created: "2026-01-01T00:00:00Z", phase: .ready)
    let path = dir + "/network.yaml"
    try record.write(to: path)
    return path
  }

  private func readError(_ path: String, name: String) -> String? {
    do {
      _ = try NetworkRecord.read(path, name: name)
      return nil
    } catch { return error.message }
  }

  func testARecordNamingItsOwnDirectoryAndADerivedBridgeIsRead() throws {
    let path = try write(name: "lan", bridge: "cb-lan")
    XCTAssertEqual(try NetworkRecord.read(path, name: "lan").bridge, "cb-lan")
  }

  func testARecordOfAnotherNetworkOrWithAForeignBridgeIsRefused() throws {
    let other = try write(name: "evil", bridge: "cb-evil")
    XCTAssertEqual(
      readError(other, name: "lan"), "\(other):5:7: name: \"evil\" is not the network of its directory, lan")
    let foreign = try write(name: "lan", bridge: "eth0")
    XCTAssertEqual(readError(foreign, name: "lan"), "\(foreign):1:9: bridge: \"eth0\" is no name cella gives (cb-…)")
  }
}
