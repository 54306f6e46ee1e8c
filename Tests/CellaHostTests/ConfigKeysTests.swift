import CellaAPI
import CellaCgroups
import Foundation
import XCTest

@testable import CellaHost

/// Every key's good and bad values, with the error line each bad one gets.
final class ConfigKeysTests: XCTestCase {
  private func message(_ key: String, _ value: String, kind: GuestKind? = .container) -> String? {
    do {
      try ConfigKeys.validate(key: key, value: value, kind: kind)
      return nil
    } catch {
      XCTAssertEqual(error.kind, .invalidArgument)
      return error.message
    }
  }

  private func good(_ key: String, _ values: [String], file: StaticString = #filePath, line: UInt = #line) {
    for v in values { XCTAssertNil(message(key, v), "\(key)=\(v)", file: file, line: line) }
  }

  private func bad(_ key: String, _ cases: [String: String], file: StaticString = #filePath, line: UInt = #line) {
    for (v, text) in cases { XCTAssertEqual(message(key, v), text, "\(key)=\(v)", file: file, line: line) }
  }

  func testLimitsCPUTakesFractionalCores() {
    good("limits.cpu", ["0.5", "2", "1.25", "0.01", "64"])
    let text = { (v: String) in "limits.cpu: \"\(v)\" is not a number of cores from 0.01 to 10000" }
    bad(
      "limits.cpu",
      [
        "0": text("0"), "-1": text("-1"), "abc": text("abc"), "1e3": text("1e3"), ".5": text(".5"),
        "0.001": text("0.001"), "": text(""), "inf": text("inf"), "20000": text("20000"),
      ])
  }

  func testLimitsCPUWeightIsOneToTenThousand() {
    good("limits.cpu.weight", ["1", "100", "10000"])
    bad(
      "limits.cpu.weight",
      [
        "0": "limits.cpu.weight: \"0\" is not an integer from 1 to 10000",
        "10001": "limits.cpu.weight: \"10001\" is not an integer from 1 to 10000",
        "1.5": "limits.cpu.weight: \"1.5\" is not an integer from 1 to 10000",
      ])
  }

  func testLimitsMemoryTakesSizes() {
    good("limits.memory", ["512MiB", "1GiB", "1G", "1000000", "1.5G", "64M", "100kB"])
    let text = { (v: String) in "limits.memory: \"\(v)\" is not a size (like 512MiB, 1GiB, 1G or a number of bytes)" }
    bad(
      "limits.memory",
      [
        "12XB": text("12XB"), "": text(""), "G": text("G"), "-1G": text("-1G"), "1 G": text("1 G"),
        "99999999999999999999": text("99999999999999999999"), "0": "limits.memory: \"0\" is not more than 0 bytes",
      ])
  }

  func testSizesParseWithTheirUnits() {
    XCTAssertEqual(ByteSize.parse("512MiB"), 512 << 20)
    XCTAssertEqual(ByteSize.parse("1GiB"), 1 << 30)
    XCTAssertEqual(ByteSize.parse("1G"), 1 << 30)
    XCTAssertEqual(ByteSize.parse("1GB"), 1_000_000_000)
    XCTAssertEqual(ByteSize.parse("1000000"), 1_000_000)
    XCTAssertEqual(ByteSize.parse("1.5K"), 1536)
    XCTAssertEqual(ByteSize.parse("16EiB"), nil)
    XCTAssertEqual(ByteSize.parse("16777216T"), nil)
    XCTAssertEqual(ByteSize.format(1 << 20), "1MiB")
  }

  func testLimitsPidsIsOneOrMore() {
    good("limits.pids", ["1", "100"])
    bad(
      "limits.pids",
      [
        "0": "limits.pids: \"0\" is not an integer of 1 or more",
        "-5": "limits.pids: \"-5\" is not an integer of 1 or more",
        "x": "limits.pids: \"x\" is not an integer of 1 or more",
      ])
  }

  func testEnvironmentNeedsAValidName() {
    good("environment.FOO", ["bar", "", "a=b c"])
    good("environment._x1", ["1"])
    bad("environment.1FOO", ["x": "environment.1FOO: \"1FOO\" is not an environment variable name"])
    bad("environment.A-B", ["x": "environment.A-B: \"A-B\" is not an environment variable name"])
    bad("environment.A", ["a\u{0}b": "environment.A: the value contains a NUL byte"])
  }

  func testHostnameIsADNSName() {
    good("hostname", ["web", "web-1.example.org", String(repeating: "a", count: 63)])
    let text = { (v: String) in "hostname: \"\(v)\" is not a DNS name of at most 64 characters" }
    bad(
      "hostname",
      [
        "-web": text("-web"), "a..b": text("a..b"), "a_b": text("a_b"), "": text(""),
        String(repeating: "a.", count: 33): text(String(repeating: "a.", count: 33)),
      ])
  }

  func testBooleansAreTrueOrFalse() {
    for key in ["boot.autostart", "security.userns", "disk.data.readonly"] {
      good(key, ["true", "false"])
      bad(key, ["yes": "\(key): \"yes\" is not true or false", "True": "\(key): \"True\" is not true or false"])
    }
  }

  func testAutostartPriorityAndDelay() {
    good("boot.autostart.priority", ["0", "-10", "100"])
    bad("boot.autostart.priority", ["high": "boot.autostart.priority: \"high\" is not an integer"])
    good("boot.autostart.delay", ["0", "5"])
    bad(
      "boot.autostart.delay",
      [
        "-1": "boot.autostart.delay: \"-1\" is not a number of seconds (0 or more)",
        "1.5": "boot.autostart.delay: \"1.5\" is not a number of seconds (0 or more)",
      ])
  }

  func testRestartPolicies() {
    good("boot.restart", ["no", "on-failure", "on-failure:3", "always"])
    let text = { (v: String) in "boot.restart: \"\(v)\" is not no, on-failure, on-failure:N or always" }
    bad(
      "boot.restart",
      [
        "sometimes": text("sometimes"), "on-failure:0": text("on-failure:0"),
        "on-failure:": text("on-failure:"), "on-failure:x": text("on-failure:x"),
      ])
    XCTAssertEqual(RestartPolicy("on-failure:3"), .onFailure(maxRetries: 3))
    XCTAssertEqual(RestartPolicy("on-failure"), .onFailure(maxRetries: nil))
  }

  func testStopTimeoutAndSignal() {
    good("boot.stop.timeout", ["0", "30"])
    bad("boot.stop.timeout", ["soon": "boot.stop.timeout: \"soon\" is not a number of seconds (0 or more)"])
    good("boot.stop.signal", ["TERM", "SIGUSR2", "15", "RTMIN+3"])
    bad(
      "boot.stop.signal",
      [
        "FOO": "boot.stop.signal: \"FOO\" is not a signal name or number",
        "99": "boot.stop.signal: \"99\" is not a signal name or number",
      ])
  }

  func testSecurityProfileIsDefaultStrictOrAParsingFile() throws {
    good("security.profile", ["default", "strict"])
    let dir = try TestDir()
    let ok = dir.path + "/ok.json"
    try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}"#
      .write(toFile: ok, atomically: true, encoding: .utf8)
    good("security.profile", [ok])
    let broken = dir.path + "/broken.json"
    try "{\"defaultAction\": ".write(toFile: broken, atomically: true, encoding: .utf8)
    XCTAssertTrue(
      message("security.profile", broken)!.hasPrefix("security.profile: \(broken): malformed JSON at line 1"))
    let wrongAction = dir.path + "/action.json"
    try #"{"defaultAction": "SCMP_ACT_MAYBE"}"#.write(toFile: wrongAction, atomically: true, encoding: .utf8)
    XCTAssertEqual(
      message("security.profile", wrongAction),
      "security.profile: \(wrongAction): defaultAction: unknown action \"SCMP_ACT_MAYBE\"")
    XCTAssertEqual(
      message("security.profile", dir.path + "/missing.json"),
      "security.profile: seccomp profile open \(dir.path)/missing.json: no such file or directory")
    XCTAssertEqual(
      message("security.profile", "lax"), "security.profile: \"lax\" is not default, strict or an absolute path")
  }

  func testDiskKeys() throws {
    let dir = try TestDir()
    good("disk.data.source", [dir.path])
    XCTAssertEqual(
      message("disk.data.source", dir.path + "/none"),
      "disk.data.source: \"\(dir.path)/none\": no such file or directory")
    let file = dir.path + "/f"
    XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data()))
    bad(
      "disk.data.source",
      [
        file: "disk.data.source: \"\(file)\" is not a directory",
        "rel/dir": "disk.data.source: \"rel/dir\" is not a clean absolute path",
      ])
    good("disk.data.path", ["/srv/data", "/mnt"])
    bad(
      "disk.data.path",
      [
        "/": "disk.data.path: \"/\" would cover the guest's whole root",
        "/a/../b": "disk.data.path: \"/a/../b\" is not a clean absolute path",
        "/proc/x": "disk.data.path: \"/proc/x\" is under /proc, which the guest's runtime mounts itself",
      ])
    bad(
      "disk.Data.path",
      ["/x": "disk.Data.path: disk name \"Data\" is not a DNS label: use lowercase letters, digits and '-'"])
  }

  func testConsoleBufferIsBetween4KiBAnd64MiB() {
    good("console.buffer", ["4KiB", "1MiB", "64MiB"])
    bad(
      "console.buffer",
      [
        "1K": "console.buffer: \"1K\" is outside 4KiB to 64MiB",
        "65MiB": "console.buffer: \"65MiB\" is outside 4KiB to 64MiB",
      ])
  }

  func testUnknownKeysSuggestTheNearestKey() {
    XCTAssertEqual(message("limits.memroy", "1G"), "unknown key \"limits.memroy\": did you mean \"limits.memory\"?")
    XCTAssertEqual(message("limits.cpus", "1"), "unknown key \"limits.cpus\": did you mean \"limits.cpu\"?")
    XCTAssertEqual(
      message("disk.data.sorce", "/x"), "unknown key \"disk.data.sorce\": did you mean \"disk.data.source\"?")
    XCTAssertEqual(message("enviroment.FOO", "x"), "unknown key \"enviroment.FOO\": did you mean \"environment.FOO\"?")
    XCTAssertEqual(
      message("boot.autostrat", "true"), "unknown key \"boot.autostrat\": did you mean \"boot.autostart\"?")
    XCTAssertEqual(message("colour", "red"), "unknown key \"colour\": `cella config keys` lists the keys")
  }

  func testAStoredKeyNamingAHostFileIsCheckedByItsSpellingOnly() {
    func problem(_ key: String, _ value: String, host: Bool) -> String? {
      do {
        try ConfigKeys.validate(key: key, value: value, kind: .vm, host: host)
        return nil
      } catch { return error.message }
    }
    for key in ["vm.kernel", "vm.initrd", "disk.d.source"] {
      XCTAssertNil(problem(key, "/cella-no-such/file", host: false), key)
      XCTAssertEqual(
        problem(key, "/cella-no-such/file", host: true), "\(key): \"/cella-no-such/file\": no such file or directory")
      XCTAssertEqual(problem(key, "rel/file", host: false), "\(key): \"rel/file\" is not a clean absolute path")
    }
    XCTAssertNil(try? ConfigKeys.validate(key: "security.profile", value: "/cella-no-such.json", kind: .container))
    XCTAssertNoThrow(
      try ConfigKeys.validate(key: "security.profile", value: "/cella-no-such.json", kind: .container, host: false))
  }

  func testKeysOfOtherKindsAreRefused() {
    XCTAssertEqual(
      message("security.userns", "true", kind: .vm), "security.userns: applies to container guests, not vm")
    XCTAssertEqual(message("vm.machine", "q35", kind: .container), "vm.machine: applies to vm guests, not container")
    XCTAssertEqual(message("disk.d.path", "/d", kind: .vm), "disk.d.path: applies to container guests, not vm")
    XCTAssertNil(message("security.userns", "true", kind: nil))
    XCTAssertNil(message("limits.memory", "1G", kind: .vm))
  }

  func testADiskNeedsSourceAndPathAndItsOwnPath() throws {
    let dir = try TestDir()
    func whole(_ map: [String: String]) -> String? {
      do {
        try ConfigKeys.validate(map)
        return nil
      } catch { return error.message }
    }
    XCTAssertNil(whole(["disk.a.source": dir.path, "disk.a.path": "/a"]))
    XCTAssertEqual(
      whole(["disk.a.source": dir.path]), "disk.a.path: missing; disk \"a\" needs a source and a path")
    XCTAssertEqual(
      whole(["disk.a.path": "/a", "disk.a.readonly": "true"]),
      "disk.a.source: missing; disk \"a\" needs a source and a path")
    XCTAssertEqual(
      whole(["disk.a.source": dir.path, "disk.a.path": "/a", "disk.b.source": dir.path, "disk.b.path": "/a/"]),
      "disk.b.path: \"/a/\" is the path of disk \"a\" too")
  }

  func testWeightMapsToSharesTheRuntimeMapsBack() {
    for w in UInt64(1)...10_000 { XCTAssertEqual(Cgroups.sharesToWeight(ConfigValues.cpuShares(weight: w)), w) }
    XCTAssertEqual(ConfigValues.cpuShares(weight: 10_000), 262_144)
  }

  func testEveryKeyHasDocAndType() {
    for key in ConfigKeys.all {
      XCTAssertFalse(key.doc.isEmpty, key.name)
      XCTAssertFalse(key.type.isEmpty, key.name)
      let instance = key.name.replacingOccurrences(of: "<NAME>", with: "x").replacingOccurrences(of: "<N>", with: "0")
      if let d = key.defaultValue { XCTAssertNil(message(instance, d, kind: key.kinds.first), key.name) }
    }
  }
}

/// A temporary directory removed at deinit.
final class TestDir {
  let path: String
  init() throws {
    // Named after the suite's run (CELLA_TEST_RUN), so Scripts/leak-check.sh sees one left behind.
    let run = ProcessInfo.processInfo.environment["CELLA_TEST_RUN"] ?? "x"
    let base = "/tmp/cella-it-\(run)-host-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    path = base
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension ConfigKeysTests {
  func testAutostartDelayIsAtMostAnHour() throws {
    XCTAssertNoThrow(try ConfigKeys.validate(key: "boot.autostart.delay", value: "3600"))
    XCTAssertThrowsError(try ConfigKeys.validate(key: "boot.autostart.delay", value: "3601")) { error in
      XCTAssertTrue("\(error)".contains("more than 3600 seconds"), "\(error)")
    }
  }
}
