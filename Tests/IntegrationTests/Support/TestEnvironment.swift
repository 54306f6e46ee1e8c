import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Where the runtime binary and the busybox rootfs are, or why the suite must skip.
enum SuiteConfiguration {
  /// The package root, found from this file's path (Tests/IntegrationTests/Support/...).
  static func packageRoot(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
  }

  static func runtimePath() throws -> String {
    let env = ProcessInfo.processInfo.environment
    let path = env["CELLA_RUNTIME"].flatMap { $0.isEmpty ? nil : $0 } ?? packageRoot() + "/.build/debug/cella-runtime"
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw skip("no runtime binary at \(path) (set CELLA_RUNTIME or run swift build)")
    }
    return path
  }

  static func rootfsPath() throws -> String {
    guard let path = ProcessInfo.processInfo.environment["CELLA_TEST_ROOTFS"], !path.isEmpty else {
      throw skip("CELLA_TEST_ROOTFS is not set (build one with RootFS/busybox.sh DIR)")
    }
    guard FileManager.default.fileExists(atPath: path + "/bin/busybox") else {
      throw skip("CELLA_TEST_ROOTFS=\(path) has no bin/busybox (build it with RootFS/busybox.sh \(path))")
    }
    return URL(fileURLWithPath: path).standardizedFileURL.path
  }

  static func skip(_ reason: String) -> XCTSkip {
    print("IntegrationTests skipped: \(reason)")
    return XCTSkip(reason)
  }
}

/// One test's world: a temp dir, its own `--root`, its bundles and containers; checks for leaks at the end.
final class TestEnvironment {
  let runtime: String
  let sharedRootfs: String
  let tmp: String
  let stateRoot: String
  private(set) var ids: [String] = []
  private(set) var rootfsDirs: [String]
  /// Host paths a broken runtime might create; removed at the end whatever happens.
  var hostPathsToRemove: [String] = []
  private var bundleCount = 0

  init() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("integration tests need root") }
    runtime = try SuiteConfiguration.runtimePath()
    sharedRootfs = try SuiteConfiguration.rootfsPath()
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
    stateRoot = tmp + "/state"
    rootfsDirs = [sharedRootfs]
  }

  /// A fresh container id (prefix `SuiteRun.idPrefix`), remembered for clean-up.
  func newID(_ tag: String = "") -> String {
    let id = "\(SuiteRun.idPrefix)\(tag.isEmpty ? "" : "-" + tag)-\(Self.randomSuffix())"
    ids.append(id)
    return id
  }

  static func randomSuffix(_ n: Int = 8) -> String {
    let chars = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<n).map { _ in chars.randomElement()! })
  }

  // MARK: - running the runtime

  /// Runs `cella-runtime --root <state> ARGS`.
  @discardableResult
  func rt(
    _ arguments: [String], stdoutPath: String? = nil, timeout: TimeInterval = 30, file: StaticString = #filePath,
    line: UInt = #line
  ) -> CommandResult {
    Spawner.run(
      runtime, ["--root", stateRoot] + arguments, outputDirectory: tmp, stdoutPath: stdoutPath, timeout: timeout,
      file: file, line: line)
  }

  /// Runs a host program (cp, sh, ...).
  @discardableResult
  func host(_ executable: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line)
    -> CommandResult
  {
    Spawner.run(executable, arguments, outputDirectory: tmp, file: file, line: line)
  }

  /// `run` in the foreground: writes the bundle's config first; stdout is the container's.
  @discardableResult
  func run(
    _ bundle: TestBundle, id: String, flags: [String] = [], file: StaticString = #filePath, line: UInt = #line
  ) -> CommandResult {
    do { try bundle.write(id: id) } catch { XCTFail("write config: \(error)", file: file, line: line) }
    return rt(["run"] + flags + ["-b", bundle.dir, id], file: file, line: line)
  }

  /// `create`; the container's stdout goes to `stdoutPath` when given.
  @discardableResult
  func create(
    _ bundle: TestBundle, id: String, flags: [String] = [], stdoutPath: String? = nil, file: StaticString = #filePath,
    line: UInt = #line
  ) -> CommandResult {
    do { try bundle.write(id: id) } catch { XCTFail("write config: \(error)", file: file, line: line) }
    return rt(["create"] + flags + ["-b", bundle.dir, id], stdoutPath: stdoutPath, file: file, line: line)
  }

  /// Runs a container and asserts it succeeded; returns its stdout.
  func output(_ bundle: TestBundle, id: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> String {
    let r = run(bundle, id: id ?? newID(), file: file, line: line)
    XCTAssertEqual(r.status, 0, "\(r)", file: file, line: line)
    return r.stdout
  }

  /// The `state` document, or nil when `state` fails.
  func state(_ id: String, file: StaticString = #filePath, line: UInt = #line) -> [String: Any]? {
    let r = rt(["state", id], file: file, line: line)
    guard r.status == 0 else { return nil }
    guard let obj = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
      XCTFail("state \(id) printed no JSON object: \(r.stdout)", file: file, line: line)
      return nil
    }
    return obj
  }

  func status(_ id: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
    state(id, file: file, line: line)?["status"] as? String
  }

  func pid(_ id: String, file: StaticString = #filePath, line: UInt = #line) -> Int32 {
    (state(id, file: file, line: line)?["pid"] as? NSNumber)?.int32Value ?? 0
  }

  /// Polls `state` until the status is `wanted` or `timeout` passes.
  @discardableResult
  func waitForStatus(
    _ id: String, _ wanted: String, timeout: TimeInterval = 5, file: StaticString = #filePath, line: UInt = #line
  ) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    var last: String?
    repeat {
      last = status(id, file: file, line: line)
      if last == wanted { return true }
      usleep(20_000)
    } while Date() < deadline
    XCTFail("container \(id) is \(last ?? "gone"), not \(wanted), after \(timeout) s", file: file, line: line)
    return false
  }

  /// Creates and starts a container running `args` in the background; returns its host pid.
  func startDetached(
    _ bundle: TestBundle, id: String, file: StaticString = #filePath, line: UInt = #line
  ) -> Int32 {
    let r = create(bundle, id: id, file: file, line: line)
    XCTAssertEqual(r.status, 0, "\(r)", file: file, line: line)
    let s = rt(["start", id], file: file, line: line)
    XCTAssertEqual(s.status, 0, "\(s)", file: file, line: line)
    return pid(id, file: file, line: line)
  }

  // MARK: - bundles and rootfs copies

  /// A bundle from `cella-runtime spec`, rootfs = the shared read-only rootfs, terminal off.
  func bundle(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> TestBundle {
    bundleCount += 1
    let dir = "\(tmp)/bundle\(bundleCount)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let r = Spawner.run(runtime, ["spec", "-b", dir], outputDirectory: tmp, file: file, line: line)
    guard r.status == 0 else { throw HarnessError("spec failed: \(r)") }
    let b = try TestBundle(dir: dir)
    b.cgroupParent = SuiteRun.cgroupParent
    b.setRoot(sharedRootfs, readonly: true)
    b.editProcess {
      $0["terminal"] = false
      $0["args"] = args
    }
    return b
  }

  /// A private writable copy of the shared rootfs (`cp -a`), checked for leaked processes at the end.
  func copyRootfs(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let dest = "\(tmp)/rootfs\(rootfsDirs.count)"
    let r = host("/bin/cp", ["-a", sharedRootfs, dest], file: file, line: line)
    guard r.status == 0 else { throw HarnessError("cp -a failed: \(r)") }
    rootfsDirs.append(dest)
    return dest
  }

  /// Writes an executable shell script.
  func writeScript(_ path: String, _ body: String) throws {
    try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
  }

  // MARK: - leak checks

  /// Entries left in the state root.
  /// Container entries of the state root; `.cache` (compiled seccomp filters shared by all
  /// containers) is not container state.
  func stateEntries() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
  }

  /// Host pids whose root directory is one of this test's rootfs directories.
  func processesInRootfs() -> [Int32] {
    var roots: [(UInt64, UInt64)] = []
    for dir in rootfsDirs {
      var st = stat()
      if stat(dir, &st) == 0 { roots.append((UInt64(st.st_dev), UInt64(st.st_ino))) }
    }
    let me = getpid()
    var found: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), pid != me else { continue }
      var st = stat()
      guard stat("/proc/\(pid)/root/", &st) == 0 else { continue }
      if roots.contains(where: { $0.0 == UInt64(st.st_dev) && $0.1 == UInt64(st.st_ino) }) { found.append(pid) }
    }
    return found
  }

  /// The directory of container `id`'s cgroup in the hierarchy mounted at /sys/fs/cgroup/`hierarchy`
  /// (a harness bundle's cgroupsPath).
  func cgroupDir(_ hierarchy: String, _ id: String) -> String {
    "/sys/fs/cgroup/\(hierarchy)\(SuiteRun.cgroupParent)/\(id)"
  }

  /// Cgroups this test left: the suite parent (the runtime removes it with the last container
  /// in it) and its containers' cgroups under the runtime's default parent.
  func leakedCgroups() -> [String] {
    let underDefault = SuiteRun.cgroupDirectories(SuiteRun.runtimeDefaultParent).flatMap { parent in
      ids.map { "\(parent)/\($0)" }
    }
    return (SuiteRun.cgroupDirectories(SuiteRun.cgroupParent) + underDefault).filter(SuiteRun.isDirectory)
  }

  /// Host mount points under this test's temp dir or any of its rootfs directories.
  func leakedMounts() -> [String] {
    guard let text = Self.readProcFile("/proc/self/mountinfo") else { return [] }
    let prefixes = [tmp] + rootfsDirs
    return text.split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ")
      guard fields.count > 4 else { return nil }
      let point = Self.unescapeMountField(String(fields[4]))
      return prefixes.contains { point == $0 || point.hasPrefix($0 + "/") } ? point : nil
    }
  }

  /// A /proc file read to its end: `String(contentsOfFile:)` stops after the first read(2), which
  /// for mountinfo is one page of a longer file.
  static func readProcFile(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
  }

  static func unescapeMountField(_ s: String) -> String {
    var out = ""
    var chars = Array(s)[...]
    while let c = chars.first {
      chars = chars.dropFirst()
      if c == "\\", chars.count >= 3, let v = UInt8(String(chars.prefix(3)), radix: 8) {
        out.append(Character(UnicodeScalar(v)))
        chars = chars.dropFirst(3)
      } else {
        out.append(c)
      }
    }
    return out
  }

  /// Deletes every container, then reports what is left (and cleans it up so the next test starts clean).
  func tearDown() -> [String] {
    var problems: [String] = []
    for id in ids {
      let r = rt(["delete", "--force", id])
      if r.status != 0 && !r.stderr.contains("does not exist") {
        problems.append("tearDown: delete --force \(id) failed: \(r)")
      }
    }
    let entries = stateEntries()
    if !entries.isEmpty { problems.append("state root \(stateRoot) not empty after delete --force: \(entries)") }

    var pids = processesInRootfs()
    let deadline = Date().addingTimeInterval(3)
    while !pids.isEmpty && Date() < deadline {
      usleep(20_000)
      pids = processesInRootfs()
    }
    if !pids.isEmpty {
      let described = pids.map { pid in
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "?"
        return "\(pid) (\(comm.replacingOccurrences(of: "\0", with: " ")))"
      }
      problems.append("processes still run in the test's rootfs: \(described)")
      for pid in pids { kill(pid, SIGKILL) }
    }
    let mounts = leakedMounts()
    if !mounts.isEmpty {
      problems.append("host mounts left under the test's directories: \(mounts)")
      for point in mounts.reversed() { umount2(point, Int32(MNT_DETACH)) }
    }
    let cgroups = leakedCgroups()
    if !cgroups.isEmpty {
      problems.append("cgroups left: \(cgroups)")
      cgroups.forEach(SuiteRun.removeCgroupTree)
    }
    for path in hostPathsToRemove where FileManager.default.fileExists(atPath: path) {
      try? FileManager.default.removeItem(atPath: path)
    }
    if leakedMounts().isEmpty {
      try? FileManager.default.removeItem(atPath: tmp)
    } else {
      problems.append("kept \(tmp): mounts still under it")
    }
    return problems
  }
}

/// Base class: a fresh environment per test, leak checks in tearDown.
class RuntimeTestCase: XCTestCase {
  var env: TestEnvironment!

  override func setUpWithError() throws {
    try super.setUpWithError()
    env = try TestEnvironment()
  }

  override func tearDownWithError() throws {
    if let env {
      for problem in env.tearDown() { XCTFail(problem) }
    }
    env = nil
    try super.tearDownWithError()
  }

  /// Asserts a command failed with exactly one `cella-runtime: error:` line containing every fragment.
  func assertOneErrorLine(
    _ r: CommandResult, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertNotEqual(r.status, 0, "expected failure: \(r)", file: file, line: line)
    XCTAssertEqual(r.stderrLines.count, 1, "expected one stderr line: \(r)", file: file, line: line)
    let first = r.stderrLines.first ?? ""
    XCTAssertTrue(first.hasPrefix("cella-runtime: error: "), "bad error prefix: \(r)", file: file, line: line)
    for fragment in fragments {
      XCTAssertTrue(
        first.lowercased().contains(fragment.lowercased()), "error does not mention \"\(fragment)\": \(first)",
        file: file, line: line)
    }
  }

  /// Asserts the state root holds nothing.
  func assertStateRootEmpty(file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(env.stateEntries(), [], "state root not empty", file: file, line: line)
  }
}
