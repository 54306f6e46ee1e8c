import CellaOCI
import CellaSys
import Glibc
import XCTest

@testable import CellaEngine
@testable import CellaRuntimeCore

/// The live status comes from the phase and whether the recorded process (pid + start time) runs.
final class StatusTests: XCTestCase {
  private func record(phase: Phase, pid: Int32, start: UInt64) -> ContainerRecord {
    var r = ContainerRecord(
      id: "x", ociVersion: "1.3.0", bundle: "/b", rootfs: "/b/rootfs", created: "now", owner: "root",
      annotations: nil, ownPIDNamespace: true)
    r.phase = phase
    r.pid = pid
    r.pidStartTime = start
    return r
  }

  private var selfStart: UInt64 { ProcStat.read(getpid())!.startTime }

  func testLiveProcessMapsPhaseToStatus() {
    XCTAssertEqual(record(phase: .creating, pid: getpid(), start: selfStart).status, .creating)
    XCTAssertEqual(record(phase: .created, pid: getpid(), start: selfStart).status, .created)
    XCTAssertEqual(record(phase: .started, pid: getpid(), start: selfStart).status, .running)
  }

  func testAReusedPidWithAnotherStartTimeCountsAsStopped() {
    XCTAssertEqual(record(phase: .started, pid: getpid(), start: selfStart + 1).status, .stopped)
  }

  func testNoPidMeansStopped() {
    XCTAssertEqual(record(phase: .creating, pid: 0, start: 0).status, .stopped)
  }

  func testStoppedStateReportsPidZero() {
    XCTAssertEqual(record(phase: .started, pid: 999_999, start: 1).state().pid, 0)
  }

  func testOnlyStoppedContainersCanBeDeletedWithoutForce() {
    XCTAssertTrue(ContainerStatus.stopped.canDelete)
    XCTAssertFalse(ContainerStatus.created.canDelete)
    XCTAssertFalse(ContainerStatus.running.canDelete)
    XCTAssertTrue(ContainerStatus.created.canStart)
    XCTAssertFalse(ContainerStatus.running.canStart)
  }
}
