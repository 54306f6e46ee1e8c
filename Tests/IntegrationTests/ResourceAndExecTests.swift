import Foundation
import Glibc
import XCTest

/// Issue 4: limits bind, and people can work on running containers (exec, terminals, pause, update, events).
final class ResourceAndExecTests: RuntimeTestCase {
  private func resources(_ b: TestBundle, _ r: [String: Any]) { b.editLinux { $0["resources"] = r } }

  private func cgroupFile(_ controller: String, _ id: String, _ file: String) -> String {
    ((try? String(contentsOfFile: "\(env.cgroupDir(controller, id))/\(file)", encoding: .utf8)) ?? "")
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func testCpuMemoryAndPidsFilesHoldTheConfiguredValues() throws {
    let b = try env.bundle(["sleep", "30"])
    resources(
      b,
      [
        "memory": ["limit": 64 << 20], "pids": ["limit": 42],
        "cpu": ["shares": 512, "quota": 50000, "period": 100000],
      ])
    let id = env.newID()
    XCTAssertGreaterThan(env.startDetached(b, id: id), 0)
    XCTAssertEqual(cgroupFile("memory", id, "memory.limit_in_bytes"), String(64 << 20))
    XCTAssertEqual(cgroupFile("pids", id, "pids.max"), "42")
    XCTAssertEqual(cgroupFile("cpu", id, "cpu.shares"), "512")
    XCTAssertEqual(cgroupFile("cpu", id, "cpu.cfs_quota_us"), "50000")
  }

  func testForkLoopStopsAtPidsMax() throws {
    let b = try env.bundle(["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done 2>&1; wait"])
    resources(b, ["pids": ["limit": 5]])
    let r = env.run(b, id: env.newID())
    let out = r.stdout + r.stderr
    XCTAssertTrue(out.contains("Resource temporarily unavailable") || out.contains("can't fork"), out)
  }

  func testProcessAllocatingPastTheLimitIsOOMKilledAndEventsReportsIt() throws {
    let b = try env.bundle(["sh", "-c", "sleep 1; dd if=/dev/zero of=/dev/null bs=128M count=1; sleep 2"])
    resources(b, ["memory": ["limit": 32 << 20, "swap": 32 << 20]])
    let id = env.newID()
    let created = env.create(b, id: id)
    XCTAssertEqual(created.status, 0, "\(created)")
    let events = try Spawner.spawn(
      env.runtime, ["--root", env.stateRoot, "events", "--interval", "1s", id], outputDirectory: env.tmp)
    XCTAssertEqual(env.rt(["start", id]).status, 0)
    let r = events.wait(timeout: 20)
    XCTAssertTrue(r.stdout.contains("\"type\":\"oom\""), r.stdout)
  }

  func testDeviceRulesDenyAnUnlistedDevice() throws {
    // /dev/kmsg (c 1:11) is neither in the config's rules nor in the defaults every container gets.
    let b = try env.bundle([
      "sh", "-c",
      "head -c1 /dev/null && echo null-ok; mknod /tmp/kmsg c 1 11 && { head -c1 /tmp/kmsg >/dev/null 2>&1 || echo kmsg-denied; }",
    ])
    b.addMount("/tmp", type: "tmpfs", source: "tmpfs")
    let mknod = ["CAP_MKNOD"]
    b.editProcess { $0["capabilities"] = ["bounding": mknod, "effective": mknod, "permitted": mknod] }
    resources(
      b,
      [
        "devices": [
          ["allow": false, "access": "rwm"], ["allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"],
        ]
      ])
    let out = env.output(b)
    XCTAssertTrue(out.contains("null-ok"), out)
    XCTAssertTrue(out.contains("kmsg-denied"), out)
  }

  func testExecJoinsTheSameNamespacesAndCgroupAsInit() throws {
    let b = try env.bundle(["sleep", "30"])
    let id = env.newID()
    let initPID = env.startDetached(b, id: id)
    let pidFile = env.tmp + "/exec.pid"
    XCTAssertEqual(env.rt(["exec", "-d", "--pid-file", pidFile, id, "sleep", "20"]).status, 0)
    let execPID = Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespaces))!
    for ns in ["pid", "net", "ipc", "uts", "mnt", "cgroup"] {
      XCTAssertEqual(
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(execPID)/ns/\(ns)"),
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(initPID)/ns/\(ns)"), ns)
    }
    XCTAssertEqual(
      try String(contentsOfFile: "/proc/\(execPID)/cgroup", encoding: .utf8),
      try String(contentsOfFile: "/proc/\(initPID)/cgroup", encoding: .utf8))
    let ps = env.rt(["ps", "--format", "json", id])
    XCTAssertTrue(ps.stdout.contains(String(execPID)), ps.stdout)
  }

  func testExecPropagatesTheExitCodeAndRunsAsTheGivenUser() throws {
    let b = try env.bundle(["sleep", "30"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    XCTAssertEqual(env.rt(["exec", id, "sh", "-c", "exit 4"]).status, 4)
    XCTAssertEqual(env.rt(["exec", "-u", "1000:1000", id, "id", "-u"]).stdout, "1000\n")
    let missing = env.rt(["exec", id, "nosuchcmd"])
    XCTAssertTrue(missing.stderr.contains("executable file not found"), "\(missing)")
  }

  func testExecIntoAStoppedContainerIsAClearError() throws {
    let b = try env.bundle(["true"])
    let id = env.newID()
    XCTAssertEqual(env.run(b, id: id, flags: ["--keep"]).status, 0)
    let r = env.rt(["exec", id, "true"])
    assertOneErrorLine(r, contains: ["stopped"])
  }

  func testExecWithATerminalSendsThePtyMasterToTheConsoleSocket() throws {
    let b = try env.bundle(["sleep", "30"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    let socketPath = env.tmp + "/console.sock"
    let listener = try UnixListener(path: socketPath)
    let exec = try Spawner.spawn(
      env.runtime,
      ["--root", env.stateRoot, "exec", "-t", "--console-socket", socketPath, id, "sh", "-c", "tty; echo via-pty"],
      outputDirectory: env.tmp)
    guard let (_, master) = listener.receive(), master >= 0 else {
      _ = exec.wait()
      return XCTFail("no pty master arrived")
    }
    defer { close(master) }
    var collected = ""
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && !collected.contains("via-pty") {
      var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 500) > 0 else { continue }
      var buf = [UInt8](repeating: 0, count: 4096)
      let n = read(master, &buf, buf.count)
      if n <= 0 { break }
      collected += String(decoding: buf[0..<n], as: UTF8.self)
    }
    XCTAssertEqual(exec.wait().status, 0)
    XCTAssertTrue(collected.contains("/dev/pts/"), collected)
    XCTAssertTrue(collected.contains("via-pty"), collected)
  }

  func testPauseFreezesAndResumeThaws() throws {
    let b = try env.bundle(["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done"])
    b.addMount("/tmp", type: "tmpfs", source: "tmpfs")
    let id = env.newID()
    let pid = env.startDetached(b, id: id)
    let counter = "/proc/\(pid)/root/tmp/count"
    usleep(500_000)
    XCTAssertEqual(env.rt(["pause", id]).status, 0)
    XCTAssertEqual(env.status(id), "paused")
    let frozen = try String(contentsOfFile: counter, encoding: .utf8)
    usleep(500_000)
    XCTAssertEqual(try String(contentsOfFile: counter, encoding: .utf8), frozen, "the container ran while paused")
    assertOneErrorLine(env.rt(["pause", id]), contains: ["paused"])
    XCTAssertEqual(env.rt(["resume", id]).status, 0)
    XCTAssertEqual(env.status(id), "running")
    usleep(500_000)
    XCTAssertNotEqual(try String(contentsOfFile: counter, encoding: .utf8), frozen, "the container did not resume")
    assertOneErrorLine(env.rt(["resume", id]), contains: ["running"])
  }

  func testUpdateChangesTheMemoryLimitOfARunningContainer() throws {
    let b = try env.bundle(["sleep", "30"])
    resources(b, ["memory": ["limit": 64 << 20]])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    XCTAssertEqual(env.rt(["update", "--memory", "96m", "--pids-limit", "33", id]).status, 0)
    XCTAssertEqual(cgroupFile("memory", id, "memory.limit_in_bytes"), String(96 << 20))
    XCTAssertEqual(cgroupFile("pids", id, "pids.max"), "33")
    assertOneErrorLine(env.rt(["update", "--memory", "lots", id]), contains: ["--memory"])
  }

  func testUpdatePauseAndResumeOfAStoppedContainerAreClearErrors() throws {
    let b = try env.bundle(["true"])
    let id = env.newID()
    XCTAssertEqual(env.run(b, id: id, flags: ["--keep"]).status, 0)
    for verb in [["pause", id], ["resume", id], ["update", "--memory", "64m", id]] {
      assertOneErrorLine(env.rt(verb), contains: ["stopped"])
    }
  }

  func testCgroupAndTheParentCreateMadeAreGoneAfterDelete() throws {
    let b = try env.bundle(["sleep", "30"])
    let id = env.newID()
    _ = env.startDetached(b, id: id)
    XCTAssertTrue(FileManager.default.fileExists(atPath: env.cgroupDir("memory", id)))
    XCTAssertEqual(env.rt(["delete", "--force", id]).status, 0)
    for controller in ["memory", "pids", "cpu", "freezer", "devices", "systemd", "unified"] {
      XCTAssertFalse(FileManager.default.fileExists(atPath: env.cgroupDir(controller, id)), controller)
      // The suite's parent was made by this create and holds nothing else.
      let parent = "/sys/fs/cgroup/\(controller)\(SuiteRun.cgroupParent)"
      XCTAssertFalse(FileManager.default.fileExists(atPath: parent), "\(parent) left behind")
    }
  }

  func testMemoryLimitBelowWhatTheKernelAcceptsIsOneLineNamingTheField() throws {
    let b = try env.bundle(["true"])
    resources(b, ["cpu": ["quota": 500, "period": 100000]])
    let r = env.run(b, id: env.newID())
    assertOneErrorLine(r, contains: ["linux.resources.cpu"])
    assertStateRootEmpty()
  }
}
