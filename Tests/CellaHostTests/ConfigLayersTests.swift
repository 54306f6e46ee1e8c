import CellaAPI
import XCTest

@testable import CellaHost

/// default profile < profiles in order < the guest's own keys, and the typed view of the result.
final class ConfigLayersTests: XCTestCase {
  func testLaterLayersWin() {
    let merged = ConfigLayers.effective(
      default: ["limits.memory": "1GiB", "limits.pids": "100", "hostname": "d", "boot.restart": "always"],
      profiles: [
        ["limits.memory": "512MiB", "limits.pids": "50", "hostname": "p1"], ["limits.pids": "20", "hostname": "p2"],
      ],
      own: ["hostname": "own"])
    XCTAssertEqual(
      merged, ["limits.memory": "512MiB", "limits.pids": "20", "hostname": "own", "boot.restart": "always"])
  }

  func testEffectiveConfigReadsTypedValuesAndDefaults() throws {
    let c = try EffectiveConfig(
      default: ["limits.cpu": "0.5"],
      profiles: [["limits.memory": "256MiB", "environment.A": "1"]],
      own: [
        "boot.restart": "on-failure:2", "boot.stop.signal": "USR2", "limits.cpu.weight": "100", "limits.pids": "64",
      ])
    XCTAssertEqual(c.memoryLimit, 256 << 20)
    XCTAssertEqual(c.cpuQuota, 50_000)
    XCTAssertEqual(c.cpuPeriod, 100_000)
    XCTAssertEqual(c.cpuWeight, 100)
    XCTAssertEqual(c.pidsLimit, 64)
    XCTAssertEqual(c.environment, ["A": "1"])
    XCTAssertEqual(c.restartPolicy, .onFailure(maxRetries: 2))
    XCTAssertEqual(c.stopSignal, 12)
    XCTAssertEqual(c.stopTimeout, 10)
    XCTAssertEqual(c.consoleBuffer, 1 << 20)
    XCTAssertEqual(c.securityProfile, .default)
    XCTAssertFalse(c.autostart)
    XCTAssertFalse(c.userns)
    XCTAssertNil(c.hostname)
    XCTAssertEqual(c.disks, [])
  }

  func testEffectiveConfigChecksTheMergedMap() throws {
    let dir = try TestDir()
    // A profile gives the source, the guest the path: one disk.
    let c = try EffectiveConfig(
      default: [:], profiles: [["disk.data.source": dir.path, "disk.data.readonly": "true"]],
      own: ["disk.data.path": "/srv/data/"])
    XCTAssertEqual(c.disks, [GuestDisk(name: "data", source: dir.path, path: "/srv/data", readonly: true)])
    XCTAssertThrowsError(try EffectiveConfig(default: [:], profiles: [], own: ["limits.memory": "12XB"])) {
      XCTAssertEqual(
        ($0 as? HostError)?.message,
        "limits.memory: \"12XB\" is not a size (like 512MiB, 1GiB, 1G or a number of bytes)")
    }
  }
}
