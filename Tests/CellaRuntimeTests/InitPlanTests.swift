import CellaOCI
import CellaSys
import XCTest

@testable import CellaEngine
@testable import CellaRuntimeCore

/// The plan computed before the clone: clone flags, mount steps, devices and process settings.
final class InitPlanTests: XCTestCase {
  private func spec(_ edit: (inout Spec) -> Void = { _ in }) -> Spec {
    var s = DefaultSpec.make()
    s.process?.terminal = false
    edit(&s)
    return s
  }

  private func plan(_ s: Spec) throws -> InitPlan {
    try InitPlan(spec: s, options: CreateOptions(id: "t", bundle: "/bundle"))
  }

  func testNewNamespacesWithoutPathsGoIntoOneClone() throws {
    let p = try plan(spec())
    let expected = [NamespaceKind.pid, .network, .ipc, .uts, .mount]
      .reduce(UInt64(0)) { $0 | UInt64(UInt32(bitPattern: $1.cloneFlag)) }
    XCTAssertEqual(p.cloneFlags, expected)
    XCTAssertTrue(p.joins.isEmpty)
    XCTAssertTrue(p.ownPIDNamespace)
    XCTAssertTrue(p.newCgroupNamespace)
  }

  func testJoiningANamespaceMovesNewOnesToUnshareAndForksForPid() throws {
    let p = try plan(
      spec {
        $0.linux?.namespaces = [
          LinuxNamespace(type: "network", path: "/proc/1/ns/net"), LinuxNamespace(type: "pid"),
          LinuxNamespace(type: "mount"),
        ]
      })
    XCTAssertEqual(p.cloneFlags, 0)
    XCTAssertEqual(p.joins.map(\.kind), [.network])
    XCTAssertEqual(p.unshareFlags, NamespaceKind.pid.cloneFlag | NamespaceKind.mount.cloneFlag)
    XCTAssertTrue(p.forkAfterUnshare)
  }

  func testUserNamespaceJoinComesFirst() throws {
    let p = try plan(
      spec {
        $0.linux?.namespaces = [
          LinuxNamespace(type: "ipc", path: "/proc/1/ns/ipc"), LinuxNamespace(type: "user", path: "/proc/1/ns/user"),
          LinuxNamespace(type: "mount"),
        ]
      })
    XCTAssertEqual(p.joins.map(\.kind), [.user, .ipc])
  }

  func testTimeNamespaceIsNeverAClonFlag() throws {
    let p = try plan(spec { $0.linux?.namespaces?.append(LinuxNamespace(type: "time")) })
    XCTAssertEqual(p.cloneFlags & UInt64(UInt32(bitPattern: NamespaceKind.time.cloneFlag)), 0)
  }

  func testIdMapsAreRenderedOneLinePerMapping() throws {
    let p = try plan(
      spec {
        $0.linux?.namespaces?.append(LinuxNamespace(type: "user"))
        $0.linux?.uidMappings = [
          IDMapping(containerID: 0, hostID: 100000, size: 1000), IDMapping(containerID: 1000, hostID: 5000, size: 1),
        ]
      })
    XCTAssertEqual(p.uidMap, "0 100000 1000\n1000 5000 1\n")
    XCTAssertTrue(p.newUserNamespace)
  }

  func testBindMountStepsResolveRelativeSourcesAgainstTheBundle() throws {
    let p = try plan(
      spec {
        $0.mounts = [Mount(destination: "/data", type: "bind", source: "data", options: ["rbind", "ro", "nosuid"])]
      })
    let m = try XCTUnwrap(p.mounts.first)
    XCTAssertEqual(m.source, "/bundle/data")
    XCTAssertTrue(m.isBind)
    XCTAssertEqual(m.flags & (MS.bind | MS.rec | MS.readOnly | MS.noSuid), MS.bind | MS.rec | MS.readOnly | MS.noSuid)
  }

  func testBindingHostDevSkipsDefaultDevices() throws {
    let withTmpfs = try plan(spec())
    XCTAssertEqual(withTmpfs.devices.map(\.path).sorted(), defaultDevices.map(\.path).sorted())
    let withBind = try plan(
      spec { $0.mounts = [Mount(destination: "/dev", type: "bind", source: "/dev", options: ["rbind"])] })
    XCTAssertFalse(withBind.setupDev)
    XCTAssertTrue(withBind.devices.isEmpty)
  }

  func testConfiguredDeviceReplacesTheDefaultOfTheSamePath() throws {
    let p = try plan(
      spec { $0.linux?.devices = [LinuxDevice(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o600)] })
    XCTAssertEqual(p.devices.filter { $0.path == "/dev/null" }.map(\.mode), [0o600])
  }

  func testRlimitsAndUserAreCarriedOver() throws {
    let p = try plan(
      spec {
        $0.process?.rlimits = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 100, soft: 50)]
        $0.process?.user = User(uid: 1000, gid: 1000, umask: 0o077, additionalGids: [5])
      })
    XCTAssertEqual(p.process.rlimits.first?.resource, 7)
    XCTAssertEqual(p.process.rlimits.first?.soft, 50)
    XCTAssertEqual(p.process.uid, 1000)
    XCTAssertEqual(p.process.additionalGids, [5])
    XCTAssertEqual(p.process.umask, 0o077)
  }
}
