import Foundation
import Glibc
import XCTest

/// Issue 3: privileges are exactly what the config says, and nothing in the container reaches the runtime
/// or the host.
final class SecurityTests: RuntimeTestCase {
  private func statusMasks(_ out: String) -> [String: UInt64] {
    var masks: [String: UInt64] = [:]
    for line in out.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, parts[0].hasPrefix("Cap") else { continue }
      masks[String(parts[0])] = UInt64(parts[1].trimmingCharacters(in: .whitespaces), radix: 16)
    }
    return masks
  }

  private func caps(_ b: TestBundle, _ sets: [String: [String]]) {
    b.editProcess { $0["capabilities"] = sets }
  }

  private func noSeccomp(_ b: TestBundle) { b.editLinux { $0.removeValue(forKey: "seccomp") } }

  // CAP_CHOWN = 0, CAP_KILL = 5, CAP_NET_BIND_SERVICE = 10
  func testCapabilitySetsEqualTheConfigForRoot() throws {
    let b = try env.bundle(["grep", "^Cap", "/proc/self/status"])
    let all = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    caps(
      b, ["bounding": all, "effective": all, "permitted": all, "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]])
    let m = statusMasks(env.output(b))
    XCTAssertEqual(m["CapBnd"], 0x421)
    XCTAssertEqual(m["CapEff"], 0x421)
    XCTAssertEqual(m["CapPrm"], 0x421)
    XCTAssertEqual(m["CapInh"], 0x20)
    XCTAssertEqual(m["CapAmb"], 0x20)
  }

  func testCapabilitySetsEqualTheConfigForUID1000WithAmbientCaps() throws {
    let b = try env.bundle(["grep", "^Cap", "/proc/self/status"])
    let two = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    caps(
      b,
      [
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": two, "permitted": two,
        "inheritable": two, "ambient": two,
      ])
    b.editProcess { $0["user"] = ["uid": 1000, "gid": 1000] }
    let m = statusMasks(env.output(b))
    XCTAssertEqual(m["CapBnd"], 0x421)
    XCTAssertEqual(m["CapEff"], 0x420)
    XCTAssertEqual(m["CapPrm"], 0x420)
    XCTAssertEqual(m["CapInh"], 0x420)
    XCTAssertEqual(m["CapAmb"], 0x420)
  }

  func testUnknownCapabilityIsRejectedNamingTheField() throws {
    let b = try env.bundle(["true"])
    caps(b, ["bounding": ["CAP_KILL", "CAP_BOGUS"]])
    let r = env.run(b, id: env.newID())
    XCTAssertNotEqual(r.status, 0)
    assertOneErrorLine(r, contains: ["process.capabilities.bounding[1]"])
    assertStateRootEmpty()
  }

  func testMountFailsWithoutCapSysAdminAndWorksWithIt() throws {
    let without = try env.bundle(["sh", "-c", "mount -t tmpfs none /tmp && echo mounted"])
    noSeccomp(without)
    let r = env.run(without, id: env.newID())
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertFalse(r.stdout.contains("mounted"))

    let with = try env.bundle(["sh", "-c", "mount -t tmpfs none /tmp && echo mounted"])
    noSeccomp(with)
    let admin = ["CAP_SYS_ADMIN"]
    caps(with, ["bounding": admin, "effective": admin, "permitted": admin])
    XCTAssertTrue(env.output(with).contains("mounted"))
  }

  func testRawSocketsNeedCapNetRaw() throws {
    let script = "ping -c1 -W1 127.0.0.1 2>&1; true"
    let without = try env.bundle(["sh", "-c", script])
    XCTAssertTrue(env.output(without).lowercased().contains("permission denied"))
    let with = try env.bundle(["sh", "-c", script])
    caps(with, ["bounding": ["CAP_NET_RAW"], "effective": ["CAP_NET_RAW"], "permitted": ["CAP_NET_RAW"]])
    XCTAssertFalse(env.output(with).lowercased().contains("permission denied"))
  }

  func testNoNewPrivsFollowsTheConfig() throws {
    for (value, expected) in [(true, "1"), (false, "0")] {
      let b = try env.bundle(["grep", "NoNewPrivs", "/proc/self/status"])
      b.editProcess { $0["noNewPrivileges"] = value }
      XCTAssertTrue(env.output(b).contains("NoNewPrivs:\t\(expected)"), "noNewPrivileges \(value)")
    }
  }

  private func seccomp(_ b: TestBundle, _ rules: [[String: Any]], defaultAction: String = "SCMP_ACT_ALLOW") {
    b.editLinux { $0["seccomp"] = ["defaultAction": defaultAction, "syscalls": rules] as [String: Any] }
  }

  func testErrnoRuleReturnsTheConfiguredErrno() throws {
    let b = try env.bundle(["sh", "-c", "mkdir /tmp/x 2>&1; true"])
    seccomp(b, [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38]])
    XCTAssertTrue(env.output(b).contains("Function not implemented"))
  }

  func testKillRuleKillsAndRunReportsTheSignal() throws {
    let b = try env.bundle(["uname"])
    seccomp(b, [["names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"]])
    let r = env.run(b, id: env.newID())
    XCTAssertEqual(r.status, 128 + SIGSYS, "\(r)")
  }

  func testArgumentFilterMatchesOnlyTheListedValue() throws {
    let b = try env.bundle(["sh", "-c", "kill -0 $$ && echo sig0-ok; kill -10 $$ 2>&1 || echo sig10-denied"])
    seccomp(
      b,
      [
        [
          "names": ["kill"], "action": "SCMP_ACT_ERRNO",
          "args": [["index": 1, "value": 10, "op": "SCMP_CMP_EQ"]],
        ]
      ])
    let out = env.output(b)
    XCTAssertTrue(out.contains("sig0-ok"), out)
    XCTAssertTrue(out.contains("sig10-denied"), out)
  }

  func testNotifyRuleReachesTheListenerAndItsReplyIsWhatTheContainerSees() throws {
    let socketPath = env.tmp + "/notify.sock"
    let listener = try UnixListener(path: socketPath)
    let b = try env.bundle(["sh", "-c", "mkdir /tmp/x 2>&1; true"])
    b.editLinux {
      $0["seccomp"] =
        [
          "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socketPath, "listenerMetadata": "cella-test",
          "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"]],
        ] as [String: Any]
    }
    let id = env.newID()
    try b.write()
    let run = try Spawner.spawn(
      env.runtime, ["--root", env.stateRoot, "run", "-b", b.dir, id], outputDirectory: env.tmp)
    guard let (payload, fd) = listener.receive() else {
      _ = run.wait()
      return XCTFail("the listener got nothing")
    }
    defer { close(fd) }
    let message = try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
    XCTAssertEqual(message?["metadata"] as? String, "cella-test")
    XCTAssertEqual(message?["fds"] as? [String], ["seccompFd"])
    XCTAssertGreaterThanOrEqual(fd, 0)
    // struct seccomp_notif (80 bytes) in, struct seccomp_notif_resp (24 bytes) out.
    var notif = [UInt8](repeating: 0, count: 80)
    XCTAssertEqual(notif.withUnsafeMutableBytes { ioctl(fd, UInt(0xc050_2100), $0.baseAddress!) }, 0)
    let notifID = notif.withUnsafeBytes { $0.load(as: UInt64.self) }
    var resp = [UInt8](repeating: 0, count: 24)
    resp.withUnsafeMutableBytes {
      $0.storeBytes(of: notifID, as: UInt64.self)
      $0.storeBytes(of: Int32(-ENOSPC), toByteOffset: 16, as: Int32.self)
    }
    XCTAssertEqual(resp.withUnsafeMutableBytes { ioctl(fd, UInt(0xc018_2101), $0.baseAddress!) }, 0)
    let r = run.wait()
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stdout.contains("No space left on device"), r.stdout)
  }

  func testMaskedPathsReadEmptyOrFail() throws {
    let b = try env.bundle(["sh", "-c", "wc -c < /proc/keys; ls /sys/firmware | wc -l"])
    let lines = env.output(b).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    XCTAssertEqual(lines, ["0", "0"])
  }

  func testReadonlyPathsCannotBeOpenedForWriting() throws {
    let b = try env.bundle([
      "sh", "-c", "{ echo 1 > /proc/sys/kernel/ns_last_pid; echo 1 > /proc/sys/vm/overcommit_memory; } 2>&1; true",
    ])
    let out = env.output(b)
    XCTAssertEqual(out.components(separatedBy: "Read-only file system").count - 1, 2, out)
  }

  func testProcAndSysAreNosuidNodevNoexecAndSysIsReadOnly() throws {
    let b = try env.bundle(["sh", "-c", "grep -E ' /proc | /sys ' /proc/self/mounts"])
    for line in env.output(b).split(separator: "\n") {
      let options = line.split(separator: " ")[3].split(separator: ",")
      for flag in ["nosuid", "nodev", "noexec"] { XCTAssertTrue(options.contains(Substring(flag)), String(line)) }
      if line.contains(" /sys ") { XCTAssertTrue(options.contains("ro"), String(line)) }
    }
  }

  /// Runs `cella-runtime run` from a host shell that leaks fd 7 (the host's /) to the runtime.
  private func runWithLeakedFD(_ b: TestBundle, id: String) throws -> CommandResult {
    try b.write()
    return env.host(
      "/bin/sh",
      ["-c", "exec 7</; exec \"$0\" --root \"$1\" run -b \"$2\" \"$3\"", env.runtime, env.stateRoot, b.dir, id])
  }

  func testContainerSeesOnlyStdioEvenWhenTheCallerLeaksFds() throws {
    let b = try env.bundle(["sh", "-c", "ls /proc/$$/fd; true"])
    let r = try runWithLeakedFD(b, id: env.newID())
    XCTAssertEqual(r.status, 0, "\(r)")
    XCTAssertEqual(r.stdout.split(separator: "\n").sorted(), ["0", "1", "2"], r.stdout)
  }

  func testCwdThroughALeakedHostFdIsRefused() throws {
    let b = try env.bundle(["pwd"])
    b.editProcess { $0["cwd"] = "/proc/self/fd/7" }
    let r = try runWithLeakedFD(b, id: env.newID())
    XCTAssertNotEqual(r.status, 0, "\(r)")
    XCTAssertTrue(r.stderr.contains("process.cwd"), r.stderr)
    assertStateRootEmpty()
  }

  /// Answers one seccomp notification on `fd` with "continue" (SECCOMP_USER_NOTIF_FLAG_CONTINUE);
  /// returns the notifying pid.
  private func receiveNotification(_ fd: Int32) -> (id: UInt64, pid: UInt32)? {
    var notif = [UInt8](repeating: 0, count: 80)
    guard notif.withUnsafeMutableBytes({ ioctl(fd, UInt(0xc050_2100), $0.baseAddress!) }) == 0 else { return nil }
    return notif.withUnsafeBytes { ($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt32.self)) }
  }

  private func continueNotification(_ fd: Int32, _ id: UInt64) {
    var resp = [UInt8](repeating: 0, count: 24)
    resp.withUnsafeMutableBytes {
      $0.storeBytes(of: id, as: UInt64.self)
      $0.storeBytes(of: UInt32(1), toByteOffset: 20, as: UInt32.self)
    }
    XCTAssertEqual(resp.withUnsafeMutableBytes { ioctl(fd, UInt(0xc018_2101), $0.baseAddress!) }, 0)
  }

  /// CVE-2019-5736 class: an `exec` process is a clone of cella-runtime until its execve. A seccomp
  /// notify rule on execve holds it exactly there (privileges already dropped to the container's), and
  /// another process of the container, with the same uid and capabilities, tries to open the runtime
  /// binary through /proc/PID/exe — for reading, and for writing.
  func testRuntimeBinaryIsUnreachableFromInsideDuringExec() throws {
    let socketPath = env.tmp + "/exe.sock"
    let listener = try UnixListener(path: socketPath)
    let a = try env.bundle(["sleep", "30"])
    a.editLinux {
      $0["seccomp"] =
        [
          "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socketPath,
          "syscalls": [["names": ["execve"], "action": "SCMP_ACT_NOTIFY"]],
        ] as [String: Any]
    }
    let idA = env.newID("a")
    XCTAssertEqual(env.create(a, id: idA).status, 0)
    let start = try Spawner.spawn(env.runtime, ["--root", env.stateRoot, "start", idA], outputDirectory: env.tmp)
    guard let (_, initFD) = listener.receive(), let first = receiveNotification(initFD) else {
      _ = start.wait()
      return XCTFail("init's execve was not notified")
    }
    continueNotification(initFD, first.id)
    close(initFD)
    XCTAssertEqual(start.wait().status, 0)

    let exec = try Spawner.spawn(
      env.runtime, ["--root", env.stateRoot, "exec", idA, "sleep", "1"], outputDirectory: env.tmp)
    guard let (_, execFD) = listener.receive(), let held = receiveNotification(execFD) else {
      _ = exec.wait()
      return XCTFail("exec's execve was not notified")
    }
    defer { close(execFD) }
    let status = try String(contentsOfFile: "/proc/\(held.pid)/status", encoding: .utf8)
    let nspid = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?.split(separator: "\t").last ?? ""
    XCTAssertFalse(nspid.isEmpty)
    let b = try env.bundle([
      "sh", "-c",
      "cat /proc/\(nspid)/exe > /dev/null 2>&1 && echo READ; echo x >> /proc/\(nspid)/exe 2>&1 && echo WROTE; "
        + "readlink /proc/\(nspid)/exe 2>&1 | grep -q cella-runtime && echo LINK; echo done",
    ])
    b.addNamespace("pid", path: "/proc/\(env.pid(idA))/ns/pid")
    let out = env.output(b)
    continueNotification(execFD, held.id)
    XCTAssertEqual(exec.wait().status, 0)
    XCTAssertTrue(out.contains("done"), out)
    XCTAssertFalse(out.contains("READ"), out)
    XCTAssertFalse(out.contains("WROTE"), out)
    XCTAssertFalse(out.contains("LINK"), out)
  }
}
