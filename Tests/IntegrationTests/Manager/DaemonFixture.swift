import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A real `cella daemon` with its own state dir, socket and cgroup parent, and the `cella` CLI pointed
/// at it. Guests are named with the run's prefix; `tearDown` deletes them, stops the daemon and checks
/// that no keeper, mount or cgroup of this fixture is left.
final class DaemonFixture {
  let tmp: String
  let stateDir: String
  let socket: String
  let cella: String
  let runtime: String
  let keeper: String
  let environment: [String]
  private(set) var daemon: SpawnedProcess?
  /// Words the daemon runs behind (a `NetBox`'s `nsenter --net=…`): empty runs it in the host's namespaces.
  var daemonPrefix: [String] = []
  private var daemonCount = 0
  /// Everything the daemons of this fixture wrote on stderr, in order.
  var daemonLogs: [String] = []

  init() throws {
    guard geteuid() == 0 else { throw SuiteConfiguration.skip("manager tests need root") }
    runtime = try SuiteConfiguration.runtimePath()
    let bin = (runtime as NSString).deletingLastPathComponent
    cella = bin + "/cella"
    keeper = bin + "/cella-keeper"
    for tool in [cella, keeper] where !FileManager.default.isExecutableFile(atPath: tool) {
      throw SuiteConfiguration.skip("no \(tool) (run swift build)")
    }
    guard FileManager.default.isExecutableFile(atPath: "/bin/busybox") else {
      throw SuiteConfiguration.skip("no /bin/busybox (apt-get install busybox-static)")
    }
    var template = Array(SuiteRun.tmpTemplate.utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    tmp = String(cString: dir)
    stateDir = tmp + "/state"
    socket = tmp + "/cella.sock"
    environment = [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "CELLA_STATE_DIR=\(stateDir)", "CELLA_SOCKET=\(socket)", "CELLA_RUNTIME=\(runtime)",
      "CELLA_KEEPER=\(keeper)", "CELLA_CGROUP_PARENT=\(SuiteRun.cgroupParent)", "HOME=/root", "TERM=dumb",
    ]
  }

  /// A guest name of this run: `g<run id>-<suffix>` (a DNS label).
  func name(_ suffix: String) -> String { "g\(SuiteRun.id.prefix(8))-\(suffix)" }

  /// Starts a daemon and waits until it answers.
  func startDaemon(file: StaticString = #filePath, line: UInt = #line) throws {
    daemonCount += 1
    let command = daemonPrefix + [cella, "daemon"]
    let p = try Spawner.spawn(
      command[0], Array(command.dropFirst()), outputDirectory: tmp, stdoutPath: tmp + "/daemon-\(daemonCount).out",
      environment: environment)
    daemon = p
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if cli(["list"]).status == 0 { return }
      if waitpid(p.pid, nil, WNOHANG) == p.pid {
        daemon = nil
        throw HarnessError("cella daemon exited at start: \(log(of: p))")
      }
      usleep(20_000)
    }
    throw HarnessError("cella daemon did not answer within 20 s: \(log(of: p))")
  }

  /// SIGKILL to the daemon (guests must outlive it).
  func killDaemon() {
    guard let p = daemon else { return }
    kill(p.pid, SIGKILL)
    _ = p.wait(timeout: 10)
    daemonLogs.append(log(of: p))
    daemon = nil
  }

  /// SIGTERM and wait.
  func stopDaemon() {
    guard let p = daemon else { return }
    kill(p.pid, SIGTERM)
    _ = p.wait(timeout: 20)
    daemonLogs.append(log(of: p))
    daemon = nil
  }

  /// The stderr of every daemon so far, the running one's included.
  var fullDaemonLog: String {
    (daemonLogs + (daemon.map { [log(of: $0)] } ?? [])).joined()
  }

  private func log(of p: SpawnedProcess) -> String {
    (try? String(contentsOfFile: p.stderrPath, encoding: .utf8)) ?? ""
  }

  /// Runs the `cella` CLI against this daemon.
  @discardableResult
  func cli(_ args: [String], timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line)
    -> CommandResult
  {
    Spawner.run(cella, args, outputDirectory: tmp, environment: environment, timeout: timeout, file: file, line: line)
  }

  /// Runs the CLI and fails the test unless it exits 0.
  @discardableResult
  func ok(_ args: [String], timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line)
    -> CommandResult
  {
    let r = cli(args, timeout: timeout, file: file, line: line)
    XCTAssertEqual(r.status, 0, "\(r)", file: file, line: line)
    return r
  }

  /// `cella image build busybox NAME` once per fixture.
  func busyboxImage(_ image: String = "busybox") throws {
    let r = cli(["image", "build", "busybox", image])
    guard r.status == 0 else { throw HarnessError("image build busybox: \(r)") }
  }

  /// `cella info NAME --format json` decoded.
  func info(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
    let r = cli(["info", name, "--format", "json"], file: file, line: line)
    guard r.status == 0, let obj = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    else {
      XCTFail("info \(name): \(r)", file: file, line: line)
      return [:]
    }
    return obj
  }

  /// `cella list --format json` decoded.
  func list(file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
    let r = cli(["list", "--format", "json"], file: file, line: line)
    guard r.status == 0, let arr = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
    else {
      XCTFail("list: \(r)", file: file, line: line)
      return []
    }
    return arr
  }

  /// Waits until `condition` holds (every 50 ms, at most `seconds`).
  func eventually(_ seconds: Double = 15, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if condition() { return true }
      usleep(50_000)
    }
    return condition()
  }

  /// Deletes every guest, stops the daemon, checks nothing of this fixture is left, removes its dir.
  func tearDown(file: StaticString = #filePath, line: UInt = #line) {
    if daemon == nil, FileManager.default.fileExists(atPath: stateDir) { try? startDaemon() }
    if daemon != nil {
      for g in list() {
        if let n = g["name"] as? String { cli(["delete", "--force", n]) }
      }
      // Networks' dnsmasqs outlive the daemon by design: delete the networks first.
      let networks = cli(["network", "list", "--format", "json"])
      if let arr = try? JSONSerialization.jsonObject(with: Data(networks.stdout.utf8)) as? [[String: Any]] {
        for n in arr { if let name = n["name"] as? String { cli(["network", "delete", name]) } }
      }
      stopDaemon()
    }
    // Whatever a failed test left: keepers (cwd in this dir), guest processes, mounts.
    let leftovers = processesUnder(tmp)
    let described = leftovers.map { pid in
      let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map {
        String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
      }
      return "\(pid) \(cmdline ?? "?")"
    }
    XCTAssertEqual(described, [], "processes left under \(tmp)", file: file, line: line)
    for pid in leftovers { kill(pid, SIGKILL) }
    for pid in leftovers { _ = eventually(5) { kill(pid, 0) != 0 } }
    // A guest the daemon could not delete keeps its cgroups after its processes were killed here.
    let guests = (try? FileManager.default.contentsOfDirectory(atPath: stateDir + "/guests")) ?? []
    for guest in guests where !guest.hasPrefix(".") {
      SuiteRun.cgroupDirectories(SuiteRun.cgroupParent + "/" + guest).forEach(SuiteRun.removeCgroupTree)
    }
    // The run's parent goes when nothing else of the run is in it (rmdir refuses otherwise).
    if !guests.isEmpty { SuiteRun.cgroupDirectories(SuiteRun.cgroupParent).forEach { _ = rmdir($0) } }
    let mounts = mountsUnder(tmp)
    XCTAssertEqual(mounts, [], "mounts left under \(tmp)", file: file, line: line)
    for m in mounts.reversed() { umount2(m, Int32(MNT_DETACH)) }
    try? FileManager.default.removeItem(atPath: tmp)
  }

  /// Processes whose cwd or root is inside `dir` (keepers, guests), or whose command line names a
  /// path inside it (a network's dnsmasq, which runs in /).
  func processesUnder(_ dir: String) -> [pid_t] {
    var pids: [pid_t] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = pid_t(entry), pid != getpid() else { continue }
      if let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
        String(decoding: cmdline, as: UTF8.self).contains("=" + dir + "/")
      {
        pids.append(pid)
        continue
      }
      for link in ["cwd", "root"] {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/\(link)"),
          target.hasPrefix(dir)
        {
          pids.append(pid)
          break
        }
      }
    }
    return pids
  }

  /// Mount points inside `dir`.
  func mountsUnder(_ dir: String) -> [String] {
    guard let text = TestEnvironment.readProcFile("/proc/self/mountinfo") else { return [] }
    return text.split(separator: "\n").compactMap { line in
      let f = line.split(separator: " ")
      guard f.count > 4 else { return nil }
      let point = TestEnvironment.unescapeMountField(String(f[4]))
      return point.hasPrefix(dir) ? point : nil
    }
  }

  /// The host directory of a guest's cgroup in `controller`'s v1 hierarchy.
  func cgroupDir(_ guest: String, _ controller: String) -> String {
    "/sys/fs/cgroup/\(controller)\(SuiteRun.cgroupParent)/\(guest)"
  }
}

/// A test class with a daemon of its own per test (and the busybox image, unless it says otherwise).
class ManagerTestCase: XCTestCase {
  var f: DaemonFixture!

  /// Whether setUp builds the busybox image.
  var needsBusyboxImage: Bool { true }

  /// Runs on the fixture before its daemon starts.
  func prepare(_ fixture: DaemonFixture) {}

  override func setUpWithError() throws {
    f = try DaemonFixture()
    prepare(f)
    try f.startDaemon()
    if needsBusyboxImage { try f.busyboxImage() }
  }

  override func tearDown() {
    f?.tearDown()
  }
}
