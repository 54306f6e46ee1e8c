import Foundation
import XCTest

final class ProcessTests: RuntimeTestCase {
  func testArgsAndEnvReachProcess() throws {
    let b = try env.bundle(["sh", "-c", "echo \"$FOO|$1|$2\"", "argv0", "one two", "three"])
    b.editProcess { $0["env"] = ["PATH=/bin:/usr/bin", "FOO=bar baz"] }
    XCTAssertEqual(env.output(b), "bar baz|one two|three\n")
  }

  func testMissingCwdIsCreatedInsideRootfs() throws {
    let rootfs = try env.copyRootfs()
    let u = "cella-cwd-" + TestEnvironment.randomSuffix()
    env.hostPathsToRemove.append("/\(u)")
    let b = try env.bundle(["pwd"])
    b.setRoot(rootfs, readonly: false)
    b.editProcess { $0["cwd"] = "/\(u)/sub" }
    XCTAssertEqual(env.output(b), "/\(u)/sub\n")
    var isDir: ObjCBool = false
    XCTAssertTrue(FileManager.default.fileExists(atPath: "\(rootfs)/\(u)/sub", isDirectory: &isDir) && isDir.boolValue)
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/\(u)"), "cwd was created on the host")
  }

  func testUserAndAdditionalGroups() throws {
    let b = try env.bundle(["sh", "-c", "id -u; id -g; id -G"])
    b.editProcess { $0["user"] = ["uid": 1000, "gid": 1000, "additionalGids": [5, 100]] }
    let lines = env.output(b).split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.prefix(2), ["1000", "1000"])
    let groups = Set((lines.dropFirst(2).first ?? "").split(separator: " ").map(String.init))
    XCTAssertTrue(groups.isSuperset(of: ["5", "100"]), "groups: \(groups)")
    XCTAssertFalse(groups.contains("0"), "root group kept: \(groups)")
  }

  func testUmask() throws {
    let b = try env.bundle(["sh", "-c", "umask"])
    b.editProcess { $0["user"] = ["uid": 0, "gid": 0, "umask": 0o077] }
    XCTAssertEqual(env.output(b), "0077\n")
  }

  func testDefaultUmaskIs0022() throws {
    let b = try env.bundle(["sh", "-c", "umask"])
    XCTAssertEqual(env.output(b), "0022\n")
  }

  func testRlimitNofile() throws {
    let b = try env.bundle(["sh", "-c", "ulimit -n; ulimit -Hn"])
    b.editProcess { $0["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 100, "hard": 100]] }
    XCTAssertEqual(env.output(b), "100\n100\n")
  }

  func testHostnameAndDomainname() throws {
    let b = try env.bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"])
    b.config["hostname"] = "box-one"
    b.config["domainname"] = "example.test"
    XCTAssertEqual(env.output(b), "box-one\nexample.test\n")
  }

  func testSysctlInIPCNamespaceIsApplied() throws {
    let b = try env.bundle(["cat", "/proc/sys/kernel/shmmax"])
    b.editLinux { $0["sysctl"] = ["kernel.shmmax": "12345678"] }
    XCTAssertEqual(env.output(b), "12345678\n")
    let host = try String(contentsOfFile: "/proc/sys/kernel/shmmax", encoding: .utf8)
    XCTAssertNotEqual(host, "12345678\n", "the sysctl reached the host")
  }

  func testHostSysctlIsRejectedAtCreate() throws {
    let before = try String(contentsOfFile: "/proc/sys/kernel/panic", encoding: .utf8)
    let b = try env.bundle(["true"])
    b.editLinux { $0["sysctl"] = ["kernel.panic": "7"] }
    let r = env.create(b, id: env.newID())
    assertOneErrorLine(r, contains: ["linux.sysctl", "kernel.panic"])
    assertStateRootEmpty()
    XCTAssertEqual(try String(contentsOfFile: "/proc/sys/kernel/panic", encoding: .utf8), before)
  }

  func testNoNewPrivilegesTrue() throws {
    let b = try env.bundle(["grep", "NoNewPrivs", "/proc/self/status"])
    b.editProcess { $0["noNewPrivileges"] = true }
    XCTAssertEqual(env.output(b).split(whereSeparator: \.isWhitespace).last, "1")
  }

  func testNoNewPrivilegesFalse() throws {
    let b = try env.bundle(["grep", "NoNewPrivs", "/proc/self/status"])
    b.editProcess { $0["noNewPrivileges"] = false }
    XCTAssertEqual(env.output(b).split(whereSeparator: \.isWhitespace).last, "0")
  }

  func testOOMScoreAdj() throws {
    let b = try env.bundle(["cat", "/proc/self/oom_score_adj"])
    b.editProcess { $0["oomScoreAdj"] = 100 }
    XCTAssertEqual(env.output(b), "100\n")
  }
}
