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
}
