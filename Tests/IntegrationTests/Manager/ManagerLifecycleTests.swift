import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A guest's whole life through the CLI and a real daemon: launch, list, exec, console, stop, delete.
final class ManagerLifecycleTests: ManagerTestCase {
  func testLaunchedGuestRunsIsListedAndStopsAndDeletesCleanly() throws {
    let g = f.name("life")
    f.ok(["launch", g, "--image", "busybox", "-c", "limits.memory=64MiB", "--", "sh", "-c", "echo up; sleep 1000"])
    let entry = try XCTUnwrap(f.list().first { $0["name"] as? String == g })
    XCTAssertEqual(entry["status"] as? String, "running")
    XCTAssertEqual(entry["kind"] as? String, "container")
    XCTAssertEqual(entry["image"] as? String, "busybox")
    let pid = try XCTUnwrap(entry["pid"] as? Int)
    XCTAssertEqual(kill(pid_t(pid), 0), 0, "the listed pid is alive")
    XCTAssertTrue(f.cli(["list"]).stdout.contains(g), "the table names the guest")

    let info = f.info(g)
    let usage = try XCTUnwrap(info["usage"] as? [String: Any])
    XCTAssertNotNil(usage["memory"])
    XCTAssertEqual((info["effectiveConfig"] as? [String: String])?["limits.memory"], "64MiB")
    XCTAssertEqual(
      try String(contentsOfFile: f.cgroupDir(g, "memory") + "/memory.limit_in_bytes", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines), "67108864")

    f.ok(["stop", g, "--timeout", "5"])
    let stopped = f.info(g)
    XCTAssertEqual(stopped["status"] as? String, "stopped")
    XCTAssertEqual((stopped["lastExit"] as? [String: Any])?["reason"] as? String, "stopped")
    XCTAssertEqual(kill(pid_t(pid), 0), -1, "init is gone after stop")
    XCTAssertEqual(f.mountsUnder(f.stateDir), [], "the overlay is unmounted after stop")

    f.ok(["start", g])
    XCTAssertEqual(f.info(g)["status"] as? String, "running")
    f.ok(["delete", "--force", g])
    XCTAssertTrue(f.list().isEmpty)
    XCTAssertFalse(FileManager.default.fileExists(atPath: f.stateDir + "/guests/" + g))
    XCTAssertEqual(f.processesUnder(f.tmp), [])
  }

  func testExecPropagatesExitCodesAndTheRuntimesErrorText() throws {
    let g = f.name("exec")
    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "1000"])
    XCTAssertEqual(f.cli(["exec", g, "--", "true"]).status, 0)
    XCTAssertEqual(f.cli(["exec", g, "--", "sh", "-c", "exit 7"]).status, 7)
    let out = f.cli(["exec", g, "--env", "GREETING=hi there", "--cwd", "/etc", "--", "sh", "-c", "echo $GREETING; pwd"])
    XCTAssertEqual(out.stdout, "hi there\n/etc\n")
    let user = f.cli(["exec", g, "--user", "1000:1000", "--", "id", "-u"])
    XCTAssertEqual(user.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "1000")
    let missing = f.cli(["exec", g, "--", "/no/such/program"])
    XCTAssertEqual(missing.status, 127, "\(missing)")
    XCTAssertTrue(
      missing.stderr.contains("no such file or directory") || missing.stderr.contains("not found"), "\(missing)")
    let notExec = f.cli(["exec", g, "--", "/etc/passwd"])
    XCTAssertEqual(notExec.status, 126, "\(notExec)")
    let stdin = f.cli(["exec", g, "--", "cat"])
    XCTAssertEqual(stdin.status, 0, "stdin at EOF ends cat")
  }

  func testConsoleHistoryIsKeptAndLogsShowIt() throws {
    let g = f.name("cons")
    f.ok(["launch", g, "--image", "busybox", "--", "sh", "-c", "echo hello-console; sleep 1000"])
    XCTAssertTrue(f.eventually { f.cli(["logs", g]).stdout.contains("hello-console") })
    f.ok(["stop", g, "--force"])
    XCTAssertTrue(f.cli(["logs", g]).stdout.contains("hello-console"), "history survives the guest")
  }

  func testBusyboxInitGuestPowersOffOnStop() throws {
    let g = f.name("init")
    f.ok(["launch", g, "--image", "busybox"])
    XCTAssertEqual(f.info(g)["status"] as? String, "running")
    let started = Date()
    f.ok(["stop", g])
    XCTAssertLessThan(Date().timeIntervalSince(started), 9, "busybox init powers off on its stop signal, no SIGKILL")
    XCTAssertEqual((f.info(g)["lastExit"] as? [String: Any])?["reason"] as? String, "stopped")
  }

  func testGuestThatExitsByItselfRecordsCodeAndReason() throws {
    let g = f.name("exit")
    f.ok(["launch", g, "--image", "busybox", "--", "sh", "-c", "sleep 0.2; exit 3"])
    XCTAssertTrue(f.eventually { (f.info(g)["status"] as? String) == "stopped" })
    let exit = try XCTUnwrap(f.info(g)["lastExit"] as? [String: Any])
    XCTAssertEqual(exit["code"] as? Int, 3)
    XCTAssertEqual(exit["reason"] as? String, "exited")
    XCTAssertEqual(f.mountsUnder(f.stateDir), [])
  }

  func testGuestEndingAtOnceStillHasItsExitCodeRecorded() throws {
    // Init may end before its keeper has read its pid: the keeper keeps the status of that early orphan.
    for i in 0..<5 {
      let g = f.name("quick\(i)")
      let r = f.cli(["launch", g, "--image", "busybox", "--", "sh", "-c", "exit 4"])
      XCTAssertEqual(r.status, 0, "\(r)")
      XCTAssertTrue(f.eventually { (f.info(g)["status"] as? String) == "stopped" })
      let exit = f.info(g)["lastExit"] as? [String: Any]
      XCTAssertEqual(exit?["code"] as? Int, 4, "\(f.info(g))")
      XCTAssertEqual(exit?["reason"] as? String, "exited")
    }
  }

  func testKilledGuestRecordsTheSignal() throws {
    let g = f.name("kill")
    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "1000"])
    f.ok(["kill", g, "--signal", "KILL"])
    XCTAssertTrue(f.eventually { (f.info(g)["status"] as? String) == "stopped" })
    let exit = try XCTUnwrap(f.info(g)["lastExit"] as? [String: Any])
    XCTAssertEqual(exit["signal"] as? Int, 9)
    XCTAssertEqual(exit["reason"] as? String, "killed")
  }

  func testTwoConcurrentStartsStartTheGuestOnce() throws {
    let g = f.name("twice")
    f.ok(["create", g, "--image", "busybox", "--", "sleep", "1000"])
    let a = try Spawner.spawn(f.cella, ["start", g], outputDirectory: f.tmp, environment: f.environment)
    let b = try Spawner.spawn(f.cella, ["start", g], outputDirectory: f.tmp, environment: f.environment)
    let ra = a.wait()
    let rb = b.wait()
    XCTAssertEqual([ra.status, rb.status].sorted(), [0, 1], "\(ra)\n\(rb)")
    let failed = ra.status == 0 ? rb : ra
    XCTAssertTrue(failed.stderr.contains("already running"), "\(failed)")
    let keepers = f.processesUnder(f.stateDir + "/guests/" + g).filter {
      (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8))?.hasPrefix("cella-keeper") == true
    }
    XCTAssertEqual(keepers.count, 1)
  }
}

/// How a guest ends is told apart, and a stopped guest's directory is a whole guest on another store.
final class ManagerExitAndCopyTests: ManagerTestCase {
  func testAGuestKilledByTheOOMKillerEndsWithReasonOOM() throws {
    let g = f.name("oom")
    // The guest's init (a shell) grows a 64 MiB variable inside a 16 MiB limit.
    f.ok([
      "launch", g, "--image", "busybox", "-c", "limits.memory=16MiB", "--", "sh", "-c",
      "sleep 0.2; x=$(head -c 67108864 /dev/zero | tr '\\0' a); sleep 1000",
    ])
    XCTAssertTrue(f.eventually(20) { (f.info(g)["status"] as? String) == "stopped" }, "\(f.info(g))")
    let exit = try XCTUnwrap(f.info(g)["lastExit"] as? [String: Any], "\(f.info(g))\n\(f.fullDaemonLog)")
    XCTAssertEqual(exit["reason"] as? String, "oom", "\(exit)")
    XCTAssertEqual(exit["signal"] as? Int, 9)
  }

  func testAStoppedGuestCopiedToAnotherStoreStartsThere() throws {
    let g = f.name("move")
    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "1000"])
    f.ok(["exec", g, "--", "sh", "-c", "echo kept > /root-file; rm /bin/ls"])
    f.ok(["stop", g, "--force"])
    let other = try DaemonFixture()
    defer { other.tearDown() }
    try other.startDaemon()
    try other.busyboxImage()
    let copy = Spawner.run(
      "/bin/cp", ["-a", f.stateDir + "/guests/" + g, other.stateDir + "/guests/" + g], outputDirectory: f.tmp)
    XCTAssertEqual(copy.status, 0, "\(copy)")
    other.ok(["start", g])
    XCTAssertEqual(other.ok(["exec", g, "--", "cat", "/root-file"]).stdout, "kept\n")
    XCTAssertNotEqual(other.cli(["exec", g, "--", "ls", "/"]).status, 0, "the deletion of /bin/ls came along")
    other.ok(["delete", "--force", g])
  }
}
