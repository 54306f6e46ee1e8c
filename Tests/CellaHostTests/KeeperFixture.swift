import CellaAPI
import CellaHost
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// One keeper test's world: a temp dir (`/tmp/cella-it-<run>-*`) holding a guest dir with its bundle and a
/// runtime root, a container id and cgroup named after the suite's run id like the integration harness.
final class KeeperFixture {
  static let run: String = {
    let given = ProcessInfo.processInfo.environment["CELLA_TEST_RUN"] ?? ""
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789")
    if !given.isEmpty && given.count <= 16 && given.allSatisfy({ allowed.contains($0) }) { return given }
    return randomSuffix()
  }()

  let runtime: String
  let keeper: String
  let rootfs: String
  let tmp: String
  let paths: GuestPaths
  let runtimeRoot: String
  let id: String
  /// Keepers this test started (children or not), killed at the end if still there.
  var keepers: [Int32] = []

  var link: KeeperLink { KeeperLink(keeperPath: keeper, runtimePath: runtime, runtimeRoot: runtimeRoot) }
  var bundle: String { paths.bundle }

  init() throws {
    guard geteuid() == 0 else { throw Self.skip("keeper tests need root") }
    let env = ProcessInfo.processInfo.environment
    guard let runtime = env["CELLA_RUNTIME"], !runtime.isEmpty else { throw Self.skip("CELLA_RUNTIME is not set") }
    guard let rootfs = env["CELLA_TEST_ROOTFS"], !rootfs.isEmpty else {
      throw Self.skip("CELLA_TEST_ROOTFS is not set (build one with RootFS/busybox.sh DIR)")
    }
    let keeper = env["CELLA_KEEPER"] ?? (runtime as NSString).deletingLastPathComponent + "/cella-keeper"
    guard FileManager.default.isExecutableFile(atPath: keeper) else {
      throw Self.skip("no cella-keeper at \(keeper) (set CELLA_KEEPER or build it next to CELLA_RUNTIME)")
    }
    self.runtime = runtime
    self.keeper = keeper
    self.rootfs = URL(fileURLWithPath: rootfs).standardizedFileURL.path
    var template = Array("/tmp/cella-it-\(Self.run)-XXXXXX".utf8CString)
    guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw XCTSkip("mkdtemp failed")
    }
    tmp = String(cString: dir)
    paths = StoreLayout(root: tmp).guest("g")
    runtimeRoot = StoreLayout(root: tmp).runtimeRoot
    id = "cella-t-\(Self.run)-k-\(Self.randomSuffix())"
    try FileManager.default.createDirectory(atPath: paths.bundle, withIntermediateDirectories: true)
  }

  static func skip(_ reason: String) -> XCTSkip {
    print("KeeperTests skipped: \(reason)")
    return XCTSkip(reason)
  }

  static func randomSuffix() -> String {
    String((0..<8).map { _ in Array("abcdefghijklmnopqrstuvwxyz0123456789").randomElement()! })
  }

  /// Writes the bundle's config.json: `args` on a terminal, the shared rootfs read-only, this run's cgroup.
  func writeBundle(_ args: [String]) throws {
    let spec = Self.runCommand(runtime, ["spec", "-b", paths.bundle])
    guard spec.status == 0 else { throw HarnessFailure("cella-runtime spec: \(spec.output)") }
    let url = URL(fileURLWithPath: paths.bundle + "/config.json")
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    config["root"] = ["path": rootfs, "readonly": true] as [String: Any]
    var process = config["process"] as! [String: Any]
    process["terminal"] = true
    process["args"] = args
    config["process"] = process
    var linux = config["linux"] as! [String: Any]
    linux["cgroupsPath"] = "/cella-t-\(Self.run)/\(id)"
    config["linux"] = linux
    try JSONSerialization.data(withJSONObject: config).write(to: url)
  }

  /// Starts the keeper through KeeperLink on a shell script.
  func start(_ script: String, logMax: Int = 1 << 20) throws -> (keeper: Int32, initPID: Int32) {
    try writeBundle(["sh", "-c", script])
    let r = try link.start(id: id, paths: paths, bundle: "bundle", logMax: logMax)
    keepers.append(r.keeper)
    return r
  }

  /// Container entries of the runtime root (dot-files are caches, not containers).
  func runtimeEntries() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: runtimeRoot)) ?? []).filter { !$0.hasPrefix(".") }
  }

  func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

  /// Polls `body` for up to `timeout` seconds.
  func eventually(_ timeout: Double = 10, _ body: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if body() { return true }
      usleep(20_000)
    }
    return body()
  }

  /// Waits for a keeper that is this process's child; returns its exit status.
  func waitForChild(_ pid: Int32, timeout: Double = 10) -> Int32? {
    var status: Int32 = 0
    guard eventually(timeout, { waitpid(pid, &status, WNOHANG) == pid }) else { return nil }
    return (status >> 8) & 0xff
  }

  /// Kills what is left, deletes the container, removes the temp dir; returns what was left.
  func tearDown() -> [String] {
    var problems: [String] = []
    for pid in keepers where kill(pid, 0) == 0 {
      kill(pid, SIGKILL)
      var status: Int32 = 0
      _ = waitpid(pid, &status, 0)
    }
    _ = Self.runCommand(runtime, ["--root", runtimeRoot, "delete", "--force", id])
    if !runtimeEntries().isEmpty { problems.append("runtime root not empty: \(runtimeEntries())") }
    for hierarchy in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? [] {
      let dir = "/sys/fs/cgroup/\(hierarchy)/cella-t-\(Self.run)/\(id)"
      if FileManager.default.fileExists(atPath: dir) {
        problems.append("cgroup left: \(dir)")
        rmdir(dir)
      }
    }
    try? FileManager.default.removeItem(atPath: tmp)
    return problems
  }

  /// Runs a program to its end with posix_spawn (stdin /dev/null); its stdout and stderr together.
  static func runCommand(_ path: String, _ args: [String]) -> (status: Int32, output: String) {
    let out = "/tmp/cella-it-\(run)-cmd-\(randomSuffix())"
    defer { unlink(out) }
    guard let pid = spawn(path, args, stdout: out, stderr: out) else { return (-1, "cannot spawn \(path)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return ((status >> 8) & 0xff, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
  }

  /// posix_spawn with stdio on files, every other fd closed; `ownGroup` puts it in a new process group.
  static func spawn(
    _ path: String, _ args: [String], stdout: String, stderr: String, ownGroup: Bool = false,
    env extra: [String] = [], cwd: String? = nil
  ) -> pid_t? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir =
      @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    if let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
      _ = unsafeBitCast(sym, to: AddCloseFrom.self)(&actions, 3)
    }
    if let cwd, let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") {
      _ = unsafeBitCast(sym, to: AddChdir.self)(&actions, cwd)
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    if ownGroup {
      flags |= Int16(POSIX_SPAWN_SETPGROUP)
      posix_spawnattr_setpgroup(&attr, 0)
    }
    posix_spawnattr_setflags(&attr, flags)
    let argv = ([path] + args).map { strdup($0) } + [nil]
    let envList = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + extra
    let envp = envList.map { strdup($0) } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    return posix_spawn(&pid, path, &actions, &attr, argv, envp) == 0 ? pid : nil
  }
}

struct HarnessFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A console client on keeper.sock: sends frames, collects what comes back.
final class ConsoleClient {
  let fd: Int32
  private(set) var output: [UInt8] = []
  private(set) var exitPayload: String?
  private(set) var closed = false
  private var inbox: [UInt8] = []

  init(_ paths: GuestPaths) throws { fd = try KeeperLink.connect(paths: paths) }
  deinit { close(fd) }

  var text: String { String(decoding: output, as: UTF8.self) }

  func send(_ frame: StreamFrame) {
    let bytes = frame.encoded
    _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  }

  func type(_ text: String) { send(StreamFrame(.stdin, Array(text.utf8))) }

  /// Reads frames until `done` holds, the keeper closes the connection, or `timeout` passes.
  @discardableResult
  func read(until done: (ConsoleClient) -> Bool, timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    var chunk = [UInt8](repeating: 0, count: 4096)
    while !done(self) && !closed {
      let left = deadline.timeIntervalSinceNow
      if left <= 0 { return false }
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      if poll(&p, 1, Int32(left * 1000) + 1) <= 0 { continue }
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 {
        closed = true
        break
      }
      inbox.append(contentsOf: chunk[0..<n])
      while case .frame(let frame, let used) = StreamFrame.decode(inbox) {
        inbox.removeFirst(used)
        switch frame.kind {
        case .stdout: output.append(contentsOf: frame.payload)
        case .exit: exitPayload = String(decoding: frame.payload, as: UTF8.self)
        default: break
        }
      }
    }
    return done(self)
  }

  func waitFor(_ text: String, timeout: Double = 10) -> Bool {
    read(until: { $0.text.contains(text) }, timeout: timeout)
  }
}
