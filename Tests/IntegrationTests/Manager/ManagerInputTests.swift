import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Profiles, keys and every bad input: one line naming what is wrong, a non-zero exit, nothing left.
final class ManagerInputTests: ManagerTestCase {
  func testProfilesApplyDefaultFirstThenInOrderThenOwnKeys() throws {
    let g = f.name("prof")
    f.ok(["profile", "set", "default", "limits.pids=50", "limits.memory=32MiB"])
    f.ok(["profile", "create", "small"])
    f.ok(["profile", "set", "small", "limits.memory=100MiB", "limits.cpu=0.5"])
    f.ok(["profile", "create", "big"])
    f.ok(["profile", "set", "big", "limits.memory=200MiB"])
    f.ok([
      "launch", g, "--image", "busybox", "--profile", "small", "--profile", "big", "-c", "limits.cpu=0.25", "--",
      "sleep", "1000",
    ])
    let eff = try XCTUnwrap(f.info(g)["effectiveConfig"] as? [String: String])
    XCTAssertEqual(eff["limits.pids"], "50")
    XCTAssertEqual(eff["limits.memory"], "200MiB")
    XCTAssertEqual(eff["limits.cpu"], "0.25")
    func read(_ c: String, _ file: String) -> String {
      ((try? String(contentsOfFile: f.cgroupDir(g, c) + "/" + file, encoding: .utf8)) ?? "")
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    XCTAssertEqual(read("memory", "memory.limit_in_bytes"), "\(200 << 20)")
    XCTAssertEqual(read("pids", "pids.max"), "50")
    XCTAssertEqual(read("cpu", "cpu.cfs_quota_us"), "25000")
    let inUse = f.cli(["profile", "delete", "big"])
    XCTAssertEqual(inUse.status, 1)
    XCTAssertTrue(inUse.stderr.contains(g), "\(inUse)")
  }

  func testLimitsSetOnARunningGuestApplyAtOnce() throws {
    let g = f.name("live")
    f.ok(["launch", g, "--image", "busybox", "-c", "limits.pids=40", "--", "sleep", "1000"])
    func read(_ c: String, _ file: String) -> String {
      ((try? String(contentsOfFile: f.cgroupDir(g, c) + "/" + file, encoding: .utf8)) ?? "")
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    XCTAssertEqual(read("pids", "pids.max"), "40")
    f.ok(["config", "set", g, "limits.memory=48MiB", "limits.cpu=0.5"])
    XCTAssertEqual(read("memory", "memory.limit_in_bytes"), "\(48 << 20)")
    XCTAssertEqual(read("cpu", "cpu.cfs_quota_us"), "50000")
    f.ok(["config", "unset", g, "limits.pids"])
    XCTAssertEqual(read("pids", "pids.max"), "max", "an unset limit is lifted")
    f.ok(["profile", "set", "default", "limits.pids=30"])
    XCTAssertEqual(read("pids", "pids.max"), "30", "a profile's change reaches its running guests")
    let refused = f.cli(["config", "set", g, "limits.memory=64KiB"])
    XCTAssertNotEqual(refused.status, 0, "a limit below what the guest uses is refused: \(refused)")
    XCTAssertEqual((f.info(g)["config"] as? [String: String])?["limits.memory"], "48MiB", "and not saved")
  }

  func testBadInputsGetOneLineAndLeaveNothing() throws {
    let g = f.name("bad")
    func refused(_ args: [String], _ text: String, status: Int32 = 1, line: UInt = #line) {
      let r = f.cli(args)
      XCTAssertEqual(r.status, status, "\(r)", line: line)
      XCTAssertEqual(r.stderrLines.count, 1, "one line: \(r)", line: line)
      XCTAssertTrue(r.stderr.contains(text), "expected \(text): \(r)", line: line)
    }
    refused(["create", "Bad_Name", "--image", "busybox"], "Bad_Name")
    refused(["create", g, "--image", "nope"], "image \"nope\" does not exist")
    refused(["create", g, "--image", "busybox", "--profile", "nope"], "profile \"nope\"")
    refused(["create", g, "--image", "busybox", "-c", "limits.memroy=1GiB"], "limits.memory")
    refused(["create", g, "--image", "busybox", "-c", "limits.memory=12XB"], "\"12XB\" is not a size")
    refused(["start", g], "guest \"\(g)\" does not exist")
    XCTAssertTrue(f.list().isEmpty, "nothing was created by the refused creates")
    XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: f.stateDir + "/guests")) ?? [], [])

    f.ok(["launch", g, "--image", "busybox", "--", "sleep", "1000"])
    refused(["create", g, "--image", "busybox"], "already exists")
    refused(["start", g], "already running")
    refused(["delete", g], "running")
    refused(["image", "delete", "busybox"], g)
    refused(["config", "set", g, "limits.cpu=lots"], "limits.cpu")
    f.ok(["delete", "--force", g])

    let missing = f.name("missing")
    refused(["launch", missing, "--image", "busybox", "--", "/no/such/cmd"], "no such file", status: 127)
    XCTAssertFalse(f.list().contains { $0["name"] as? String == missing }, "a launch that cannot start leaves no guest")
    f.ok(["create", missing, "--image", "busybox", "--", "/no/such/cmd"])
    refused(["start", missing], "no such file", status: 127)
    XCTAssertEqual(f.info(missing)["status"] as? String, "stopped")
    XCTAssertEqual(f.mountsUnder(f.stateDir), [])
  }

  func testConfigSetUnsetAndShowRoundTrip() throws {
    let g = f.name("cfg")
    f.ok(["create", g, "--image", "busybox", "--", "sleep", "1000"])
    f.ok(["config", "set", g, "limits.memory=48MiB", "environment.FOO=bar baz"])
    let shown = f.ok(["config", "show", g]).stdout
    XCTAssertTrue(shown.contains("limits.memory"), shown)
    f.ok(["start", g])
    XCTAssertEqual(f.ok(["exec", g, "--", "sh", "-c", "echo $FOO"]).stdout, "bar baz\n")
    f.ok(["config", "unset", g, "environment.FOO"])
    XCTAssertNil((f.info(g)["config"] as? [String: String])?["environment.FOO"])
  }

  func testDaemonNotRunningIsSaidInOneLine() throws {
    f.stopDaemon()
    let r = f.cli(["list"])
    XCTAssertNotEqual(r.status, 0)
    XCTAssertEqual(r.stderrLines.count, 1, "\(r)")
    XCTAssertTrue(r.stderr.contains("cella daemon"), "says how to start it: \(r)")
  }
}
