import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Guests outlive the daemon; the next daemon re-adopts, finishes, rolls back, restarts and autostarts.
final class ManagerSupervisionTests: ManagerTestCase {
  func testGuestsKeepRunningThroughDaemonKillAndAreReadopted() throws {
    let a = f.name("a")
    let b = f.name("b")
    f.ok(["launch", a, "--image", "busybox", "--", "sh", "-c", "echo history-a; sleep 1000"])
    f.ok(["launch", b, "--image", "busybox", "--", "sleep", "1000"])
    let pidA = try XCTUnwrap(f.info(a)["pid"] as? Int)
    let pidB = try XCTUnwrap(f.info(b)["pid"] as? Int)
    XCTAssertTrue(f.eventually { f.cli(["logs", a]).stdout.contains("history-a") })

    f.killDaemon()
    XCTAssertEqual(kill(pid_t(pidA), 0), 0, "guest a outlives the daemon")
    XCTAssertEqual(kill(pid_t(pidB), 0), 0, "guest b outlives the daemon")
    // b ends while no daemon watches: its keeper keeps the exit status for the next daemon.
    kill(pid_t(pidB), SIGKILL)
    usleep(300_000)

    try f.startDaemon()
    let infoA = f.info(a)
    XCTAssertEqual(infoA["status"] as? String, "running")
    XCTAssertEqual(infoA["pid"] as? Int, pidA, "re-adopted, not restarted")
    XCTAssertTrue(f.cli(["logs", a]).stdout.contains("history-a"), "console history survives")
    XCTAssertEqual(f.cli(["exec", a, "--", "true"]).status, 0)
    let infoB = f.info(b)
    XCTAssertEqual(infoB["status"] as? String, "stopped")
    let exitB = try XCTUnwrap(infoB["lastExit"] as? [String: Any])
    XCTAssertEqual(exitB["signal"] as? Int, 9)
    XCTAssertEqual(exitB["reason"] as? String, "killed")
    XCTAssertEqual(f.mountsUnder(f.stateDir + "/guests/" + b), [], "the ended guest's root is unmounted")

    // Supervision goes on with the new daemon: a guest that ends now is noticed.
    kill(pid_t(pidA), SIGKILL)
    XCTAssertTrue(f.eventually { (f.info(a)["status"] as? String) == "stopped" })
  }

  func testDaemonKilledDuringStartLeavesNothingUnfinished() throws {
    for (i, delay) in [0, 5_000, 15_000, 40_000].enumerated() {
      let g = f.name("mid\(i)")
      f.ok(["create", g, "--image", "busybox", "--", "sleep", "1000"])
      let start = try Spawner.spawn(f.cella, ["start", g], outputDirectory: f.tmp, environment: f.environment)
      usleep(useconds_t(delay))
      f.killDaemon()
      _ = start.wait()
      try f.startDaemon()
      // A keeper the dead daemon never recorded is adopted once its guest runs: "starting" until then.
      var status: String?
      XCTAssertTrue(
        f.eventually {
          status = f.info(g)["status"] as? String
          return status == "running" || status == "stopped"
        }, "guest \(g) is \(status ?? "?")")
      if status == "stopped" {
        XCTAssertEqual(f.mountsUnder(f.stateDir + "/guests/" + g), [], "a rolled-back start leaves no mount")
        XCTAssertEqual(f.processesUnder(f.stateDir + "/guests/" + g), [])
      }
      // Either way the guest works afterwards.
      if status == "stopped" { f.ok(["start", g]) }
      XCTAssertEqual(f.cli(["exec", g, "--", "true"]).status, 0)
      f.ok(["delete", "--force", g])
    }
  }

  func testRestartPolicyRestartsWithBackoffAndCountsRestarts() throws {
    let g = f.name("flaky")
    f.ok(["launch", g, "--image", "busybox", "-c", "boot.restart=on-failure:2", "--", "sh", "-c", "exit 1"])
    XCTAssertTrue(
      f.eventually(30) {
        let i = f.info(g)
        return i["status"] as? String == "stopped" && i["restartCount"] as? Int == 2
      }, "\(f.info(g))")
    usleep(2_500_000)
    let i = f.info(g)
    XCTAssertEqual(i["restartCount"] as? Int, 2, "no third restart")
    XCTAssertEqual((i["lastExit"] as? [String: Any])?["code"] as? Int, 1)
    XCTAssertTrue(f.fullDaemonLog.contains("restart 2"), f.fullDaemonLog)
  }

  func testStoppedGuestIsNotRestartedByPolicy() throws {
    let g = f.name("always")
    f.ok(["launch", g, "--image", "busybox", "-c", "boot.restart=always", "--", "sleep", "1000"])
    f.ok(["stop", g, "--force"])
    usleep(1_500_000)
    XCTAssertEqual(f.info(g)["status"] as? String, "stopped")
  }

  func testAutostartStartsGuestsByPriorityAndSkipsStoppedOnes() throws {
    let low = f.name("low")
    let high = f.name("high")
    let manual = f.name("manual")
    f.ok([
      "create", low, "--image", "busybox", "-c", "boot.autostart=true", "-c", "boot.autostart.priority=1", "--",
      "sleep", "1000",
    ])
    f.ok([
      "create", high, "--image", "busybox", "-c", "boot.autostart=true", "-c", "boot.autostart.priority=9", "--",
      "sleep", "1000",
    ])
    f.ok(["launch", manual, "--image", "busybox", "-c", "boot.autostart=true", "--", "sleep", "1000"])
    f.ok(["stop", manual, "--force"])
    f.stopDaemon()
    try f.startDaemon()
    XCTAssertTrue(
      f.eventually { f.info(low)["status"] as? String == "running" && f.info(high)["status"] as? String == "running" })
    XCTAssertEqual(f.info(manual)["status"] as? String, "stopped", "a guest stopped by hand stays stopped")
    let log = f.fullDaemonLog
    let h = try XCTUnwrap(log.range(of: "guest \(high): autostarted"), log)
    let l = try XCTUnwrap(log.range(of: "guest \(low): autostarted"), log)
    XCTAssertLessThan(h.lowerBound, l.lowerBound, "priority 9 starts before priority 1")
  }
}

/// What the daemon runs on its own and what it records when that fails.
final class ManagerRecoveryTests: ManagerTestCase {
  func testRestartsPendingWhenTheDaemonDiesAreRunByTheNextDaemon() throws {
    let g = f.name("pending")
    f.ok(["launch", g, "--image", "busybox", "-c", "boot.restart=on-failure:3", "--", "sh", "-c", "exit 1"])
    XCTAssertTrue(f.eventually { (f.info(g)["restartCount"] as? Int ?? 0) >= 1 })
    f.killDaemon()
    try f.startDaemon()
    XCTAssertTrue(
      f.eventually(30) { f.info(g)["restartCount"] as? Int == 3 && f.info(g)["status"] as? String == "stopped" },
      "\(f.info(g))\n\(f.fullDaemonLog)")
  }

  func testAFailedAutostartPutsTheGuestInErrorWithTheReason() throws {
    let g = f.name("broken")
    f.ok(["create", g, "--image", "busybox", "-c", "boot.autostart=true", "--", "/no/such/init"])
    f.stopDaemon()
    try f.startDaemon()
    XCTAssertTrue(f.eventually { f.info(g)["status"] as? String == "error" }, "\(f.info(g))")
    XCTAssertTrue((f.info(g)["error"] as? String ?? "").contains("/no/such/init"), "\(f.info(g))")
    XCTAssertEqual(f.list().first?["status"] as? String, "error")
    // A start by hand clears it (and fails the same way here).
    XCTAssertEqual(f.cli(["start", g]).status, 127)
    XCTAssertEqual(f.info(g)["status"] as? String, "stopped")
  }

  func testAGuestNestingDirectoriesPastPathMaxIsStillDeleted() throws {
    let g = f.name("deep")
    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "1000"])
    f.ok(["exec", g, "--", "sh", "-c", "i=0; while [ $i -lt 2020 ]; do mkdir a && cd a || exit 1; i=$((i+1)); done"])
    f.ok(["delete", "--force", g])
    XCTAssertEqual(
      (try? FileManager.default.contentsOfDirectory(atPath: f.stateDir + "/guests")) ?? ["?"], [],
      "nothing of the guest is left")
  }
}
