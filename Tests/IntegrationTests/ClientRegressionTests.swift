import Foundation
import XCTest

/// Behaviours podman and Docker rely on, found by Scripts/clients-test.sh.
final class ClientRegressionTests: RuntimeTestCase {
  /// podman sends only a deny-all device rule; the default devices and terminals must still work.
  func testDenyAllDeviceRuleStillAllowsTheDefaultDevices() throws {
    let b = try env.bundle([
      "sh", "-c", "head -c1 /dev/null && echo null-ok; head -c1 /dev/zero | wc -c; head -c1 /dev/urandom | wc -c",
    ])
    b.editLinux { $0["resources"] = ["devices": [["allow": false, "access": "rwm"]]] }
    let out = env.output(b)
    XCTAssertEqual(out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }, ["null-ok", "1", "1"])
  }

  /// Docker and podman on cgroup v1 mount /sys/fs/cgroup without a cgroup namespace: the container must see
  /// its own cgroup there (its limit, no other containers), not the host's hierarchy.
  func testWithoutACgroupNamespaceTheCgroupMountShowsOnlyTheContainersCgroup() throws {
    let b = try env.bundle([
      "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup/memory | grep -c '^cella' ; true",
    ])
    b.removeNamespace("cgroup")
    b.editLinux { $0["resources"] = ["memory": ["limit": 64 << 20]] }
    let lines = env.output(b).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    XCTAssertEqual(lines, [String(64 << 20), "0"])
  }
}
