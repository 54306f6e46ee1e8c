import XCTest

/// AppArmor and SELinux labels: cella applies neither, so a config asking for one is refused, never run
/// unconfined. (The OCI validation suite cannot see the difference: its checks pass when the label is
/// ignored; see Docs/conformance.md.)
final class SecurityLabelTests: RuntimeTestCase {
  func assertRefused(_ b: TestBundle, field: String, file: StaticString = #filePath, line: UInt = #line) {
    let r = env.create(b, id: env.newID(), file: file, line: line)
    assertOneErrorLine(r, contains: ["config.json: \(field):"], file: file, line: line)
    assertStateRootEmpty(file: file, line: line)
  }

  func testAppArmorProfileIsRefusedNotIgnored() throws {
    let b = try env.bundle(["true"])
    b.editProcess { $0["apparmorProfile"] = "acme_secure_profile" }
    assertRefused(b, field: "process.apparmorProfile")
  }

  func testSELinuxProcessLabelIsRefusedNotIgnored() throws {
    let b = try env.bundle(["true"])
    b.editProcess { $0["selinuxLabel"] = "system_u:system_r:svirt_lxc_net_t:s0:c124,c675" }
    assertRefused(b, field: "process.selinuxLabel")
  }

  func testSELinuxMountLabelIsRefusedNotIgnored() throws {
    let b = try env.bundle(["true"])
    b.editLinux { $0["mountLabel"] = "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811" }
    assertRefused(b, field: "linux.mountLabel")
  }

  func testEmptyLabelsMeanUnset() throws {
    let b = try env.bundle(["true"])
    b.editProcess {
      $0["apparmorProfile"] = ""
      $0["selinuxLabel"] = ""
    }
    b.editLinux { $0["mountLabel"] = "" }
    _ = env.output(b)
  }

  /// Docker sends "unconfined" for --privileged and --security-opt apparmor=unconfined: that is what
  /// cella gives, so it runs.
  func testUnconfinedAppArmorProfileRuns() throws {
    let b = try env.bundle(["true"])
    b.editProcess { $0["apparmorProfile"] = "unconfined" }
    _ = env.output(b)
  }

  func testSchedulingFieldsCellaDoesNotApplyAreRefused() throws {
    for (key, value) in [
      ("scheduler", ["policy": "SCHED_IDLE"] as [String: Any]),
      ("ioPriority", ["class": "IOPRIO_CLASS_IDLE", "priority": 0]),
      ("execCPUAffinity", ["initial": "0"]),
    ] {
      let b = try env.bundle(["true"])
      b.editProcess { $0[key] = value }
      assertRefused(b, field: "process.\(key)")
    }
  }

  func testLinuxFieldsCellaDoesNotApplyAreRefused() throws {
    for (key, value) in [
      ("intelRdt", ["closID": "cella-t"] as Any), ("memoryPolicy", ["mode": "MPOL_BIND", "nodes": "0"] as Any),
      ("netDevices", ["ct-nonexistent": [:] as [String: Any]] as Any),
    ] {
      let b = try env.bundle(["true"])
      b.editLinux { $0[key] = value }
      assertRefused(b, field: "linux.\(key)")
    }
  }

  func testExecLabelFlagsAreRefusedExceptUnconfined() throws {
    let b = try env.bundle(["sleep", "30"])
    let id = env.newID()
    XCTAssertEqual(env.create(b, id: id).status, 0)
    XCTAssertEqual(env.rt(["start", id]).status, 0)
    let refused = env.rt(["exec", "--apparmor", "acme", id, "true"])
    assertOneErrorLine(refused, contains: ["--apparmor"])
    assertOneErrorLine(
      env.rt(["exec", "--process-label", "system_u:system_r:x:s0", id, "true"]), contains: ["--process-label"])
    XCTAssertEqual(env.rt(["exec", "--apparmor", "unconfined", id, "true"]).status, 0)
    XCTAssertEqual(env.rt(["delete", "--force", id]).status, 0)
  }
}
